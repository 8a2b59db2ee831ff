//! The RBAC policy: YAML → a compiled, immutable `Policy`; `decide` judges one call for one
//! identity. Default deny: only what some grant names is allowed.

mod config;
mod limits;
mod lint;
mod resource;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use config::{ArgMatch, PolicyFile};
use config::{CertificateMatch, GrantSpec, ToolSpec};
pub use limits::{gcra, Bucket, RateLimit, Scope};
use resource::ResourcePattern;

use crate::auth::Identity;
use crate::jsonrpc::{Call, CallTarget, Referent, Request};
use crate::redact::{Redaction, Redactor};

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{message}")]
    Yaml {
        message: String,
        location: Option<(usize, usize)>,
    },
    #[error("invalid policy: {0}")]
    Invalid(String),
    #[error("{source} (at line {}, column {})", location.0, location.1)]
    Located {
        source: Box<PolicyError>,
        location: (usize, usize),
    },
}

impl PolicyError {
    /// `(line, column)`, 1-based, when the error can be placed in the file.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            PolicyError::Yaml { location, .. } => *location,
            PolicyError::Located { location, .. } => Some(*location),
            _ => None,
        }
    }

    /// Places a semantic error on the first line that names what it is about.
    fn locate_in(self, text: &str) -> Self {
        let PolicyError::Invalid(message) = &self else {
            return self;
        };
        // The last quoted name is what the message is about ("… unknown role 'Ghost'").
        let quoted = message
            .split('\'')
            .skip(1)
            .step_by(2)
            .filter(|q| !q.is_empty())
            .last();
        match quoted.and_then(|q| find_word(text, q)) {
            Some(location) => PolicyError::Located {
                source: Box::new(self),
                location,
            },
            None => self,
        }
    }
}

/// The first `(line, column)` where `word` stands as a YAML key or list item.
fn find_word(text: &str, word: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let code = line.split('#').next().unwrap_or("");
        code.match_indices(word).find_map(|(at, _)| {
            let before = code[..at].chars().next_back();
            let after = code[at + word.len()..].chars().next();
            let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            (boundary(before) && boundary(after)).then_some((i + 1, at + 1))
        })
    })
}

/// The outcome for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The grant that allowed it (`roles.Nurse.tools.get_patient`), or why it was denied.
    pub rule: String,
}

impl Decision {
    fn allow(rule: &str) -> Self {
        Decision {
            allowed: true,
            rule: rule.to_string(),
        }
    }
    fn deny(rule: &str) -> Self {
        Decision {
            allowed: false,
            rule: rule.to_string(),
        }
    }
}

/// A compiled policy. Immutable: a reload builds a new one.
#[derive(Debug)]
pub struct Policy {
    authenticated: Grants,
    roles: HashMap<String, Grants>,
    redaction: Redaction,
    limits: Vec<RateLimit>,
    version: String,
    /// Every tool some grant names explicitly (`names_tool`, asked twice per call for the
    /// metrics and audit labels), gathered once.
    named_tools: HashSet<String, foldhash::fast::RandomState>,
}

impl std::fmt::Debug for Redaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redaction")
    }
}

#[derive(Debug, Default, Clone)]
struct Grants {
    /// Client certificates the caller must have connected with (this role's and those it
    /// inherits); empty: none needed.
    certificate: Vec<CertificateMatch>,
    methods: Vec<(MethodPattern, String)>,
    tools: HashMap<String, Vec<ToolRule>>,
    any_tool: Vec<ToolRule>,
    resources: Vec<(ResourcePattern, String)>,
    any_resource: bool,
    prompts: HashMap<String, String>,
}

#[derive(Debug, Clone)]
enum MethodPattern {
    Exact(String),
    /// `prefix/*`: any method whose leading segments are `prefix/`.
    Prefix(String),
}

#[derive(Debug, Clone)]
struct ToolRule {
    rule: String,
    when: Vec<(String, ArgMatch)>,
}

/// What compiling a policy needs from outside its file.
#[derive(Debug, Clone)]
pub struct CompileInputs {
    /// `GATEKEEPER_REDACT_KEY`, needed only by profiles that `hash`.
    pub redact_key: Option<Vec<u8>>,
    /// This year: Safe Harbor folds dates that reveal an age over 89 (`year - 89`).
    pub year: i32,
}

impl CompileInputs {
    pub fn at_year(year: i32) -> Self {
        CompileInputs {
            redact_key: None,
            year,
        }
    }
}

