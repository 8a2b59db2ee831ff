//! One pass over a string for every enabled detector: candidates from a single automaton, each
//! then checked by its own detector's validity rules (`detect`); a string holding none of the
//! bytes every candidate needs (`trigger`) is not searched.

use regex::Regex;

use super::detect::{
    date_valid, luhn, month_day_valid, npi_valid, ssn_valid, Detectors, Entity, Span,
};
use super::trigger::{required_bytes, Bytes};

/// The detectors a profile enables, in one automaton: a single leftmost pass over a string
/// finds every candidate, and each candidate is then checked by its own detector's rules.
/// Only enabled detectors take part, so a disabled one can never hide an enabled one's match.
pub struct Scanner {
    all: Option<regex_automata::meta::Regex>,
    kinds: Vec<Kind>,
    d: &'static Detectors,
    /// Bytes at least one of which every candidate of every enabled detector holds (`None`:
    /// some detector needs none in particular): a string without any is not searched.
    trigger: Option<Bytes>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Url,
    Ssn,
    SsnPlain,
    Mrn,
    MemberId,
    Mbi,
    Npi,
    Phone,
    Card,
    DateIso,
    DateUs,
    DateLong,
    Ipv4,
    Ipv6,
    Name,
    Street,
    Zip,
    Age,
}

/// Where two detectors could match at the same place, the earlier one here wins.
const PRIORITY: [Kind; 19] = [
    Kind::Email,
    Kind::Url,
    Kind::Ssn,
    Kind::SsnPlain,
    Kind::Mrn,
    Kind::MemberId,
    Kind::Mbi,
    Kind::Npi,
    Kind::Phone,
    Kind::Card,
    Kind::DateIso,
    Kind::DateUs,
    Kind::DateLong,
    Kind::Ipv4,
    Kind::Ipv6,
    Kind::Name,
    Kind::Street,
    Kind::Zip,
    Kind::Age,
];

impl Kind {
    fn entity(self) -> Entity {
        match self {
            Kind::Email => Entity::Email,
            Kind::Url => Entity::Url,
            Kind::Ssn | Kind::SsnPlain => Entity::Ssn,
            Kind::Mrn => Entity::Mrn,
            Kind::MemberId => Entity::MemberId,
            Kind::Mbi => Entity::Mbi,
            Kind::Npi => Entity::Npi,
            Kind::Phone => Entity::Phone,
            Kind::Card => Entity::Card,
            Kind::DateIso | Kind::DateUs | Kind::DateLong => Entity::Date,
            Kind::Ipv4 | Kind::Ipv6 => Entity::Ip,
            Kind::Name => Entity::Name,
            Kind::Street => Entity::Location,
            Kind::Zip => Entity::Zip,
            Kind::Age => Entity::Age,
        }
    }

    fn regex(self, d: &Detectors) -> &Regex {
        match self {
            Kind::Email => &d.email,
            Kind::Url => &d.url,
            Kind::Ssn => &d.ssn,
            Kind::SsnPlain => &d.ssn_plain,
            Kind::Mrn => &d.mrn,
            Kind::MemberId => &d.member_id,
            Kind::Mbi => &d.mbi,
            Kind::Npi => &d.npi,
            Kind::Phone => &d.phone,
            Kind::Card => &d.card,
            Kind::DateIso => &d.date_iso,
            Kind::DateUs => &d.date_us,
            Kind::DateLong => &d.date_long,
            Kind::Ipv4 => &d.ipv4,
            Kind::Ipv6 => &d.ipv6,
            Kind::Name => &d.name,
            Kind::Street => &d.street,
            Kind::Zip => &d.zip_context,
            Kind::Age => &d.age,
        }
    }
}

impl Scanner {
    /// Compiles the detectors `enabled` selects (at policy load).
    pub fn new(enabled: &dyn Fn(Entity) -> bool) -> Result<Self, String> {
        let d = Detectors::get()?;
        let kinds: Vec<Kind> = PRIORITY
            .into_iter()
            .filter(|k| enabled(k.entity()))
            .collect();
        let patterns: Vec<&str> = kinds.iter().map(|k| k.regex(d).as_str()).collect();
        let all = if kinds.is_empty() {
            None
        } else {
            Some(regex_automata::meta::Regex::new_many(&patterns).map_err(|e| e.to_string())?)
        };
        let trigger = patterns
            .iter()
            .map(|p| required_bytes(p))
            .try_fold(Bytes::default(), |all, one| Some(all.union(one?)));
        Ok(Scanner {
            all,
            kinds,
            d,
            trigger,
        })
    }

