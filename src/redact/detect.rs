//! Value detectors: find identifiers inside free text, with the validity rules that separate
//! them from look-alikes (SSA rules for SSNs, Luhn for cards and NPIs, calendar checks for
//! dates, context words for MRNs, member ids, ZIPs and NPIs).

use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

/// The kinds of identifier the detectors know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Ssn,
    Phone,
    Email,
    Date,
    Mrn,
    MemberId,
    Ip,
    Url,
    Card,
    Npi,
    Mbi,
    Zip,
    Age,
    /// Kinds only field rules name (no detector finds them in free text).
    Name,
    Location,
    Id,
    /// A value removed or masked by a field rule that names no kind.
    Field,
    /// Binary content (an image, a clip, a blob) a redacting role may not receive unread.
    Attachment,
}

impl Entity {
    /// Every kind, in declaration order (`kind as usize` indexes this).
    pub const ALL: [Entity; 18] = [
        Entity::Ssn,
        Entity::Phone,
        Entity::Email,
        Entity::Date,
        Entity::Mrn,
        Entity::MemberId,
        Entity::Ip,
        Entity::Url,
        Entity::Card,
        Entity::Npi,
        Entity::Mbi,
        Entity::Zip,
        Entity::Age,
        Entity::Name,
        Entity::Location,
        Entity::Id,
        Entity::Field,
        Entity::Attachment,
    ];

    /// Kinds a detector (or Safe Harbor's name and address context) can find in free text:
    /// all but the ones only field rules name.
    pub fn detectable(self) -> bool {
        !matches!(self, Entity::Id | Entity::Field | Entity::Attachment)
    }

    pub fn label(self) -> &'static str {
        match self {
            Entity::Ssn => "SSN",
            Entity::Phone => "PHONE",
            Entity::Email => "EMAIL",
            Entity::Date => "DATE",
            Entity::Mrn => "MRN",
            Entity::MemberId => "MEMBER_ID",
            Entity::Ip => "IP",
            Entity::Url => "URL",
            Entity::Card => "CARD",
            Entity::Npi => "NPI",
            Entity::Mbi => "MBI",
            Entity::Zip => "ZIP",
            Entity::Age => "AGE",
            Entity::Name => "NAME",
            Entity::Location => "LOCATION",
            Entity::Id => "ID",
            Entity::Field => "FIELD",
            Entity::Attachment => "ATTACHMENT",
        }
    }

    /// What a masked value of this kind becomes: `[REDACTED:SSN]`.
    pub fn mask(self) -> String {
        ["[REDACTED:", self.label(), "]"].concat()
    }

    pub fn metric_label(self) -> &'static str {
        match self {
            Entity::Ssn => "ssn",
            Entity::Phone => "phone",
            Entity::Email => "email",
            Entity::Date => "date",
            Entity::Mrn => "mrn",
            Entity::MemberId => "member_id",
            Entity::Ip => "ip",
            Entity::Url => "url",
            Entity::Card => "card",
            Entity::Npi => "npi",
            Entity::Mbi => "mbi",
            Entity::Zip => "zip",
            Entity::Age => "age",
            Entity::Name => "name",
            Entity::Location => "location",
            Entity::Id => "id",
            Entity::Field => "field",
            Entity::Attachment => "attachment",
        }
    }
}

/// One identifier found in a string: where it is and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub entity: Entity,
}

/// The compiled detector patterns, built once (fallibly, at policy load) and shared.
pub struct Detectors {
    pub(super) ssn: Regex,
    pub(super) ssn_plain: Regex,
    pub(super) phone: Regex,
    pub(super) email: Regex,
    pub(super) date_iso: Regex,
    pub(super) date_us: Regex,
    pub(super) date_long: Regex,
    pub(super) mrn: Regex,
    pub(super) member_id: Regex,
    pub(super) ipv4: Regex,
    pub(super) ipv6: Regex,
    pub(super) url: Regex,
    pub(super) card: Regex,
    pub(super) npi: Regex,
    pub(super) mbi: Regex,
    pub(super) zip_context: Regex,
    pub(super) street: Regex,
    pub(super) name: Regex,
    /// `name`'s context alone, anchored: where it ends, the name begins.
    pub(super) name_lead: Regex,
    pub(super) age: Regex,
}

/// What introduces a name: a title or a phrase about a person, then white space.
/// A context word may be followed by a title ("Spoke with Mr. Smith"): the title is part of
/// the lead, so the name is what comes after it.
const NAME_LEAD: &str = r"(?:\b(?:[Pp]atient|[Pp]t\.|[Ss]poke with|[Aa]dherence with|[Ee]mergency contact|[Cc]ontact|[Nn]ext of kin|Mr\.|Mrs\.|Ms\.|Miss|[Nn]ame:?)\s+(?:(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+)?)";

static DETECTORS: OnceLock<Result<Detectors, String>> = OnceLock::new();

