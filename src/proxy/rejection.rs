//! The error contract: every refusal is a JSON-RPC error object with the matching HTTP status.
//! One enum names each way the shell can refuse a request; `status`, `rpc_code` and `to_body`
//! render it.

use serde_json::{json, Value};

use crate::auth::AuthError;
use crate::jsonrpc::{codes, ParseError};
use crate::transport::TransportError;

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
    /// GET or DELETE the policy does not grant this caller.
    #[error("Not allowed: {0}")]
    NotGranted(String),
    #[error("Upstream MCP server unavailable: {0}")]
    UpstreamUnavailable(String),
    #[error("Upstream MCP server timed out: {0}")]
    UpstreamTimeout(String),
    #[error("Internal error: {0}")]
    Internal(String),
    #[error("The audit trail is not keeping up; request refused (audit.on_failure: reject)")]
    AuditUnavailable,
    #[error("{0}")]
    Transport(#[from] TransportError),
    #[error("Session not found; start a new one with initialize")]
    SessionNotFound,
    /// A task id the caller did not create through this gatekeeper (or one that ended).
    #[error("Task not found")]
    TaskNotFound,
    /// Over a `rate_limits` budget; `retry_after` until the next call would pass.
    #[error("Rate limit '{limit}' exceeded; retry in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        limit: String,
        retry_after: std::time::Duration,
    },
    /// The shared state store (Redis) could not be asked: nothing unchecked is served.
    #[error("{0}")]
    StateUnavailable(#[from] crate::state::Unavailable),
    #[error("Not an MCP endpoint")]
    NotFound,
    #[error("Request headers exceed the limit of {limit} bytes")]
    HeadersTooLarge { limit: usize },
    #[error("The request did not arrive in time (limits.request_deadline_ms)")]
    RequestTimeout,
}

impl Rejection {
    pub fn status(&self) -> u16 {
        match self {
            Rejection::Unauthenticated(_) => 401,
            Rejection::Malformed(_) | Rejection::BadRequest(_) => 400,
            Rejection::Forbidden(_) => 403,
            Rejection::MethodNotAllowed(_) | Rejection::NotGranted(_) => 405,
            Rejection::TooLarge { .. } => 413,
            Rejection::UnsupportedMedia(_) => 415,
            Rejection::Internal(_) => 500,
            Rejection::AuditUnavailable => 503,
            Rejection::UpstreamUnavailable(_) => 502,
            Rejection::UpstreamTimeout(_) => 504,
            Rejection::Transport(
                TransportError::OriginNotAllowed(_) | TransportError::HostNotAllowed(_),
            ) => 403,
            Rejection::Transport(_) => 400,
            Rejection::SessionNotFound | Rejection::NotFound | Rejection::TaskNotFound => 404,
            Rejection::RateLimited { .. } => 429,
            Rejection::StateUnavailable(_) => 503,
            Rejection::HeadersTooLarge { .. } => 431,
            Rejection::RequestTimeout => 408,
        }
    }