impl Policy {
    /// Parses and compiles policy YAML with what it needs from outside the file (the shell's
    /// `policy_file` reads those from the environment and the clock).
    pub fn compile(text: &str, inputs: &CompileInputs) -> Result<Self, PolicyError> {
        let file: PolicyFile = serde_yaml_ng::from_str(text).map_err(|e| PolicyError::Yaml {
            location: e.location().map(|l| (l.line(), l.column())),
            message: e.to_string(),
        })?;
        let digest = hex(&Sha256::digest(text.as_bytes())[..6]);
        let version = match &file.version {
            Some(label) => format!("{label}@{digest}"),
            None => digest,
        };
        let redaction = Redaction::compile(
            file.redaction.as_ref(),
            inputs.redact_key.clone(),
            inputs.year,
        )
        .map_err(|e| PolicyError::Invalid(format!("redaction: {e}")).locate_in(text))?;
        compile(&file, version, redaction).map_err(|e| e.locate_in(text))
    }

    /// `compile` as of a fixed year, without a redaction key: for the core's own tests.
    #[cfg(test)]
    pub(crate) fn from_yaml(text: &str) -> Result<Self, PolicyError> {
        Self::compile(text, &CompileInputs::at_year(2026))
    }

    /// The redactor for this caller's responses; `None` when their role sees them unchanged.
    pub fn redactor_for(&self, who: &Identity) -> Option<Arc<Redactor>> {
        self.redaction.for_roles(&who.roles)
    }

    /// A label for this policy: its `version:` and a hash of the file's bytes.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether some grant names `tool` explicitly (metrics label only such tools).
    pub fn names_tool(&self, tool: &str) -> bool {
        self.named_tools.contains(tool)
    }

    pub fn names_role(&self, role: &str) -> bool {
        self.roles.contains_key(role)
    }

    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// Judges one call. Roles the policy does not know grant nothing.
    pub fn decide(&self, who: &Identity, call: &Call) -> Decision {
        if call.target == CallTarget::Answer {
            // Not a call: the shell admits it only as the answer to a request this caller
            // was sent (see `mcp_session::ServerRequests`).
            return Decision::allow("client-answer");
        }
        if matches!(
            call.target,
            CallTarget::Completion { .. } | CallTarget::Subscription { .. }
        ) {
            // The method must be granted, and so must what it names (a prompt or resource
            // the caller may not read is not theirs to complete or watch).
            let method = Call {
                target: CallTarget::Method,
                ..call.clone()
            };
            let by_method = self.grants_for(who).find_map(|g| g.allows(who, &method));
            let by_target = self.grants_for(who).find_map(|g| g.allows(who, call));
            return match (by_method, by_target) {
                (Some(_), Some(rule)) => Decision::allow(rule),
                _ => Decision::deny("default-deny"),
            };
        }
        if let CallTarget::Listen { uris } = &call.target {
            return self.decide_listen(who, call, uris);
        }
        self.grants_for(who)
            .find_map(|g| g.allows(who, call))
            .map(Decision::allow)
            .unwrap_or_else(|| Decision::deny("default-deny"))
    }

    /// `subscriptions/listen`: its method must be granted, and every resource it watches must
    /// be one the caller may read (an update notification says the resource changed).
    fn decide_listen(&self, who: &Identity, call: &Call, uris: &[String]) -> Decision {
        let method = Call {
            target: CallTarget::Method,
            ..call.clone()
        };
        let Some(rule) = self.grants_for(who).find_map(|g| g.allows(who, &method)) else {
            return Decision::deny("default-deny");
        };
        let readable = |uri: &String| self.grants_for(who).any(|g| g.resource_rule(uri).is_some());
        if uris.iter().all(readable) {
            Decision::allow(rule)
        } else {
            Decision::deny("default-deny")
        }
    }

