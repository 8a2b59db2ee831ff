//! Profiles compiled: a profile's `extends` folded in, its field selectors (key globs in one
//! automaton, JSONPaths), detectors and key; and every role's profile, merged for callers with
//! several roles.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::config::{self, Action, BinaryAction, FieldSpec, ProfileSpec, RedactionFile};
use super::detect::Entity;
use super::message::normalize_key;
use super::path::{JsonPath, KeyGlob};
use super::scan::Scanner;
use super::Redactor;

#[derive(Debug, Clone)]
pub(super) enum Selector {
    Path(JsonPath),
    Key(KeyGlob),
    /// A FHIR resource type (`Condition`): the rule removes such resources whole.
    Resource(String),
}

#[derive(Debug, Clone)]
pub(super) struct FieldRule {
    pub(super) selector: Selector,
    pub(super) action: Action,
    pub(super) entity: Entity,
}

/// A profile's field selectors compiled for lookup: every key glob in one automaton, so a
/// key is decided in one pass however many globs there are.
#[derive(Clone)]
pub(super) struct Selectors {
    keys: regex::RegexSet,
    /// Pattern `i` of `keys` is field rule `key_rule[i]`.
    key_rule: Vec<usize>,
    /// The field rules that are JSONPaths.
    pub(super) paths: Vec<usize>,
    decided: KeyCache,
}

/// Keys longer than this are decided each time, not remembered.
const KEY_CACHE_MAX_LEN: usize = 64;
/// How many keys a profile remembers.
const KEY_CACHE_MAX_KEYS: usize = 4096;

/// Key → the field rule its globs select, remembered across messages: a server's answers use
/// few distinct keys, and running every glob over a key cost more than the rest of its walk.
/// Bounded in keys and in length, so a body of random keys cannot grow it; when another
/// thread holds it, a key is decided without it. A clone starts empty.
#[derive(Default)]
struct KeyCache(RwLock<HashMap<Box<str>, Option<usize>, foldhash::fast::RandomState>>);

impl Clone for KeyCache {
    fn clone(&self) -> Self {
        KeyCache::default()
    }
}

impl KeyCache {
    fn get(&self, key: &str) -> Option<Option<usize>> {
        self.0.try_read().ok()?.get(key).copied()
    }

    fn put(&self, key: &str, rule: Option<usize>) {
        if key.len() > KEY_CACHE_MAX_LEN {
            return;
        }
        if let Ok(mut decided) = self.0.try_write() {
            if decided.len() < KEY_CACHE_MAX_KEYS {
                decided.insert(key.into(), rule);
            }
        }
    }
}

impl Selectors {
    pub(super) fn new(fields: &[FieldRule]) -> Result<Self, String> {
        let (mut globs, mut key_rule, mut paths) = (Vec::new(), Vec::new(), Vec::new());
        for (i, rule) in fields.iter().enumerate() {
            match &rule.selector {
                Selector::Key(glob) => {
                    globs.push(glob.to_regex());
                    key_rule.push(i);
                }
                Selector::Path(_) => paths.push(i),
                Selector::Resource(_) => {}
            }
        }
        let keys = regex::RegexSet::new(&globs).map_err(|e| format!("key globs: {e}"))?;
        Ok(Selectors {
            keys,
            key_rule,
            paths,
            decided: KeyCache::default(),
        })
    }

    /// The field rule whose glob selects `key` (in its canonical spelling); the last one when
    /// several do, as in the policy file.
    pub(super) fn rule_for_key(&self, key: &str) -> Option<usize> {
        if let Some(rule) = self.decided.get(key) {
            return rule;
        }
        let last = self.keys.matches(&normalize_key(key)).iter().next_back();
        let rule = last.and_then(|last| self.key_rule.get(last).copied());
        self.decided.put(key, rule);
        rule
    }
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

pub(super) fn build_profile(
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
        keep_binary: spec.binary == Some(BinaryAction::Keep),
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
    base.binary = spec.binary.or(base.binary);
    Ok(base)
}

fn compile_field(profile: &str, f: &FieldSpec) -> Result<FieldRule, String> {
    let selector = match (&f.path, &f.key, &f.resource) {
        (Some(p), None, None) => Selector::Path(JsonPath::parse(p)?),
        (None, Some(k), None) => Selector::Key(KeyGlob::new(k)),
        (None, None, Some(r)) if f.action == Action::Remove => Selector::Resource(r.clone()),
        (None, None, Some(r)) => {
            return Err(format!(
                "redaction profile '{profile}': a rule on FHIR resources ('{r}') can only remove them"
            ))
        }
        _ => {
            return Err(format!(
            "redaction profile '{profile}': each field rule needs exactly one of 'path', 'key' or 'resource'"
        ))
        }
    };
    Ok(FieldRule {
        selector,
        action: f.action,
        entity: f.entity.unwrap_or(Entity::Field),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selectors() -> Selectors {
        let rule = |glob: &str| FieldRule {
            selector: Selector::Key(KeyGlob::new(glob)),
            action: Action::Mask,
            entity: Entity::Name,
        };
        Selectors::new(&[rule("name"), rule("*_name"), rule("*ssn*")]).expect("selectors")
    }

    /// Remembered or not, a key gets the rule its globs select; the memory is bounded in keys
    /// and in length, and a clone (a merged profile's start) remembers nothing.
    #[test]
    fn remembered_keys_get_the_rule_their_globs_select() {
        let s = selectors();
        for _ in 0..2 {
            assert_eq!(s.rule_for_key("name"), Some(0));
            assert_eq!(s.rule_for_key("familyName"), Some(1));
            assert_eq!(s.rule_for_key("patient_ssn_name"), Some(2));
            assert_eq!(s.rule_for_key("note"), None);
        }
        let long = format!("{}_name", "x".repeat(KEY_CACHE_MAX_LEN));
        assert_eq!(s.rule_for_key(&long), Some(1));
        assert_eq!(s.decided.get(&long), None);
        assert_eq!(s.decided.get("note"), Some(None));
        for i in 0..KEY_CACHE_MAX_KEYS + 10 {
            s.rule_for_key(&format!("k{i}"));
        }
        assert_eq!(s.decided.0.read().expect("lock").len(), KEY_CACHE_MAX_KEYS);
        assert_eq!(s.clone().decided.get("name"), None);
    }
}
