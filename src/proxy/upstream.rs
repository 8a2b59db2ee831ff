//! The upstream side: which peer, with which timeouts, and the request headers it receives.
//! Identity headers are ours alone: any client-sent copy is removed before ours are set.

use std::sync::Arc;

use pingora::http::RequestHeader;
use pingora::prelude::HttpPeer;
use pingora::utils::tls::CertKey;
use pingora::Result;

use crate::auth::Identity;
use crate::config::Settings;

/// Headers the gatekeeper sets for the upstream; the prefix is reserved.
pub const IDENTITY_PREFIX: &str = "x-gatekeeper-";

/// The upstream with its timeouts; a GET event stream may be silent for `sse_idle` between
/// server notifications, every other answer must keep arriving within `read`. An `https://`
/// upstream is verified (its chain against `upstream_tls.ca_file` or the system roots, its
/// name against the URL's host, sent as SNI) unless verification was explicitly switched off;
/// `client_cert` is shown to it when it asks (mutual TLS).
pub fn peer(
    settings: &Settings,
    event_stream: bool,
    client_cert: Option<&Arc<CertKey>>,
) -> Box<HttpPeer> {
    let tls = settings.upstream.tls.as_ref();
    let sni = tls.map(|t| t.server_name.clone()).unwrap_or_default();
    let mut peer = HttpPeer::new(settings.upstream.addr, tls.is_some(), sni);
    if let Some(tls) = tls {
        peer.options.verify_cert = !tls.insecure_skip_verify;
        peer.options.verify_hostname = !tls.insecure_skip_verify;
        peer.options.alpn = pingora::protocols::ALPN::H1;
        peer.client_cert_key = client_cert.cloned();
    }
    let t = settings.timeouts;
    peer.options.connection_timeout = Some(t.connect);
    peer.options.read_timeout = Some(if event_stream { t.sse_idle } else { t.read });
    peer.options.write_timeout = Some(t.write);
    peer.options.idle_timeout = Some(t.idle);
    Box::new(peer)
}

// Names made once, not parsed from text on every request.
const USER_ID: http::HeaderName = http::HeaderName::from_static("x-gatekeeper-user-id");
const ROLES: http::HeaderName = http::HeaderName::from_static("x-gatekeeper-roles");
const USERNAME: http::HeaderName = http::HeaderName::from_static("x-gatekeeper-username");

/// `modern`: the request speaks 2026-07-28, which has no sessions and no resumption — a
/// client's `Mcp-Session-Id` or `Last-Event-ID` is ignored, so the upstream never sees one
/// (Streamable HTTP §"Backward Compatibility").
pub fn rewrite_request_headers(
    request: &mut RequestHeader,
    who: &Identity,
    settings: &Settings,
    modern: bool,
) -> Result<()> {
    if modern {
        request.remove_header("mcp-session-id");
        request.remove_header("last-event-id");
    }
    let reserved: Vec<http::HeaderName> = request
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with(IDENTITY_PREFIX))
        .cloned()
        .collect();
    for name in reserved {
        request.remove_header(&name);
    }
    if !settings.forward_authorization {
        request.remove_header(&http::header::AUTHORIZATION);
    }
    // We answered (or never needed) the 100-continue; the upstream gets the body at once.
    request.remove_header(&http::header::EXPECT);
    // The response must be readable to filter it: ask for no content coding.
    request.insert_header(http::header::ACCEPT_ENCODING, "identity")?;
    request.insert_header(USER_ID, header_safe(&who.user_id))?;
    request.insert_header(ROLES, header_safe(&who.roles.join(",")))?;
    if let Some(name) = &who.username {
        request.insert_header(USERNAME, header_safe(name))?;
    }
    Ok(())
}

/// Claims are arbitrary strings: percent-encode anything that is not visible ASCII (and `%`)
/// so a claim can never inject a header or break framing.
fn header_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Our client certificate for an upstream that asks for one, read once at start-up.
pub fn client_cert(settings: &Settings) -> anyhow::Result<Option<Arc<CertKey>>> {
    let Some((cert, key)) = settings
        .upstream
        .tls
        .as_ref()
        .and_then(|t| t.client_cert.as_ref())
    else {
        return Ok(None);
    };
    let pair = crate::tls::certs::load_pair(cert, key).map_err(anyhow::Error::msg)?;
    let chain = pair.key.cert.iter().map(|c| c.as_ref().to_vec()).collect();
    let pem = std::fs::read(key)?;
    let private = rustls_pemfile::private_key(&mut pem.as_slice())?
        .ok_or_else(|| anyhow::anyhow!("{}: no private key in it", key.display()))?;
    Ok(Some(Arc::new(CertKey::new(
        chain,
        private.secret_der().to_vec(),
    ))))
}

#[cfg(test)]
mod tests {
    use super::header_safe;

    #[test]
    fn header_values_cannot_carry_control_bytes() {
        assert_eq!(header_safe("yenji100"), "yenji100");
        assert_eq!(header_safe("a\r\nX-Evil: 1"), "a%0D%0AX-Evil: 1");
        assert_eq!(header_safe("100%"), "100%25");
        assert_eq!(header_safe("é"), "%C3%A9");
    }
}
