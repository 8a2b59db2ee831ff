//! Redaction: what the MCP server sends back is rewritten so each role sees only what it may.
//! Field rules (JSONPath or key globs) act on tool payloads — `structuredContent`, the JSON in
//! `content[].text` and embedded resources, legacy `result.data`, `error.data`; detectors act on
//! every string leaf; a value a field rule redacted is also scrubbed wherever else it appears.

pub mod config;
pub mod detect;
mod path;
pub mod sse;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use config::{Action, FieldSpec, ProfileSpec, RedactionFile};
use detect::{Entity, Scanner, Span};
use path::{JsonPath, KeyGlob, Step};

/// Redactions made, by entity (metric label) → count. Never the values.
pub type Counts = BTreeMap<&'static str, u64>;

/// Known values shorter than this are not scrubbed from free text (too many false hits).
const MIN_KNOWN_LEN: usize = 3;

#[derive(Debug, Clone)]
enum Selector {
    Path(JsonPath),
    Key(KeyGlob),
}

#[derive(Debug, Clone)]
struct FieldRule {
    selector: Selector,
    action: Action,
    entity: Entity,
}

/// One compiled profile.
#[derive(Clone)]
pub struct Redactor {
    fields: Vec<FieldRule>,
    /// Some field rule is a JSONPath (locations must then be tracked in full).
    has_paths: bool,
    detect: HashMap<Entity, Action>,
    key: Option<Arc<Vec<u8>>>,
    scanner: Arc<Scanner>,
}

/// Every role's redactor. `None` means the role sees responses unchanged.
pub struct Redaction {
    roles: HashMap<String, Option<Arc<Redactor>>>,
    default: Arc<Redactor>,
    /// Merged redactors for multi-role callers, by sorted role list.
    unions: std::sync::Mutex<HashMap<Vec<String>, Arc<Redactor>>>,
}

impl Redaction {
    /// Compiles the policy's `redaction:` section. `key` is `GATEKEEPER_REDACT_KEY`, needed
    /// only by profiles that `hash`.
    pub fn compile(file: Option<&RedactionFile>, key: Option<Vec<u8>>) -> Result<Self, String> {
        let empty = RedactionFile::default();
        let file = file.unwrap_or(&empty);
        let key = key.map(Arc::new);
        let build = |name: &str| build_profile(file, name, key.clone());
        let default = Arc::new(build(file.default.as_deref().unwrap_or("safe_harbor"))?);
        let mut roles = HashMap::new();
        for (role, profile) in &file.roles {
            let redactor = match profile.as_str() {
                "none" => None,
                name => Some(Arc::new(build(name)?)),
            };
            roles.insert(role.clone(), redactor);
        }
        Ok(Redaction {
            roles,
            default,
            unions: Default::default(),
        })
    }

    /// The redactor for a caller's roles: a role's own profile, or the default for a role
    /// without an entry. With several roles every applicable profile's rules apply (the merged
    /// redactor is built once per combination and kept).
    pub fn for_roles(&self, roles: &[String]) -> Option<Arc<Redactor>> {
        let mut chosen: Vec<(&str, Arc<Redactor>)> = Vec::new();
        if roles.is_empty() {
            chosen.push(("", Arc::clone(&self.default)));
        }
        for role in roles {
            match self.roles.get(role) {
                Some(Some(r)) => chosen.push((role, Arc::clone(r))),
                Some(None) => {}
                None => chosen.push(("", Arc::clone(&self.default))),
            }
        }
        match chosen.len() {
            0 => None,
            1 => chosen.pop().map(|(_, r)| r),
            _ => Some(self.merged(chosen)),
        }
    }

    fn merged(&self, chosen: Vec<(&str, Arc<Redactor>)>) -> Arc<Redactor> {
        let mut key: Vec<String> = chosen.iter().map(|(role, _)| role.to_string()).collect();
        key.sort();
        key.dedup();
        let mut cache = self.unions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = cache.get(&key) {
            return Arc::clone(r);
        }
        let mut iter = chosen.into_iter().map(|(_, r)| r);
        let first = iter.next().unwrap_or_else(|| Arc::clone(&self.default));
        let merged = iter.try_fold(first, |acc, r| acc.union(&r).map(Arc::new));
        // Should the merged scanner fail to build, the strictest profile still applies.
        let merged = merged.unwrap_or_else(|_| Arc::clone(&self.default));
        cache.insert(key, Arc::clone(&merged));
        merged
    }
}

