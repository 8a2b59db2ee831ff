//! Configuration: `conf/gatekeeper.yaml`, overridden by the environment (DESIGN.md contract),
//! validated once into an immutable `Settings`. Secrets only ever come from the environment.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::str::FromStr;

use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde::Deserialize;

use crate::audit::{AuditOutput, OnFailure};
use crate::auth::{JwtRules, KeySource, ProviderConfig};

/// Why the configuration cannot be used. The process refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Yaml { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// The YAML file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigFile {
    pub listen: Option<String>,
    pub upstream: Option<String>,
    pub policy: Option<PathBuf>,
    pub shadow_policy: Option<PathBuf>,
    pub threads: Option<usize>,
    pub forward_authorization: bool,
    pub allow_batches: bool,
    pub watch_files: Option<bool>,
    pub metrics_listen: Option<String>,
    pub audit: AuditFile,
    pub jwt: JwtFile,
    pub limits: LimitsFile,
    pub upstream_timeouts: TimeoutsFile,
    /// Browser origins allowed to call; a request carrying any other `Origin` gets 403.
    pub allowed_origins: Vec<String>,
    /// The MCP endpoint paths proxied (exactly, or with one trailing slash); any other path
    /// gets 404 and never reaches the upstream. Default: `/mcp`.
    pub mcp_paths: Vec<String>,
    pub resource_metadata: ResourceMetadataFile,
    pub sessions: SessionsFile,
}

/// RFC 9728 protected resource metadata, served at `/.well-known/oauth-protected-resource`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceMetadataFile {
    /// This MCP endpoint's resource identifier (RFC 8707), e.g. `https://mcp.example/mcp`.
    /// Default: `http://<Host of the request>/mcp`.
    pub resource: Option<String>,
    /// Default: the issuers of `jwt.providers` and `jwt.issuers`.
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub resource_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsFile {
    /// Session bindings remembered (least recently used go first).
    pub max: usize,
    pub idle_seconds: u64,
}

