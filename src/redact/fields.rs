//! The field-rule pass over one message: acts on the values a profile's rules select (by key
//! glob or JSONPath, addresses and FHIR resources by their shape) and remembers what it took,
//! so the string pass scrubs those values from every other string too.

use std::collections::HashMap;

use super::config::Action;
use super::detect::Entity;
use super::fhir::{self, FhirPass};
use super::known::{spellings, Known, MIN_KNOWN_LEN};
use super::message::{normalize_key, payload_roots, Loc};
use super::profile::FieldRule;
use super::texts::{copies_of_structured, JsonText};
use super::tree::Node;
use super::{Redactor, Tally};

/// What an address keeps under Safe Harbor (45 CFR 164.514(b)(2)(i)(B): geography smaller
/// than a state goes), in the canonical key spelling; `use`/`type` say what kind of address.
const ADDRESS_KEPT: [&str; 7] = [
    "state",
    "state_code",
    "country",
    "country_code",
    "use",
    "type",
    "region",
];

/// The field-rule pass: acts on the values rules select and remembers them as known values.
pub(super) struct FieldPass<'r> {
    redactor: &'r Redactor,
    pub(super) known: Vec<Known>,
    pub(super) tally: Tally,
    /// Key → rule, for profiles whose rules are all key globs (the decision then depends on
    /// the key alone).
    by_key: HashMap<String, Option<usize>, foldhash::fast::RandomState>,
    /// FHIR ids → their pseudonyms in this message (a Bundle stays linked).
    pseudonyms: HashMap<String, String>,
}

impl<'r> FieldPass<'r> {
    pub(super) fn new(redactor: &'r Redactor) -> Self {
        FieldPass {
            redactor,
            known: Vec::new(),
            tally: Tally::default(),
            by_key: HashMap::with_capacity_and_hasher(32, Default::default()),
            pseudonyms: HashMap::new(),
        }
    }

