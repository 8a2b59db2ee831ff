//! Reading a request body: framing and media type from the head, then the bytes themselves,
//! bounded in size and time, with `Expect: 100-continue` answered.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use pingora::http::ResponseHeader;
use pingora::proxy::Session;

use super::Rejection;

/// Media type, encoding and size checks that need only the request head.
pub(super) fn check_framing(
    session: &Session,
    has_body: bool,
    limit: usize,
) -> Result<(), Rejection> {
    let headers = &session.req_header().headers;
    let content_length = headers.get(http::header::CONTENT_LENGTH);
    let chunked = headers.contains_key(http::header::TRANSFER_ENCODING);
    if content_length.is_some() && chunked {
        return Err(Rejection::BadRequest(
            "Content-Length together with Transfer-Encoding is not accepted".into(),
        ));
    }
    let declared = match content_length {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| Rejection::BadRequest("invalid Content-Length".into()))?,
        ),
    };
    if !has_body {
        if chunked || declared.is_some_and(|n| n > 0) {
            return Err(Rejection::BadRequest(
                "GET and DELETE must not carry a body".into(),
            ));
        }
        return Ok(());
    }
    if declared.is_some_and(|n| n > limit) {
        return Err(Rejection::TooLarge { limit });
    }
    if let Some(enc) = headers.get(http::header::CONTENT_ENCODING) {
        if !enc.as_bytes().eq_ignore_ascii_case(b"identity") {
            return Err(Rejection::UnsupportedMedia(
                "Content-Encoding is not accepted on requests; send the body uncompressed".into(),
            ));
        }
    }
    let media = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = media.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(Rejection::UnsupportedMedia(
            "Content-Type must be application/json".into(),
        ));
    }
    // RFC 8259 §8.1: JSON exchanged between systems is UTF-8; a server told otherwise would
    // read other characters than we judged.
    let other_charset = media.split(';').skip(1).any(|param| {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        name.trim().eq_ignore_ascii_case("charset")
            && !value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
    });
    if other_charset {
        return Err(Rejection::UnsupportedMedia(
            "JSON is UTF-8: a Content-Type naming another charset is not accepted".into(),
        ));
    }
    Ok(())
}

/// Reads the whole body, refusing it once it passes `limit`. Pingora keeps a copy (the retry
/// buffer) to replay upstream when the body fits in it; larger bodies take the subrequest path.
pub(super) async fn read_body(
    session: &mut Session,
    limit: usize,
    deadline: Instant,
) -> Result<Bytes, Rejection> {
    tokio::time::timeout_at(deadline.into(), read_body_within(session, limit))
        .await
        .unwrap_or(Err(Rejection::RequestTimeout))
}

async fn read_body_within(session: &mut Session, limit: usize) -> Result<Bytes, Rejection> {
    if is_expect_continue(session) {
        let continue_header =
            ResponseHeader::build(100, Some(0)).map_err(|e| Rejection::Internal(e.to_string()))?;
        session
            .write_response_header(Box::new(continue_header), false)
            .await
            .map_err(|e| Rejection::Internal(e.to_string()))?;
    }
    session.enable_retry_buffering();
    let mut body = BytesMut::new();
    loop {
        let chunk = session
            .read_request_body()
            .await
            .map_err(|e| Rejection::BadRequest(format!("cannot read the request body: {e}")))?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > limit {
            drain(session, limit).await;
            return Err(Rejection::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Reads and discards what is left of an oversized body, up to `budget` bytes or two seconds,
/// so the client is reading when the 413 arrives (closing on unread data resets the connection
/// and can destroy the answer before the client sees it).
async fn drain(session: &mut Session, budget: usize) {
    let deadline = std::time::Duration::from_secs(2);
    let _ = tokio::time::timeout(deadline, async {
        let mut discarded = 0;
        while discarded < budget {
            match session.read_request_body().await {
                Ok(Some(chunk)) => discarded += chunk.len(),
                _ => break,
            }
        }
    })
    .await;
}

fn is_expect_continue(session: &Session) -> bool {
    session
        .req_header()
        .headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}
