//! Ground truth and how it is checked against a redacted answer.
//!
//! Every PHI string a generator puts into a document is recorded with its category, where it
//! was put (a structured field or free text) and a `Needle`: what must not be found in the
//! output for it to count as redacted.

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

/// What kind of PHI a planted string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cat {
    Name,
    Mrn,
    Ssn,
    Phone,
    Email,
    Street,
    City,
    Zip,
    Zip3Restricted,
    Date,
    BirthYear90,
    Age90,
    Id,
    Photo,
    Attachment,
    /// Clinicians' names: not a Safe Harbor identifier of the patient; reported, never asserted.
    Provider,
}

impl Cat {
    pub const ALL: [Cat; 16] = [
        Cat::Name,
        Cat::Mrn,
        Cat::Ssn,
        Cat::Phone,
        Cat::Email,
        Cat::Street,
        Cat::City,
        Cat::Zip,
        Cat::Zip3Restricted,
        Cat::Date,
        Cat::BirthYear90,
        Cat::Age90,
        Cat::Id,
        Cat::Photo,
        Cat::Attachment,
        Cat::Provider,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Cat::Name => "name",
            Cat::Mrn => "mrn",
            Cat::Ssn => "ssn",
            Cat::Phone => "phone",
            Cat::Email => "email",
            Cat::Street => "street",
            Cat::City => "city/county",
            Cat::Zip => "zip (>3 digits)",
            Cat::Zip3Restricted => "zip3 restricted (not 000)",
            Cat::Date => "date (month-day)",
            Cat::BirthYear90 => "birth year, age >89",
            Cat::Age90 => "age >89",
            Cat::Id => "id/reference",
            Cat::Photo => "photo",
            Cat::Attachment => "attachment (raw base64)",
            Cat::Provider => "provider name (info)",
        }
    }

    /// Free-text classes a detector is expected to find by its pattern (≤ 1 % may leak).
    pub fn pattern_class(self) -> bool {
        matches!(
            self,
            Cat::Mrn
                | Cat::Ssn
                | Cat::Phone
                | Cat::Email
                | Cat::Street
                | Cat::Zip
                | Cat::Zip3Restricted
                | Cat::Date
                | Cat::Age90
        )
    }

    /// Free-text values the structure already told the redactor (0 may leak).
    pub fn known_from_structure(self) -> bool {
        matches!(self, Cat::Name | Cat::City | Cat::BirthYear90)
    }
}

/// Where a value was planted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A field of its own (`Patient.telecom[0].value`, `"zipCode": "…"`).
    Structured,
    /// Inside prose: a note, a dosage text, a decoded attachment, an address line.
    FreeText,
}

/// What must not be found in the output for a planted value to count as redacted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Needle {
    /// The string itself.
    Exact(String),
    /// The string, any case.
    Ci(String),
    /// The string as a word (no ASCII letter or digit either side); `ci`: any case.
    Word { text: String, ci: bool },
    /// The string with no digit either side.
    Digits(String),
    /// `-MM-DD` right after a digit (the year) and before a non-digit: an ISO date or a
    /// timestamp still carrying its month and day.
    DateIso(String),
    /// `MM/DD/` after a non-digit.
    DateUs(String),
    /// `March 25` after a non-letter and before a non-digit.
    DateLong(String),
    /// A ZIP whose fourth digit survives: the five digits, or the first four standing alone.
    Zip(String),
    /// A ZIP in a restricted ZIP3 area: found as `Zip` is, or generalised to its three digits
    /// (not `000`): a whole JSON string, or after its state in free text (`NM 878`).
    Restricted { zip: String, state: String },
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub cat: Cat,
    pub origin: Origin,
    /// The value as planted, for the report.
    pub shown: String,
    pub needle: Needle,
}

/// HHS's restricted three-digit ZIP prefixes (the list).
pub const RESTRICTED_ZIP3: [&str; 17] = [
    "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878",
    "879", "884", "890", "893",
];

/// One document's planted PHI.
#[derive(Debug, Default)]
pub struct Truth {
    pub entries: Vec<Entry>,
    seen: HashSet<(Cat, Origin, Needle)>,
}

impl Truth {
    pub fn add(&mut self, cat: Cat, origin: Origin, shown: &str, needle: Needle) {
        if self.seen.insert((cat, origin, needle.clone())) {
            self.entries.push(Entry {
                cat,
                origin,
                shown: shown.to_string(),
                needle,
            });
        }
    }

    pub fn exact(&mut self, cat: Cat, origin: Origin, value: &str) {
        self.add(cat, origin, value, Needle::Exact(value.to_string()));
    }

    pub fn digits(&mut self, cat: Cat, origin: Origin, value: &str) {
        self.add(cat, origin, value, Needle::Digits(value.to_string()));
    }

    /// A person's name token (given, family, a relative's): any case, as a word.
    pub fn name(&mut self, origin: Origin, token: &str) {
        for part in token.split([' ', '-']).filter(|p| p.len() >= 2) {
            let needle = Needle::Word {
                text: part.to_ascii_lowercase(),
                ci: true,
            };
            self.add(Cat::Name, origin, part, needle);
        }
    }