fn build_profile(
    file: &RedactionFile,
    name: &str,
    key: Option<Arc<Vec<u8>>>,
) -> Result<Redactor, String> {
    let spec = resolve(file, name, 0)?;
    let fields = spec
        .fields
        .iter()
        .map(|f| compile_field(name, f))
        .collect::<Result<Vec<_>, _>>()?;
    let uses_hash = fields.iter().any(|f| f.action == Action::Hash)
        || spec.detect.values().any(|a| *a == Action::Hash);
    if uses_hash && key.is_none() {
        return Err(format!(
            "redaction profile '{name}' hashes values but GATEKEEPER_REDACT_KEY is not set"
        ));
    }
    let scanner = Arc::new(Scanner::new(&|e| spec.detect.contains_key(&e))?);
    Ok(Redactor {
        has_paths: fields
            .iter()
            .any(|f| matches!(f.selector, Selector::Path(_))),
        fields,
        detect: spec.detect.into_iter().collect(),
        key,
        scanner,
    })
}

/// A profile with everything it `extends` folded in (its own rules last, so they win ties).
fn resolve(file: &RedactionFile, name: &str, depth: usize) -> Result<ProfileSpec, String> {
    if depth > 8 {
        return Err(format!(
            "redaction profile '{name}': 'extends' nests too deep (a cycle?)"
        ));
    }
    let spec = match (file.profiles.get(name), name) {
        (Some(spec), _) => spec.clone(),
        (None, "safe_harbor") => config::safe_harbor(),
        (None, _) => return Err(format!("unknown redaction profile '{name}'")),
    };
    let Some(parent) = &spec.extends else {
        return Ok(spec);
    };
    let mut base = resolve(file, parent, depth + 1)?;
    base.fields.extend(spec.fields);
    base.detect.extend(spec.detect);
    Ok(base)
}

fn compile_field(profile: &str, f: &FieldSpec) -> Result<FieldRule, String> {
    let selector = match (&f.path, &f.key) {
        (Some(p), None) => Selector::Path(JsonPath::parse(p)?),
        (None, Some(k)) => Selector::Key(KeyGlob::new(k)),
        _ => {
            return Err(format!(
            "redaction profile '{profile}': each field rule needs exactly one of 'path' or 'key'"
        ))
        }
    };
    Ok(FieldRule {
        selector,
        action: f.action,
        entity: f.entity.unwrap_or(Entity::Field),
    })
}

/// What a field rule took out, to be scrubbed from free text too.
struct Known {
    value: String,
    entity: Entity,
    action: Action,
}

impl Redactor {
    fn union(&self, other: &Redactor) -> Result<Redactor, String> {
        let mut merged = self.clone();
        merged.fields.extend(other.fields.iter().cloned());
        merged.has_paths |= other.has_paths;
        for (e, a) in &other.detect {
            merged.detect.entry(*e).or_insert(*a);
        }
        merged.key = merged.key.clone().or(other.key.clone());
        merged.scanner = Arc::new(Scanner::new(&|e| merged.detect.contains_key(&e))?);
        Ok(merged)
    }