impl Default for SessionsFile {
    fn default() -> Self {
        SessionsFile {
            max: 100_000,
            idle_seconds: 24 * 3600,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditFile {
    /// A file path, or `-` for stdout.
    pub log: Option<String>,
    /// Records waiting to be written before the sink counts as not keeping up.
    pub queue: usize,
    pub on_failure: OnFailure,
}

impl Default for AuditFile {
    fn default() -> Self {
        AuditFile {
            log: None,
            queue: 10_000,
            on_failure: OnFailure::Reject,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtFile {
    pub algorithm: String,
    pub require_exp: bool,
    pub leeway_seconds: u64,
    pub issuers: Vec<String>,
    pub audiences: Vec<String>,
    pub typ: Option<String>,
    pub cache_entries: usize,
    pub providers: Vec<ProviderFile>,
}

/// A trusted issuer with its own keys: exactly one of `jwks_url`, `jwks_file`,
/// `public_key_pem` (a file) or `secret_env` (the name of an environment variable).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    pub issuer: String,
    pub algorithms: Vec<String>,
    pub jwks_url: Option<String>,
    pub jwks_file: Option<PathBuf>,
    pub public_key_pem: Option<PathBuf>,
    pub secret_env: Option<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default = "default_refresh_seconds")]
    pub refresh_seconds: u64,
    #[serde(default = "default_refetch_seconds")]
    pub refetch_min_interval_seconds: u64,
}

fn default_refresh_seconds() -> u64 {
    300
}

fn default_refetch_seconds() -> u64 {
    10
}

impl Default for JwtFile {
    fn default() -> Self {
        // One set of defaults: the rules'.
        let rules = JwtRules::default();
        JwtFile {
            algorithm: format!("{:?}", rules.algorithm),
            require_exp: rules.require_exp,
            leeway_seconds: rules.leeway_seconds,
            issuers: rules.issuers,
            audiences: rules.audiences,
            typ: rules.typ,
            cache_entries: rules.cache_entries,
            providers: vec![],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsFile {
    pub max_body_bytes: usize,
    /// The most an answer (a JSON body, or one SSE event) may hold while the gatekeeper reads
    /// it to filter or redact it; past this the answer is cut with an error, never passed.
    #[serde(alias = "max_list_response_bytes")]
    pub max_response_bytes: usize,
    /// A request's headers and body must arrive within this (slow clients get 408 or a close).
    pub request_deadline_ms: u64,
    /// Downstream connections served at once; the next is answered 503 and closed.
    pub max_connections: usize,
    /// The request line and headers together; more gets 431 (RFC 6585 §5).
    pub max_header_bytes: usize,
}

impl Default for LimitsFile {
    fn default() -> Self {
        LimitsFile {
            max_body_bytes: 1024 * 1024,
            max_response_bytes: 4 * 1024 * 1024,
            request_deadline_ms: 30_000,
            max_connections: 10_000,
            max_header_bytes: 16 * 1024,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutsFile {
    pub connect_ms: u64,
    pub read_ms: u64,
    pub write_ms: u64,
    pub idle_ms: u64,
    /// The longest silence on a GET event stream (server notifications) before it is closed.
    pub sse_idle_ms: u64,
}

impl Default for TimeoutsFile {
    fn default() -> Self {
        TimeoutsFile {
            connect_ms: 2_000,
            read_ms: 30_000,
            write_ms: 30_000,
            idle_ms: 60_000,
            sse_idle_ms: 300_000,
        }
    }
}

/// The environment the gatekeeper reads (a `.env` file is loaded into it first).
#[derive(Debug, Default, Clone)]
pub struct Env {
    pub jwt_secret: Option<String>,
    pub jwt_alg: Option<String>,
    pub listen: Option<String>,
    pub upstream: Option<String>,
    pub policy: Option<String>,
    pub shadow_policy: Option<String>,
    pub metrics_listen: Option<String>,
    pub audit_log: Option<String>,
    pub audit_key: Option<String>,
    /// Other variables named by the configuration (`secret_env`).
    pub extra: std::collections::BTreeMap<String, String>,
}

impl Env {
    /// A variable the configuration names: from `extra` in tests, else the process.
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.extra
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
            .filter(|v| !v.is_empty())
    }

    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            jwt_secret: var("JWT_SECRET"),
            jwt_alg: var("JWT_ALG"),
            listen: var("GATEKEEPER_LISTEN"),
            upstream: var("GATEKEEPER_UPSTREAM"),
            policy: var("GATEKEEPER_POLICY"),
            shadow_policy: var("GATEKEEPER_SHADOW_POLICY"),
            metrics_listen: var("GATEKEEPER_METRICS_LISTEN"),
            audit_log: var("GATEKEEPER_AUDIT_LOG"),
            audit_key: var("GATEKEEPER_AUDIT_KEY"),
            extra: Default::default(),
        }
    }
}

/// Validated, immutable settings.
#[derive(Clone)]
pub struct Settings {
    pub listen: String,
    pub upstream: Upstream,
    pub policy_path: PathBuf,
    pub shadow_policy_path: Option<PathBuf>,
    pub threads: usize,
    pub forward_authorization: bool,
    pub allow_batches: bool,
    /// Reload on file changes; SIGHUP reloads either way.
    pub watch_files: bool,
    /// The metrics and health listener; `None` when set to `off`.
    pub metrics_listen: Option<String>,
    pub audit: AuditSettings,
    pub jwt: JwtRules,
    /// `JWT_SECRET`; `None` when only `jwt.providers` verify tokens.
    pub jwt_secret: Option<Vec<u8>>,
    pub jwt_providers: Vec<ProviderConfig>,
    pub max_body_bytes: usize,
    pub max_response_bytes: usize,
    pub request_deadline: Duration,
    pub max_connections: usize,
    pub max_header_bytes: usize,
    pub timeouts: Timeouts,
    pub allowed_origins: Vec<String>,
    pub mcp_paths: Vec<String>,
    pub resource_metadata: ResourceMetadata,
    pub session_capacity: usize,
    pub session_idle: Duration,
}

/// What `/.well-known/oauth-protected-resource` says (RFC 9728 §2).
#[derive(Debug, Clone, Default)]
pub struct ResourceMetadata {
    pub resource: Option<String>,
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub resource_name: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("upstream", &self.upstream)
            .field("policy_path", &self.policy_path)
            .field("jwt", &self.jwt)
            .field("jwt_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The upstream MCP server: its resolved address and the authority it was named by.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub addr: SocketAddr,
    pub authority: String,
}

#[derive(Clone)]
pub struct AuditSettings {
    pub target: AuditOutput,
    pub queue: usize,
    pub on_failure: OnFailure,
    /// From `GATEKEEPER_AUDIT_KEY`: keys the hash chain and the arguments' HMAC.
    pub key: Option<Vec<u8>>,
}

impl std::fmt::Debug for AuditSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSettings")
            .field("target", &self.target)
            .field("queue", &self.queue)
            .field("on_failure", &self.on_failure)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub write: Duration,
    pub idle: Duration,
    pub sse_idle: Duration,
}

impl Settings {
    /// Loads `path` (if given and present) and applies the environment on top.
    pub fn load(path: Option<&Path>, env: &Env) -> Result<Self, ConfigError> {
        let file = match path {
            Some(p) => read_file(p)?,
            None => ConfigFile::default(),
        };
        Self::from_parts(file, env)
    }

    pub fn from_parts(file: ConfigFile, env: &Env) -> Result<Self, ConfigError> {
        let metrics_listen = metrics_listen(env, &file)?;
        let listen = pick(&env.listen, &file.listen, "127.0.0.1:8080");
        check_host_port(&listen, "GATEKEEPER_LISTEN / listen")?;
        let upstream_url = pick(&env.upstream, &file.upstream, "http://127.0.0.1:5000");
        let policy_path = env
            .policy
            .as_ref()
            .map(PathBuf::from)
            .or(file.policy)
            .unwrap_or_else(|| PathBuf::from("policy/hospital.yaml"));
        let algorithm = parse_algorithm(env.jwt_alg.as_deref().unwrap_or(&file.jwt.algorithm))?;
        let jwt_providers = file
            .jwt
            .providers
            .iter()
            .map(|p| provider_config(p, env))
            .collect::<Result<Vec<_>, _>>()?;
        if env.jwt_secret.is_none() && jwt_providers.is_empty() {
            return Err(ConfigError::Invalid(
                "JWT_SECRET is not set (export it or put it in .env), and no jwt.providers are configured".into(),
            ));
        }
        let threads = file.threads.unwrap_or(2);
        if threads == 0 || file.limits.max_body_bytes == 0 || file.limits.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "threads, limits.max_body_bytes and limits.max_connections must be positive".into(),
            ));
        }
        if let Some(bad) = file
            .mcp_paths
            .iter()
            .find(|p| !p.starts_with('/') || p.contains(['?', '#']))
        {
            return Err(ConfigError::Invalid(format!(
                "mcp_paths: '{bad}' must be a path starting with / and without query or fragment"
            )));
        }
        if let Some(r) = &file.resource_metadata.resource {
            if !(r.starts_with("https://") || r.starts_with("http://")) || r.contains('#') {
                return Err(ConfigError::Invalid(format!(
                    "resource_metadata.resource '{r}' must be an http(s) URL without a fragment (RFC 8707 §2)"
                )));
            }
        }
        Ok(Settings {
            listen,
            upstream: parse_upstream(&upstream_url)?,
            policy_path,
            shadow_policy_path: env
                .shadow_policy
                .as_ref()
                .map(PathBuf::from)
                .or(file.shadow_policy),
            threads,
            forward_authorization: file.forward_authorization,
            allow_batches: file.allow_batches,
            watch_files: file.watch_files.unwrap_or(true),
            metrics_listen,
            audit: AuditSettings {
                target: AuditOutput::parse(
                    env.audit_log
                        .as_deref()
                        .or(file.audit.log.as_deref())
                        .unwrap_or("-"),
                ),
                queue: file.audit.queue.max(1),
                on_failure: file.audit.on_failure,
                key: env.audit_key.clone().map(String::into_bytes),
            },
            jwt: JwtRules {
                algorithm,
                require_exp: file.jwt.require_exp,
                leeway_seconds: file.jwt.leeway_seconds,
                issuers: file.jwt.issuers,
                audiences: file.jwt.audiences,
                typ: file.jwt.typ.filter(|t| !t.is_empty()),
                cache_entries: file.jwt.cache_entries,
            },
            jwt_secret: env.jwt_secret.clone().map(String::into_bytes),
            jwt_providers,
            max_body_bytes: file.limits.max_body_bytes,
            max_response_bytes: file.limits.max_response_bytes,
            request_deadline: Duration::from_millis(file.limits.request_deadline_ms.max(1)),
            max_connections: file.limits.max_connections,
            max_header_bytes: file.limits.max_header_bytes.max(1024),
            allowed_origins: file.allowed_origins,
            mcp_paths: if file.mcp_paths.is_empty() {
                vec!["/mcp".to_string()]
            } else {
                file.mcp_paths
                    .iter()
                    .map(|p| p.trim_end_matches('/').to_string())
                    .collect()
            },
            resource_metadata: ResourceMetadata {
                resource: file.resource_metadata.resource,
                authorization_servers: file.resource_metadata.authorization_servers,
                scopes_supported: file.resource_metadata.scopes_supported,
                resource_name: file.resource_metadata.resource_name,
            },
            session_capacity: file.sessions.max.max(1),
            session_idle: Duration::from_secs(file.sessions.idle_seconds),
            timeouts: Timeouts {
                connect: Duration::from_millis(file.upstream_timeouts.connect_ms),
                read: Duration::from_millis(file.upstream_timeouts.read_ms),
                write: Duration::from_millis(file.upstream_timeouts.write_ms),
                idle: Duration::from_millis(file.upstream_timeouts.idle_ms),
                sse_idle: Duration::from_millis(file.upstream_timeouts.sse_idle_ms),
            },
        })
    }
}

impl Settings {
    /// Takes the live-safe fields of `new` (JWT rules, limits, timeouts, forwarding, batches)
    /// and keeps this value's restart-only fields, naming those that differ.
    pub fn merge_live(&self, new: Settings) -> (Settings, Vec<&'static str>) {
        let mut needs_restart = Vec::new();
        if new.listen != self.listen {
            needs_restart.push("listen");
        }
        if new.threads != self.threads {
            needs_restart.push("threads");
        }
        if new.upstream.authority != self.upstream.authority {
            needs_restart.push("upstream");
        }
        if new.max_connections != self.max_connections {
            needs_restart.push("limits.max_connections");
        }
        if new.session_capacity != self.session_capacity || new.session_idle != self.session_idle {
            needs_restart.push("sessions");
        }
        if new.policy_path != self.policy_path || new.shadow_policy_path != self.shadow_policy_path
        {
            needs_restart.push("policy paths");
        }
        let merged = Settings {
            listen: self.listen.clone(),
            threads: self.threads,
            upstream: self.upstream.clone(),
            policy_path: self.policy_path.clone(),
            shadow_policy_path: self.shadow_policy_path.clone(),
            metrics_listen: self.metrics_listen.clone(),
            audit: self.audit.clone(),
            max_connections: self.max_connections,
            session_capacity: self.session_capacity,
            session_idle: self.session_idle,
            ..new
        };
        (merged, needs_restart)
    }
}

fn metrics_listen(env: &Env, file: &ConfigFile) -> Result<Option<String>, ConfigError> {
    let value = pick(&env.metrics_listen, &file.metrics_listen, "127.0.0.1:9464");
    if value == "off" {
        return Ok(None);
    }
    check_host_port(&value, "GATEKEEPER_METRICS_LISTEN / metrics_listen")?;
    Ok(Some(value))
}

fn read_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    serde_yaml_ng::from_str(&text).map_err(|e| ConfigError::Yaml {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn pick(env: &Option<String>, file: &Option<String>, default: &str) -> String {
    env.clone()
        .or_else(|| file.clone())
        .unwrap_or_else(|| default.to_string())
}

/// Maps `JWT_ALG` to an algorithm. Only the HMAC family is keyed by `JWT_SECRET`.
pub fn parse_algorithm(name: &str) -> Result<Algorithm, ConfigError> {
    match name.trim().to_ascii_uppercase().as_str() {
        "HS256" => Ok(Algorithm::HS256),
        "HS384" => Ok(Algorithm::HS384),
        "HS512" => Ok(Algorithm::HS512),
        other => Err(ConfigError::Invalid(format!(
            "JWT_ALG '{other}' is not supported: use HS256, HS384 or HS512"
        ))),
    }
}

fn provider_config(p: &ProviderFile, env: &Env) -> Result<ProviderConfig, ConfigError> {
    let invalid = |why: String| ConfigError::Invalid(format!("jwt.providers[{}]: {why}", p.issuer));
    if p.issuer.is_empty() {
        return Err(ConfigError::Invalid(
            "jwt.providers: issuer must not be empty".into(),
        ));
    }
    let algorithms = p
        .algorithms
        .iter()
        .map(|a| {
            Algorithm::from_str(a.trim()).map_err(|_| invalid(format!("unknown algorithm '{a}'")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let source = match (&p.jwks_url, &p.jwks_file, &p.public_key_pem, &p.secret_env) {
        (Some(url), None, None, None)
            if url.starts_with("https://") || url.starts_with("http://") =>
        {
            KeySource::JwksUrl(url.clone())
        }
        (Some(url), None, None, None) => {
            return Err(invalid(format!("jwks_url '{url}' must be http(s)")))
        }
        (None, Some(path), None, None) => KeySource::JwksFile(path.clone()),
        (None, None, Some(path), None) => KeySource::PemFile(path.clone()),
        (None, None, None, Some(var)) => KeySource::Secret(
            env.lookup(var)
                .ok_or_else(|| invalid(format!("environment variable {var} is not set")))?
                .into_bytes(),
        ),
        _ => {
            return Err(invalid(
                "needs exactly one of jwks_url, jwks_file, public_key_pem, secret_env".into(),
            ))
        }
    };
    let symmetric = matches!(source, KeySource::Secret(_));
    if algorithms.is_empty()
        || algorithms
            .iter()
            .any(|a| (a.family() == AlgorithmFamily::Hmac) != symmetric)
    {
        return Err(invalid(
            "algorithms must be HS* with secret_env and public-key algorithms otherwise".into(),
        ));
    }
    Ok(ProviderConfig {
        issuer: p.issuer.clone(),
        algorithms,
        source,
        audiences: p.audiences.clone(),
        refresh: Duration::from_secs(p.refresh_seconds.max(1)),
        refetch_min_interval: Duration::from_secs(p.refetch_min_interval_seconds),
    })
}

fn check_host_port(value: &str, what: &str) -> Result<(), ConfigError> {
    match value.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(ConfigError::Invalid(format!(
            "{what} must be host:port, got '{value}'"
        ))),
    }
}

/// `GATEKEEPER_UPSTREAM` is a base URL: `http://host:port`, no path.
fn parse_upstream(url: &str) -> Result<Upstream, ConfigError> {
    let invalid = |why: &str| {
        ConfigError::Invalid(format!(
            "GATEKEEPER_UPSTREAM '{url}' {why} (expected http://host:port)"
        ))
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("must start with http:// (TLS upstreams are not supported yet)"))?;
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return Err(invalid("must not carry a path, query or credentials"));
    }
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| invalid(&format!("does not resolve: {e}")))?
        .next()
        .ok_or_else(|| invalid("resolves to no address"))?;
    Ok(Upstream {
        addr,
        authority: authority.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env {
            jwt_secret: Some("s3cret".into()),
            ..Env::default()
        }
    }

    #[test]
    fn defaults_match_the_contract() {
        let s = Settings::from_parts(ConfigFile::default(), &env()).unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert_eq!(s.upstream.addr.to_string(), "127.0.0.1:5000");
        assert_eq!(s.jwt.algorithm, Algorithm::HS256);
        assert!(s.jwt.require_exp);
        assert!(!s.forward_authorization);
    }

    #[test]
    fn environment_wins_over_the_file() {
        let file: ConfigFile =
            serde_yaml_ng::from_str("listen: 0.0.0.0:1\nupstream: http://127.0.0.1:2\n").unwrap();
        let e = Env {
            listen: Some("127.0.0.1:3".into()),
            upstream: Some("http://127.0.0.1:4".into()),
            jwt_alg: Some("hs512".into()),
            ..env()
        };
        let s = Settings::from_parts(file, &e).unwrap();
        assert_eq!(s.listen, "127.0.0.1:3");
        assert_eq!(s.upstream.addr.port(), 4);
        assert_eq!(s.jwt.algorithm, Algorithm::HS512);
    }

    #[test]
    fn missing_secret_is_a_clear_error() {
        let err = Settings::from_parts(ConfigFile::default(), &Env::default()).unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET is not set"));
    }

    #[test]
    fn bad_values_are_refused() {
        for (k, v) in [
            ("upstream", "https://127.0.0.1:5000"),
            ("upstream", "http://127.0.0.1:5000/mcp"),
            ("upstream", "127.0.0.1:5000"),
            ("listen", "8080"),
        ] {
            let file: ConfigFile = serde_yaml_ng::from_str(&format!("{k}: '{v}'")).unwrap();
            assert!(Settings::from_parts(file, &env()).is_err(), "{k}={v}");
        }
        let e = Env {
            jwt_alg: Some("none".into()),
            ..env()
        };
        assert!(Settings::from_parts(ConfigFile::default(), &e).is_err());
        assert!(serde_yaml_ng::from_str::<ConfigFile>("lisen: x").is_err());
    }

    #[test]
    fn providers_are_validated_at_load() {
        let parse = |yaml: &str, env: &Env| {
            let file: ConfigFile = serde_yaml_ng::from_str(yaml).unwrap();
            Settings::from_parts(file, env)
        };
        let ok = "jwt:\n  providers:\n    - {issuer: https://idp, algorithms: [RS256], jwks_url: https://idp/jwks}\n";
        let s = parse(ok, &Env::default()).expect("a provider stands in for JWT_SECRET");
        assert!(s.jwt_secret.is_none());
        assert_eq!(s.jwt_providers[0].algorithms, vec![Algorithm::RS256]);
        for (bad, why) in [
            (
                "{issuer: https://idp, algorithms: [HS256], jwks_url: https://idp/jwks}",
                "HMAC with a public key",
            ),
            (
                "{issuer: https://idp, algorithms: [RS256], secret_env: S}",
                "RSA with a secret",
            ),
            (
                "{issuer: https://idp, algorithms: [RS256]}",
                "no key source",
            ),
            (
                "{issuer: https://idp, algorithms: [RS256], jwks_url: u, jwks_file: f}",
                "two key sources",
            ),
            (
                "{issuer: https://idp, algorithms: [XX1], jwks_url: https://idp/jwks}",
                "unknown algorithm",
            ),
            (
                "{issuer: https://idp, algorithms: [RS256], jwks_url: ftp://idp}",
                "not http(s)",
            ),
            (
                "{issuer: https://idp, algorithms: [HS256], secret_env: NOT_SET_ANYWHERE_4711}",
                "unset variable",
            ),
        ] {
            let yaml = format!("jwt:\n  providers:\n    - {bad}\n");
            assert!(parse(&yaml, &env()).is_err(), "{why}");
        }
        let mut with_var = env();
        with_var.extra.insert("IDP_SECRET".into(), "x".repeat(32));
        let yaml = "jwt:\n  providers:\n    - {issuer: idp, algorithms: [HS512], secret_env: IDP_SECRET}\n";
        assert!(parse(yaml, &with_var).is_ok());
    }

    #[test]
    fn paths_and_resource_are_validated() {
        for bad in [
            "mcp_paths: [mcp]",
            "mcp_paths: ['/mcp?x=1']",
            "resource_metadata: {resource: 'ftp://x'}",
        ] {
            let file: ConfigFile = serde_yaml_ng::from_str(bad).unwrap();
            assert!(Settings::from_parts(file, &env()).is_err(), "{bad}");
        }
        let s = Settings::from_parts(ConfigFile::default(), &env()).unwrap();
        assert_eq!(s.mcp_paths, vec!["/mcp"]);
    }

    #[test]
    fn shipped_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/gatekeeper.yaml");
        Settings::load(Some(&path), &env()).unwrap();
    }
}