impl Detectors {
    /// The shared detectors; an error (a pattern that does not compile) fails the policy load.
    pub fn get() -> Result<&'static Detectors, String> {
        DETECTORS
            .get_or_init(Detectors::build)
            .as_ref()
            .map_err(Clone::clone)
    }

    fn build() -> Result<Self, String> {
        // ASCII classes and word boundaries keep the automata small and let the engine use
        // its DFAs (Unicode `\b` cannot); identifiers are ASCII anyway.
        let re = |p: &str| {
            let p = p
                .replace(r"\b", r"(?-u:\b)")
                .replace(r"\d", "[0-9]")
                .replace(r"\s", r"[ \t\r\n]")
                .replace(r"\w", "[A-Za-z0-9_]");
            Regex::new(&p).map_err(|e| format!("detector pattern {p}: {e}"))
        };
        let d = Detectors {
            // No word boundaries: "SSN123-45-6789" is still an SSN. Its neighbours are checked
            // in `Scanner::find` instead (no digit or hyphen may touch it).
            ssn: re(r"(\d{3})-(\d{2})-(\d{4})")?,
            ssn_plain: re(
                r"(?i)\b(?:ssn|social security(?: number)?)\s*(?:#|no\.?|number)?\s*[:=]?\s*(\d{9})\b",
            )?,
            // NANP by shape (any area code: assigned or not, a number is a number), E.164, and
            // ten bare digits after a word that says what they are ("reachable at", "call").
            phone: re(
                r"(?:\+1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b|\+[1-9]\d{7,14}\b|(?i:\b(?:reachable at|call|calls from|phone|cell|mobile|tel|telephone|contact|fax|text|pager)\s*(?:#|no\.?|number)?\s*[:=]?\s*)\d{10}\b",
            )?,
            email: re(r"\b[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")?,
            date_iso: re(r"\b(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2})?")?,
            date_us: re(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b")?,
            date_long: re(
                r"\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.? \d{1,2}(?:st|nd|rd|th)?, \d{4}\b",
            )?,
            mrn: re(
                r"(?i)\bMRN[-:#\s]*\d{6,10}\b|(?i:medical record(?: number)?)\s*[:#]?\s*\d{6,10}\b",
            )?,
            member_id: re(
                r"\b[A-Z]{3}\d{9}\b|(?i:member(?: id)?|policy(?: number)?|subscriber id)\s*[:#]?\s*[A-Z0-9]{6,15}\b",
            )?,
            ipv4: re(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")?,
            ipv6: re(
                r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|(?i)\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}:?){0,5}[0-9a-f]{1,4}\b",
            )?,
            url: re(r#"(?i)\bhttps?://[^\s"'<>]+"#)?,
            card: re(r"\b(?:\d[ -]?){12,18}\d\b")?,
            npi: re(r"(?i)\bNPI\s*[:#]?\s*(\d{10})\b")?,
            mbi: re(
                r"\b[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y]{2}\d{2}\b",
            )?,
            // Names need context: a title or a phrase that introduces a person. A heuristic —
            // names elsewhere are caught only when a field rule saw them (known values).
            name: re(&format!(
                r"{NAME_LEAD}([A-Z][A-Za-z']*[a-z](?:[ -][A-Z][A-Za-z']*[a-z]){{0,2}})\b"
            ))?,
            name_lead: re(&format!("^{NAME_LEAD}"))?,
            street: re(
                // A numbered street with its suffix (and unit, city, state, ZIP when they
                // follow); a unit on its own ("Apt 7", "Suite 210"); a PO box; a city before a state
                // (with the ZIP after it).
                r"\b\d{1,5}\s+(?:[A-Z][a-z]+\.?\s+){1,3}(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Ln|Lane|Dr|Drive|Way|Ct|Court|Row|Path|Pl|Place|Ter|Terrace|Cir|Circle|Hwy|Highway|Pkwy|Parkway|Landing|Trail|Crescent|Loop|Walk|Run|Pike|Square|Sq|Alley|Bend|Crossing|Green|Grove|Heights|Hill|Hollow|Knoll|Meadow|Ridge|Summit|Commons)\b\.?(?:,?\s+(?:Apt|Suite|Unit|#)\s*\w+)?(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+)?(?:,?\s+[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?)?|\b(?:Apt|Apartment|Suite|Ste|Unit)\.?\s*#?\s*\d[0-9A-Za-z-]{0,5}\b|\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b|\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?,\s+(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC)\b(?:\s+\d{5}(?:-\d{4})?\b)?",
            )?,
            zip_context: re(
                r"(?i)(?:\bzip(?: code)?\s*[:#]?\s*|\b[A-Z]{2}\s+|,\s*)(\d{5})(?:-\d{4})?\b",
            )?,
            age: re(
                r"(?i)\b(?:age[d]?\s*[:=]?\s*(\d{2,3})\b|(\d{2,3})[- ](?:year|yr)s?[- ]old\b|(\d{2,3})\s*y/?o\b)",
            )?,
        };
        Ok(d)
    }
}

