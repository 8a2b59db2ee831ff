//! FHIR R4 resources (any JSON object with `resourceType`: alone, in a Bundle's entries, in
//! `contained`) are redacted by datatype and element, not by key guess: HumanName, Address
//! (state and country kept, `postalCode` to three digits), ContactPoint, Identifier values,
//! every date, dateTime, instant and Period (to the year; ages over 89 folded), Reference
//! displays, resource ids and references (pseudonymised consistently within an answer, so a
//! Bundle stays linked), Attachments and photos. Codes, code systems, profiles, displays of
//! codes, units and values are kept. Each kind takes the action the profile gives its entity,
//! so a profile that only masks SSNs masks only the SSN identifier. The free text that remains
//! (notes, narratives, decoded text attachments) gets the detectors and the names and numbers
//! this pass took out, in the string pass (`scrub_text`).

use std::collections::HashMap;

mod text;

pub(super) use text::scrub_text;

use super::config::Action;
use super::detect::Entity;
use super::known::{spellings, Known, MIN_KNOWN_LEN};
use super::tree::{Members, Node, Text};
use super::{Redactor, Tally};

/// Whether `members` are a FHIR resource.
pub(super) fn is_resource(members: &Members) -> bool {
    members.iter().any(|(k, v)| {
        k == "resourceType"
            && v.as_str()
                .is_some_and(|t| t.chars().next().is_some_and(char::is_uppercase))
    })
}

/// The resource's type.
fn resource_type<'m>(members: &'m Members) -> Option<&'m str> {
    members
        .iter()
        .find(|(k, _)| k == "resourceType")
        .and_then(|(_, v)| v.as_str())
}

/// Elements whose strings are the schema's own (codes, systems, profiles, units, statuses…):
/// kept as they are, never given to the detectors.
pub(super) const STRUCTURAL: [&str; 24] = [
    "resourceType",
    "system",
    "code",
    "version",
    "profile",
    "url",
    "unit",
    "status",
    "use",
    "gender",
    "language",
    "contentType",
    "mode",
    "rank",
    "intent",
    "priority",
    "comparator",
    "versionId",
    "relation",
    "kind",
    "div_status",
    "lastUpdated",
    "fullUrl",
    "reference",
];

/// Elements whose Reference names a person when its type does not say (`urn:uuid:…`).
const PERSON_ELEMENTS: [&str; 20] = [
    "subject",
    "patient",
    "performer",
    "requester",
    "author",
    "participant",
    "individual",
    "practitioner",
    "recorder",
    "asserter",
    "informant",
    "attester",
    "generalPractitioner",
    "beneficiary",
    "subscriber",
    "policyHolder",
    "authenticator",
    "sender",
    "recipient",
    "actor",
];

/// Resource types whose `Reference.display` is a person's name.
const PERSONS: [&str; 4] = ["Patient", "Practitioner", "RelatedPerson", "Person"];

/// The field pass over one resource: acts on what each datatype carries and files what it
/// took out as known values.
pub(super) struct FhirPass<'r, 'k> {
    pub(super) redactor: &'r Redactor,
    pub(super) known: &'k mut Vec<Known>,
    pub(super) tally: &'k mut Tally,
    /// Resource ids (and the ids references name) → their pseudonyms, for this answer.
    pub(super) pseudonyms: &'k mut HashMap<String, String>,
}

impl FhirPass<'_, '_> {
    /// A resource: true when the profile removes it whole (`resource: Type` rules).
    pub(super) fn resource(&mut self, node: &mut Node) -> bool {
        let Node::Object(members) = node else {
            return false;
        };
        if let Some(kind) = resource_type(members) {
            if self.redactor.removes_resource(kind) {
                self.tally.add(Entity::Field);
                return true;
            }
        }
        self.members(members, true, "");
        false
    }

