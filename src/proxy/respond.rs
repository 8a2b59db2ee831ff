//! Answering a request from the gatekeeper itself: a JSON-RPC error with its HTTP status.

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use pingora::Result;
use serde_json::Value;

use crate::error::Rejection;

/// Writes `rejection` as the whole response. Writing the header and body ourselves (rather
/// than `respond_error`) keeps the connection reusable once the request body has been read.
pub async fn reject(
    session: &mut Session,
    rejection: &Rejection,
    id: Option<&Value>,
) -> Result<()> {
    let body = Bytes::from(rejection.to_body(id));
    let mut header = ResponseHeader::build(rejection.status(), Some(4))?;
    header.insert_header("content-type", "application/json")?;
    header.insert_header("content-length", body.len().to_string())?;
    header.insert_header("cache-control", "no-store")?;
    if let Some(challenge) = rejection.www_authenticate() {
        header.insert_header("www-authenticate", challenge)?;
    }
    if rejection.status() == 405 {
        header.insert_header("allow", "GET, POST, DELETE")?;
    }
    if matches!(rejection, Rejection::TooLarge { .. }) {
        // RFC 9110 §15.5.14: the rest of the body will not be read; close the connection.
        session.set_keepalive(None);
    }
    session
        .write_response_header(Box::new(header), false)
        .await?;
    session.write_response_body(Some(body), true).await
}
