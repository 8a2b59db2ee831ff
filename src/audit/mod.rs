//! The audit trail's content: one record per request — who, what, the decision and the rule,
//! never arguments or response data — and the hash chain that seals each line (`chain`).
//! Writing it (a queue, a thread, files) is the shell's `audit_sink`.

pub mod chain;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

pub use chain::{verify, Chain};

/// One request, as the audit trail records it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub ts: String,
    pub request_id: String,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub roles: Vec<String>,
    /// The subject of the verified client certificate the request came with (mutual TLS);
    /// the subject only, never the certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<String>,
    pub method: String,
    pub tool: Option<String>,
    pub calls: usize,
    pub decision: &'static str,
    pub rule: String,
    pub reason: Option<&'static str>,
    pub policy_version: String,
    pub status: u16,
    pub upstream_status: Option<u16>,
    pub redactions: BTreeMap<String, u64>,
    pub latency_us: u64,
    /// HMAC of the call's arguments with the audit key, when one is configured: lets an
    /// investigator match a known request without the trail holding the arguments.
    pub args_hmac: Option<String>,
}

/// What happens when the sink cannot keep up or fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Refuse requests (503): no PHI access without an audit record. The default.
    Reject,
    /// Serve requests and count the lost records in `gatekeeper_audit_dropped_total`.
    Drop,
}

/// Where lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditOutput {
    Stdout,
    File(PathBuf),
}

impl AuditOutput {
    pub fn parse(value: &str) -> Self {
        match value {
            "" | "-" => AuditOutput::Stdout,
            path => AuditOutput::File(PathBuf::from(path)),
        }
    }
}