    /// Judges a whole request: every call must be allowed. Returns the first denied call.
    pub fn decide_request<'r>(
        &self,
        who: &Identity,
        request: &'r Request,
    ) -> Result<Vec<Decision>, (&'r Call, Decision)> {
        request
            .calls()
            .iter()
            .map(|call| {
                let d = self.decide(who, call);
                if d.allowed {
                    Ok(d)
                } else {
                    Err((call, d))
                }
            })
            .collect()
    }

    /// The budgets an allowed call spends from, in the order the policy lists them.
    pub fn buckets<'p>(&'p self, who: &Identity, call: &Call) -> Vec<Bucket<'p>> {
        self.limits
            .iter()
            .filter_map(|l| l.bucket(who, call))
            .collect()
    }

    /// Whether any rate limit is configured (the shell skips the store otherwise).
    pub fn has_limits(&self) -> bool {
        !self.limits.is_empty()
    }

    /// Whether `tools/list` should show `tool` to this identity: some grant names it,
    /// with or without conditions on its arguments.
    pub fn tool_visible(&self, who: &Identity, tool: &str) -> bool {
        self.grants_for(who)
            .any(|g| !g.any_tool.is_empty() || g.tools.contains_key(tool))
    }

    /// Whether `prompts/list` should show `prompt` to this identity.
    pub fn prompt_visible(&self, who: &Identity, prompt: &str) -> bool {
        self.grants_for(who)
            .any(|g| lookup(&g.prompts, prompt).is_some())
    }

    /// Whether `resources/list` should show `uri` to this identity.
    pub fn resource_visible(&self, who: &Identity, uri: &str) -> bool {
        self.grants_for(who).any(|g| g.resource_rule(uri).is_some())
    }

    /// Whether this identity may read every resource (resource templates are listed only then).
    pub fn all_resources_visible(&self, who: &Identity) -> bool {
        self.grants_for(who).any(|g| g.any_resource)
    }

    /// The grants that apply to `who`: the authenticated caller's and each role's — a role
    /// that needs a client certificate only when the connection came with a matching one.
    fn grants_for<'a>(&'a self, who: &'a Identity) -> impl Iterator<Item = &'a Grants> {
        std::iter::once(&self.authenticated)
            .chain(who.roles.iter().filter_map(|r| self.roles.get(r)))
            .filter(|g| {
                g.certificate
                    .iter()
                    .all(|m| m.holds(who.certificate.as_ref()))
            })
    }
}

impl Grants {
    fn allows(&self, who: &Identity, call: &Call) -> Option<&str> {
        match &call.target {
            CallTarget::Method => self
                .methods
                .iter()
                .find(|(p, _)| p.matches(&call.method))
                .map(|(_, rule)| rule.as_str()),
            CallTarget::Tool {
                name, arguments, ..
            } => self
                .tools
                .get(name)
                .into_iter()
                .flatten()
                .chain(&self.any_tool)
                .find(|r| r.holds(who, arguments))
                .map(|r| r.rule.as_str()),
            CallTarget::Resource { uri } => self.resource_rule(uri),
            CallTarget::Prompt { name } => lookup(&self.prompts, name),
            CallTarget::Completion {
                of: Referent::Prompt(name),
            } => lookup(&self.prompts, name),
            CallTarget::Completion {
                of: Referent::Resource(uri),
            }
            | CallTarget::Subscription { uri } => self.resource_rule(uri),
            CallTarget::Answer | CallTarget::Listen { .. } => None,
        }
    }
}

impl Grants {
    fn resource_rule(&self, uri: &str) -> Option<&str> {
        let uri = resource::normalize(uri)?;
        self.resources
            .iter()
            .find(|(p, _)| p.matches(&uri))
            .map(|(_, rule)| rule.as_str())
    }
}

fn lookup<'a>(names: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    names
        .get(key)
        .or_else(|| names.get("*"))
        .map(String::as_str)
}

impl MethodPattern {
    fn parse(spec: &str) -> Result<Self, String> {
        match spec.strip_suffix("/*") {
            Some(prefix) if !prefix.is_empty() && !prefix.contains('*') => {
                Ok(MethodPattern::Prefix(format!("{prefix}/")))
            }
            _ if spec.is_empty() || spec.contains('*') => Err(format!(
                "method pattern '{spec}': a wildcard may only stand for whole trailing segments (e.g. 'notifications/*')"
            )),
            _ => Ok(MethodPattern::Exact(spec.to_string())),
        }
    }

    fn matches(&self, method: &str) -> bool {
        match self {
            MethodPattern::Exact(m) => m == method,
            MethodPattern::Prefix(p) => method.len() > p.len() && method.starts_with(p.as_str()),
        }
    }
}

impl ToolRule {
    /// Every condition holds: the argument is a string exactly equal to the expected string.
    fn holds(&self, who: &Identity, arguments: &Map<String, Value>) -> bool {
        self.when.iter().all(|(arg, expected)| {
            let Some(Value::String(actual)) = arguments.get(arg) else {
                return false;
            };
            let expected = match expected {
                ArgMatch::Claim(claim) => who.claim_str(claim),
                ArgMatch::Equals(value) => Some(value.as_str()),
            };
            expected.is_some_and(|e| !e.is_empty() && e == actual)
        })
    }
}