    /// The members of a resource or a datatype; `parent` is the element they sit under (a
    /// Reference's element says whom it names when its type does not).
    fn members(&mut self, members: &mut Members, is_resource: bool, parent: &str) {
        let mut removed = Vec::new();
        let reference_to = members
            .iter()
            .find(|(k, _)| k == "reference")
            .and_then(|(_, v)| v.as_str())
            .map(referenced_type);
        let coding = members.iter().any(|(k, _)| k == "system" || k == "code");
        for (i, (key, value)) in members.iter_mut().enumerate() {
            if self.redactor.removes_key(key) {
                self.tally.add(Entity::Field);
                removed.push(i);
                continue;
            }
            match key.as_ref() {
                "id" if is_resource => self.pseudonymise(value, false),
                "reference" | "fullUrl" => self.pseudonymise(value, true),
                "display" if !coding => {
                    let person = match reference_to.as_ref() {
                        Some(Some(kind)) => PERSONS.contains(&kind.as_str()),
                        // `#contained`, `urn:uuid:…`, or no reference: by the element.
                        _ => PERSON_ELEMENTS.contains(&parent),
                    };
                    if person {
                        self.act(value, Entity::Name);
                    }
                }
                "photo" if !self.redactor.keep_binary => {
                    self.tally.add(Entity::Attachment);
                    removed.push(i);
                }
                "name" | "valueHumanName" if is_human_name(value) => self.human_name(value),
                "address" | "valueAddress" => self.address(value),
                "telecom" | "valueContactPoint" => self.telecom(value),
                "identifier" | "masterIdentifier" | "valueIdentifier" => self.identifier(value),
                "authorString" => self.act(value, Entity::Name),
                k if STRUCTURAL.contains(&k) => {}
                k if is_age(k) => self.age(value),
                _ => self.other(value, key),
            }
        }
        remove_at(members, &removed);
    }

    /// Any other element: a nested resource, a datatype walked into, or a date.
    fn other(&mut self, value: &mut Node, key: &str) {
        if matches!(value, Node::Object(m) if is_resource(m)) {
            if self.resource(value) {
                *value = Node::Null;
            }
            return;
        }
        match value {
            Node::Object(members) => self.members(members, false, key),
            Node::Array(items) => {
                let mut removed = Vec::new();
                for (i, item) in items.iter_mut().enumerate() {
                    if matches!(item, Node::Object(m) if is_resource(m)) {
                        if self.resource(item) {
                            removed.push(i);
                        }
                        continue;
                    }
                    match item {
                        Node::Object(m) => self.members(m, false, key),
                        Node::String(s) if is_date(s, key) => self.act(item, Entity::Date),
                        _ => {}
                    }
                }
                remove_at(items, &removed);
            }
            Node::String(s) if is_date(s, key) => self.act(value, Entity::Date),
            _ => {}
        }
    }

    /// HumanName (or a list of them): every part is a name, filed to be found again in text.
    fn human_name(&mut self, value: &mut Node) {
        match value {
            Node::Array(items) => items.iter_mut().for_each(|v| self.human_name(v)),
            Node::Object(members) => {
                let mut whole = Vec::new();
                for (key, v) in members.iter_mut() {
                    match key.as_ref() {
                        "family" | "given" | "prefix" | "suffix" | "text" => {
                            if key == "given" || key == "family" {
                                strings_of(v, &mut whole);
                            }
                            self.act(v, Entity::Name);
                        }
                        "period" => self.other(v, key),
                        _ => {}
                    }
                }
                // "Given Family" as one value too: a note writes the whole name.
                if whole.len() > 1 {
                    self.know(&whole.join(" "), Entity::Name);
                }
            }
            _ => self.act(value, Entity::Name),
        }
    }

    /// Address: lines, city, district and text are locations; the ZIP keeps three digits.
    fn address(&mut self, value: &mut Node) {
        match value {
            Node::Array(items) => items.iter_mut().for_each(|v| self.address(v)),
            Node::Object(members) => {
                for (key, v) in members.iter_mut() {
                    match key.as_ref() {
                        "line" | "city" | "district" | "text" => self.act(v, Entity::Location),
                        "postalCode" => self.act(v, Entity::Zip),
                        "period" => self.other(v, key),
                        _ => {}
                    }
                }
            }
            _ => self.act(value, Entity::Location),
        }
    }

