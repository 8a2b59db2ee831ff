//! Known values: what field rules took out of a message, found again wherever else it appears
//! (a name in a note, an id in an error message). Built once per message, so building must be
//! cheap: usually a table of first bytes; an automaton when the values could make the table slow.

use std::collections::{HashMap, HashSet};

use super::config::Action;
use super::detect::{Entity, Span};

/// What a field rule took out, to be scrubbed from free text too.
pub struct Known {
    pub value: String,
    pub entity: Entity,
    pub action: Action,
}

/// The spellings a value is looked for in: a name also in upper, lower and title case (a note
/// writes `SMITH, JOHN` or `john smith`); any other value as it was taken.
pub fn spellings(value: &str, entity: Entity) -> Vec<String> {
    if entity != Entity::Name {
        return vec![value.to_string()];
    }
    let title: String = value
        .split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| {
                    f.to_uppercase()
                        .chain(c.flat_map(char::to_lowercase))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .join(" ");
    let mut all = vec![value.to_string()];
    // A variant the gatekeeper's own masks contain ("RED" in "[REDACTED:NAME]") would mask
    // the masks again. The masks, lower-cased, are built once per process.
    static MASKS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let masks = MASKS.get_or_init(|| {
        Entity::ALL
            .iter()
            .map(|e| e.mask().to_lowercase())
            .collect()
    });
    for variant in [value.to_uppercase(), value.to_lowercase(), title] {
        if !masks.contains(&variant.to_lowercase()) {
            all.push(variant);
        }
    }
    all
}

/// Values shorter than this are not looked for (too many false hits).
pub const MIN_KNOWN_LEN: usize = 3;

/// Bits in the first-bytes filter: about 64 per prefix filed (so a position of a text passes
/// it by chance about once in 32), a power of two between these bounds. Built per message, so
/// a message with few known values does not clear a large table.
const FILTER_MIN_BITS: u32 = 10;
const FILTER_MAX_BITS: u32 = 16;

/// How many first bytes a value is filed under: as many of these as it has, longest first, so
/// common beginnings ("2024-") do not pile many values under one key.
const TIERS: [usize; 3] = [8, 4, MIN_KNOWN_LEN];

/// The table compares at most `TABLE_MAX_BUCKET` values of at most `TABLE_MAX_LEN` bytes where
/// a prefix hits; values past either bound (thousands of ids sharing a prefix, long texts)
/// are searched with an Aho-Corasick automaton instead, whose cost stays linear in the text.
const TABLE_MAX_BUCKET: usize = 8;
const TABLE_MAX_LEN: usize = 48;

/// The distinct values field rules redacted in one message. Matches are leftmost-longest and
/// do not overlap, whichever search is used.
#[derive(Default)]
pub struct KnownValues {
    values: Vec<Known>,
    search: Search,
}

#[derive(Default)]
enum Search {
    #[default]
    Nothing,
    /// Boxed: the first-byte table makes it far larger than the other searches.
    Table(Box<Table>),
    Automaton(aho_corasick::AhoCorasick),
    /// The automaton could not be built (far too many values): one value at a time.
    OneByOne,
}

/// Each value filed under its first bytes (see `TIERS`); a bit table of those prefixes — and of
/// every value's first three bytes, so a position is rejected with one test whatever the tiers —
/// rejects almost every position of a text, and only where a prefix is known are its few values
/// compared.
struct Table {
    /// Prefix → indexes into the values, longest value first.
    by_prefix: HashMap<u64, Vec<usize>, foldhash::fast::RandomState>,
    filter: Vec<u64>,
    /// 64 minus the filter's size in bits, as a power of two.
    shift: u32,
    /// Which tiers hold any value.
    tiers: [bool; TIERS.len()],
    /// The bytes values start with: most positions of a text are passed over on this alone
    /// (a byte per entry, so the skip is one load per position).
    first: [bool; 256],
}

/// The first `n` bytes as a number, padded with a byte UTF-8 never contains so prefixes of
/// different tiers cannot collide.
#[inline]
fn prefix(bytes: &[u8], n: usize) -> Option<u64> {
    let head = bytes.get(..n)?;
    let mut key = [0xFF; 8];
    key[..n].copy_from_slice(head);
    Some(u64::from_le_bytes(key))
}

/// The filter bit of `prefix` in a table of `1 << (64 - shift)` bits (the hash's top bits).
fn filter_bit(prefix: u64, shift: u32) -> usize {
    (prefix.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

impl KnownValues {
    /// A value given twice is kept once, as first given.
    pub fn new(values: Vec<Known>) -> Self {
        let keep: Vec<bool> = {
            let mut seen: HashSet<&str, foldhash::fast::RandomState> =
                HashSet::with_capacity_and_hasher(values.len(), Default::default());
            values
                .iter()
                .map(|k| k.value.len() >= MIN_KNOWN_LEN && seen.insert(k.value.as_str()))
                .collect()
        };
        let values: Vec<Known> = values
            .into_iter()
            .zip(keep)
            .filter_map(|(k, keep)| keep.then_some(k))
            .collect();
        let search = if values.is_empty() {
            Search::Nothing
        } else if let Some(table) = Table::new(&values) {
            Search::Table(Box::new(table))
        } else {
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(values.iter().map(|k| k.value.as_str()))
                .map_or(Search::OneByOne, Search::Automaton)
        };
        KnownValues { values, search }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Every known value in `text`, leftmost-longest, not overlapping.
    pub fn find(&self, text: &str) -> Vec<(Span, Action)> {
        let span = |start: usize, k: &Known| {
            let end = start + k.value.len();
            let entity = k.entity;
            (Span { start, end, entity }, k.action)
        };
        match &self.search {
            Search::Nothing => Vec::new(),
            Search::Table(table) => table
                .find(&self.values, text.as_bytes())
                .map(|(at, i)| span(at, &self.values[i]))
                .collect(),
            Search::Automaton(ac) => ac
                .find_iter(text)
                .map(|m| span(m.start(), &self.values[m.pattern().as_usize()]))
                .collect(),
            Search::OneByOne => {
                let mut found: Vec<_> = self
                    .values
                    .iter()
                    .flat_map(|k| {
                        text.match_indices(k.value.as_str())
                            .map(move |(at, _)| span(at, k))
                    })
                    .collect();
                found.sort_by_key(|(s, _)| (s.start, std::cmp::Reverse(s.end)));
                found
            }
        }
    }
}

impl Table {
    /// `None` when the values are past the table's bounds.
    fn new(values: &[Known]) -> Option<Self> {
        // Each value files at most two prefixes.
        let wanted = (values.len() * 2 * 64).next_power_of_two().trailing_zeros();
        let bits = wanted.clamp(FILTER_MIN_BITS, FILTER_MAX_BITS);
        let mut table = Table {
            // Sized for a typical message at once (growing rehashed it); bounded, since a
            // hostile body may hold far more values than the table will take.
            by_prefix: HashMap::with_capacity_and_hasher(
                (values.len() * 2).min(256),
                Default::default(),
            ),
            filter: vec![0; (1 << bits) / 64],
            shift: 64 - bits,
            tiers: [false; TIERS.len()],
            first: [false; 256],
        };
        for (i, k) in values.iter().enumerate() {
            let len = k.value.len();
            if len > TABLE_MAX_LEN {
                return None;
            }
            let tier = TIERS.iter().position(|&n| n <= len)?;
            let p = prefix(k.value.as_bytes(), TIERS[tier])?;
            let filed = table.by_prefix.entry(p).or_default();
            if filed.len() == TABLE_MAX_BUCKET {
                return None;
            }
            filed.push(i);
            table.tiers[tier] = true;
            if let Some(&b) = k.value.as_bytes().first() {
                table.first[usize::from(b)] = true;
            }
            table.set(p);
            table.set(prefix(k.value.as_bytes(), MIN_KNOWN_LEN)?);
        }
        for indexes in table.by_prefix.values_mut() {
            indexes.sort_by_key(|&i| std::cmp::Reverse(values[i].value.len()));
        }
        Some(table)
    }

    fn set(&mut self, prefix: u64) {
        let bit = filter_bit(prefix, self.shift);
        if let Some(word) = self.filter.get_mut(bit / 64) {
            *word |= 1 << (bit % 64);
        }
    }

    fn has(&self, prefix: u64) -> bool {
        let bit = filter_bit(prefix, self.shift);
        // Out of range cannot happen (the bit is the hash's top bits); were it to, the
        // position is checked rather than skipped.
        self.filter
            .get(bit / 64)
            .is_none_or(|word| word & (1 << (bit % 64)) != 0)
    }

    /// (start, value index) of every match.
    fn find<'a>(
        &'a self,
        values: &'a [Known],
        bytes: &'a [u8],
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        let mut at = 0;
        // Positions a value of MIN_KNOWN_LEN bytes or more can still start at.
        let last = bytes.len().saturating_sub(MIN_KNOWN_LEN - 1);
        std::iter::from_fn(move || {
            while at < last {
                // Straight to the next byte some value starts with.
                let skip = bytes
                    .get(at..last)?
                    .iter()
                    .position(|&b| self.first[usize::from(b)]);
                let Some(skip) = skip else {
                    at = last;
                    return None;
                };
                let start = at + skip;
                at = start;
                match self.longest_at(values, &bytes[start..]) {
                    Some(i) => {
                        at += values[i].value.len();
                        return Some((start, i));
                    }
                    None => at += 1,
                }
            }
            None
        })
    }

    /// The longest known value `rest` starts with. Every value of a higher tier is longer than
    /// any of a lower one, so the first tier with a match has the longest. A whole UTF-8 value
    /// matched inside UTF-8 text always starts and ends on character boundaries.
    fn longest_at(&self, values: &[Known], rest: &[u8]) -> Option<usize> {
        if !self.has(prefix(rest, MIN_KNOWN_LEN)?) {
            return None;
        }
        TIERS
            .iter()
            .zip(self.tiers)
            .filter(|(_, present)| *present)
            .find_map(|(&n, _)| {
                let p = prefix(rest, n)?;
                if !self.has(p) {
                    return None;
                }
                self.by_prefix
                    .get(&p)?
                    .iter()
                    .copied()
                    .find(|&i| rest.starts_with(values[i].value.as_bytes()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::detect::Entity;

    fn known(values: &[&str]) -> KnownValues {
        KnownValues::new(
            values
                .iter()
                .map(|v| Known {
                    value: v.to_string(),
                    entity: Entity::Name,
                    action: Action::Mask,
                })
                .collect(),
        )
    }

    fn found(k: &KnownValues, text: &str) -> Vec<String> {
        k.find(text)
            .into_iter()
            .map(|(s, _)| text[s.start..s.end].to_string())
            .collect()
    }

    #[test]
    fn leftmost_longest_without_overlap() {
        let k = known(&[
            "Ana",
            "Ana Ruiz",
            "Ruiz",
            "2024-03-01",
            "2024-03-0",
            "2024-",
        ]);
        assert_eq!(
            found(
                &k,
                "Dr. Ana Ruiz saw Ana on 2024-03-01, 2024-03-02; Ruiz 2024-1."
            ),
            [
                "Ana Ruiz",
                "Ana",
                "2024-03-01",
                "2024-03-0",
                "Ruiz",
                "2024-"
            ]
        );
        assert_eq!(found(&k, "An"), Vec::<String>::new());
    }

    #[test]
    fn multibyte_text_and_values() {
        let k = known(&["Zoë Chen", "ñaña"]);
        assert_eq!(
            found(&k, "é Zoë Chen, mañaña ñaña"),
            ["Zoë Chen", "ñaña", "ñaña"]
        );
    }

    #[test]
    fn the_automaton_takes_over_past_the_table_bounds_with_the_same_answers() {
        let ids: Vec<String> = (0..200).map(|i| format!("PAT-0000{i:04}")).collect();
        let mut many: Vec<&str> = ids.iter().map(String::as_str).collect();
        many.extend(["Ana", "Ana Ruiz"]);
        let k = known(&many);
        assert!(matches!(k.search, Search::Automaton(_)));
        assert_eq!(
            found(&k, "Ana Ruiz: PAT-00000007, PAT-00000199x PAT-0000"),
            ["Ana Ruiz", "PAT-00000007", "PAT-00000199"]
        );
        let long = "x".repeat(TABLE_MAX_LEN + 1);
        let k = known(&[long.as_str(), "Ana"]);
        assert!(matches!(k.search, Search::Automaton(_)));
        assert_eq!(found(&k, &format!("Ana {long}")), ["Ana", long.as_str()]);
        assert!(matches!(known(&["Ana", "Ruiz"]).search, Search::Table(_)));
    }
}
