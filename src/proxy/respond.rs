//! Answering a request from the gatekeeper itself: a JSON-RPC error with its HTTP status, or a
//! small JSON document (the protected resource metadata).

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use pingora::Result;
use serde_json::Value;

use crate::error::Rejection;

/// Writes `rejection` as the whole response; a 401 names the resource metadata when given.
/// Writing the header and body ourselves (rather than `respond_error`) keeps the connection
/// reusable once the request body has been read.
pub async fn reject(
    session: &mut Session,
    rejection: &Rejection,
    id: Option<&Value>,
    resource_metadata: Option<&str>,
) -> Result<()> {
    let body = Bytes::from(rejection.to_body(id));
    let mut header = ResponseHeader::build(rejection.status(), Some(4))?;
    header.insert_header("content-type", "application/json")?;
    header.insert_header("content-length", body.len().to_string())?;
    header.insert_header("cache-control", "no-store")?;
    if let Some(challenge) = rejection.www_authenticate(resource_metadata) {
        header.insert_header("www-authenticate", challenge)?;
    }
    if rejection.status() == 405 {
        header.insert_header("allow", "GET, POST, DELETE")?;
    }
    if !session.is_body_done() || matches!(rejection, Rejection::TooLarge { .. }) {
        // Refused before its body was read: the unread rest must never be taken for the next
        // request on this connection (RFC 9112 §9.6), so close instead of draining.
        session.set_keepalive(None);
    }
    session
        .write_response_header(Box::new(header), false)
        .await?;
    session.write_response_body(Some(body), true).await
}

/// Writes a 200 JSON document.
pub async fn json(session: &mut Session, doc: &Value) -> Result<()> {
    let body = Bytes::from(doc.to_string());
    let mut header = ResponseHeader::build(200, Some(3))?;
    header.insert_header("content-type", "application/json")?;
    header.insert_header("content-length", body.len().to_string())?;
    header.insert_header("cache-control", "max-age=300")?;
    session
        .write_response_header(Box::new(header), false)
        .await?;
    session.write_response_body(Some(body), true).await
}
