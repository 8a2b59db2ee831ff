//! Answering a request from the gatekeeper itself: a JSON-RPC error with its HTTP status, or a
//! small JSON document (the protected resource metadata).

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use pingora::Result;
use serde_json::Value;

use super::rejection::Rejection;

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
    if let Rejection::RateLimited { retry_after, .. } = rejection {
        // RFC 9110 §10.2.3: whole seconds, rounded up.
        let secs = retry_after.as_millis().div_ceil(1000).max(1);
        header.insert_header("retry-after", secs.to_string())?;
    }
    if matches!(rejection, Rejection::TooLarge { .. }) || !drained(session).await {
        // Refused before its body was read and the body is not small: the unread rest must
        // never be taken for the next request on this connection (RFC 9112 §9.6), so close.
        session.set_keepalive(None);
    }
    session
        .write_response_header(Box::new(header), false)
        .await?;
    session.write_response_body(Some(body), true).await
}

/// Reads and discards an unread request body when it is small and arrives at once (a refused
/// client's usual request): the connection then stays reusable. Returns whether the body is
/// wholly read.
async fn drained(session: &mut Session) -> bool {
    const BUDGET: usize = 64 * 1024;
    if session.is_body_done() {
        return true;
    }
    let declared = session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_none_or(|n| n > BUDGET) {
        return false;
    }
    let drain = async {
        let mut read = 0;
        while let Ok(Some(chunk)) = session.read_request_body().await {
            read += chunk.len();
            if read > BUDGET {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_millis(100), drain).await;
    session.is_body_done()
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