    /// Redacts one JSON-RPC message in place; returns what was redacted. Every member but the
    /// protocol's own (`jsonrpc`, `id`, `method`) is payload: `result`, `error` and `params`
    /// as MCP shapes them, and anything else a server adds, so nothing escapes by being put
    /// where the redactor does not look. A message that is not an object is scanned whole.
    pub fn redact_message(&self, message: &mut Value) -> Counts {
        let mut counts = Counts::new();
        let mut known = Vec::new();
        let Some(obj) = message.as_object_mut() else {
            self.scan_strings(message, &KnownValues::default(), &mut counts);
            return counts;
        };
        let mut texts = Vec::new();
        for (_, v) in payload_members(obj) {
            texts.extend(take_json_texts(v));
        }
        for (_, v) in payload_members(obj) {
            for root in payload_roots(v) {
                self.apply_fields(root, &mut Vec::new(), &mut known, &mut counts);
            }
        }
        for (_, parsed) in texts.iter_mut() {
            self.apply_fields(parsed, &mut Vec::new(), &mut known, &mut counts);
        }
        known.sort_by(|a, b| a.value.cmp(&b.value));
        known.dedup_by(|a, b| a.value == b.value);
        let known = KnownValues::new(known);
        for (_, v) in payload_members(obj) {
            self.scan_strings(v, &known, &mut counts);
        }
        for (_, parsed) in texts.iter_mut() {
            self.scan_strings(parsed, &known, &mut counts);
        }
        for (_, v) in payload_members(obj) {
            put_json_texts(v, &mut texts);
        }
        self.scrub_keys(obj, &known, &mut counts);
        counts
    }

    /// Redacts a whole JSON body: one message or a batch of them.
    pub fn redact_json(&self, body: &[u8]) -> Result<(Vec<u8>, Counts), String> {
        let mut value: Value =
            serde_json::from_slice(body).map_err(|e| format!("response is not JSON: {e}"))?;
        let mut counts = Counts::new();
        match &mut value {
            Value::Array(items) => items
                .iter_mut()
                .for_each(|m| merge(&mut counts, self.redact_message(m))),
            m => counts = self.redact_message(m),
        }
        Ok((value.to_string().into_bytes(), counts))
    }

    /// Redacts free text (a non-JSON body) with the detectors alone.
    pub fn redact_text(&self, text: &str) -> (String, Counts) {
        let mut counts = Counts::new();
        let out = self.scrub(text, &KnownValues::default(), &mut counts);
        (out, counts)
    }

