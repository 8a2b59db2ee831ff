//! Known values: what field rules took out of a message, found again wherever else it appears
//! (a name in a note, an id in an error message). Built once per message, so building must be
//! cheap: a table of first bytes instead of an automaton.

use std::collections::HashMap;

use super::config::Action;
use super::detect::Span;
use super::Known;

/// Values shorter than this are not looked for (too many false hits).
pub const MIN_KNOWN_LEN: usize = 3;

/// Bits in the first-bytes filter (a power of two).
const FILTER_BITS: usize = 1 << 16;

/// How many first bytes a value is filed under: as many of these as it has, longest first, so
/// common beginnings ("2024-") do not pile many values under one key.
const TIERS: [usize; 3] = [8, 4, MIN_KNOWN_LEN];

/// The values field rules redacted in one message. Each is filed under its first bytes (see
/// `TIERS`); a bit table of those prefixes rejects almost every position of a text with one
/// test, and only where a prefix is known are its values compared. Matches are
/// leftmost-longest and do not overlap.
#[derive(Default)]
pub struct KnownValues {
    values: Vec<Known>,
    /// Prefix → indexes into `values`, longest value first.
    by_prefix: HashMap<u64, Vec<usize>, foldhash::fast::RandomState>,
    filter: Vec<u64>,
    /// Which tiers hold any value.
    tiers: [bool; TIERS.len()],
}

/// The first `n` bytes as a number, padded with a byte UTF-8 never contains so prefixes of
/// different tiers cannot collide.
fn prefix(bytes: &[u8], n: usize) -> Option<u64> {
    let head = bytes.get(..n)?;
    let mut key = [0xFF; 8];
    key[..n].copy_from_slice(head);
    Some(u64::from_le_bytes(key))
}

fn filter_bit(prefix: u64) -> usize {
    (prefix.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize & (FILTER_BITS - 1)
}

impl KnownValues {
    /// A value given twice is kept once, as first given.
    pub fn new(values: Vec<Known>) -> Self {
        let mut known = KnownValues {
            filter: vec![0; FILTER_BITS / 64],
            ..Default::default()
        };
        for (i, k) in values.iter().enumerate() {
            let len = k.value.len();
            let Some(tier) = TIERS.iter().position(|&n| n <= len) else {
                continue;
            };
            let Some(p) = prefix(k.value.as_bytes(), TIERS[tier]) else {
                continue;
            };
            let filed = known.by_prefix.entry(p).or_default();
            if filed.iter().any(|&j| values[j].value == k.value) {
                continue;
            }
            filed.push(i);
            known.tiers[tier] = true;
            let bit = filter_bit(p);
            known.filter[bit / 64] |= 1 << (bit % 64);
        }
        for indexes in known.by_prefix.values_mut() {
            indexes.sort_by_key(|&i| std::cmp::Reverse(values[i].value.len()));
        }
        known.values = values;
        known
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Every known value in `text`, leftmost-longest, not overlapping.
    pub fn find(&self, text: &str) -> Vec<(Span, Action)> {
        let mut found = Vec::new();
        if self.values.is_empty() {
            return found;
        }
        let bytes = text.as_bytes();
        let mut at = 0;
        while at + MIN_KNOWN_LEN <= bytes.len() {
            match self.longest_at(&bytes[at..]) {
                Some(k) => {
                    let end = at + k.value.len();
                    found.push((
                        Span {
                            start: at,
                            end,
                            entity: k.entity,
                        },
                        k.action,
                    ));
                    at = end;
                }
                None => at += 1,
            }
        }
        found
    }

    /// The longest known value `rest` starts with. Every value of a higher tier is longer than
    /// any of a lower one, so the first tier with a match has the longest. A whole UTF-8 value
    /// matched inside UTF-8 text always starts and ends on character boundaries.
    fn longest_at(&self, rest: &[u8]) -> Option<&Known> {
        TIERS
            .iter()
            .zip(self.tiers)
            .filter(|(_, present)| *present)
            .find_map(|(&n, _)| {
                let p = prefix(rest, n)?;
                let bit = filter_bit(p);
                if self.filter[bit / 64] & (1 << (bit % 64)) == 0 {
                    return None;
                }
                self.by_prefix
                    .get(&p)?
                    .iter()
                    .map(|&i| &self.values[i])
                    .find(|k| rest.starts_with(k.value.as_bytes()))
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
}
