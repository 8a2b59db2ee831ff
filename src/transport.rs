//! The MCP Streamable HTTP transport's request rules that sit outside the JSON-RPC body:
//! `Origin` (DNS rebinding), `MCP-Protocol-Version`, the `Mcp-Method`/`Mcp-Name` mirror headers
//! of the newest revision, and tokens smuggled in the query string (RFC 6750 §2.3, which MCP's
//! authorization spec forbids). Pure functions over header values; the shell calls them.

use crate::jsonrpc::{CallTarget, Request};

/// Protocol revisions the gatekeeper understands. A request naming another is refused
/// (MCP 2025-06-18, Transports §"Protocol Version Header": 400 Bad Request).
pub const PROTOCOL_VERSIONS: &[&str] = &[
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

/// From this revision on, `Mcp-Method` is required on every POST and `Mcp-Name` on calls
/// that name a target (SEP-2243).
const MIRROR_HEADERS_REQUIRED_FROM: &str = "2026-07-28";

/// Why the transport rules refuse a request. Messages are safe to return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("Origin '{0}' is not allowed")]
    OriginNotAllowed(String),
    #[error("Host '{0}' is not a name of this endpoint")]
    HostNotAllowed(String),
    #[error("{0}")]
    BadHeader(String),
    #[error("{0}")]
    HeaderMismatch(String),
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
        [one] => std::str::from_utf8(one).unwrap_or("").trim(),
        _ => {
            return Err(TransportError::BadHeader(
                "more than one MCP-Protocol-Version header".into(),
            ))
        }
    };
    PROTOCOL_VERSIONS
        .iter()
        .find(|v| **v == value)
        .map(|v| Some(*v))
        .ok_or_else(|| {
            TransportError::BadHeader(format!(
                "Unsupported MCP-Protocol-Version '{}' (supported: {})",
                value.chars().take(32).collect::<String>(),
                PROTOCOL_VERSIONS.join(", ")
            ))
        })
}

/// `Mcp-Method` and `Mcp-Name` must say what the body says: an intermediary that routes by
/// header and a server that executes the body must never see two different requests.
pub fn check_mirror_headers(
    method: &[&[u8]],
    name: &[&[u8]],
    request: &Request,
    version: Option<&str>,
) -> Result<(), TransportError> {
    let method = single(method, "Mcp-Method")?;
    let name = single(name, "Mcp-Name")?;
    let required = version.is_some_and(|v| v >= MIRROR_HEADERS_REQUIRED_FROM);
    let call = match request {
        Request::Single(call) => call,
        Request::Batch(_) if method.is_none() && name.is_none() => return Ok(()),
        Request::Batch(_) => {
            return Err(TransportError::HeaderMismatch(
                "Mcp-Method/Mcp-Name cannot describe a batch".into(),
            ))
        }
    };
    if call.target == CallTarget::Answer {
        // A response carries no method or target for a header to mirror.
        return match (method, name) {
            (None, None) => Ok(()),
            _ => Err(TransportError::HeaderMismatch(
                "Mcp-Method/Mcp-Name describe a request, but the body is a response".into(),
            )),
        };
    }
    match method {
        Some(m) if m != call.method => {
            return Err(TransportError::HeaderMismatch(
                "Mcp-Method does not match the body's method".into(),
            ))
        }
        None if required => {
            return Err(TransportError::HeaderMismatch(
                "Mcp-Method is required by this protocol revision".into(),
            ))
        }
        _ => {}
    }
    let target = match &call.target {
        CallTarget::Tool {
            name,
            legacy: false,
            ..
        } => Some(name.as_str()),
        CallTarget::Prompt { name } => Some(name.as_str()),
        CallTarget::Resource { uri } => Some(uri.as_str()),
        _ => None,
    };
    match (name, target) {
        (Some(n), Some(t)) if n == t => Ok(()),
        (Some(_), _) => Err(TransportError::HeaderMismatch(
            "Mcp-Name does not match the body's target".into(),
        )),
        (None, Some(_)) if required => Err(TransportError::HeaderMismatch(
            "Mcp-Name is required by this protocol revision".into(),
        )),
        (None, _) => Ok(()),
    }
}

fn single<'a>(values: &[&'a [u8]], header: &str) -> Result<Option<&'a str>, TransportError> {
    match values {
        [] => Ok(None),
        [one] => std::str::from_utf8(one)
            .map(|s| Some(s.trim()))
            .map_err(|_| TransportError::BadHeader(format!("{header} is not UTF-8"))),
        _ => Err(TransportError::BadHeader(format!(
            "more than one {header} header"
        ))),
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