    fn apply_fields(
        &self,
        value: &mut Value,
        loc: &mut Vec<String>,
        known: &mut Vec<Known>,
        counts: &mut Counts,
    ) {
        match value {
            Value::Object(map) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                for key in keys {
                    loc.push(key.clone());
                    let rule = self.field_rule(loc);
                    match rule {
                        Some(rule) => {
                            if let Some(v) = map.get_mut(&key) {
                                collect_known(v, rule, known);
                                *counts.entry(rule.entity.metric_label()).or_default() += 1;
                                if rule.action == Action::Remove {
                                    map.remove(&key);
                                } else {
                                    *v = self.act_on_value(v, rule.action, rule.entity);
                                }
                            }
                        }
                        None => {
                            if let Some(v) = map.get_mut(&key) {
                                self.apply_fields(v, loc, known, counts);
                            }
                        }
                    }
                    loc.pop();
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    loc.push(format!("[{i}]"));
                    self.apply_fields(item, loc, known, counts);
                    loc.pop();
                }
            }
            _ => {}
        }
    }

    fn field_rule(&self, loc: &[String]) -> Option<&FieldRule> {
        let key = loc.last()?;
        if key.starts_with('[') && !self.has_paths {
            return None;
        }
        let lower = key.to_lowercase();
        let steps: Vec<Step> = if self.has_paths {
            loc.iter()
                .map(|s| {
                    match s
                        .strip_prefix('[')
                        .and_then(|r| r.strip_suffix(']'))
                        .and_then(|n| n.parse().ok())
                    {
                        Some(i) => Step::Index(i),
                        None => Step::Key(s),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        self.fields.iter().rev().find(|rule| match &rule.selector {
            Selector::Path(p) => p.matches(&steps),
            Selector::Key(glob) => !key.starts_with('[') && glob.matches_lowercase(&lower),
        })
    }

    fn act_on_value(&self, value: &Value, action: Action, entity: Entity) -> Value {
        match (value, action, entity) {
            (Value::Number(n), Action::Generalize, Entity::Age) => match n.as_u64() {
                Some(age) if age > 89 => Value::String("90+".into()),
                _ => value.clone(),
            },
            (Value::Null, _, _) => Value::Null,
            (Value::String(s), _, _) => Value::String(self.render(s, action, entity)),
            (Value::Number(_) | Value::Bool(_), _, _) => {
                Value::String(self.render(&value.to_string(), action, entity))
            }
            _ => Value::String(format!("[REDACTED:{}]", entity.label())),
        }
    }

    /// The replacement text for one redacted value.
    fn render(&self, value: &str, action: Action, entity: Entity) -> String {
        match action {
            Action::Remove => String::new(),
            Action::Mask => format!("[REDACTED:{}]", entity.label()),
            Action::Partial(keep) => partial(value, keep),
            Action::Hash => match self
                .key
                .as_deref()
                .and_then(|k| Hmac::<Sha256>::new_from_slice(k).ok())
            {
                Some(mut mac) => {
                    mac.update(value.as_bytes());
                    let hex: String = mac
                        .finalize()
                        .into_bytes()
                        .iter()
                        .take(8)
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    format!("[{}:{hex}]", entity.label())
                }
                None => format!("[REDACTED:{}]", entity.label()),
            },
            Action::Generalize => generalize(value, entity),
        }
    }

    fn scan_strings(&self, value: &mut Value, known: &KnownValues, counts: &mut Counts) {
        match value {
            Value::String(s) => {
                let out = self.scrub(s, known, counts);
                if out != *s {
                    *s = out;
                }
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| self.scan_strings(v, known, counts)),
            Value::Object(map) => {
                map.values_mut()
                    .for_each(|v| self.scan_strings(v, known, counts));
                self.scrub_keys(map, known, counts);
            }
            _ => {}
        }
    }

    /// Object keys carry data too (a map keyed by SSN or by name): a key with an identifier
    /// in it is renamed to its redacted form; keys that collide keep both values.
    fn scrub_keys(
        &self,
        map: &mut serde_json::Map<String, Value>,
        known: &KnownValues,
        counts: &mut Counts,
    ) {
        let renamed: Vec<(String, String)> = map
            .keys()
            .filter_map(|k| {
                let clean = self.scrub(k, known, counts);
                (clean != *k).then(|| (k.clone(), clean))
            })
            .collect();
        for (old, mut new) in renamed {
            if let Some(v) = map.remove(&old) {
                while map.contains_key(&new) {
                    new.push('\'');
                }
                map.insert(new, v);
            }
        }
    }

    /// Detector hits and known values in one string, replaced by their actions.
    fn scrub(&self, text: &str, known: &KnownValues, counts: &mut Counts) -> String {
        if text.is_empty() || (known.is_empty() && self.detect.is_empty()) {
            return text.to_string();
        }
        let mut spans: Vec<(Span, Action)> = known.find(text);
        for span in self.scanner.find(text) {
            if let Some(action) = self.detect.get(&span.entity) {
                spans.push((span, *action));
            }
        }
        if spans.is_empty() {
            return text.to_string();
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
            *counts.entry(span.entity.metric_label()).or_default() += 1;
            at = span.end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// The values field rules redacted in one message, found in free text in one pass
/// (Aho-Corasick, leftmost-longest) however many there are.
#[derive(Default)]
struct KnownValues {
    values: Vec<Known>,
    matcher: Option<aho_corasick::AhoCorasick>,
}

impl KnownValues {
    fn new(values: Vec<Known>) -> Self {
        // A contiguous NFA builds in microseconds; a DFA would search faster but costs far more
        // to build than one message is worth.
        let matcher = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
            .build(values.iter().map(|k| k.value.as_str()))
            .ok();
        KnownValues { values, matcher }
    }

    fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn find(&self, text: &str) -> Vec<(Span, Action)> {
        if self.values.is_empty() {
            return Vec::new();
        }
        let span = |start: usize, k: &Known| {
            (
                Span {
                    start,
                    end: start + k.value.len(),
                    entity: k.entity,
                },
                k.action,
            )
        };
        match &self.matcher {
            Some(ac) => ac
                .find_iter(text)
                .map(|m| span(m.start(), &self.values[m.pattern().as_usize()]))
                .collect(),
            // Building the automaton failed (far too many values): search one by one.
            None => self
                .values
                .iter()
                .flat_map(|k| {
                    text.match_indices(k.value.as_str())
                        .map(move |(at, _)| span(at, k))
                })
                .collect(),
        }
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

/// The tool payloads a section carries: `structuredContent`, legacy `data`, `error.data`; the
/// section itself when it has none of these (a non-MCP result shape).
/// The members of a message that carry data: all but the protocol's own — and those only when
/// they have the protocol's shape (a `method` that is an object is data like any other).
fn payload_members(
    message: &mut serde_json::Map<String, Value>,
) -> impl Iterator<Item = (&String, &mut Value)> {
    message.iter_mut().filter(|(k, v)| match k.as_str() {
        "jsonrpc" | "method" => !v.is_string(),
        "id" => !(v.is_string() || v.is_number() || v.is_null()),
        _ => true,
    })
}

/// Where field rules apply inside a section: an MCP result's `structuredContent`, legacy
/// `data` and any other member a server adds (`content` is scanned item by item instead);
/// anything else is its own root.
fn payload_roots(section: &mut Value) -> Vec<&mut Value> {
    let shaped = section.as_object().is_some_and(|map| {
        ["structuredContent", "data", "content", "message"]
            .iter()
            .any(|k| map.contains_key(*k))
    });
    if !shaped {
        return vec![section];
    }
    match section {
        Value::Object(map) => map
            .iter_mut()
            .filter(|(k, _)| k.as_str() != "content")
            .map(|(_, v)| v)
            .collect(),
        _ => vec![],
    }
}

/// Takes the JSON out of `content[].text` and `content[].resource.text` for field rules;
/// leaves a placeholder index to put it back.
fn take_json_texts(section: &mut Value) -> Vec<(usize, Value)> {
    let mut out = Vec::new();
    let Some(items) = section.get_mut("content").and_then(Value::as_array_mut) else {
        return out;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if let Some(Value::Object(res)) = item.get_mut("resource") {
            if res.contains_key("blob") {
                res.insert("blob".into(), Value::String(String::new()));
            }
        }
        let slot = if item.get("text").is_some() {
            item.get_mut("text")
        } else {
            item.get_mut("resource").and_then(|r| r.get_mut("text"))
        };
        if let Some(text) = slot {
            if let Some(parsed) = text
                .as_str()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .filter(|v| v.is_object() || v.is_array())
            {
                *text = Value::Null;
                out.push((i, parsed));
            }
        }
    }
    out
}

fn put_json_texts(section: &mut Value, texts: &mut Vec<(usize, Value)>) {
    let Some(items) = section.get_mut("content").and_then(Value::as_array_mut) else {
        return;
    };
    for (i, parsed) in texts.drain(..) {
        if let Some(item) = items.get_mut(i) {
            let slot = if item.get("text").is_some() {
                item.get_mut("text")
            } else {
                item.get_mut("resource").and_then(|r| r.get_mut("text"))
            };
            if let Some(text) = slot {
                *text = Value::String(parsed.to_string());
            }
        }
    }
}

/// Adds `from` into `into`.
pub fn merge_counts(into: &mut Counts, from: Counts) {
    merge(into, from)
}

fn merge(into: &mut Counts, from: Counts) {
    for (k, v) in from {
        *into.entry(k).or_default() += v;
    }
}

/// Keeps the last `keep` letters and digits; masks the others, keeping separators.
fn partial(value: &str, keep: usize) -> String {
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

/// HHS's three-digit ZIP prefixes with 20,000 people or fewer (2000 census): they become 000.
const RESTRICTED_ZIP3: [&str; 17] = [
    "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878",
    "879", "884", "890", "893",
];

fn generalize(value: &str, entity: Entity) -> String {
    match entity {
        Entity::Date => generalize_date(value),
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
        other => format!("[REDACTED:{}]", other.label()),
    }
}

/// A date becomes its year — or, when the year alone would reveal an age over 89, a bound.
fn generalize_date(value: &str) -> String {
    let year = value
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 4)
        .and_then(|y| y.parse::<i32>().ok());
    let this_year = chrono::Datelike::year(&chrono::Utc::now());
    match year {
        Some(y) if this_year - y > 89 => format!("before {}", this_year - 89),
        Some(y) => y.to_string(),
        None => "[REDACTED:DATE]".into(),
    }
}

#[cfg(test)]
mod tests;