    pub fn provider(&mut self, family: &str) {
        let needle = Needle::Word {
            text: family.to_ascii_lowercase(),
            ci: true,
        };
        self.add(Cat::Provider, Origin::FreeText, family, needle);
    }

    pub fn email(&mut self, origin: Origin, value: &str) {
        self.add(
            Cat::Email,
            origin,
            value,
            Needle::Ci(value.to_ascii_lowercase()),
        );
    }

    /// A city, county or town name: as a word, case kept (they are capitalised).
    pub fn place(&mut self, origin: Origin, value: &str) {
        let needle = Needle::Word {
            text: value.to_string(),
            ci: false,
        };
        self.add(Cat::City, origin, value, needle);
    }

    /// An MRN: its digits are the identifier, whatever prefix it is written with.
    pub fn mrn(&mut self, origin: Origin, shown: &str, digits: &str) {
        self.add(Cat::Mrn, origin, shown, Needle::Digits(digits.to_string()));
    }

    /// A ZIP code, and for a restricted prefix the prefix itself (it must become 000).
    /// `state`: the state written before it in free text.
    pub fn zip(&mut self, origin: Origin, zip: &str, state: &str) {
        self.add(Cat::Zip, origin, zip, Needle::Zip(zip.to_string()));
        if RESTRICTED_ZIP3.contains(&&zip[..3]) {
            let needle = Needle::Restricted {
                zip: zip.to_string(),
                state: state.to_string(),
            };
            self.add(Cat::Zip3Restricted, origin, zip, needle);
        }
    }

    pub fn date(&mut self, origin: Origin, date: &Day, shown: &str, style: DateStyle) {
        let needle = match style {
            DateStyle::Iso => Needle::DateIso(format!("-{:02}-{:02}", date.m, date.d)),
            DateStyle::Us => Needle::DateUs(format!("{:02}/{:02}/", date.m, date.d)),
            DateStyle::Long => Needle::DateLong(format!("{} {}", MONTHS[date.m - 1], date.d)),
        };
        self.add(Cat::Date, origin, shown, needle);
    }

    pub fn count(&self, cat: Cat, origin: Origin) -> usize {
        self.entries
            .iter()
            .filter(|e| e.cat == cat && e.origin == origin)
            .count()
    }
}

pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    Iso,
    Us,
    Long,
}

/// A calendar day. Within one document every day drawn has its own month and day (`Days`),
/// so a surviving `-MM-DD` names exactly one planted date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub y: u32,
    pub m: usize,
    pub d: usize,
}

impl Day {
    pub fn iso(&self) -> String {
        format!("{}-{:02}-{:02}", self.y, self.m, self.d)
    }
    pub fn us(&self) -> String {
        format!("{:02}/{:02}/{}", self.m, self.d, self.y)
    }
    pub fn long(&self) -> String {
        format!("{} {}, {}", MONTHS[self.m - 1], self.d, self.y)
    }
    pub fn render(&self, style: DateStyle) -> String {
        match style {
            DateStyle::Iso => self.iso(),
            DateStyle::Us => self.us(),
            DateStyle::Long => self.long(),
        }
    }
    /// A timestamp on this day (`T09:30:00-05:00`), as FHIR `dateTime`/`instant` carry.
    pub fn at(&self, hour: u64, minute: u64, zulu: bool) -> String {
        let zone = if zulu { ".000Z" } else { "-05:00" };
        format!("{}T{hour:02}:{minute:02}:00{zone}", self.iso())
    }
}

/// The month-days not yet used in one document.
pub struct Days {
    free: Vec<(usize, usize)>,
}

impl Default for Days {
    fn default() -> Self {
        let free = (1..=12)
            .flat_map(|m| (1..=28).map(move |d| (m, d)))
            .collect();
        Days { free }
    }
}

impl Days {
    pub fn draw(&mut self, rng: &mut super::rng::Rng, y: u32) -> Day {
        let i = rng.below(self.free.len() as u64) as usize;
        let (m, d) = self.free.swap_remove(i);
        Day { y, m, d }
    }
}

/// The searchable text of one redacted answer: every string in it unescaped — the JSON inside
/// strings parsed, base64 decoded — and every member name, each on a line of its own, then
/// the answer's bytes as they came.
pub struct Hay {
    pub text: String,
    lower: String,
    leaves: HashSet<String>,
    /// Where each string's copy lies in `text`, in order.
    ranges: Vec<(usize, usize)>,
}

/// Where one planted value was found.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub at: usize,
    /// In a string of about its own size (a field of its own), not inside longer text.
    pub in_field: bool,
}

