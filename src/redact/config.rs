//! The `redaction:` section of the policy file: named profiles of field rules and detector
//! actions, and which profile each role gets. A role without an entry gets `default`, which
//! itself defaults to the built-in `safe_harbor` — never to no redaction.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::detect::Entity;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileSpec>,
    /// Role → profile name, or `none` for no redaction.
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    /// The profile of roles not listed; `safe_harbor` when absent.
    #[serde(default)]
    pub default: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// Another profile whose rules this one starts from.
    #[serde(default)]
    pub extends: Option<String>,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    /// Detector → action, applied to every string leaf.
    #[serde(default)]
    pub detect: BTreeMap<Entity, Action>,
    /// Binary content (images, audio, blobs): `blank` (the default: text types are decoded
    /// and redacted, the rest blanked) or `keep`.
    #[serde(default)]
    pub binary: Option<BinaryAction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryAction {
    Blank,
    Keep,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// A JSONPath selector (`$..ssn`), relative to each tool payload.
    #[serde(default)]
    pub path: Option<String>,
    /// A key-name glob (`*ssn*`), matched in the canonical spelling (snake_case, lower case).
    #[serde(default)]
    pub key: Option<String>,
    /// A FHIR resource type (`Condition`): such resources are removed whole (`action: remove`).
    #[serde(default)]
    pub resource: Option<String>,
    pub action: Action,
    /// What the value is, for the mask label, `generalize` and the counts (default `field`).
    #[serde(default)]
    pub entity: Option<Entity>,
}

/// What happens to a value. Written `mask`, `remove`, `hash`, `generalize` or `{partial: 4}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "ActionSpec")]
pub enum Action {
    /// Drop the member (or, inside text, the span).
    Remove,
    /// `[REDACTED:SSN]`.
    Mask,
    /// Keep the last N letters and digits: `***-**-6789`.
    Partial(usize),
    /// A stable pseudonym: HMAC-SHA256 with `GATEKEEPER_REDACT_KEY`.
    Hash,
    /// Date → year, ZIP → 3 digits (restricted prefixes → 000), age → 90+; others are masked.
    Generalize,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ActionSpec {
    Name(String),
    Partial { partial: usize },
}

impl TryFrom<ActionSpec> for Action {
    type Error = String;

