//! Redaction: what the MCP server sends back is rewritten so each role sees only what it may.
//! Field rules (JSONPath or key globs) act on tool payloads — `structuredContent`, the JSON in
//! `content[].text` and embedded resources, legacy `result.data`, `error.data`; detectors act on
//! every string leaf; a value a field rule redacted is also scrubbed wherever else it appears.

pub mod config;
pub mod detect;
mod known;
mod message;
mod path;
#[doc(hidden)]
pub mod tree;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use tree::Node;

use config::{Action, FieldSpec, ProfileSpec, RedactionFile};
use detect::{Entity, Scanner, Span};
use known::{KnownValues, MIN_KNOWN_LEN};
use path::{JsonPath, KeyGlob};

/// Redactions made, by entity (metric label) → count. Never the values.
pub type Counts = BTreeMap<&'static str, u64>;

/// Counts kept while redacting: one slot per entity, cheaper than a map on the hot path.
#[derive(Debug, Clone, Copy, Default)]
struct Tally([u64; Entity::ALL.len()]);

impl Tally {
    fn add(&mut self, entity: Entity) {
        // `Entity::ALL` lists every kind (tested); `get_mut` keeps a missed one from panicking.
        if let Some(slot) = self.0.get_mut(entity as usize) {
            *slot += 1;
        }
    }

    /// Adds `other` in, `times` times.
    fn merge(&mut self, other: &Tally, times: u64) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine += theirs * times;
        }
    }

    fn into_counts(self) -> Counts {
        Entity::ALL
            .into_iter()
            .zip(self.0)
            .filter(|(_, n)| *n > 0)
            .map(|(e, n)| (e.metric_label(), n))
            .collect()
    }
}

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

/// A profile's field selectors compiled for lookup: every key glob in one automaton, so a
/// key is decided in one pass however many globs there are.
#[derive(Clone)]
struct Selectors {
    keys: regex::RegexSet,
    /// Pattern `i` of `keys` is field rule `key_rule[i]`.
    key_rule: Vec<usize>,
    /// The field rules that are JSONPaths.
    paths: Vec<usize>,
}

impl Selectors {
    fn new(fields: &[FieldRule]) -> Result<Self, String> {
        let (mut globs, mut key_rule, mut paths) = (Vec::new(), Vec::new(), Vec::new());
        for (i, rule) in fields.iter().enumerate() {
            match &rule.selector {
                Selector::Key(glob) => {
                    globs.push(glob.to_regex());
                    key_rule.push(i);
                }
                Selector::Path(_) => paths.push(i),
            }
        }
        let keys = regex::RegexSet::new(&globs).map_err(|e| format!("key globs: {e}"))?;
        Ok(Selectors {
            keys,
            key_rule,
            paths,
        })
    }
}

/// One compiled profile.
#[derive(Clone)]
pub struct Redactor {
    fields: Vec<FieldRule>,
    selectors: Selectors,
    detect: HashMap<Entity, Action>,
    key: Option<Arc<Vec<u8>>>,
    scanner: Arc<Scanner>,
    /// This year, for folding dates that reveal an age over 89.
    year: i32,
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
    pub fn compile(
        file: Option<&RedactionFile>,
        key: Option<Vec<u8>>,
        year: i32,
    ) -> Result<Self, String> {
        let empty = RedactionFile::default();
        let file = file.unwrap_or(&empty);
        let key = key.map(Arc::new);
        let build = |name: &str| build_profile(file, name, key.clone(), year);
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
        // Should the merged profile fail to build, the default profile applies instead.
        let merged = merged.unwrap_or_else(|_| Arc::clone(&self.default));
        cache.insert(key, Arc::clone(&merged));
        merged
    }
}

fn build_profile(
    file: &RedactionFile,
    name: &str,
    key: Option<Arc<Vec<u8>>>,
    year: i32,
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
        selectors: Selectors::new(&fields)?,
        fields,
        detect: spec.detect.into_iter().collect(),
        key,
        scanner,
        year,
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
    /// Some field rule is a JSONPath (locations must then be tracked in full).
    fn has_paths(&self) -> bool {
        !self.selectors.paths.is_empty()
    }

    fn union(&self, other: &Redactor) -> Result<Redactor, String> {
        let mut merged = self.clone();
        merged.fields.extend(other.fields.iter().cloned());
        merged.selectors = Selectors::new(&merged.fields)?;
        for (e, a) in &other.detect {
            merged.detect.entry(*e).or_insert(*a);
        }
        merged.key = merged.key.clone().or(other.key.clone());
        merged.scanner = Arc::new(Scanner::new(&|e| merged.detect.contains_key(&e))?);
        Ok(merged)
    }

    /// Redacts a whole JSON body: one message or a batch of them. The body is parsed once,
    /// borrowing its strings; what no rule touched is written back as it came (compact).
    pub fn redact_json(&self, body: &[u8]) -> Result<(Vec<u8>, Counts), String> {
        let mut root = Node::parse(body).map_err(|e| format!("response is not JSON: {e}"))?;
        let mut counts = Counts::new();
        match &mut root {
            Node::Array(items) => items
                .iter_mut()
                .for_each(|m| merge(&mut counts, self.redact_message(m))),
            m => counts = self.redact_message(m),
        }
        let mut out = Vec::with_capacity(body.len());
        root.write(&mut out)
            .map_err(|e| format!("redacted response: {e}"))?;
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

    fn act_on_value<'a>(&self, value: &Node<'a>, action: Action, entity: Entity) -> Node<'a> {
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
    fn render(&self, value: &str, action: Action, entity: Entity) -> String {
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
                    let hex: String = mac
                        .finalize()
                        .into_bytes()
                        .iter()
                        .take(8)
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    format!("[{}:{hex}]", entity.label())
                }
                None => entity.mask(),
            },
            Action::Generalize => generalize(value, entity, self.year),
        }
    }

    /// Detector hits and known values in one string, replaced by their actions.
    /// `None` when nothing in it needs redacting.
    fn scrub(&self, text: &str, known: &KnownValues, tally: &mut Tally) -> Option<String> {
        if text.is_empty() || (known.is_empty() && self.detect.is_empty()) {
            return None;
        }
        let mut spans: Vec<(Span, Action)> = known.find(text);
        for span in self.scanner.find(text) {
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

fn generalize(value: &str, entity: Entity, this_year: i32) -> String {
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

#[cfg(test)]
mod tests;
