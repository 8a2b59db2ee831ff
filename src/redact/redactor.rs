//! One compiled profile, and everything it does: a whole body redacted (`redact_json`), one
//! message walked (the passes live in `message`), free text scrubbed, a value replaced.

use std::collections::HashMap;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::config::Action;
use super::detect::{Entity, Span};
use super::known::KnownValues;
use super::message::{self, Loc};
use super::path::Step;
use super::profile::{FieldRule, Selector, Selectors};
use super::replace::{generalize, partial};
use super::scan::Scanner;
use super::schema::Asked;
use super::tree::{Node, Text};
use super::{merge, Counts, Tally};

/// One compiled profile.
#[derive(Clone)]
pub struct Redactor {
    pub(super) fields: Vec<FieldRule>,
    pub(super) selectors: Selectors,
    pub(super) detect: HashMap<Entity, Action>,
    pub(super) key: Option<Arc<Vec<u8>>>,
    pub(super) scanner: Arc<Scanner>,
    /// This year, for folding dates that reveal an age over 89.
    pub(super) year: i32,
    /// `binary: keep`: images, audio and blobs pass unread.
    pub(super) keep_binary: bool,
}

impl Redactor {
    /// Some field rule is a JSONPath (locations must then be tracked in full).
    pub(super) fn has_paths(&self) -> bool {
        !self.selectors.paths.is_empty()
    }

    pub(super) fn union(&self, other: &Redactor) -> Result<Redactor, String> {
        let mut merged = self.clone();
        merged.fields.extend(other.fields.iter().cloned());
        merged.selectors = Selectors::new(&merged.fields)?;
        for (e, a) in &other.detect {
            merged.detect.entry(*e).or_insert(*a);
        }
        merged.key = merged.key.clone().or(other.key.clone());
        // Several roles: binary content passes only if every profile lets it.
        merged.keep_binary = self.keep_binary && other.keep_binary;
        merged.scanner = Arc::new(Scanner::new(&|e| merged.detect.contains_key(&e))?);
        Ok(merged)
    }

    /// Redacts a whole JSON body: one message or a batch of them. The body is parsed once,
    /// borrowing its strings; what no rule touched is written back as it came (compact).
    pub fn redact_json(&self, body: &[u8]) -> Result<(Vec<u8>, Counts), String> {
        self.redact_answer(body, &Asked::default())
    }

    /// `redact_json` for the answer to a request: each message is read by the method it
    /// answers (or, sent by the server, by its own), so protocol members pass as they came.
    pub fn redact_answer(&self, body: &[u8], asked: &Asked) -> Result<(Vec<u8>, Counts), String> {
        let mut root = Node::parse(body).map_err(|e| format!("response is not JSON: {e}"))?;
        let mut counts = Counts::new();
        match &mut root {
            Node::Array(items) => items
                .iter_mut()
                .for_each(|m| merge(&mut counts, message::redact_message(self, m, asked))),
            m => counts = message::redact_message(self, m, asked),
        }
        // Masks are longer than most values they replace: headroom spares a copy of the whole.
        let mut out = Vec::with_capacity(body.len() + body.len() / 4);
        root.write(&mut out)
            .map_err(|e| format!("redacted response: {e}"))?;
        Ok((out, counts))
    }

    /// Redacts JSON a string carried as one payload value (field rules on its own keys, the
    /// detectors everywhere), as a tool result's payload would be.
    pub(super) fn redact_payload(&self, json: &[u8]) -> Result<(Vec<u8>, Counts), String> {
        let value = Node::parse(json).map_err(|e| format!("not JSON: {e}"))?;
        let mut message = Node::Object(vec![(Text::from("result".to_string()), value)]);
        let counts = message::redact_message(self, &mut message, &Asked::default());
        let Node::Object(mut members) = message else {
            return Err("the payload was lost".into());
        };
        let (_, value) = members.pop().ok_or("the payload was lost")?;
        let mut out = Vec::with_capacity(json.len());
        value
            .write(&mut out)
            .map_err(|e| format!("redacted payload: {e}"))?;
        Ok((out, counts))
    }

    /// Redacts one parsed message (or batch) in place, through its JSON text: for callers
    /// (and tests) that hold a `serde_json::Value`; the proxy redacts bytes with `redact_json`.
    pub fn redact_value(&self, value: &mut Value) -> Result<Counts, String> {
        let body = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        let (out, counts) = self.redact_json(&body)?;
        *value = serde_json::from_slice(&out).map_err(|e| e.to_string())?;
        Ok(counts)
    }

    /// Redacts free text (a non-JSON body) with the detectors alone.
    pub fn redact_text(&self, text: &str) -> (String, Counts) {
        let mut tally = Tally::default();
        let out = self.scrub(text, &KnownValues::default(), &mut tally);
        (out.unwrap_or_else(|| text.to_string()), tally.into_counts())
    }