    /// Every identifier in `text`, in order, not overlapping. A candidate its detector rejects
    /// (a Luhn-invalid "card" spanning two SSNs, say) must not hide what it covered, so the
    /// search resumes just after its start rather than after its end.
    pub fn find(&self, text: &str) -> Vec<Span> {
        let Some(all) = &self.all else {
            return Vec::new();
        };
        if self.trigger.is_some_and(|t| !t.any_in(text)) {
            return Vec::new();
        }
        let mut spans = Vec::new();
        let mut at = 0;
        // Where each detector's last rejected candidate ended: the same detector does not get
        // a second try inside it (a rejected card number does not hide a valid card suffix).
        let mut rejected_until = [0; PRIORITY.len()];
        while at <= text.len() {
            let Some(m) = all.search(&regex_automata::Input::new(text).range(at..)) else {
                break;
            };
            let index = m.pattern().as_usize();
            let kind = self.kinds[index];
            let found = (m.start() >= rejected_until[index])
                .then(|| check(kind, self.d, text, m.start(), m.end()))
                .flatten();
            if found.is_none() {
                rejected_until[index] = rejected_until[index].max(m.end());
            }
            at = match found {
                Some(span) => {
                    spans.push(span);
                    if m.end() > m.start() {
                        m.end()
                    } else {
                        next_char(text, m.start())
                    }
                }
                None => next_char(text, m.start()),
            };
        }
        spans
    }
}

/// The byte offset of the character after the one at `i`.
fn next_char(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(i + 1, |c| i + c.len_utf8())
}

/// An SSN or a ZIP is an identifier of its own only when no digit or hyphen continues it on
/// either side (letters may: "SSN123-45-6789"); "12323-45-6789" is neither.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let joins = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_digit() || *b == b'-');
    let bytes = text.as_bytes();
    !joins(start.checked_sub(1).and_then(|i| bytes.get(i))) && !joins(bytes.get(end))
}

