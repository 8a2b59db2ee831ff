//! OAuth 2.0 Protected Resource Metadata (RFC 9728), which MCP clients read to find where to
//! get a token: served without a token at `/.well-known/oauth-protected-resource` (and its
//! path-suffixed form, §3.1), and named in every 401's `WWW-Authenticate` (§5.1).

use pingora::proxy::Session;
use serde_json::{json, Value};

use crate::live::Runtime;

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// Whether `path` asks for the metadata document.
pub fn is_metadata_path(path: &str) -> bool {
    path == WELL_KNOWN
        || path
            .strip_prefix(WELL_KNOWN)
            .is_some_and(|p| p.starts_with('/'))
}

/// The resource identifier: configured; else this endpoint as the client addressed it when
/// that name is one of `allowed_hosts`; else the listener's address. Never a name only the
/// request vouches for.
pub fn resource(runtime: &Runtime, session: &Session) -> String {
    let settings = &runtime.settings;
    if let Some(r) = &settings.resource_metadata.resource {
        return r.clone();
    }
    let headers = &session.req_header().headers;
    let sent: Vec<&[u8]> = headers
        .get_all(http::header::HOST)
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let vouched = !settings.allowed_hosts.is_empty()
        && crate::transport::check_host(&sent, &settings.allowed_hosts).is_ok();
    let host = sent
        .first()
        .and_then(|h| std::str::from_utf8(h).ok())
        .filter(|h| vouched && !h.is_empty() && h.bytes().all(is_host_byte))
        .unwrap_or(&settings.listen);
    format!("http://{host}/mcp")
}

/// Where the metadata for `resource` lives (RFC 9728 §3.1: the well-known segment goes between
/// the host and the path).
pub fn metadata_url(resource: &str) -> String {
    let (scheme, rest) = resource.split_once("://").unwrap_or(("http", resource));
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let path = path.split('?').next().unwrap_or("").trim_end_matches('/');
    format!("{scheme}://{authority}{WELL_KNOWN}{path}")
}

/// The metadata document (RFC 9728 §2).
pub fn document(runtime: &Runtime, resource: &str) -> Value {
    let m = &runtime.settings.resource_metadata;
    let servers = if m.authorization_servers.is_empty() {
        runtime.verifier.issuers()
    } else {
        m.authorization_servers.clone()
    };
    let mut doc = json!({
        "resource": resource,
        "bearer_methods_supported": ["header"],
    });
    if !servers.is_empty() {
        doc["authorization_servers"] = json!(servers);
    }
    if !m.scopes_supported.is_empty() {
        doc["scopes_supported"] = json!(m.scopes_supported);
    }
    if let Some(name) = &m.resource_name {
        doc["resource_name"] = json!(name);
    }
    doc
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_well_known_segment_goes_before_the_path() {
        assert_eq!(
            metadata_url("https://mcp.example/mcp"),
            "https://mcp.example/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("https://mcp.example"),
            "https://mcp.example/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            metadata_url("http://127.0.0.1:8080/mcp/"),
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"
        );
    }

    #[test]
    fn metadata_paths() {
        assert!(is_metadata_path("/.well-known/oauth-protected-resource"));
        assert!(is_metadata_path(
            "/.well-known/oauth-protected-resource/mcp"
        ));
        assert!(!is_metadata_path("/.well-known/oauth-protected-resourcex"));
        assert!(!is_metadata_path("/mcp"));
    }
}
