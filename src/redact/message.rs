//! How one JSON-RPC message is walked: field rules first (collecting what they took out), then
//! the detectors and those known values over every string and key. Both passes remember what
//! they decided for a key or a short string, because MCP payloads repeat them (every record has
//! the same keys; `content[].text` usually repeats `structuredContent` whole).

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::config::Action;
use super::path::Step;
use super::{Counts, FieldRule, Known, KnownValues, Redactor, Selector, Tally, MIN_KNOWN_LEN};

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
enum Loc {
    Key(String),
    Index(usize),
}

/// JSON found in a `content[]` item's `text` (or its embedded resource's), taken out so field
/// rules can see inside it.
struct JsonText {
    index: usize,
    /// `None`: the text is the section's `structuredContent` again — the same bytes, or the same
    /// JSON once parsed (MCP asks servers to send both) — which is redacted once and written
    /// into both places.
    parsed: Option<Value>,
}

impl Redactor {
    /// Redacts one JSON-RPC message in place; returns what was redacted. Every member but the
    /// protocol's own (`jsonrpc`, `id`, `method`) is payload: `result`, `error` and `params`
    /// as MCP shapes them, and anything else a server adds, so nothing escapes by being put
    /// where the redactor does not look. A message that is not an object is scanned whole.
    pub fn redact_message(&self, message: &mut Value) -> Counts {
        let mut fields = FieldPass::new(self);
        let Some(obj) = message.as_object_mut() else {
            let mut tally = Tally::default();
            StringPass::new(self, Vec::new()).value(message, &mut tally);
            return tally.into_counts();
        };
        let mut sections: Vec<(&mut Value, Vec<JsonText>)> = payload_members(obj)
            .map(|(_, section)| {
                let texts = take_json_texts(section);
                (section, texts)
            })
            .collect();
        for (section, texts) in sections.iter_mut() {
            fields.section(section, texts);
        }
        for (_, texts) in sections.iter_mut() {
            for parsed in texts.iter_mut().filter_map(|t| t.parsed.as_mut()) {
                fields.value(parsed, &mut Vec::new());
            }
        }
        let mut tally = fields.tally;
        let mut strings = StringPass::new(self, fields.known);
        for (section, texts) in sections.iter_mut() {
            strings.section(section, texts, &mut tally);
            for parsed in texts.iter_mut().filter_map(|t| t.parsed.as_mut()) {
                strings.value(parsed, &mut tally);
            }
            put_json_texts(section, texts);
            // Only now, with the texts back under `content`, may the section's keys change.
            if let Value::Object(map) = section {
                strings.keys(map, &mut tally);
            }
        }
        drop(sections);
        strings.keys(obj, &mut tally);
        tally.into_counts()
    }

    /// The rule for the value at `loc` (whose last step is `key`, for an object member).
    /// The last rule that selects it wins, as in the policy file.
    fn rule_at(&self, key: Option<&str>, loc: &[Loc]) -> Option<usize> {
        let by_key = key.and_then(|key| {
            let set = &self.selectors;
            let last = set.keys.matches(&lowercase(key)).iter().next_back()?;
            set.key_rule.get(last).copied()
        });
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

/// `str::to_lowercase`, without allocating for the usual all-lowercase ASCII key.
fn lowercase(key: &str) -> Cow<'_, str> {
    if key.is_ascii() && !key.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(key.to_lowercase())
    }
}

/// The field-rule pass: acts on the values rules select and remembers them as known values.
struct FieldPass<'r> {
    redactor: &'r Redactor,
    known: Vec<Known>,
    tally: Tally,
    /// Key → rule, for profiles whose rules are all key globs (the decision then depends on
    /// the key alone).
    by_key: HashMap<String, Option<usize>, foldhash::fast::RandomState>,
}