fn compile(
    file: &PolicyFile,
    version: String,
    redaction: Redaction,
) -> Result<Policy, PolicyError> {
    for (name, spec) in &file.roles.0 {
        if name.trim().is_empty() || name.trim() != name {
            return Err(PolicyError::Invalid(format!(
                "role name '{name}' is empty or padded"
            )));
        }
        for parent in &spec.inherits {
            if !file.roles.0.contains_key(parent) {
                return Err(PolicyError::Invalid(format!(
                    "role '{name}' inherits unknown role '{parent}'"
                )));
            }
        }
    }
    if !file.authenticated.inherits.is_empty() {
        return Err(PolicyError::Invalid(
            "'authenticated' cannot inherit roles".into(),
        ));
    }
    let authenticated = compile_grants("authenticated", &file.authenticated)?;
    let mut roles = HashMap::new();
    for name in file.roles.0.keys() {
        let mut grants = Grants::default();
        for member in inheritance_closure(name, &file.roles.0)? {
            grants.merge(compile_grants(
                &format!("roles.{member}"),
                &file.roles.0[&member],
            )?);
        }
        roles.insert(name.clone(), grants);
    }
    let limits = limits::compile(&file.rate_limits).map_err(PolicyError::Invalid)?;
    let named_tools = roles
        .values()
        .chain([&authenticated])
        .flat_map(|g| g.tools.keys().cloned())
        .collect();
    Ok(Policy {
        authenticated,
        roles,
        redaction,
        limits,
        version,
        named_tools,
    })
}

/// `role` followed by every role it inherits, transitively; a cycle is an error.
fn inheritance_closure(
    role: &str,
    specs: &BTreeMap<String, GrantSpec>,
) -> Result<Vec<String>, PolicyError> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    let mut path = Vec::new();
    visit(role, specs, &mut seen, &mut path, &mut order)?;
    Ok(order)
}

fn visit(
    role: &str,
    specs: &BTreeMap<String, GrantSpec>,
    seen: &mut HashSet<String>,
    path: &mut Vec<String>,
    order: &mut Vec<String>,
) -> Result<(), PolicyError> {
    if path.iter().any(|r| r == role) {
        return Err(PolicyError::Invalid(format!(
            "role inheritance cycle: {} -> {role}",
            path.join(" -> ")
        )));
    }
    if !seen.insert(role.to_string()) {
        return Ok(());
    }
    order.push(role.to_string());
    path.push(role.to_string());
    for parent in &specs[role].inherits {
        visit(parent, specs, seen, path, order)?;
    }
    path.pop();
    Ok(())
}

fn compile_grants(prefix: &str, spec: &GrantSpec) -> Result<Grants, PolicyError> {
    let invalid = |m: String| PolicyError::Invalid(format!("{prefix}: {m}"));
    let mut g = Grants::default();
    g.certificate.extend(spec.client_certificate.clone());
    for m in &spec.methods {
        let pattern = MethodPattern::parse(m).map_err(invalid)?;
        g.methods.push((pattern, format!("{prefix}.methods.{m}")));
    }
    for t in &spec.tools {
        let (name, when) = match t {
            ToolSpec::Name(n) => (n, Vec::new()),
            ToolSpec::Conditional(c) => {
                if c.when.0.is_empty() {
                    return Err(invalid(format!("tool '{}': 'when' is empty", c.name)));
                }
                let when = c
                    .when
                    .0
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                (&c.name, when)
            }
        };
        if name.is_empty() || (name.contains('*') && name != "*") {
            return Err(invalid(format!(
                "tool '{name}': use an exact name or \"*\" for every tool"
            )));
        }
        let rule = ToolRule {
            rule: format!("{prefix}.tools.{name}"),
            when,
        };
        if name == "*" {
            g.any_tool.push(rule);
        } else {
            g.tools.entry(name.clone()).or_default().push(rule);
        }
    }
    for r in &spec.resources {
        let pattern = ResourcePattern::parse(r).map_err(invalid)?;
        g.any_resource |= r == "*";
        g.resources
            .push((pattern, format!("{prefix}.resources.{r}")));
    }
    for p in &spec.prompts {
        g.prompts.insert(p.clone(), format!("{prefix}.prompts.{p}"));
    }
    Ok(g)
}

impl Grants {
    fn merge(&mut self, other: Grants) {
        self.certificate.extend(other.certificate);
        self.methods.extend(other.methods);
        for (tool, rules) in other.tools {
            self.tools.entry(tool).or_default().extend(rules);
        }
        self.any_tool.extend(other.any_tool);
        self.resources.extend(other.resources);
        self.any_resource |= other.any_resource;
        for (k, v) in other.prompts {
            self.prompts.entry(k).or_insert(v);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