    pub(super) fn act_on_value<'a>(
        &self,
        value: &Node<'a>,
        action: Action,
        entity: Entity,
    ) -> Node<'a> {
        match (value, action, entity) {
            (Node::Number(n), Action::Generalize, Entity::Age) => match n.as_u64() {
                Some(age) if age > 89 => Node::string("90+".into()),
                _ => value.clone(),
            },
            (Node::Null, _, _) => Node::Null,
            (Node::String(s), _, _) => Node::string(self.render(s, action, entity)),
            (Node::Number(_) | Node::Bool(_), _, _) => {
                let text = value.scalar_text().unwrap_or_default();
                Node::string(self.render(&text, action, entity))
            }
            _ => Node::string(entity.mask()),
        }
    }

    /// The replacement text for one redacted value.
    pub(super) fn render(&self, value: &str, action: Action, entity: Entity) -> String {
        match action {
            Action::Remove => String::new(),
            Action::Mask => entity.mask(),
            Action::Partial(keep) => partial(value, keep),
            Action::Hash => match self
                .key
                .as_deref()
                .and_then(|k| Hmac::<Sha256>::new_from_slice(k).ok())
            {
                Some(mut mac) => {
                    mac.update(value.as_bytes());
                    let digest = mac.finalize().into_bytes();
                    let hex = hex::encode(digest.get(..8).unwrap_or_default());
                    format!("[{}:{hex}]", entity.label())
                }
                None => entity.mask(),
            },
            Action::Generalize => generalize(value, entity, self.year),
        }
    }

    /// Detector hits and known values in one string, replaced by their actions.
    /// `None` when nothing in it needs redacting.
    pub(super) fn scrub(
        &self,
        text: &str,
        known: &KnownValues,
        tally: &mut Tally,
    ) -> Option<String> {
        self.scrub_where(text, known, tally, &|_| true)
    }

    /// What the detectors find of the direct identifiers (an SSN, a phone number, a name…)
    /// in a value that must otherwise pass unaltered (an opaque `requestState`): a date or a
    /// ZIP there is the server's bookkeeping, not reason to break the round trip.
    pub(super) fn scrub_identifiers(&self, text: &str) -> Option<String> {
        let direct = |e: Entity| {
            use Entity::*;
            matches!(
                e,
                Ssn | Phone | Email | Mrn | MemberId | Card | Npi | Mbi | Name
            )
        };
        self.scrub_where(
            text,
            &KnownValues::default(),
            &mut Tally::default(),
            &direct,
        )
    }

    fn scrub_where(
        &self,
        text: &str,
        known: &KnownValues,
        tally: &mut Tally,
        wanted: &dyn Fn(Entity) -> bool,
    ) -> Option<String> {
        if text.is_empty() || (known.is_empty() && self.detect.is_empty()) {
            return None;
        }
        let mut spans: Vec<(Span, Action)> = known.find(text);
        for span in self
            .scanner
            .find(text)
            .into_iter()
            .filter(|s| wanted(s.entity))
        {
            if let Some(action) = self.detect.get(&span.entity) {
                spans.push((span, *action));
            }
        }
        if spans.is_empty() {
            return None;
        }
        spans.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(b.0.end.cmp(&a.0.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (span, action) in spans {
            if span.start < at {
                continue;
            }
            out.push_str(&text[at..span.start]);
            out.push_str(&self.render(&text[span.start..span.end], action, span.entity));
            tally.add(span.entity);
            at = span.end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }
}

impl Redactor {
    /// Whether a `resource:` rule removes FHIR resources of this type.
    pub(super) fn removes_resource(&self, kind: &str) -> bool {
        self.fields
            .iter()
            .any(|f| matches!(&f.selector, Selector::Resource(r) if r.eq_ignore_ascii_case(kind)))
    }

    /// Whether the key rule that selects `key` removes it (inside FHIR resources only removals
    /// apply by key: a mask would break the datatype).
    pub(super) fn removes_key(&self, key: &str) -> bool {
        self.rule_at(Some(key), &[])
            .and_then(|i| self.fields.get(i))
            .is_some_and(|f| f.action == Action::Remove && matches!(f.selector, Selector::Key(_)))
    }

    /// The action this profile takes on `entity`: the first field rule naming it, else its
    /// detector's; `None` when the profile leaves it alone.
    pub(super) fn action_for(&self, entity: Entity) -> Option<Action> {
        self.fields
            .iter()
            .find(|f| f.entity == entity && f.action != Action::Remove)
            .map(|f| f.action)
            .or_else(|| self.detect.get(&entity).copied())
    }

    /// The rule for the value at `loc` (whose last step is `key`, for an object member).
    /// The last rule that selects it wins, as in the policy file.
    pub(super) fn rule_at(&self, key: Option<&str>, loc: &[Loc]) -> Option<usize> {
        let by_key = key.and_then(|key| self.selectors.rule_for_key(key));
        if self.selectors.paths.is_empty() {
            return by_key;
        }
        let steps: Vec<Step> = loc
            .iter()
            .map(|l| match l {
                Loc::Key(k) => Step::Key(k),
                Loc::Index(i) => Step::Index(*i),
            })
            .collect();
        let by_path =
            self.selectors.paths.iter().rev().copied().find(
                |&i| matches!(&self.fields[i].selector, Selector::Path(p) if p.matches(&steps)),
            );
        by_key.max(by_path)
    }
}
