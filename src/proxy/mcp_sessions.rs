//! Session bookkeeping in the response phase: the `Mcp-Session-Id` an upstream issues in
//! answer to `initialize` is bound to the caller; a successful DELETE ends the binding. A
//! 2026-07-28 request has no session: any id in its answer is dropped.

use pingora::http::ResponseHeader;
use pingora::proxy::Session;

use super::Admitted;
use crate::jsonrpc::Request;
use crate::state::{Kind, Store};

/// A binding that cannot be stored leaves the session unusable through us (its next request
/// gets 404, as an unknown id): fail closed, and logged.
pub async fn track(
    store: &Store,
    session: &Session,
    response: &mut ResponseHeader,
    admitted: &Admitted,
) {
    if admitted.revision.is_some_and(crate::transport::is_modern) {
        // 2026-07-28 has no sessions: one the upstream mints anyway is not passed on (a
        // client would echo it, and nothing here binds it to the caller).
        response.remove_header("mcp-session-id");
        return;
    }
    if !response.status.is_success() {
        return;
    }
    let is_initialize =
        matches!(&admitted.request, Some(Request::Single(c)) if c.method == "initialize");
    if is_initialize {
        if let Some(id) = header(response.headers.get("mcp-session-id")) {
            if let Err(e) = store.bind(Kind::Session, id, &admitted.identity).await {
                tracing::error!(error = %e, "a session's binding could not be stored");
            }
        }
    } else if session.req_header().method == http::Method::DELETE {
        if let Some(id) = header(session.req_header().headers.get("mcp-session-id")) {
            if let Err(e) = store.end(Kind::Session, id).await {
                tracing::warn!(error = %e, "an ended session's binding could not be removed");
            }
        }
    }
}

fn header(value: Option<&http::HeaderValue>) -> Option<&str> {
    value
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}