    /// ContactPoint: the value is a phone, an e-mail or a URL, as its system says.
    fn telecom(&mut self, value: &mut Node) {
        match value {
            Node::Array(items) => items.iter_mut().for_each(|v| self.telecom(v)),
            Node::Object(members) => {
                let system = members
                    .iter()
                    .find(|(k, _)| k == "system")
                    .and_then(|(_, v)| v.as_str())
                    .unwrap_or("");
                let entity = match system {
                    "email" => Entity::Email,
                    "url" => Entity::Url,
                    _ => Entity::Phone,
                };
                for (key, v) in members.iter_mut() {
                    match key.as_ref() {
                        "value" => self.act(v, entity),
                        "period" => self.other(v, key),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// Identifier: its value is an SSN, an MRN or another identifier, by its system and type.
    fn identifier(&mut self, value: &mut Node) {
        match value {
            Node::Array(items) => items.iter_mut().for_each(|v| self.identifier(v)),
            Node::Object(members) => {
                let system = members
                    .iter()
                    .find(|(k, _)| k == "system")
                    .and_then(|(_, v)| v.as_str())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let typed_mr = members
                    .iter()
                    .find(|(k, _)| k == "type")
                    .is_some_and(|(_, t)| t.to_json_string().contains("\"MR\""));
                let entity = if system.contains("us-ssn") || system.ends_with("ssn") {
                    Entity::Ssn
                } else if typed_mr || system.contains("mrn") || system.contains("medical-record") {
                    Entity::Mrn
                } else {
                    Entity::Id
                };
                for (key, v) in members.iter_mut() {
                    match key.as_ref() {
                        "value" => self.act(v, entity),
                        "assigner" | "period" => self.other(v, key),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// An Age (`{value, unit}`) or a bare number under an age element: over 89 is "90 or more".
    fn age(&mut self, value: &mut Node) {
        if self.redactor.action_for(Entity::Age).is_none() {
            return;
        }
        let over_89 =
            |n: &Node| matches!(n, Node::Number(x) if x.as_f64().is_some_and(|x| x > 89.0));
        match value {
            Node::Object(members) => {
                let old = members.iter().any(|(k, v)| k == "value" && over_89(v));
                if old {
                    for (key, v) in members.iter_mut() {
                        if key == "value" {
                            *v = Node::Number(90.into());
                        }
                    }
                    if !members.iter().any(|(k, _)| k == "comparator") {
                        members.push((
                            Text::from("comparator".to_string()),
                            Node::string(">=".into()),
                        ));
                    }
                    self.tally.add(Entity::Age);
                }
            }
            n if over_89(n) => {
                *n = Node::Number(90.into());
                self.tally.add(Entity::Age);
            }
            _ => {}
        }
    }

    /// A resource id (or, `reference`, the id a reference names): its pseudonym for this
    /// answer, the same wherever it appears — a keyed hash when the profile hashes identifiers,
    /// else a number by first appearance. Left as it is when the profile keeps identifiers.
    fn pseudonymise(&mut self, value: &mut Node, reference: bool) {
        let Some(action) = self.redactor.action_for(Entity::Id) else {
            return;
        };
        let Node::String(text) = value else { return };
        let (head, id) = if reference {
            split_reference(text)
        } else {
            ("", text.as_ref())
        };
        if id.is_empty() {
            return;
        }
        let next = self.pseudonyms.len() + 1;
        let pseudonym = self
            .pseudonyms
            .entry(id.to_string())
            .or_insert_with(|| match action {
                Action::Hash => format!(
                    "id-{}",
                    self.redactor
                        .render(id, Action::Hash, Entity::Id)
                        .trim_start_matches("[ID:")
                        .trim_end_matches(']')
                ),
                _ => format!("redacted-{next}"),
            })
            .clone();
        let id = id.to_string();
        self.know(&id, Entity::Id);
        self.tally.add(Entity::Id);
        *value = Node::string(format!("{head}{pseudonym}"));
    }

    /// Every string under `value` takes the profile's action for `entity` (nothing when the
    /// profile leaves that kind alone), and is filed as a known value.
    fn act(&mut self, value: &mut Node, entity: Entity) {
        let Some(action) = self.redactor.action_for(entity) else {
            return;
        };
        match value {
            Node::Array(items) => items.iter_mut().for_each(|v| self.act(v, entity)),
            Node::String(s) => {
                let original = s.to_string();
                self.know(&original, entity);
                self.tally.add(entity);
                *value = self.redactor.act_on_value(value, action, entity);
            }
            Node::Number(_) => {
                self.tally.add(entity);
                *value = self.redactor.act_on_value(value, action, entity);
            }
            Node::Object(members) => {
                for (_, v) in members.iter_mut() {
                    self.act(v, entity);
                }
            }
            _ => {}
        }
    }

    fn know(&mut self, value: &str, entity: Entity) {
        // Dates and ZIPs are found again by the detectors; filing them would mask "2019" in
        // every string that mentions the year.
        if value.len() < MIN_KNOWN_LEN || matches!(entity, Entity::Date | Entity::Zip | Entity::Age)
        {
            return;
        }
        if let Some(action) = self.redactor.action_for(entity) {
            let action = if action == Action::Remove {
                Action::Mask
            } else {
                action
            };
            for value in spellings(value, entity) {
                self.known.push(Known {
                    value,
                    entity,
                    action,
                });
            }
        }
    }
}

fn is_human_name(value: &Node) -> bool {
    let looks = |n: &Node| matches!(n, Node::Object(m) if m.iter().any(|(k, _)| matches!(k.as_ref(), "family" | "given" | "text")));
    match value {
        Node::Array(items) => items.iter().any(looks),
        other => looks(other),
    }
}

fn is_age(key: &str) -> bool {
    key == "age" || key.ends_with("Age")
}

/// A FHIR date, dateTime or instant (`2019`, `2019-03`, `2019-03-04`, `2019-03-04T10:00:00Z`).
/// A bare year counts only under an element named for a date.
fn is_date(s: &str, key: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !digits(0..4) {
        return false;
    }
    match b.len() {
        4 => {
            let k = key.to_ascii_lowercase();
            k.contains("date")
                || k.ends_with("time")
                || k == "start"
                || k == "end"
                || k == "issued"
                || k == "recorded"
                || k == "authoredon"
        }
        7 => b[4] == b'-' && digits(5..7),
        n if n >= 10 => {
            b[4] == b'-'
                && digits(5..7)
                && b[7] == b'-'
                && digits(8..10)
                && (n == 10 || b[10] == b'T')
        }
        _ => false,
    }
}

/// `Patient/123` → ("Patient/", "123"); `https://x/fhir/Patient/123/_history/2` keeps its
/// history suffix out of the id; `urn:uuid:abc` → ("urn:uuid:", "abc"); `#p1` → ("#", "p1").
fn split_reference(reference: &str) -> (&str, &str) {
    if let Some(rest) = reference.strip_prefix('#') {
        return (&reference[..1], rest);
    }
    let core = reference.split("/_history/").next().unwrap_or(reference);
    match core.rfind(['/', ':']) {
        Some(i) => (&reference[..=i], &core[i + 1..]),
        None => ("", core),
    }
}

/// The resource type a reference names (`Patient/1` → Patient), if it says.
fn referenced_type(reference: &str) -> Option<String> {
    let core = reference.split("/_history/").next().unwrap_or(reference);
    let mut parts = core.rsplit('/');
    parts.next()?;
    parts
        .next()
        .filter(|t| t.chars().next().is_some_and(char::is_uppercase))
        .map(str::to_string)
}

fn strings_of(value: &Node, out: &mut Vec<String>) {
    match value {
        Node::String(s) => out.push(s.to_string()),
        Node::Array(items) => items.iter().for_each(|v| strings_of(v, out)),
        _ => {}
    }
}

fn remove_at<T>(items: &mut Vec<T>, at: &[usize]) {
    let mut i = 0;
    items.retain(|_| {
        let keep = !at.contains(&i);
        i += 1;
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_references_and_names() {
        assert!(
            is_date("2019-03-04", "x")
                && is_date("2019-03", "x")
                && is_date("2019-03-04T10:00:00Z", "x")
        );
        assert!(is_date("2019", "birthDate") && !is_date("2019", "code") && !is_date("12345", "x"));
        assert_eq!(split_reference("Patient/123"), ("Patient/", "123"));
        assert_eq!(split_reference("urn:uuid:abc"), ("urn:uuid:", "abc"));
        assert_eq!(split_reference("#p1"), ("#", "p1"));
        assert_eq!(
            split_reference("https://x/fhir/Patient/9/_history/2"),
            ("https://x/fhir/Patient/", "9")
        );
        assert_eq!(
            referenced_type("Practitioner/7").as_deref(),
            Some("Practitioner")
        );
        assert_eq!(referenced_type("urn:uuid:abc"), None);
    }
}