/// Applies a detector's own rules to a candidate it matched (`text[base..end]`).
fn check(kind: Kind, d: &Detectors, text: &str, base: usize, end: usize) -> Option<Span> {
    if matches!(kind, Kind::Ssn | Kind::Zip) && !stands_alone(text, base, end) {
        return None;
    }
    let slice = &text[base..end];
    let whole = |entity| {
        Some(Span {
            start: base,
            end: base + slice.len(),
            entity,
        })
    };
    // Each detector's identifier is a fixed part of its candidate (the digits its pattern
    // ends with, or what follows the context), read off without a second regex search.
    let tail = |n: usize, entity| {
        let start = end.checked_sub(n).filter(|s| *s >= base)?;
        Some(Span { start, end, entity })
    };
    match kind {
        // The candidate is exactly `ddd-dd-dddd`: its groups are read off by position.
        Kind::Ssn => {
            let (area, group, serial) = (slice.get(..3)?, slice.get(4..6)?, slice.get(7..)?);
            (slice.len() == 11 && ssn_valid(area, group, serial)).then_some(())?;
            whole(Entity::Ssn)
        }
        // `… (\d{9})`: the last nine bytes.
        Kind::SsnPlain => {
            let s = slice.get(slice.len().checked_sub(9)?..)?;
            ssn_valid(s.get(..3)?, s.get(3..5)?, s.get(5..)?).then_some(())?;
            tail(9, Entity::Ssn)
        }
        // `… (\d{10})`: the last ten bytes.
        Kind::Npi => {
            npi_valid(slice.get(slice.len().checked_sub(10)?..)?).then_some(())?;
            tail(10, Entity::Npi)
        }
        Kind::Card => {
            let digits: String = slice.chars().filter(char::is_ascii_digit).collect();
            ((13..=19).contains(&digits.len()) && luhn(&digits)).then_some(())?;
            whole(Entity::Card)
        }
        // `dddd-dd-dd`; a longer candidate carries a time (a timestamp, not a birth date).
        Kind::DateIso => {
            let (y, m, d) = (slice.get(..4)?, slice.get(5..7)?, slice.get(8..)?);
            (slice.len() == 10 && date_valid(y, m, d)).then_some(())?;
            whole(Entity::Date)
        }
        Kind::DateUs => {
            let mut parts = slice.split('/');
            let (m, d) = (parts.next()?, parts.next()?);
            month_day_valid(m, d).then_some(())?;
            whole(Entity::Date)
        }
        // `… (\d{5})(?:-\d{4})?`: five digits, or ten bytes with the ZIP+4 suffix.
        Kind::Zip => {
            let plus4 = slice.len() >= 10 && slice.as_bytes()[slice.len() - 5] == b'-';
            tail(if plus4 { 10 } else { 5 }, Entity::Zip)
        }
        // The age is the candidate's first run of digits (no context word has any).
        Kind::Age => {
            let digits = slice.trim_start_matches(|c: char| !c.is_ascii_digit());
            let years = &digits[..digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len())];
            years
                .parse::<u32>()
                .ok()
                .filter(|n| (90..=130).contains(n))?;
            whole(Entity::Age)
        }
        // A bare number after its context word: the last ten digits.
        Kind::Phone if slice.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            tail(10, Entity::Phone)
        }
        Kind::Name => {
            let lead = d.name_lead.find(slice)?;
            Some(Span {
                start: base + lead.end(),
                end,
                entity: Entity::Name,
            })
        }
        other => whole(other.entity()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string of the mock hospital and the fixtures, and generated ones mixing the
    /// detectors' context words, digits and separators with plain words: found alike with
    /// and without the trigger.
    #[test]
    fn the_trigger_never_changes_what_is_found() {
        let with = Scanner::new(&|_| true).unwrap();
        let mut without = Scanner::new(&|_| true).unwrap();
        assert!(with.trigger.is_some(), "every detector requires some byte");
        without.trigger = None;
        let mut texts = Vec::new();
        for json in [
            include_str!("../../mock-mcp/data/hospital.json"),
            include_str!("../../tests/fixtures/medical_records_answer.json"),
            include_str!("../../tests/fixtures/fhir_bundle_answer.json"),
        ] {
            strings(&serde_json::from_str(json).unwrap(), &mut texts);
        }
        let pieces = [
            "patient ",
            "Patient ",
            "Mr. ",
            "Dr ",
            "name:",
            "spoke with ",
            "MRN",
            "mrn ",
            "ssn ",
            "member id ",
            "policy ",
            "npi ",
            "zip ",
            "age ",
            "years old",
            "y/o",
            "http://",
            "https://x.org/a",
            "@",
            ".",
            ",",
            ", ",
            ": ",
            ":",
            "::",
            "-",
            "/",
            "#",
            " ",
            "\t",
            "\n",
            "0",
            "1",
            "12",
            "123",
            "9",
            "1932",
            "02",
            "555",
            "Apt ",
            "Box",
            "PO ",
            "Street",
            "Way",
            "St",
            "RI",
            "Providence",
            "Ingrid",
            "Iwu",
            "final",
            "official",
            "K",
            "\u{212a}",
            "\u{17f}",
            "é",
            "x",
            "ab",
            "clinical_notes",
            "resourceType",
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            texts.push(text);
        }
        for text in &texts {
            assert_eq!(with.find(text), without.find(text), "{text:?}");
        }
    }

    #[test]
    fn keys_and_codes_without_digits_or_separators_are_not_searched() {
        let trigger = Scanner::new(&|_| true).unwrap().trigger.unwrap();
        for skipped in [
            "clinical_notes",
            "onset_date",
            "final",
            "official",
            "Condition",
        ] {
            assert!(!trigger.any_in(skipped), "{skipped}");
        }
        for searched in ["a b", "x1", "a@b", "http:", "Providence, RI"] {
            assert!(trigger.any_in(searched), "{searched}");
        }
    }

    fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(members) => members.iter().for_each(|(k, v)| {
                out.push(k.clone());
                strings(v, out);
            }),
            _ => {}
        }
    }
}