    pub fn rpc_code(&self) -> i64 {
        match self {
            Rejection::Unauthenticated(_) => codes::UNAUTHENTICATED,
            Rejection::Malformed(e) => e.code(),
            Rejection::Forbidden(_) | Rejection::NotGranted(_) => codes::FORBIDDEN,
            Rejection::TooLarge { .. }
            | Rejection::UnsupportedMedia(_)
            | Rejection::BadRequest(_)
            | Rejection::MethodNotAllowed(_)
            | Rejection::SessionNotFound
            | Rejection::NotFound
            | Rejection::HeadersTooLarge { .. }
            | Rejection::RequestTimeout => codes::INVALID_REQUEST,
            Rejection::Transport(TransportError::HeaderMismatch(_)) => codes::HEADER_MISMATCH,
            Rejection::Transport(TransportError::UnsupportedVersion { .. }) => {
                codes::UNSUPPORTED_PROTOCOL_VERSION
            }
            Rejection::TaskNotFound => codes::INVALID_PARAMS,
            Rejection::RateLimited { .. } => codes::RATE_LIMITED,
            Rejection::StateUnavailable(_) => codes::INTERNAL_ERROR,
            Rejection::Transport(
                TransportError::OriginNotAllowed(_) | TransportError::HostNotAllowed(_),
            ) => codes::FORBIDDEN,
            Rejection::Transport(_) => codes::INVALID_REQUEST,
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
            Rejection::Forbidden(_) | Rejection::NotGranted(_) => "forbidden",
            Rejection::TooLarge { .. } => "too_large",
            Rejection::UnsupportedMedia(_) => "unsupported_media",
            Rejection::BadRequest(_) => "bad_request",
            Rejection::MethodNotAllowed(_) => "method_not_allowed",
            Rejection::UpstreamUnavailable(_) => "upstream_unavailable",
            Rejection::UpstreamTimeout(_) => "upstream_timeout",
            Rejection::Internal(_) => "internal",
            Rejection::AuditUnavailable => "audit_unavailable",
            Rejection::Transport(TransportError::OriginNotAllowed(_)) => "origin_not_allowed",
            Rejection::Transport(TransportError::HostNotAllowed(_)) => "host_not_allowed",
            Rejection::Transport(TransportError::BadHeader(_)) => "bad_header",
            Rejection::Transport(TransportError::HeaderMismatch(_)) => "header_mismatch",
            Rejection::Transport(TransportError::TokenInQuery) => "token_in_query",
            Rejection::Transport(TransportError::UnsupportedVersion { .. }) => {
                "unsupported_version"
            }
            Rejection::Transport(TransportError::NotInRevision(_)) => "not_in_revision",
            Rejection::TaskNotFound => "task_not_found",
            Rejection::RateLimited { .. } => "rate_limited",
            Rejection::StateUnavailable(_) => "state_unavailable",
            Rejection::SessionNotFound => "session_not_found",
            Rejection::NotFound => "not_found",
            Rejection::HeadersTooLarge { .. } => "headers_too_large",
            Rejection::RequestTimeout => "request_timeout",
        }
    }

    /// The JSON-RPC error body, answering request `id` when it is known.
    pub fn to_body(&self, id: Option<&Value>) -> Vec<u8> {
        let mut error = json!({ "code": self.rpc_code(), "message": self.to_string() });
        if let Rejection::Transport(TransportError::UnsupportedVersion {
            requested,
            supported,
        }) = self
        {
            // What a client needs to retry with a revision that works (2026-07-28 schema,
            // `UnsupportedProtocolVersionError`).
            error["data"] = json!({"supported": supported, "requested": requested});
        }
        let body = json!({
            "jsonrpc": "2.0",
            "id": id.cloned().unwrap_or(Value::Null),
            "error": error,
        });
        body.to_string().into_bytes()
    }

    /// RFC 6750 §3: the challenge a 401 carries, pointing at the protected resource metadata
    /// (RFC 9728 §5.1) so an MCP client can discover where to get a token.
    pub fn www_authenticate(&self, resource_metadata: Option<&str>) -> Option<String> {
        let Rejection::Unauthenticated(e) = self else {
            return None;
        };
        let mut params = Vec::new();
        if let Some(url) = resource_metadata {
            params.push(format!("resource_metadata=\"{}\"", quoted_safe(url)));
        }
        if *e != AuthError::Missing {
            params.push("error=\"invalid_token\"".to_string());
            params.push(format!(
                "error_description=\"{}\"",
                quoted_safe(&e.to_string())
            ));
        }
        Some(if params.is_empty() {
            "Bearer".to_string()
        } else {
            format!("Bearer {}", params.join(", "))
        })
    }
}

/// A value for a quoted-string (RFC 9110 §5.6.4) without quotes, backslashes or controls.
fn quoted_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
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
        assert_eq!(r.www_authenticate(None).as_deref(), Some("Bearer"));
        assert_eq!(
            r.www_authenticate(Some("https://mcp.example/.well-known/oauth-protected-resource/mcp"))
                .as_deref(),
            Some("Bearer resource_metadata=\"https://mcp.example/.well-known/oauth-protected-resource/mcp\"")
        );
        let body: Value = serde_json::from_slice(&r.to_body(None)).unwrap();
        assert_eq!(body["id"], Value::Null);
        assert_eq!(body["error"]["message"], "Missing Bearer token");
    }

    #[test]
    fn invalid_token_challenge_names_invalid_token() {
        let r = Rejection::Unauthenticated(AuthError::Expired);
        let challenge = r.www_authenticate(None).unwrap();
        assert!(challenge.starts_with("Bearer error=\"invalid_token\""));
    }
}
