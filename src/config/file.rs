//! The YAML file as written: every section with its defaults; unknown keys are refused.

use serde::Deserialize;

use std::path::PathBuf;

use crate::audit::OnFailure;
use crate::auth::JwtRules;

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
    /// Browser origins allowed to call; a request carrying any other `Origin` gets 403. Empty:
    /// only origins on an allowed host (below).
    pub allowed_origins: Vec<String>,
    /// Names this endpoint answers to (`Host`), against DNS rebinding; any other Host gets 403.
    /// Empty: the loopback names when the listener is on loopback, else the host of
    /// `resource_metadata.resource` when set, else not checked.
    pub allowed_hosts: Vec<String>,
    /// The MCP endpoint paths proxied (exactly, or with one trailing slash); any other path
    /// gets 404 and never reaches the upstream. Default: `/mcp`.
    pub mcp_paths: Vec<String>,
    pub resource_metadata: ResourceMetadataFile,
    pub sessions: SessionsFile,
    /// TLS on the MCP listener; absent: plain HTTP (loopback next to its client only).
    pub tls: Option<TlsFile>,
    /// How an `https://` upstream is verified, and the certificate we show it.
    pub upstream_tls: UpstreamTlsFile,
    /// Where replicas keep what they must share (rate-limit buckets, session and task
    /// bindings).
    pub state: StateFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateFile {
    /// `memory` (one process), or `redis://host:port[/db]` / `rediss://…` (Redis or Valkey,
    /// shared by every replica).
    pub store: String,
    /// Rate limits when the store cannot be reached: `deny` (429s become 503s) or `allow`.
    /// Session and task checks fail closed either way.
    pub on_unavailable: Unavailable,
    /// How long one store operation may take before it counts as unavailable.
    pub timeout_ms: u64,
}

impl Default for StateFile {
    fn default() -> Self {
        StateFile {
            store: "memory".into(),
            on_unavailable: Unavailable::Deny,
            timeout_ms: 250,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unavailable {
    Deny,
    Allow,
}

/// The listener's certificate (PEM, chain first to last) and key, and client certificates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// CA bundle (PEM) client certificates must chain to; set: mutual TLS.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// `required` (default with a `client_ca_file`): no handshake without a certificate from
    /// that CA; `optional`: a certificate is verified when presented.
    #[serde(default)]
    pub client_auth: Option<ClientAuth>,
    /// `/readyz` and the log warn when a certificate expires within this many days.
    #[serde(default = "default_expiry_warning_days")]
    pub expiry_warning_days: u64,
}

fn default_expiry_warning_days() -> u64 {
    14
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    Required,
    Optional,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamTlsFile {
    /// CA bundle (PEM) the upstream's certificate must chain to; default: the system roots.
    pub ca_file: Option<PathBuf>,
    /// Our client certificate and key (PEM), for an upstream that asks for one (mTLS).
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// The name checked against the upstream's certificate and sent as SNI; default: the
    /// upstream URL's host.
    pub server_name: Option<String>,
    /// Skip verifying the upstream's certificate. For a lab only: logged loudly at start-up.
    pub insecure_skip_verify: bool,
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