    fn try_from(spec: ActionSpec) -> Result<Self, String> {
        match spec {
            ActionSpec::Partial { partial } => Ok(Action::Partial(partial)),
            ActionSpec::Name(name) => match name.as_str() {
                "remove" => Ok(Action::Remove),
                "mask" => Ok(Action::Mask),
                "hash" => Ok(Action::Hash),
                "generalize" => Ok(Action::Generalize),
                other => Err(format!(
                    "unknown action '{other}' (remove, mask, hash, generalize or {{partial: N}})"
                )),
            },
        }
    }
}

/// The built-in HIPAA Safe Harbor profile (45 CFR §164.514(b)(2)) for the identifiers a
/// hospital MCP server returns: names, geography below the state, dates but the year, contact
/// details, record and plan numbers, other unique ids, URLs and IPs, ages over 89.
pub fn safe_harbor() -> ProfileSpec {
    let field = |key: &str, action: Action, entity: Option<Entity>| FieldSpec {
        path: None,
        key: Some(key.into()),
        resource: None,
        action,
        entity,
    };
    let mut fields = vec![
        // Keys are matched in one canonical spelling (snake_case): `postalCode`,
        // `PostalCode`, `postal-code` are all `postal_code`. Later rules win ties.
        field("name", Action::Mask, Some(Entity::Name)),
        field("*_name", Action::Mask, Some(Entity::Name)),
        field("firstname", Action::Mask, Some(Entity::Name)),
        field("lastname", Action::Mask, Some(Entity::Name)),
        field("fullname", Action::Mask, Some(Entity::Name)),
        field("surname", Action::Mask, Some(Entity::Name)),
        field("given", Action::Mask, Some(Entity::Name)),
        field("fname", Action::Mask, Some(Entity::Name)),
        field("lname", Action::Mask, Some(Entity::Name)),
        field("forename", Action::Mask, Some(Entity::Name)),
        field("family", Action::Mask, Some(Entity::Name)),
        // An address as one string is masked; as an object it keeps state and country.
        field("address", Action::Mask, Some(Entity::Location)),
        field("addr", Action::Mask, Some(Entity::Location)),
        field("*_address", Action::Mask, Some(Entity::Location)),
        field("address_*", Action::Mask, Some(Entity::Location)),
        field("address1", Action::Mask, Some(Entity::Location)),
        field("address2", Action::Mask, Some(Entity::Location)),
        field("addresses", Action::Mask, Some(Entity::Location)),
        field("street*", Action::Mask, Some(Entity::Location)),
        field("residence", Action::Mask, Some(Entity::Location)),
        field("location", Action::Mask, Some(Entity::Location)),
        field("line1", Action::Mask, Some(Entity::Location)),
        field("line2", Action::Mask, Some(Entity::Location)),
        field("locality", Action::Mask, Some(Entity::Location)),
        field("municipality", Action::Mask, Some(Entity::Location)),
        field("*_street", Action::Mask, Some(Entity::Location)),
        field("city", Action::Mask, Some(Entity::Location)),
        field("town", Action::Mask, Some(Entity::Location)),
        field("county", Action::Mask, Some(Entity::Location)),
        field("district", Action::Mask, Some(Entity::Location)),
        field("zip", Action::Generalize, Some(Entity::Zip)),
        field("*zip*", Action::Generalize, Some(Entity::Zip)),
        field("postal_code", Action::Generalize, Some(Entity::Zip)),
        field("postcode", Action::Generalize, Some(Entity::Zip)),
        field("*ssn*", Action::Mask, Some(Entity::Ssn)),
        field("*phone*", Action::Mask, Some(Entity::Phone)),
        field("mobile*", Action::Mask, Some(Entity::Phone)),
        field("cell", Action::Mask, Some(Entity::Phone)),
        field("cell_*", Action::Mask, Some(Entity::Phone)),
        field("*contact_number*", Action::Mask, Some(Entity::Phone)),
        field("tel", Action::Mask, Some(Entity::Phone)),
        field("*fax*", Action::Mask, Some(Entity::Phone)),
        field("*email*", Action::Mask, Some(Entity::Email)),
        field("*mrn*", Action::Mask, Some(Entity::Mrn)),
        field("*member_id*", Action::Mask, Some(Entity::MemberId)),
        field("group_number", Action::Mask, Some(Entity::MemberId)),
        field("*account*", Action::Mask, Some(Entity::Id)),
        field("*license*", Action::Mask, Some(Entity::Id)),
        field("*_id", Action::Mask, Some(Entity::Id)),
        field("date_of_birth", Action::Generalize, Some(Entity::Date)),
        field("birth_date", Action::Generalize, Some(Entity::Date)),
        field("birthdate", Action::Generalize, Some(Entity::Date)),
        field("birthday", Action::Generalize, Some(Entity::Date)),
        field("dob", Action::Generalize, Some(Entity::Date)),
        field("date", Action::Generalize, Some(Entity::Date)),
        field("*_date", Action::Generalize, Some(Entity::Date)),
        field("age", Action::Generalize, Some(Entity::Age)),
    ];
    fields.shrink_to_fit();
    let detect = Entity::ALL
        .into_iter()
        .filter(|e| e.detectable())
        .map(|e| {
            let action = match e {
                Entity::Date | Entity::Zip | Entity::Age => Action::Generalize,
                _ => Action::Mask,
            };
            (e, action)
        })
        .collect();
    ProfileSpec {
        extends: None,
        fields,
        detect,
        binary: None,
    }
}
