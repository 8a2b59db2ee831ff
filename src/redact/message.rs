//! How one JSON-RPC message is walked: the field rules first (`fields`, collecting what they
//! took out), then the string pass here — the detectors and those known values over every
//! string, number and key. Both passes remember what they decided for a key or a short
//! string, because MCP payloads repeat them (every record has the same keys; `content[].text`
//! usually repeats `structuredContent` whole).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::binary;
use super::embedded::{self, Piece};
use super::fhir;
use super::fields::FieldPass;
use super::known::{Known, KnownValues};
use super::schema::{self, Asked};
use super::texts::{
    copies_of_structured, parse_texts, put_json_texts, take_texts, JsonText, TakenText,
};
use super::tree::{Members, Node, Text};
use super::{Counts, Redactor, Tally};

/// Strings up to this length are remembered per message with their redaction; longer ones
/// (free text) rarely repeat. At most `MEMO_MAX_ENTRIES` are, so a body of millions of distinct
/// short strings cannot make the memo a multiple of its size.
const MEMO_MAX_LEN: usize = 128;
const MEMO_MAX_ENTRIES: usize = 1 << 16;

/// Member names of JSON-RPC and of MCP results and content: public constants, never data, so
/// they are not scrubbed as keys (a known value such as "red" would otherwise rename
/// `structuredContent`, and clients would lose the content).
const PROTOCOL_KEYS: [&str; 18] = [
    "jsonrpc",
    "id",
    "method",
    "params",
    "result",
    "error",
    "code",
    "message",
    "data",
    "content",
    "structuredContent",
    "isError",
    "_meta",
    "type",
    "text",
    "resource",
    "uri",
    "mimeType",
];

/// One step of a location, kept only when the profile has JSONPath rules.
#[derive(Debug, Clone)]
pub(super) enum Loc {
    Key(String),
    Index(usize),
}

/// Redacts one JSON-RPC message in place; returns what was redacted. Every member but the
/// protocol's own (`jsonrpc`, `id`, `method`) is payload: `result`, `error` and `params`
/// as MCP shapes them, and anything else a server adds, so nothing escapes by being put
/// where the redactor does not look. A message that is not an object is scanned whole.
pub(super) fn redact_message<'a>(
    redactor: &Redactor,
    message: &mut Node<'a>,
    asked: &Asked,
) -> Counts {
    let (mut binary_tally, mut text_blobs) = (Tally::default(), 0);
    if !redactor.keep_binary {
        binary::scrub(message, &mut binary_tally, &mut text_blobs);
    }
    // The protocol's members sit out the walk and come back as they were (see `schema`).
    let held = schema::detach(message, asked);
    let mut fields = FieldPass::new(redactor);
    fields.tally.merge(&binary_tally, 1);
    let Node::Object(obj) = message else {
        let mut tally = Tally::default();
        StringPass::new(redactor, Vec::new()).value(message, &mut tally);
        return tally.into_counts();
    };
    let mut sections: Vec<&mut Node> = members_of(obj, Member::Payload).collect();
    let taken: Vec<Vec<TakenText>> = sections.iter_mut().map(|s| take_texts(s)).collect();
    let mut texts: Vec<Vec<JsonText>> = sections
        .iter_mut()
        .zip(&taken)
        .map(|(section, taken)| parse_texts(section, taken))
        .collect();
    for (section, texts) in sections.iter_mut().zip(&texts) {
        fields.section(section, texts);
    }
    for parsed in texts.iter_mut().flatten().filter_map(|t| t.parsed.as_mut()) {
        fields.value(parsed, &mut Vec::new());
    }
    let mut tally = fields.tally;
    let mut strings = StringPass::new(redactor, fields.known);
    for (section, texts) in sections.iter_mut().zip(texts.iter_mut()) {
        strings.section(section, texts, &mut tally);
        for parsed in texts.iter_mut().filter_map(|t| t.parsed.as_mut()) {
            strings.value(parsed, &mut tally);
        }
        put_json_texts(section, texts);
        // Only now, with the texts back under `content`, may the section's keys change.
        if let Node::Object(members) = &mut **section {
            strings.keys(members, &mut tally);
        }
    }
    drop(sections);
    for value in members_of(obj, Member::ProtocolText) {
        strings.value(value, &mut tally);
    }
    strings.keys(obj, &mut tally);
    if !held.is_empty() {
        let opaque = |text: &str| redactor.scrub_identifiers(text);
        held.reattach(
            message,
            asked,
            &mut |text| strings.value(text, &mut tally),
            &opaque,
        );
    }
    if text_blobs > 0 {
        binary::encode_marked(message);
    }
    tally.into_counts()
}