/// SSA rules: area not 000, 666 or 900–999; group not 00; serial not 0000.
pub fn ssn_valid(area: &str, group: &str, serial: &str) -> bool {
    let area: u32 = area.parse().unwrap_or(0);
    area != 0 && area != 666 && area < 900 && group != "00" && serial != "0000"
}

pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c.wrapping_sub(b'0'));
        if d > 9 {
            return false;
        }
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// An NPI's check digit is the Luhn digit of "80840" followed by its first nine digits.
pub fn npi_valid(npi: &str) -> bool {
    npi.len() == 10 && luhn(&format!("80840{npi}"))
}

pub(super) fn date_valid(y: &str, m: &str, d: &str) -> bool {
    let year: u32 = y.parse().unwrap_or(0);
    (1800..=2200).contains(&year) && month_day_valid(m, d)
}

pub(super) fn month_day_valid(m: &str, d: &str) -> bool {
    let (m, d): (u32, u32) = (m.parse().unwrap_or(0), d.parse().unwrap_or(0));
    (1..=12).contains(&m) && (1..=31).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::scan::Scanner;

    fn kinds(text: &str) -> Vec<(Entity, String)> {
        Scanner::new(&|_| true)
            .unwrap()
            .find(text)
            .into_iter()
            .map(|s| (s.entity, text[s.start..s.end].to_string()))
            .collect()
    }

    #[test]
    fn finds_identifiers_in_free_text() {
        let text = "Spoke with Noah at (617) 555-0142 re: MRN-0042137; SSN on file 123-45-6789 confirmed, mail noah@example.org on March 3, 2024 and 03/04/2024.";
        let found = kinds(text);
        for (e, v) in [
            (Entity::Phone, "(617) 555-0142"),
            (Entity::Mrn, "MRN-0042137"),
            (Entity::Ssn, "123-45-6789"),
            (Entity::Email, "noah@example.org"),
            (Entity::Date, "March 3, 2024"),
            (Entity::Date, "03/04/2024"),
        ] {
            assert!(
                found.contains(&(e, v.to_string())),
                "{e:?} {v} not in {found:?}"
            );
        }
    }

    #[test]
    fn look_alikes_are_left_alone() {
        for text in [
            "SSN 900-12-3456 is not issued",
            "666-12-3456",
            "123-00-4567 and 123-45-0000",
            "HbA1c 7.2%, LDL 130 mg/dL",
            "Lab order ORD-2024-00123 placed",
            "Portal app v2.3.1 issue noted",
            "card 4111 1111 1111 1112",
            "logged at 2024-03-03T10:15:00Z",
            "BP 128/82",
        ] {
            assert_eq!(kinds(text), vec![], "{text}");
        }
    }

    #[test]
    fn all_lists_every_kind_at_its_index() {
        for (i, e) in Entity::ALL.into_iter().enumerate() {
            assert_eq!(e as usize, i, "{e:?}");
        }
    }

    #[test]
    fn validity_rules() {
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
        assert!(npi_valid("1234567893"));
        assert!(!npi_valid("1234567890"));
        assert_eq!(kinds("card 4111-1111-1111-1111")[0].0, Entity::Card);
        assert_eq!(kinds("NPI: 1234567893")[0].0, Entity::Npi);
        assert_eq!(kinds("MBI 1EG4-TE5-MK73")[0].0, Entity::Mbi);
        assert_eq!(kinds("from 10.0.12.7")[0].0, Entity::Ip);
        // A city before a state takes the ZIP after it along (Safe Harbor: no geography
        // below the state); a ZIP after a state alone is a ZIP.
        assert_eq!(
            kinds("Boston, MA 02115")[0],
            (Entity::Location, "Boston, MA 02115".to_string())
        );
        assert_eq!(kinds("zip MA 02115")[0].1, "02115");
        assert_eq!(
            kinds("Lives at 251 Granite Way, Providence 02932; ok")[0],
            (
                Entity::Location,
                "251 Granite Way, Providence 02932".to_string()
            )
        );
        assert_eq!(kinds("at 12 Beacon Rd.")[0].0, Entity::Location);
        assert_eq!(
            kinds("Patient Ingrid Iwu (DOB")[0],
            (Entity::Name, "Ingrid Iwu".to_string())
        );
        assert_eq!(
            kinds("adherence with Ingrid. Emergency contact Hugo O'Brien reachable")[1].1,
            "Hugo O'Brien"
        );
        assert_eq!(kinds("a 93-year-old woman")[0].0, Entity::Age);
        assert!(kinds("a 45-year-old man").is_empty());
        assert_eq!(kinds("member XKH019662164")[0].0, Entity::MemberId);
        assert_eq!(kinds("call +442071838750")[0].0, Entity::Phone);
        assert_eq!(
            kinds("see https://portal.example.org/p/NUGWI")[0].0,
            Entity::Url
        );
    }
}
