//! The replacement text an action gives: a value kept in part, generalised (a date to its
//! year, a ZIP to its three-digit prefix, an age over 89 to "90+").

use super::detect::Entity;

/// Keeps the last `keep` letters and digits; masks the others, keeping separators.
pub(super) fn partial(value: &str, keep: usize) -> String {
    let total = value.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen + keep > total {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Three-digit ZIP prefixes with 20,000 people or fewer become 000 (45 CFR 164.514(b)(2)(i)(B)):
/// HHS's 2000-census list together with the 2010 ZCTA prefixes (205, 369) — when two lists
/// disagree, the one that hides more wins.
const RESTRICTED_ZIP3: [&str; 19] = [
    "036", "059", "063", "102", "203", "205", "369", "556", "692", "790", "821", "823", "830",
    "831", "878", "879", "884", "890", "893",
];

pub(super) fn generalize(value: &str, entity: Entity, this_year: i32) -> String {
    match entity {
        Entity::Date => generalize_date(value, this_year),
        Entity::Zip => {
            let digits: String = value.chars().filter(char::is_ascii_digit).take(3).collect();
            if digits.len() < 3 || RESTRICTED_ZIP3.contains(&digits.as_str()) {
                "000".into()
            } else {
                digits
            }
        }
        Entity::Age => {
            let n: Option<u32> = value
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok();
            match n {
                Some(age) if age > 89 => "90+".into(),
                Some(_) => value.to_string(),
                None => "[REDACTED:AGE]".into(),
            }
        }
        other => other.mask(),
    }
}

/// A date becomes its year — or, when the year alone would reveal an age over 89, a bound.
fn generalize_date(value: &str, this_year: i32) -> String {
    let year = value
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 4)
        .and_then(|y| y.parse::<i32>().ok());
    match year {
        Some(y) if this_year - y > 89 => format!("before {}", this_year - 89),
        Some(y) => y.to_string(),
        None => "[REDACTED:DATE]".into(),
    }
}
