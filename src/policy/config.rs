//! The policy file's YAML schema, as people write it. Unknown keys are errors, so a typo
//! (`tool:` for `tools:`) fails the load instead of silently granting nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// A free-form label (e.g. a date or change number) reported with every decision.
    #[serde(default)]
    pub version: Option<String>,
    /// Granted to every authenticated caller whatever their role: the MCP plumbing.
    #[serde(default)]
    pub authenticated: GrantSpec,
    /// Role name → what it may do. A role not listed may do nothing.
    pub roles: UniqueMap<GrantSpec>,
    /// What each role may see of responses (see `redact::config`).
    #[serde(default)]
    pub redaction: Option<crate::redact::config::RedactionFile>,
    /// Budgets of calls per user, role or in all, judged after the grants (see `limits`).
    #[serde(default)]
    pub rate_limits: Vec<super::limits::LimitSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSpec {
    /// Roles whose grants this role includes.
    #[serde(default)]
    pub inherits: Vec<String>,
    /// JSON-RPC methods, exact (`ping`) or a whole-segment wildcard (`notifications/*`).
    #[serde(default)]
    pub methods: Vec<String>,
    /// Tools by name (`"*"` for every tool), optionally with argument conditions.
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
    /// Resource URIs for `resources/read`, exact or `"*"`.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Prompt names for `prompts/get`, exact or `"*"`.
    #[serde(default)]
    pub prompts: Vec<String>,
    /// The grants hold only for a caller who connected with a verified client certificate
    /// (mutual TLS) matching this: `{}` any, or a `subject` and/or a `san` exactly.
    #[serde(default)]
    pub client_certificate: Option<CertificateMatch>,
}

/// What a client certificate must say; every member given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateMatch {
    /// The subject, RFC 4514 form as the gatekeeper prints it (`CN=webapp, O=Hospital`).
    #[serde(default)]
    pub subject: Option<String>,
    /// One of its DNS, URI or e-mail subject alternative names.
    #[serde(default)]
    pub san: Option<String>,
}

impl CertificateMatch {
    pub fn holds(&self, cert: Option<&crate::auth::Certificate>) -> bool {
        let Some(cert) = cert else { return false };
        self.subject.as_ref().is_none_or(|s| *s == cert.subject)
            && self.san.as_ref().is_none_or(|n| cert.sans.contains(n))
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ToolSpec {
    Name(String),
    Conditional(ConditionalTool),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionalTool {
    pub name: String,
    /// Argument name → what its value must be. Every condition must hold.
    pub when: UniqueMap<ArgMatch>,
}

/// What one argument must equal. The argument must be a JSON string, exactly equal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum ArgMatch {
    /// The value of this claim in the caller's token (which must be a string too).
    Claim(String),
    /// A fixed string.
    Equals(String),
}

/// A string-keyed map that refuses a repeated key: YAML parsers keep the last of two
/// `Nurse:` entries silently, which would let an edit drop a role's grants unnoticed.
#[derive(Debug)]
pub struct UniqueMap<V>(pub BTreeMap<String, V>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(UniqueMapVisitor(PhantomData))
    }
}

struct UniqueMapVisitor<V>(PhantomData<V>);

impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueMapVisitor<V> {
    type Value = UniqueMap<V>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map with unique keys")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key '{key}'")));
            }
            out.insert(key, map.next_value()?);
        }
        Ok(UniqueMap(out))
    }
}