/// A key in one canonical spelling — snake_case, lower case — so `postalCode`, `PostalCode`,
/// `postal_code` and `postal-code` are one key to the field rules (and `patientID` is
/// `patient_id`). Allocates only when the key is not already in that form.
pub(super) fn normalize_key(key: &str) -> Cow<'_, str> {
    let plain = key
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        return Cow::Borrowed(key);
    }
    let chars: Vec<char> = key.chars().collect();
    let mut out = String::with_capacity(key.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if matches!(c, '-' | ' ' | '.') {
            if !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if c.is_uppercase() {
            let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(char::is_lowercase));
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The string pass: detectors and known values over every string and key.
struct StringPass<'r> {
    redactor: &'r Redactor,
    known: KnownValues,
    /// Short string → its redaction and what that redaction counted (`None`: unchanged).
    memo: HashMap<String, Option<Box<(String, Tally)>>, foldhash::fast::RandomState>,
}

impl<'r> StringPass<'r> {
    fn new(redactor: &'r Redactor, known: Vec<Known>) -> Self {
        StringPass {
            redactor,
            known: KnownValues::new(known),
            // Sized for a typical answer's distinct short strings: growing from empty rehashed
            // the memo several times per message.
            memo: HashMap::with_capacity_and_hasher(64, Default::default()),
        }
    }

    fn scrub(&mut self, text: &str, tally: &mut Tally) -> Option<String> {
        if text.len() > MEMO_MAX_LEN {
            return self.redactor.scrub(text, &self.known, tally);
        }
        if let Some(remembered) = self.memo.get(text) {
            return remembered.as_deref().map(|(out, own)| {
                tally.merge(own, 1);
                out.clone()
            });
        }
        let mut own = Tally::default();
        let out = self.redactor.scrub(text, &self.known, &mut own);
        tally.merge(&own, 1);
        if self.memo.len() < MEMO_MAX_ENTRIES {
            let remembered = out.as_ref().map(|o| Box::new((o.clone(), own)));
            self.memo.insert(text.to_owned(), remembered);
        }
        out
    }

    fn value(&mut self, value: &mut Node, tally: &mut Tally) {
        match value {
            Node::String(s) => {
                let embedded = embedded::may_carry(s)
                    .then(|| self.embedded(s, tally))
                    .flatten();
                if let Some(clean) = embedded.or_else(|| self.scrub(s, tally)) {
                    *s = Text::from(clean);
                }
            }
            // A number is text to the detectors too (a card number, a known SSN written bare);
            // one they find something in becomes its redacted string.
            Node::Number(n) => {
                if let Some(clean) = self.scrub(&n.to_string(), tally) {
                    *value = Node::string(clean);
                }
            }
            Node::Array(items) => items.iter_mut().for_each(|v| self.value(v, tally)),
            Node::Object(members) if fhir::is_resource(members) => {
                // Free text only: the schema's own strings and element names stay as they are.
                let keep_binary = self.redactor.keep_binary;
                let mut own = Tally::default();
                fhir::scrub_text(value, keep_binary, &mut |t| self.scrub(t, tally), &mut own);
                tally.merge(&own, 1);
            }
            Node::Object(members) => {
                members.iter_mut().for_each(|(_, v)| self.value(v, tally));
                self.keys(members, tally);
            }
            _ => {}
        }
    }

    /// A string that carries JSON (whole, fenced, NDJSON): each JSON piece redacted as JSON,
    /// field rules and all; the prose between scrubbed. `None` when it carries none, or when
    /// strings nest deeper than the bound (it is then scrubbed as prose).
    fn embedded(&mut self, text: &str, tally: &mut Tally) -> Option<String> {
        let pieces = embedded::pieces(text)?;
        let mut out = String::with_capacity(text.len());
        for piece in pieces {
            match piece {
                Piece::Prose(p) => match self.scrub(p, tally) {
                    Some(clean) => out.push_str(&clean),
                    None => out.push_str(p),
                },
                Piece::Json(j) => {
                    let (json, counts) =
                        embedded::nested(|| self.redactor.redact_payload(j.as_bytes()))?.ok()?;
                    tally.add_counts(&counts);
                    out.push_str(std::str::from_utf8(&json).ok()?);
                }
            }
        }
        Some(out)
    }

    /// A section's values (its own keys are left to the caller). A `structuredContent` some
    /// text repeats is scanned once and what it counted is counted again for each copy.
    fn section(&mut self, section: &mut Node, texts: &[JsonText], tally: &mut Tally) {
        let Node::Object(members) = section else {
            return self.value(section, tally);
        };
        let copies = copies_of_structured(texts) as u64;
        for (key, value) in members.iter_mut() {
            if key == "structuredContent" {
                let mut own = Tally::default();
                self.value(value, &mut own);
                tally.merge(&own, 1 + copies);
            } else {
                self.value(value, tally);
            }
        }
    }

    /// Object keys carry data too (a map keyed by SSN or by name): a key with an identifier
    /// in it is renamed to its redacted form; keys that collide keep both values, the later
    /// ones numbered (`[REDACTED:SSN]'2`). Numbers come from a counter per name, so a map of
    /// thousands of SSNs costs linear time and output, not a quote per earlier collision.
    fn keys(&mut self, members: &mut Members, tally: &mut Tally) {
        let mut renamed = Vec::new();
        for (i, (key, _)) in members.iter().enumerate() {
            if PROTOCOL_KEYS.contains(&key.as_ref()) {
                continue;
            }
            if let Some(clean) = self.scrub(key, tally) {
                renamed.push((i, clean));
            }
        }
        if renamed.is_empty() {
            return;
        }
        let hasher = foldhash::fast::RandomState::default();
        let mut taken: HashSet<String, _> = HashSet::with_hasher(hasher.clone());
        taken.extend(members.iter().map(|(k, _)| k.to_string()));
        let mut next: HashMap<String, usize, _> = HashMap::with_hasher(hasher);
        for (i, clean) in renamed {
            let Some((key, _)) = members.get_mut(i) else {
                continue;
            };
            taken.remove(key.as_ref());
            let mut new = clean;
            if taken.contains(&new) {
                let base = new.clone();
                let n = next.entry(base.clone()).or_insert(1);
                while taken.contains(&new) {
                    *n += 1;
                    new = format!("{base}'{n}");
                }
            }
            taken.insert(new.clone());
            *key = Text::from(new);
        }
    }
}

/// What a top-level member of a message is to redaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    /// Data: field rules and detectors (`result`, `error`, `params`, anything a server adds —
    /// and a protocol member without the protocol's shape: a `method` that is an object).
    Payload,
    /// The protocol's own strings — `method`, a string `id`, a `jsonrpc` other than "2.0": not
    /// payload, but written by the server all the same, so the detectors and known values see
    /// them too (an SSN put in an `id` does not pass).
    ProtocolText,
    /// Left alone: the exact version string (a known value "2.0" must not break the message),
    /// numeric and null ids.
    Protocol,
}

