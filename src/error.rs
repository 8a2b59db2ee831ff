//! The error contract: every refusal is a JSON-RPC error object with the matching HTTP status.
//!
//! One enum names each way a request can fail; `status`, `rpc_code` and `to_body` render it.

use serde_json::{json, Value};

use crate::auth::AuthError;
use crate::jsonrpc::ParseError;

/// JSON-RPC error codes the gatekeeper answers with (the reserved range is -32000..-32099).
pub mod codes {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const INTERNAL_ERROR: i64 = -32603;
    pub const UNAUTHENTICATED: i64 = -32001;
    pub const UPSTREAM_UNAVAILABLE: i64 = -32002;
    pub const FORBIDDEN: i64 = -32003;
}

/// Why the gatekeeper answered a request itself instead of forwarding it.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("{0}")]
    Unauthenticated(#[from] AuthError),
    #[error("{0}")]
    Malformed(#[from] ParseError),
    #[error("Forbidden: {0}")]
    Forbidden(String),
    #[error("Request body exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMedia(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("Method {0} is not allowed on the MCP endpoint")]
    MethodNotAllowed(String),
    #[error("Upstream MCP server unavailable: {0}")]
    UpstreamUnavailable(String),
    #[error("Upstream MCP server timed out: {0}")]
    UpstreamTimeout(String),
    #[error("Internal error: {0}")]
    Internal(String),
    #[error("The audit trail is not keeping up; request refused (audit.on_failure: reject)")]
    AuditUnavailable,
}

impl Rejection {
    pub fn status(&self) -> u16 {
        match self {
            Rejection::Unauthenticated(_) => 401,
            Rejection::Malformed(_) | Rejection::BadRequest(_) => 400,
            Rejection::Forbidden(_) => 403,
            Rejection::MethodNotAllowed(_) => 405,
            Rejection::TooLarge { .. } => 413,
            Rejection::UnsupportedMedia(_) => 415,
            Rejection::Internal(_) => 500,
            Rejection::AuditUnavailable => 503,
            Rejection::UpstreamUnavailable(_) => 502,
            Rejection::UpstreamTimeout(_) => 504,
        }
    }

    pub fn rpc_code(&self) -> i64 {
        match self {
            Rejection::Unauthenticated(_) => codes::UNAUTHENTICATED,
            Rejection::Malformed(e) => e.code(),
            Rejection::Forbidden(_) => codes::FORBIDDEN,
            Rejection::TooLarge { .. }
            | Rejection::UnsupportedMedia(_)
            | Rejection::BadRequest(_)
            | Rejection::MethodNotAllowed(_) => codes::INVALID_REQUEST,
            Rejection::Internal(_) | Rejection::AuditUnavailable => codes::INTERNAL_ERROR,
            Rejection::UpstreamUnavailable(_) | Rejection::UpstreamTimeout(_) => {
                codes::UPSTREAM_UNAVAILABLE
            }
        }
    }

    /// A short, bounded label for logs and metrics (never carries request data).
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::Unauthenticated(_) => "unauthenticated",
            Rejection::Malformed(_) => "malformed",
            Rejection::Forbidden(_) => "forbidden",
            Rejection::TooLarge { .. } => "too_large",
            Rejection::UnsupportedMedia(_) => "unsupported_media",
            Rejection::BadRequest(_) => "bad_request",
            Rejection::MethodNotAllowed(_) => "method_not_allowed",
            Rejection::UpstreamUnavailable(_) => "upstream_unavailable",
            Rejection::UpstreamTimeout(_) => "upstream_timeout",
            Rejection::Internal(_) => "internal",
            Rejection::AuditUnavailable => "audit_unavailable",
        }
    }

    /// The JSON-RPC error body, answering request `id` when it is known.
    pub fn to_body(&self, id: Option<&Value>) -> Vec<u8> {
        let body = json!({
            "jsonrpc": "2.0",
            "id": id.cloned().unwrap_or(Value::Null),
            "error": { "code": self.rpc_code(), "message": self.to_string() },
        });
        body.to_string().into_bytes()
    }

    /// RFC 6750 §3: the challenge a 401 carries.
    pub fn www_authenticate(&self) -> Option<String> {
        match self {
            Rejection::Unauthenticated(AuthError::Missing) => Some("Bearer".to_string()),
            Rejection::Unauthenticated(e) => Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                e.to_string().replace(['"', '\\'], "'")
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_is_403_with_the_request_id() {
        let r = Rejection::Forbidden("role 'Billing' may not call tool 'x'".into());
        assert_eq!(r.status(), 403);
        let body: Value = serde_json::from_slice(&r.to_body(Some(&json!(7)))).unwrap();
        assert_eq!(body["id"], 7);
        assert_eq!(body["error"]["code"], codes::FORBIDDEN);
        assert_eq!(
            body["error"]["message"],
            "Forbidden: role 'Billing' may not call tool 'x'"
        );
    }

    #[test]
    fn missing_token_challenge_has_no_error_code() {
        let r = Rejection::Unauthenticated(AuthError::Missing);
        assert_eq!(r.status(), 401);
        assert_eq!(r.www_authenticate().as_deref(), Some("Bearer"));
        let body: Value = serde_json::from_slice(&r.to_body(None)).unwrap();
        assert_eq!(body["id"], Value::Null);
        assert_eq!(body["error"]["message"], "Missing Bearer token");
    }

    #[test]
    fn invalid_token_challenge_names_invalid_token() {
        let r = Rejection::Unauthenticated(AuthError::Expired);
        let challenge = r.www_authenticate().unwrap();
        assert!(challenge.starts_with("Bearer error=\"invalid_token\""));
    }
}