impl<'r> FieldPass<'r> {
    fn new(redactor: &'r Redactor) -> Self {
        FieldPass {
            redactor,
            known: Vec::new(),
            tally: Tally::default(),
            by_key: HashMap::default(),
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
    fn section(&mut self, section: &mut Value, texts: &[JsonText]) {
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

    fn value(&mut self, value: &mut Value, loc: &mut Vec<Loc>) {
        let paths = self.redactor.has_paths();
        match value {
            Value::Object(map) => {
                let mut removed = Vec::new();
                for (key, v) in map.iter_mut() {
                    if paths {
                        loc.push(Loc::Key(key.clone()));
                    }
                    match self.rule(Some(key), loc) {
                        Some(rule) if rule.action == Action::Remove => {
                            self.take(v, rule);
                            removed.push(key.clone());
                        }
                        Some(rule) => {
                            self.take(v, rule);
                            *v = self.redactor.act_on_value(v, rule.action, rule.entity);
                        }
                        None => self.value(v, loc),
                    }
                    if paths {
                        loc.pop();
                    }
                }
                for key in removed {
                    map.remove(&key);
                }
            }
            Value::Array(items) => {
                let mut removed = Vec::new();
                for (i, item) in items.iter_mut().enumerate() {
                    if paths {
                        loc.push(Loc::Index(i));
                    }
                    match self.rule(None, loc) {
                        Some(rule) if rule.action == Action::Remove => {
                            self.take(item, rule);
                            removed.push(i);
                        }
                        Some(rule) => {
                            self.take(item, rule);
                            *item = self.redactor.act_on_value(item, rule.action, rule.entity);
                        }
                        None => self.value(item, loc),
                    }
                    if paths {
                        loc.pop();
                    }
                }
                for i in removed.into_iter().rev() {
                    items.remove(i);
                }
            }
            _ => {}
        }
    }

    /// Counts a selected value and remembers its strings, to be scrubbed from free text too.
    fn take(&mut self, value: &Value, rule: &FieldRule) {
        self.tally.add(rule.entity);
        collect_known(value, rule, &mut self.known);
    }
}

fn collect_known(value: &Value, rule: &FieldRule, known: &mut Vec<Known>) {
    match value {
        Value::String(s) if s.len() >= MIN_KNOWN_LEN => known.push(Known {
            value: s.clone(),
            entity: rule.entity,
            action: if rule.action == Action::Remove {
                Action::Mask
            } else {
                rule.action
            },
        }),
        Value::Array(items) => items.iter().for_each(|v| collect_known(v, rule, known)),
        Value::Object(map) => map.values().for_each(|v| collect_known(v, rule, known)),
        _ => {}
    }
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
            memo: HashMap::default(),
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

    fn value(&mut self, value: &mut Value, tally: &mut Tally) {
        match value {
            Value::String(s) => {
                if let Some(clean) = self.scrub(s, tally) {
                    *s = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v, tally)),
            Value::Object(map) => {
                map.values_mut().for_each(|v| self.value(v, tally));
                self.keys(map, tally);
            }
            _ => {}
        }
    }

    /// A section's values (its own keys are left to the caller). A `structuredContent` some
    /// text repeats is scanned once and what it counted is counted again for each copy.
    fn section(&mut self, section: &mut Value, texts: &[JsonText], tally: &mut Tally) {
        let Value::Object(map) = section else {
            return self.value(section, tally);
        };
        let copies = copies_of_structured(texts) as u64;
        for (key, value) in map.iter_mut() {
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
    /// in it is renamed to its redacted form; keys that collide keep both values.
    fn keys(&mut self, map: &mut Map<String, Value>, tally: &mut Tally) {
        let mut renamed = Vec::new();
        for key in map.keys().filter(|k| !PROTOCOL_KEYS.contains(&k.as_str())) {
            if let Some(clean) = self.scrub(key, tally) {
                renamed.push((key.clone(), clean));
            }
        }
        for (old, mut new) in renamed {
            if let Some(v) = map.remove(&old) {
                while map.contains_key(&new) {
                    new.push('\'');
                }
                map.insert(new, v);
            }
        }
    }
}

/// The members of a message that carry data: all but the protocol's own — and those only when
/// they have the protocol's shape (a `method` that is an object is data like any other).
fn payload_members(
    message: &mut Map<String, Value>,
) -> impl Iterator<Item = (&String, &mut Value)> {
    message.iter_mut().filter(|(k, v)| match k.as_str() {
        "jsonrpc" | "method" => !v.is_string(),
        "id" => !(v.is_string() || v.is_number() || v.is_null()),
        _ => true,
    })
}

/// Where field rules apply inside a section: an MCP result's `structuredContent`, legacy
/// `data` and any other member a server adds (`content` is scanned item by item instead);
/// anything else is its own root. Each root comes with its member name, if it is one.
fn payload_roots(section: &mut Value) -> Vec<(Option<&str>, &mut Value)> {
    let shaped = section.as_object().is_some_and(|map| {
        ["structuredContent", "data", "content", "message"]
            .iter()
            .any(|k| map.contains_key(*k))
    });
    if !shaped {
        return vec![(None, section)];
    }
    match section {
        Value::Object(map) => map
            .iter_mut()
            .filter(|(k, _)| k.as_str() != "content")
            .map(|(k, v)| (Some(k.as_str()), v))
            .collect(),
        _ => vec![],
    }
}

/// How many texts repeat the section's `structuredContent`.
fn copies_of_structured(texts: &[JsonText]) -> usize {
    texts.iter().filter(|t| t.parsed.is_none()).count()
}

/// The text slot of a `content[]` item: its own `text`, or its embedded resource's.
fn text_slot(item: &mut Value) -> Option<&mut Value> {
    if item.get("text").is_some() {
        item.get_mut("text")
    } else {
        item.get_mut("resource").and_then(|r| r.get_mut("text"))
    }
}

/// Takes the JSON out of `content[].text` and `content[].resource.text` for field rules,
/// leaving `null` in its place; blanks embedded binary blobs (unreadable, so not sendable).
fn take_json_texts(section: &mut Value) -> Vec<JsonText> {
    let mut out = Vec::new();
    let copies = byte_copies_of_structured(section);
    let Some(items) = section.get_mut("content").and_then(Value::as_array_mut) else {
        return out;
    };
    for (index, item) in items.iter_mut().enumerate() {
        if let Some(Value::Object(res)) = item.get_mut("resource") {
            if res.contains_key("blob") {
                res.insert("blob".into(), Value::String(String::new()));
            }
        }
        let Some(text) = text_slot(item) else {
            continue;
        };
        if copies.contains(&index) {
            *text = Value::Null;
            out.push(JsonText {
                index,
                parsed: None,
            });
            continue;
        }
        let Some(parsed) = text
            .as_str()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .filter(|v| v.is_object() || v.is_array())
        else {
            continue;
        };
        *text = Value::Null;
        out.push(JsonText {
            index,
            parsed: Some(parsed),
        });
    }
    if let Some(structured) = section.get("structuredContent") {
        for text in out.iter_mut() {
            if text.parsed.as_ref() == Some(structured) {
                text.parsed = None;
            }
        }
    }
    out
}

/// The `content[]` items whose text is byte for byte the serialised `structuredContent` (what
/// a server using serde_json sends): found without parsing them.
fn byte_copies_of_structured(section: &Value) -> Vec<usize> {
    let (Some(structured), Some(items)) = (
        section.get("structuredContent"),
        section.get("content").and_then(Value::as_array),
    ) else {
        return Vec::new();
    };
    if !(structured.is_object() || structured.is_array()) {
        return Vec::new();
    }
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            item.get("text")
                .and_then(Value::as_str)
                .is_some_and(|t| serialises_to(structured, t))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Whether serialising `value` gives exactly `text`, checked while serialising (no string is
/// built; the first difference stops it).
fn serialises_to(value: &Value, text: &str) -> bool {
    struct Compare<'a>(&'a [u8]);
    impl std::io::Write for Compare<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            match self.0.strip_prefix(buf) {
                Some(rest) => {
                    self.0 = rest;
                    Ok(buf.len())
                }
                None => Err(std::io::ErrorKind::InvalidData.into()),
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut rest = Compare(text.as_bytes());
    serde_json::to_writer(&mut rest, value).is_ok() && rest.0.is_empty()
}

/// Puts the redacted JSON texts back, serialised.
fn put_json_texts(section: &mut Value, texts: &mut Vec<JsonText>) {
    let structured = section.get("structuredContent").map(to_json);
    let Some(items) = section.get_mut("content").and_then(Value::as_array_mut) else {
        return;
    };
    for text in texts.drain(..) {
        let serialised = match text.parsed {
            Some(parsed) => to_json(&parsed),
            None => structured.clone().unwrap_or_default(),
        };
        if let Some(slot) = items.get_mut(text.index).and_then(text_slot) {
            *slot = Value::String(serialised);
        }
    }
}

/// A value serialised (through `io::Write`, which is faster than `Display`). Serialising a
/// `Value` cannot fail; were it to, the text would be emptied rather than left unredacted.
fn to_json(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
