//! Configuration: `conf/gatekeeper.yaml` (`file`), overridden by the environment (`env`,
//! the DESIGN.md contract), validated once (`validate`) into an immutable `Settings`; a reload
//! takes only the fields that may change live (`merge`). Secrets come only from the environment.

mod env;
mod file;
mod merge;
#[cfg(test)]
mod tests;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::audit::{AuditOutput, OnFailure};
use crate::auth::{JwtRules, ProviderConfig};

pub use env::Env;
pub use file::*;
pub use validate::parse_algorithm;
use validate::{check_host_port, metrics_listen, parse_upstream, pick, provider_config, read_file};

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
    /// `Host` values accepted (names, or name:port); empty: not checked.
    pub allowed_hosts: Vec<String>,
    pub mcp_paths: Vec<String>,
    pub resource_metadata: ResourceMetadata,
    pub session_capacity: usize,
    pub session_idle: Duration,
    pub tls: Option<ListenerTls>,
    pub state: StateSettings,
}

/// Where shared state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSettings {
    /// `None`: in this process's memory.
    pub redis_url: Option<String>,
    pub limits_when_unavailable: Unavailable,
    pub timeout: Duration,
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
    /// Set for an `https://` upstream.
    pub tls: Option<UpstreamTls>,
}

/// How the gatekeeper speaks TLS to an `https://` upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamTls {
    /// Sent as SNI and checked against the certificate.
    pub server_name: String,
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub insecure_skip_verify: bool,
}

/// TLS on the MCP listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_ca_file: Option<PathBuf>,
    /// With a `client_ca_file`: whether a client certificate is required.
    pub client_cert_required: bool,
    pub expiry_warning: Duration,
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
        let allowed_hosts = validate::allowed_hosts(
            &file.allowed_hosts,
            &listen,
            file.resource_metadata.resource.as_deref(),
        );
        let tls = validate::listener_tls(file.tls)?;
        let state = validate::state(&file.state, env)?;
        let upstream = parse_upstream(&upstream_url)?;
        let upstream = validate::upstream_tls(upstream, file.upstream_tls)?;
        Ok(Settings {
            listen,
            upstream,
            tls,
            state,
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
            allowed_hosts,
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
