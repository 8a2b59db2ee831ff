//! Utility values: what a researcher needs from a FHIR document and Safe Harbor lets through —
//! code systems, codes and displays, units and values, identifier systems and OIDs, profiles,
//! extension URLs, gender, state, country; and the schema's own words (`status`, `use`,
//! `resourceType`, a CodeableConcept's `text`). Found by walking the generated JSON, each with its
//! JSON Pointer, so each is checked in place in the redacted output.

use serde_json::Value;

/// A utility value: what must come out unchanged, where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    CodingSystem,
    CodingCode,
    CodingDisplay,
    QuantityValue,
    QuantityUnit,
    QuantitySystem,
    IdentifierSystem,
    Oid,
    MetaProfile,
    ExtensionUrl,
    Gender,
    State,
    Country,
    ConceptText,
    SchemaCode,
    MedicationDisplay,
}

/// String members whose values are the schema's codes, never data about a person.
const SCHEMA_CODES: [&str; 10] = [
    "resourceType",
    "status",
    "intent",
    "use",
    "type",
    "mode",
    "relation",
    "contentType",
    "language",
    "valueCode",
];

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::CodingSystem,
        Kind::CodingCode,
        Kind::CodingDisplay,
        Kind::QuantityValue,
        Kind::QuantityUnit,
        Kind::QuantitySystem,
        Kind::IdentifierSystem,
        Kind::Oid,
        Kind::MetaProfile,
        Kind::ExtensionUrl,
        Kind::Gender,
        Kind::State,
        Kind::Country,
        Kind::ConceptText,
        Kind::SchemaCode,
        Kind::MedicationDisplay,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::CodingSystem => "coding.system",
            Kind::CodingCode => "coding.code",
            Kind::CodingDisplay => "coding.display",
            Kind::QuantityValue => "valueQuantity.value",
            Kind::QuantityUnit => "quantity unit/code",
            Kind::QuantitySystem => "quantity system (UCUM)",
            Kind::IdentifierSystem => "identifier.system",
            Kind::Oid => "OID system (urn:oid:)",
            Kind::MetaProfile => "meta.profile",
            Kind::ExtensionUrl => "extension.url",
            Kind::Gender => "gender",
            Kind::State => "address.state",
            Kind::Country => "address.country",
            Kind::ConceptText => "CodeableConcept.text",
            Kind::SchemaCode => "status/use/type/resourceType…",
            Kind::MedicationDisplay => "medicationReference.display",
        }
    }

    /// Must survive untouched (the issue: systems, profiles and OIDs are never PHI).
    pub fn untouchable(self) -> bool {
        matches!(
            self,
            Kind::CodingSystem | Kind::IdentifierSystem | Kind::Oid | Kind::MetaProfile
        )
    }
}

#[derive(Debug, Clone)]
pub struct Keep {
    pub kind: Kind,
    pub pointer: String,
    pub value: Value,
}

/// Every utility value of a FHIR document, with its JSON Pointer.
pub fn utility(root: &Value) -> Vec<Keep> {
    let mut out = Vec::new();
    walk(root, "", None, &mut out);
    out
}

fn system_kind(value: &Value, otherwise: Kind) -> Kind {
    match value.as_str() {
        Some(s) if s.starts_with("urn:oid:") => Kind::Oid,
        _ => otherwise,
    }
}

fn walk(v: &Value, ptr: &str, parent: Option<&str>, out: &mut Vec<Keep>) {
    fn keep(out: &mut Vec<Keep>, kind: Kind, pointer: String, value: &Value) {
        out.push(Keep {
            kind,
            pointer,
            value: value.clone(),
        });
    }
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{ptr}/{i}"), parent, out);
            }
        }
        Value::Object(m) => {
            let at = |k: &str| format!("{ptr}/{k}");
            let quantity = m.contains_key("unit")
                || matches!(parent, Some("valueQuantity" | "doseQuantity" | "quantity"));
            match parent {
                // A photograph is PHI whole: removing it, type and all, loses nothing.
                Some("photo") => return,
                Some("medicationReference") => {
                    if let Some(s) = m.get("display") {
                        keep(out, Kind::MedicationDisplay, at("display"), s);
                    }
                    return;
                }
                Some("telecom") => {
                    for k in ["system", "use"] {
                        if let Some(s) = m.get(k) {
                            keep(out, Kind::SchemaCode, at(k), s);
                        }
                    }
                    return;
                }
                Some("identifier" | "masterIdentifier") => {
                    if let Some(s) = m.get("system") {
                        keep(out, system_kind(s, Kind::IdentifierSystem), at("system"), s);
                    }
                    if let Some(s) = m.get("use") {
                        keep(out, Kind::SchemaCode, at("use"), s);
                    }
                    if let Some(t) = m.get("type") {
                        walk(t, &at("type"), Some("type"), out);
                    }
                    return;
                }
                Some("meta") => {
                    if let Some(Value::Array(profiles)) = m.get("profile") {
                        for (i, p) in profiles.iter().enumerate() {
                            keep(out, Kind::MetaProfile, format!("{ptr}/profile/{i}"), p);
                        }
                    }
                    return;
                }
                Some("address") => {
                    for (k, kind) in [
                        ("state", Kind::State),
                        ("country", Kind::Country),
                        ("use", Kind::SchemaCode),
                        ("type", Kind::SchemaCode),
                    ] {
                        if let Some(s) = m.get(k) {
                            keep(out, kind, at(k), s);
                        }
                    }
                    return;
                }
                _ => {}
            }
            if quantity {
                for (k, kind) in [
                    ("value", Kind::QuantityValue),
                    ("unit", Kind::QuantityUnit),
                    ("code", Kind::QuantityUnit),
                    ("system", Kind::QuantitySystem),
                ] {
                    if let Some(s) = m.get(k) {
                        keep(out, kind, at(k), s);
                    }
                }
                return;
            }
            let coding = m.contains_key("system") && m.contains_key("code");
            for (k, value) in m {
                match (k.as_str(), value) {
                    ("system", _) if coding => {
                        keep(out, system_kind(value, Kind::CodingSystem), at(k), value)
                    }
                    ("code", _) if coding => keep(out, Kind::CodingCode, at(k), value),
                    ("display", _) if coding => keep(out, Kind::CodingDisplay, at(k), value),
                    ("url", Value::String(_)) if parent == Some("extension") => {
                        keep(out, Kind::ExtensionUrl, at(k), value)
                    }
                    ("gender", Value::String(_)) => keep(out, Kind::Gender, at(k), value),
                    ("text", Value::String(_)) if m.contains_key("coding") => {
                        keep(out, Kind::ConceptText, at(k), value)
                    }
                    (code, Value::String(_)) if SCHEMA_CODES.contains(&code) => {
                        keep(out, Kind::SchemaCode, at(k), value)
                    }
                    _ => walk(value, &at(k), Some(k), out),
                }
            }
        }
        _ => {}
    }
}
