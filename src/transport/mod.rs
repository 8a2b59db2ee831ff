//! The MCP Streamable HTTP transport's request rules that sit outside the JSON-RPC body:
//! `Host` and `Origin` (DNS rebinding), `MCP-Protocol-Version` and the revision it selects, the
//! mirror headers (`mirror`), and tokens smuggled in the query string (RFC 6750 §2.3, which
//! MCP's authorization spec forbids). Pure functions over header values; the shell calls them.

mod mirror;

#[cfg_attr(not(feature = "proxy"), allow(unused_imports))]
pub use mirror::{check_mirror, declared_params, Mirror, ParamHeader};

use crate::jsonrpc::Request;

/// Protocol revisions the gatekeeper understands. A request naming another is refused
/// (MCP 2025-06-18, Transports §"Protocol Version Header": 400 Bad Request).
pub const PROTOCOL_VERSIONS: &[&str] = &[
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

/// The first revision without protocol sessions, GET streams or server→client requests on
/// the wire, and with the mirror headers required (SEP-2243, SEP-2567, SEP-2322).
pub const MODERN: &str = "2026-07-28";

/// Whether `version` is 2026-07-28 or later: requests stand alone, nothing is bound to a
/// session. Revisions are dates, so they order as strings.
pub fn is_modern(version: &str) -> bool {
    version >= MODERN
}

/// Whether `value` has a revision's form, `YYYY-MM-DD` (any date: the form, not the set of
/// known revisions, which `PROTOCOL_VERSIONS` holds).
pub fn is_revision_form(value: &str) -> bool {
    value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// Why the transport rules refuse a request. Messages are safe to return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("Origin '{0}' is not allowed")]
    OriginNotAllowed(String),
    #[error("Host '{0}' is not a name of this endpoint")]
    HostNotAllowed(String),
    #[error("{0}")]
    BadHeader(String),
    #[error("Header mismatch: {0}")]
    HeaderMismatch(String),
    /// MCP 2026-07-28 `UnsupportedProtocolVersionError`: 400 with the versions we speak.
    #[error("Unsupported protocol version '{requested}'")]
    UnsupportedVersion {
        requested: String,
        /// What to offer instead, newest first.
        supported: Vec<String>,
    },
    /// A body shape the request's revision does not have (a batch, or a client's response, in
    /// 2026-07-28).
    #[error("{0}")]
    NotInRevision(String),
    #[error("Access tokens are not accepted in the query string; send an Authorization header")]
    TokenInQuery,
}

/// `Host` must name this endpoint (`allowed`: names, or name:port; empty: not checked): a
/// DNS-rebinding page reaches a loopback listener under its own name (MCP Transports
/// §"Security Warning"; the gatekeeper rewrites Host for the upstream, so the check is ours).
pub fn check_host(values: &[&[u8]], allowed: &[String]) -> Result<(), TransportError> {
    if allowed.is_empty() {
        return Ok(());
    }
    let host = match values {
        [one] => String::from_utf8_lossy(one).trim().to_ascii_lowercase(),
        [] => {
            return Err(TransportError::BadHeader(
                "a Host header is required".into(),
            ))
        }
        _ => {
            return Err(TransportError::BadHeader(
                "more than one Host header".into(),
            ))
        }
    };
    if host_allowed(&host, allowed) {
        Ok(())
    } else {
        Err(TransportError::HostNotAllowed(
            host.chars().take(100).collect(),
        ))
    }
}

/// `authority` (host[:port]) is one of `allowed`: an entry with a port must match whole, one
/// without matches the host on any port.
fn host_allowed(authority: &str, allowed: &[String]) -> bool {
    let name = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    };
    allowed
        .iter()
        .any(|a| a.eq_ignore_ascii_case(authority) || a.eq_ignore_ascii_case(name))
}

/// `Origin` is checked only when present (non-browser clients send none); a value not in
/// `allowed` — or, when none are configured, not on an allowed host — is refused, `null`
/// included (MCP Transports §"Security Warning": 403).
pub fn check_origin(
    values: &[&[u8]],
    allowed: &[String],
    hosts: &[String],
) -> Result<(), TransportError> {
    let origin = match values {
        [] => return Ok(()),
        [one] => String::from_utf8_lossy(one),
        _ => {
            return Err(TransportError::BadHeader(
                "more than one Origin header".into(),
            ))
        }
    };
    let origin = origin.trim();
    let permitted = if allowed.is_empty() {
        origin
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
            .is_some_and(|(_, authority)| {
                !hosts.is_empty() && host_allowed(&authority.to_ascii_lowercase(), hosts)
            })
    } else {
        allowed
            .iter()
            .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    };
    if permitted {
        Ok(())
    } else {
        Err(TransportError::OriginNotAllowed(
            origin.chars().take(100).collect(),
        ))
    }
}

/// The negotiated revision, when the client names one (absent: 2025-03-26 is assumed).
pub fn protocol_version(values: &[&[u8]]) -> Result<Option<&'static str>, TransportError> {
    let value = match values {
        [] => return Ok(None),
        [one] => String::from_utf8_lossy(one),
        _ => {
            return Err(TransportError::BadHeader(
                "more than one MCP-Protocol-Version header".into(),
            ))
        }
    };
    let value = value.trim();
    PROTOCOL_VERSIONS
        .iter()
        .find(|v| **v == value)
        .map(|v| Some(*v))
        .ok_or_else(|| TransportError::UnsupportedVersion {
            requested: value.chars().take(32).collect(),
            supported: PROTOCOL_VERSIONS
                .iter()
                .rev()
                .map(|v| v.to_string())
                .collect(),
        })
}

/// The body and the header must name the same revision (2026-07-28 Streamable HTTP §"Protocol
/// Version Header"), and a 2026-07-28 body is one request or notification (§"Sending
/// Messages": no batches, and answers travel in `inputResponses`, never as responses).
pub fn check_revision(request: &Request, version: Option<&str>) -> Result<(), TransportError> {
    for call in request.calls() {
        match (&call.revision, version) {
            (Some(body), Some(header)) if body == header => {}
            (Some(_), _) => {
                return Err(TransportError::HeaderMismatch(
                    "MCP-Protocol-Version does not match the body's _meta protocolVersion".into(),
                ))
            }
            (None, _) => {}
        }
    }
    if !version.is_some_and(is_modern) {
        return Ok(());
    }
    match request {
        Request::Batch(_) => Err(TransportError::NotInRevision(
            "a 2026-07-28 request body is one JSON-RPC request or notification, not a batch".into(),
        )),
        Request::Single(call) if call.target == crate::jsonrpc::CallTarget::Answer => {
            Err(TransportError::NotInRevision(
                "2026-07-28 clients send no JSON-RPC responses (answers travel in inputResponses)"
                    .into(),
            ))
        }
        Request::Single(_) => Ok(()),
    }
}

/// RFC 6750 §2.3 puts the token in `access_token`; MCP forbids it (tokens in URLs end up in
/// logs). Any spelling of the parameter is refused, whatever its value.
pub fn check_query(query: Option<&str>) -> Result<(), TransportError> {
    let Some(query) = query else { return Ok(()) };
    let names_token = query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or("");
        let decoded = crate::percent::decode(name).unwrap_or_else(|| name.to_string());
        decoded.eq_ignore_ascii_case("access_token") || decoded.eq_ignore_ascii_case("token")
    });
    if names_token {
        Err(TransportError::TokenInQuery)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