    fn rule(&mut self, key: Option<&str>, loc: &[Loc]) -> Option<&'r FieldRule> {
        let r = self.redactor;
        let index = match key {
            Some(key) if !r.has_paths() => match self.by_key.get(key) {
                Some(index) => *index,
                None => {
                    let index = r.rule_at(Some(key), loc);
                    self.by_key.insert(key.to_owned(), index);
                    index
                }
            },
            // Array items are selected by JSONPath only.
            None if !r.has_paths() => None,
            _ => r.rule_at(key, loc),
        };
        index.map(|i| &r.fields[i])
    }

    /// A section's roots; a `structuredContent` some text repeats counts once per copy.
    pub(super) fn section(&mut self, section: &mut Node, texts: &[JsonText]) {
        let copies = copies_of_structured(texts);
        for (key, root) in payload_roots(section) {
            if copies == 0 || key != Some("structuredContent") {
                self.value(root, &mut Vec::new());
                continue;
            }
            let before = std::mem::take(&mut self.tally);
            self.value(root, &mut Vec::new());
            let own = std::mem::replace(&mut self.tally, before);
            self.tally.merge(&own, 1 + copies as u64);
        }
    }

    pub(super) fn value(&mut self, value: &mut Node, loc: &mut Vec<Loc>) {
        if self.fhir(value) {
            *value = Node::Null;
            return;
        }
        if matches!(value, Node::Object(m) if fhir::is_resource(m)) {
            return;
        }
        let paths = self.redactor.has_paths();
        match value {
            Node::Object(members) => {
                let mut removed = Vec::new();
                for (i, (key, v)) in members.iter_mut().enumerate() {
                    if paths {
                        loc.push(Loc::Key(key.to_string()));
                    }
                    if self.apply(Some(key), v, loc) {
                        removed.push(i);
                    }
                    if paths {
                        loc.pop();
                    }
                }
                remove_at(members, &removed);
            }
            Node::Array(items) => {
                let mut removed = Vec::new();
                for (i, item) in items.iter_mut().enumerate() {
                    if paths {
                        loc.push(Loc::Index(i));
                    }
                    if self.apply(None, item, loc) {
                        removed.push(i);
                    }
                    if paths {
                        loc.pop();
                    }
                }
                remove_at(items, &removed);
            }
            _ => {}
        }
    }

    /// Acts on one member or item as its rule says, or walks into it; `true` when the rule
    /// removes it.
    fn apply(&mut self, key: Option<&str>, value: &mut Node, loc: &mut Vec<Loc>) -> bool {
        if matches!(value, Node::Object(m) if fhir::is_resource(m)) {
            return self.fhir(value);
        }
        match self.rule(key, loc) {
            Some(rule) if rule.action == Action::Remove => {
                self.take(value, rule);
                true
            }
            Some(rule) if rule.entity == Entity::Location && value.is_container() => {
                self.address(value, rule);
                false
            }
            Some(rule) => {
                self.take(value, rule);
                *value = self.redactor.act_on_value(value, rule.action, rule.entity);
                false
            }
            None => {
                self.value(value, loc);
                false
            }
        }
    }

    /// A FHIR resource is redacted by datatype (see `fhir`); `true` when a rule removes it.
    /// Anything else: `false`, untouched.
    fn fhir(&mut self, value: &mut Node) -> bool {
        if !matches!(value, Node::Object(m) if fhir::is_resource(m)) {
            return false;
        }
        let mut pass = FhirPass {
            redactor: self.redactor,
            known: &mut self.known,
            tally: &mut self.tally,
            pseudonyms: &mut self.pseudonyms,
        };
        pass.resource(value)
    }

    /// An address given as an object (or a list of them): Safe Harbor keeps the state and the
    /// country; a ZIP keeps its first three digits (the profile's `zip` action); every other
    /// string in it — lines, city, county, unit — is the rule's to act on.
    fn address(&mut self, value: &mut Node, rule: &FieldRule) {
        match value {
            Node::Array(items) => items.iter_mut().for_each(|v| self.address(v, rule)),
            Node::Object(members) => {
                for (key, v) in members.iter_mut() {
                    let key = normalize_key(key);
                    if ADDRESS_KEPT.contains(&key.as_ref()) {
                        continue;
                    }
                    let zip = key.contains("zip") || key.contains("postal") || key == "postcode";
                    match (zip, self.redactor.action_for(Entity::Zip)) {
                        (true, Some(action)) => {
                            self.tally.add(Entity::Zip);
                            *v = self.redactor.act_on_value(v, action, Entity::Zip);
                        }
                        _ if v.is_container() => self.address(v, rule),
                        _ => {
                            self.take(v, rule);
                            *v = self.redactor.act_on_value(v, rule.action, rule.entity);
                        }
                    }
                }
            }
            _ => {
                self.take(value, rule);
                *value = self.redactor.act_on_value(value, rule.action, rule.entity);
            }
        }
    }

    /// Counts a selected value and remembers its strings, to be scrubbed from free text too.
    fn take(&mut self, value: &Node, rule: &FieldRule) {
        self.tally.add(rule.entity);
        collect_known(value, rule, &mut self.known);
    }
}

/// Removes the items at `at` (ascending indexes) in one pass.
fn remove_at<T>(items: &mut Vec<T>, at: &[usize]) {
    if at.is_empty() {
        return;
    }
    let mut at = at.iter().peekable();
    let mut i = 0;
    items.retain(|_| {
        let remove = at.next_if_eq(&&i).is_some();
        i += 1;
        !remove
    });
}

/// A number a field rule takes is looked for elsewhere only when it is this long: an SSN, a
/// phone number or a record number is; an age, a count or a dose (whose digits recur in every
/// reading) is not.
const MIN_KNOWN_NUMBER_LEN: usize = 6;

fn collect_known(value: &Node, rule: &FieldRule, known: &mut Vec<Known>) {
    // A removed value is masked where it is found again: the text around it stays readable.
    let action = match rule.action {
        Action::Remove => Action::Mask,
        other => other,
    };
    match value {
        Node::Number(n) => {
            let digits = n.to_string();
            if digits.len() >= MIN_KNOWN_NUMBER_LEN {
                known.push(Known {
                    value: digits,
                    entity: rule.entity,
                    action,
                });
            }
        }
        Node::String(s) if s.len() >= MIN_KNOWN_LEN => {
            for value in spellings(s, rule.entity) {
                known.push(Known {
                    value,
                    entity: rule.entity,
                    action,
                });
            }
        }
        Node::Array(items) => items.iter().for_each(|v| collect_known(v, rule, known)),
        Node::Object(members) => members
            .iter()
            .for_each(|(_, v)| collect_known(v, rule, known)),
        _ => {}
    }
}