impl Hay {
    pub fn of(out: &[u8]) -> Hay {
        let mut g = Gather::default();
        if let Ok(v) = serde_json::from_slice::<Value>(out) {
            g.value(&v, 0);
        }
        let mut text = g.text;
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(out));
        let lower = text.to_ascii_lowercase();
        Hay {
            text,
            lower,
            leaves: g.leaves,
            ranges: g.ranges,
        }
    }

    /// Where `needle` is found first, if it is.
    pub fn find(&self, needle: &Needle) -> Option<usize> {
        self.hits(needle).first().copied()
    }

    /// The first hit, and whether any hit lies in a string of at most `field_len` bytes.
    pub fn locate(&self, needle: &Needle, field_len: usize) -> Option<Hit> {
        let hits = self.hits(needle);
        let first = *hits.first()?;
        let in_field = hits.iter().any(|&at| {
            self.leaf_at(at)
                .is_some_and(|(start, end)| end - start <= field_len)
        });
        Some(Hit {
            at: first,
            in_field,
        })
    }

    /// The string copy `at` lies in.
    fn leaf_at(&self, at: usize) -> Option<(usize, usize)> {
        let i = self.ranges.partition_point(|&(start, _)| start <= at);
        let (start, end) = *self.ranges.get(i.checked_sub(1)?)?;
        (at < end).then_some((start, end))
    }

    /// Every position `needle` is found at (in order; at most a few hundred).
    fn hits(&self, needle: &Needle) -> Vec<usize> {
        let digit = |b: Option<&u8>| b.is_some_and(u8::is_ascii_digit);
        let alnum = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
        let bytes = self.text.as_bytes();
        let before = |at: usize| at.checked_sub(1).and_then(|i| bytes.get(i));
        let scan = |hay: &str, pat: &str, ok: &dyn Fn(usize, usize) -> bool| -> Vec<usize> {
            hay.match_indices(pat)
                .map(|(at, _)| at)
                .filter(|&at| ok(at, at + pat.len()))
                .take(256)
                .collect()
        };
        match needle {
            Needle::Exact(s) => scan(&self.text, s, &|_, _| true),
            Needle::Ci(s) => scan(&self.lower, s, &|_, _| true),
            Needle::Word { text, ci } => {
                let hay = if *ci { &self.lower } else { &self.text };
                scan(hay, text, &|a, b| !alnum(before(a)) && !alnum(bytes.get(b)))
            }
            Needle::Digits(s) => scan(&self.text, s, &|a, b| {
                !digit(before(a)) && !digit(bytes.get(b))
            }),
            Needle::DateIso(key) => scan(&self.text, key, &|a, b| {
                digit(before(a)) && !digit(bytes.get(b))
            }),
            Needle::DateUs(key) => scan(&self.text, key, &|a, _| {
                !digit(before(a)) && before(a) != Some(&b'/')
            }),
            Needle::DateLong(key) => scan(&self.text, key, &|a, b| {
                !alnum(before(a)) && !digit(bytes.get(b))
            }),
            Needle::Zip(zip) => {
                let mut hits = self.hits(&Needle::Digits(zip.clone()));
                hits.extend(self.hits(&Needle::Digits(zip[..4].to_string())));
                hits.sort_unstable();
                hits
            }
            Needle::Restricted { zip, state } => {
                let prefix = &zip[..3];
                let mut hits = self.hits(&Needle::Zip(zip.clone()));
                if self.leaves.contains(prefix) {
                    let leaf = format!("\n{prefix}\n");
                    hits.extend(
                        scan(&self.text, &leaf, &|_, _| true)
                            .iter()
                            .map(|at| at + 1),
                    );
                }
                hits.extend(self.hits(&Needle::Digits(format!("{state} {prefix}"))));
                hits.sort_unstable();
                hits
            }
        }
    }

    /// The output around `at`, on one line, for the report.
    pub fn snippet(&self, at: usize, width: usize) -> String {
        let mut start = at.saturating_sub(width);
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (at + width).min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        self.text[start..end].replace(['\n', '\r'], " ⏎ ")
    }
}

#[derive(Default)]
struct Gather {
    text: String,
    leaves: HashSet<String>,
    ranges: Vec<(usize, usize)>,
}

impl Gather {
    fn push(&mut self, s: &str, leaf: bool) {
        self.text.push('\n');
        let start = self.text.len();
        self.text.push_str(s);
        if leaf {
            self.ranges.push((start, self.text.len()));
        }
        self.text.push('\n');
    }

    fn value(&mut self, v: &Value, depth: u8) {
        match v {
            Value::String(s) => {
                self.push(s, true);
                self.leaves.insert(s.clone());
                if depth >= 4 {
                    return;
                }
                let t = s.trim_start();
                if t.starts_with('{') || t.starts_with('[') {
                    if let Ok(inner) = serde_json::from_str::<Value>(s) {
                        self.value(&inner, depth + 1);
                    }
                } else if let Some(decoded) = base64_text(s) {
                    self.push(&decoded, true);
                    if let Ok(inner) = serde_json::from_str::<Value>(&decoded) {
                        self.value(&inner, depth + 1);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| self.value(i, depth)),
            Value::Object(members) => {
                for (k, v) in members {
                    self.push(k, false);
                    self.value(v, depth);
                }
            }
            _ => {}
        }
    }
}

/// A string that is base64 (standard alphabet, padded), decoded (lossily: binary comes out as
/// replacement characters, which match nothing).
fn base64_text(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let b64 = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=');
    if b.len() < 12 || b.len() % 4 != 0 || !b.iter().all(b64) {
        return None;
    }
    let bytes = STANDARD.decode(s).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}