fn member_kind(key: &str, value: &Node) -> Member {
    match (key, value) {
        ("jsonrpc", Node::String(version)) if version == "2.0" => Member::Protocol,
        ("jsonrpc" | "method" | "id", Node::String(_)) => Member::ProtocolText,
        ("id", Node::Number(_) | Node::Null) => Member::Protocol,
        _ => Member::Payload,
    }
}

/// The values of a message's members of one kind.
fn members_of<'m, 'a>(
    message: &'m mut Members<'a>,
    kind: Member,
) -> impl Iterator<Item = &'m mut Node<'a>> {
    message
        .iter_mut()
        .filter(move |(k, v)| member_kind(k, v) == kind)
        .map(|(_, v)| v)
}

/// Where field rules apply inside a section: an MCP result's `structuredContent`, legacy
/// `data` and any other member a server adds (`content` is scanned item by item instead);
/// anything else is its own root. Each root comes with its member name, if it is one.
pub(super) fn payload_roots<'s, 'a>(
    section: &'s mut Node<'a>,
) -> Vec<(Option<&'s str>, &'s mut Node<'a>)> {
    let shaped = matches!(section, Node::Object(members) if members.iter().any(|(k, _)| {
        ["structuredContent", "data", "content", "message"].contains(&k.as_ref())
    }));
    if !shaped {
        return vec![(None, section)];
    }
    match section {
        Node::Object(members) => members
            .iter_mut()
            .filter(|(k, _)| k != "content")
            .map(|(k, v)| (Some(&**k), v))
            .collect(),
        _ => vec![],
    }
}
