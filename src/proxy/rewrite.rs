//! The shell's half of the one response path (`crate::response`): which rewrite a request's
//! answer gets, and the response head changed to match (no `Content-Length`, chunked).

use pingora::http::ResponseHeader;
use pingora::Result;
use serde_json::Value;

use super::admit::Admitted;
use crate::config::Settings;
use crate::jsonrpc::CallTarget;
use crate::redact::{Asked, Redactor};
use crate::response::headers::{self, Kept};
use crate::response::{Head, ListFilter, Plan, Rewrite, Watch};
use crate::transport;

/// The rewrite an admitted request's answer goes through; `None`: it passes as it came.
/// `own_tasks` are the caller's tasks (a `tasks/list` shows only those).
pub fn plan(settings: &Settings, admitted: &Admitted, own_tasks: Vec<String>) -> Option<Rewrite> {
    let request = admitted.request.as_ref();
    let calls = request.map(|r| r.calls()).unwrap_or_default();
    let asked = Asked::new(calls.iter().map(|call| {
        let uri = match &call.target {
            CallTarget::Resource { uri } | CallTarget::Subscription { uri } => Some(uri.as_str()),
            _ => None,
        };
        (call.id.as_ref(), call.method.as_str(), uri)
    }));
    let list = request
        .and_then(|r| ListFilter::for_request(r, &admitted.identity, &admitted.policy))
        .map(|list| match list.lists_tasks() {
            true => list.with_own_tasks(own_tasks),
            false => list,
        });
    let modern = admitted.revision.is_some_and(transport::is_modern);
    let method = |m: &str| calls.iter().any(|c| c.method == m);
    Plan {
        list,
        redactor: admitted.policy.redactor_for(&admitted.identity),
        asked,
        id: request
            .and_then(|r| r.error_id().cloned())
            .unwrap_or(Value::Null),
        cap: settings.max_response_bytes,
        observe: true,
        watch: Watch {
            tools: method("tools/list"),
            versions: method("server/discover"),
        },
        private_cache: modern && method("resources/read"),
        read_passed_body: method("tools/list")
            || method("server/discover")
            || calls.iter().any(|c| c.may_create_task),
    }
    .into_rewrite()
}

/// Reads the head the rewrite needs and applies what it decided; `true` when the body is
/// rewritten whole (sent in one piece at its end).
/// `origin` is the request's `Origin`, if it sent one.
pub fn on_head(
    rewrite: &mut Rewrite,
    response: &mut ResponseHeader,
    origin: Option<&str>,
) -> Result<bool> {
    let values = |name: http::HeaderName| -> Vec<&str> {
        response
            .headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or("\u{0}"))
            .collect()
    };
    let head = Head {
        content_types: values(http::header::CONTENT_TYPE),
        content_encodings: values(http::header::CONTENT_ENCODING),
    };
    let change = rewrite.start(&head);
    // Hop-by-hop (RFC 9110 §7.6.1): it described the upstream connection, not ours.
    response.remove_header("keep-alive");
    if let Some(redactor) = rewrite.redactor() {
        keep_protocol_headers(response, redactor, origin)?;
    }
    if let Some(status) = change.status {
        response.set_status(status)?;
    }
    if change.drop_encoding {
        response.remove_header(&http::header::CONTENT_ENCODING);
    }
    if let Some(media) = change.content_type {
        response.insert_header(http::header::CONTENT_TYPE, media)?;
    }
    if !change.body_changes {
        return Ok(false);
    }
    response.remove_header(&http::header::CONTENT_LENGTH);
    // An HTTP/1.0 response without a length is delimited by closing the connection.
    if response.version != http::Version::HTTP_10 {
        response.insert_header(http::header::TRANSFER_ENCODING, "chunked")?;
    }
    Ok(change.whole)
}

/// An interim answer (`103 Early Hints`, `102 Processing`; RFC 9110 §15.2) precedes the real
/// one: it starts no rewrite, and a redacted role gets its status alone (a `Link` can name a
/// patient as well as any header). `false` for a final answer, and for `101`, after which the
/// connection is no longer HTTP.
pub fn on_interim(rewrite: Option<&Rewrite>, response: &mut ResponseHeader) -> bool {
    let code = response.status.as_u16();
    if !(100..200).contains(&code) || code == 101 {
        return false;
    }
    if rewrite.is_some_and(Rewrite::redacts) {
        let names: Vec<http::HeaderName> = response.headers.keys().cloned().collect();
        for name in names {
            response.remove_header(&name);
        }
    }
    true
}

/// The upstream headers a redacted role gets: the protocol's, each in its strict form (see
/// `response::headers`). Any other (`X-Patient-Name`, `Set-Cookie`, a debug header), or a
/// protocol header out of its form, could carry what the body may not.
fn keep_protocol_headers(
    response: &mut ResponseHeader,
    redactor: &Redactor,
    origin: Option<&str>,
) -> Result<()> {
    // Only a name that loses a value is rewritten: most answers keep every header they have.
    let mut losing: Vec<http::HeaderName> = Vec::new();
    for (name, value) in response.headers.iter() {
        let text = value.to_str().unwrap_or("\u{0}");
        if headers::kept(name.as_str(), text, redactor, origin) == Kept::Dropped
            && !losing.contains(name)
        {
            losing.push(name.clone());
        }
    }
    for name in losing {
        let kept: Vec<http::HeaderValue> = response
            .headers
            .get_all(&name)
            .iter()
            .filter(|v| {
                let text = v.to_str().unwrap_or("\u{0}");
                headers::kept(name.as_str(), text, redactor, origin) != Kept::Dropped
            })
            .cloned()
            .collect();
        response.remove_header(&name);
        for value in kept {
            response.append_header(name.clone(), value)?;
        }
    }
    Ok(())
}
