//! The request phase: authenticate, read the whole body, parse it and decide — all before any
//! upstream connection exists, so nothing refused here can reach the MCP server.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use pingora::proxy::Session;
use serde_json::Value;

use super::rejection::Rejection;
use crate::auth::{self, Identity};
use crate::config::Unavailable;
use crate::jsonrpc::{self, CallTarget, Request};
use crate::live::{Live, Runtime};
use crate::mcp_session::{Ownership, ServerRequests, ToolParams};
use crate::policy::Policy;
use crate::redact::Counts;
use crate::state::{Kind, Store};
use crate::transport;
use body::{check_framing, read_body};

mod body;

/// A request the gatekeeper let through, and what it knows of it.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// Shared with the verified-token cache: a request does not copy its caller's claims.
    pub identity: Arc<Identity>,
    /// `None` for GET and DELETE, which carry no JSON-RPC body.
    pub request: Option<Request>,
    /// The rule that allowed each call, in order.
    pub rules: Vec<String>,
    pub body: Bytes,
    /// The policy version that decided; responses are filtered by the same one.
    pub policy: Arc<Policy>,
    /// The revision the request speaks (`MCP-Protocol-Version`); `None`: 2025-03-26.
    pub revision: Option<&'static str>,
    /// The shadow policy would have decided otherwise.
    pub shadow_disagreed: bool,
    /// Redaction counts from a subrequest that carried this request (large bodies), for the
    /// main request's audit record.
    pub subrequest_redactions: Arc<Mutex<Counts>>,
}

impl Admitted {
    /// A long-lived stream of server notifications: the GET stream (≤ 2025-11-25) or a
    /// `subscriptions/listen` (2026-07-28). It may be silent for long between events.
    pub fn opens_stream(&self) -> bool {
        match &self.request {
            None => true,
            Some(Request::Single(call)) => call.method == jsonrpc::LISTEN,
            Some(Request::Batch(_)) => false,
        }
    }
}

/// A request the gatekeeper answers itself.
#[derive(Debug)]
pub struct Refusal {
    pub rejection: Rejection,
    pub id: Option<Value>,
    pub identity: Option<Arc<Identity>>,
    pub request: Option<Request>,
    pub shadow_disagreed: bool,
}

impl From<Rejection> for Refusal {
    fn from(rejection: Rejection) -> Self {
        Refusal {
            rejection,
            id: None,
            identity: None,
            request: None,
            shadow_disagreed: false,
        }
    }
}

/// What admission reads besides the request: the live settings and policy, and the bindings
/// of sessions and of server requests to callers.
pub struct State<'a> {
    pub live: &'a Live,
    pub runtime: &'a Arc<Runtime>,
    pub store: &'a Store,
    pub server_requests: &'a ServerRequests,
    /// The `Mcp-Param-*` headers each tool's schema declares, as `tools/list` showed them.
    pub tool_params: &'a ToolParams,
    /// The revisions the upstream said it speaks (`server/discover`), once it said so.
    pub upstream_versions: &'a arc_swap::ArcSwapOption<Vec<String>>,
}

/// Runs every check for one downstream request; its headers and body must arrive by
/// `deadline`.
pub async fn admit(
    state: &State<'_>,
    session: &mut Session,
    deadline: Instant,
) -> Result<Admitted, Box<Refusal>> {
    let (live, runtime, store) = (state.live, state.runtime, state.store);
    let settings = &runtime.settings;
    let method = session.req_header().method.clone();
    let has_body = method == http::Method::POST;
    if !matches!(method.as_str(), "POST" | "GET" | "DELETE") {
        return Err(Box::new(
            Rejection::MethodNotAllowed(method.to_string()).into(),
        ));
    }
    if asks_for_upgrade(&session.req_header().headers) {
        // On a 101 Pingora would tunnel raw bytes: nothing after it would be judged.
        return Err(Box::new(
            Rejection::BadRequest(
                "protocol upgrades (Upgrade: websocket, h2c) are not accepted on the MCP endpoint"
                    .into(),
            )
            .into(),
        ));
    }
    if !is_mcp_path(&settings.mcp_paths, session.req_header().uri.path()) {
        return Err(Box::new(Rejection::NotFound.into()));
    }
    if header_bytes(session.req_header()) > settings.max_header_bytes {
        let limit = settings.max_header_bytes;
        return Err(Box::new(Rejection::HeadersTooLarge { limit }.into()));
    }
    check_transport(settings, session).map_err(|e| Box::new(Refusal::from(e)))?;
    let version = transport::protocol_version(&values(
        &session.req_header().headers,
        "mcp-protocol-version",
    ))
    .map_err(|e| offer_upstream_versions(e, state.upstream_versions.load().as_deref()));
    let modern = matches!(version, Ok(Some(v)) if transport::is_modern(v));
    if modern && !has_body {
        // 2026-07-28 has no GET stream and no sessions to end (Streamable HTTP §"Backward
        // Compatibility"): change notifications come from a `subscriptions/listen` POST.
        return Err(Box::new(
            Rejection::MethodNotAllowed(format!("{method} (MCP 2026-07-28 uses POST only)")).into(),
        ));
    }
    let mut identity = authenticate(runtime, session)
        .await
        .map_err(|e| Box::new(Refusal::from(e)))?;
    // The connection's verified client certificate (mutual TLS), for the policy and audit.
    if let Some(certificate) = crate::tls::client_certificate(session) {
        Arc::make_mut(&mut identity).certificate = Some(certificate);
    }
    // One policy version decides the whole request, however long the body takes to arrive.
    let policy = live.policy.load_full();
    let with_identity = |rejection: Rejection| {
        Box::new(Refusal {
            rejection,
            id: None,
            identity: Some(identity.clone()),
            request: None,
            shadow_disagreed: false,
        })
    };
    if !modern {
        // 2026-07-28 requests stand alone: a session id they carry is ignored (and not sent).
        check_session(store, &identity, session)
            .await
            .map_err(with_identity)?;
    }
    check_framing(session, has_body, settings.max_body_bytes).map_err(with_identity)?;
    if !has_body {
        let version = version.map_err(|e| with_identity(e.into()))?;
        let resumes = is_resumption(&session.req_header().headers);
        let rule = judge_stream(&policy, &identity, &method, resumes).map_err(with_identity)?;
        return Ok(Admitted {
            identity,
            request: None,
            rules: vec![rule],
            body: Bytes::new(),
            policy,
            revision: version,
            shadow_disagreed: false,
            subrequest_redactions: Arc::default(),
        });
    }
    let body = read_body(session, settings.max_body_bytes, deadline)
        .await
        .map_err(with_identity)?;
    let request = jsonrpc::parse(&body).map_err(|e| {
        let id = e.id.clone();
        let mut refusal = with_identity(e.into());
        refusal.id = id;
        refusal
    })?;
    // An unsupported revision is refused once the body is read, so the error answers the
    // request's id (2026-07-28 `UnsupportedProtocolVersionError`).
    let checked = version
        .map_err(Rejection::from)
        .and_then(|v| check_body(state, &identity, session, &request, v).map(|()| v));
    let checked = match checked {
        Ok(v) => check_tasks(store, &identity, &request).await.map(|()| v),
        Err(e) => Err(e),
    };
    let version = match checked {
        Ok(v) => v,
        Err(rejection) => {
            let mut refusal = with_identity(rejection);
            refusal.id = request.error_id().cloned();
            refusal.request = Some(request);
            return Err(refusal);
        }
    };
    let verdict = decide(&policy, &identity, &request);
    let shadow_disagreed = compare_with_shadow(live, &policy, &identity, &request, verdict.is_ok());
    let verdict = match verdict {
        Ok(rules) => spend_budgets(store, settings, &policy, &identity, &request)
            .await
            .map(|()| rules),
        denied => denied,
    };
    match verdict {
        Ok(rules) => Ok(Admitted {
            identity,
            request: Some(request),
            rules,
            body,
            policy,
            revision: version,
            shadow_disagreed,
            subrequest_redactions: Arc::default(),
        }),
        Err(rejection) => Err(Box::new(Refusal {
            rejection,
            id: request.error_id().cloned(),
            identity: Some(identity),
            request: Some(request),
            shadow_disagreed,
        })),
    }
}

/// An unsupported revision is answered with the ones that work end to end: ours that the
/// upstream also speaks, when it said which (a client retrying with one of ours it does not
/// would only fail again).
fn offer_upstream_versions(
    e: transport::TransportError,
    upstream: Option<&Vec<String>>,
) -> transport::TransportError {
    match (e, upstream) {
        (
            transport::TransportError::UnsupportedVersion {
                requested,
                supported,
            },
            Some(theirs),
        ) => {
            let both: Vec<String> = theirs
                .iter()
                .filter(|v| supported.contains(v))
                .cloned()
                .collect();
            transport::TransportError::UnsupportedVersion {
                requested,
                supported: if both.is_empty() { supported } else { both },
            }
        }
        (e, _) => e,
    }
}

/// What the body must satisfy before the policy looks at it: the revision and mirror headers
/// agree with it, its shape is one we forward, answers answer this caller's requests, and the
/// tasks it names are the caller's.
fn check_body(
    state: &State<'_>,
    who: &Identity,
    session: &Session,
    request: &Request,
    version: Option<&'static str>,
) -> Result<(), Rejection> {
    let headers = &session.req_header().headers;
    transport::check_revision(request, version)?;
    let declared = request
        .calls()
        .first()
        .and_then(|c| c.tool())
        .and_then(|tool| state.tool_params.get(tool));
    transport::check_mirror(&mirror(headers), request, version, declared.as_deref())?;
    if let Request::Batch(calls) = request {
        if !state.runtime.settings.allow_batches {
            return Err(Rejection::BadRequest(
                "JSON-RPC batches are not accepted (MCP removed batching in 2025-06-18)".into(),
            ));
        }
        // A list answer is filtered per role only as a single response; inside a batch it
        // would pass unfiltered, so lists must be asked for on their own.
        if calls.iter().any(|c| c.method.ends_with("/list")) {
            return Err(Rejection::BadRequest(
                "list methods cannot be batched; send them as single requests".into(),
            ));
        }
    }
    check_answers(state.server_requests, who, request)
}

/// The mirror headers as sent (`Mcp-Param-*` by the name after the prefix).
fn mirror(headers: &http::HeaderMap) -> transport::Mirror<'_> {
    let params = headers
        .iter()
        .filter_map(|(name, value)| {
            let suffix = name.as_str().strip_prefix("mcp-param-")?;
            Some((suffix.to_string(), value.as_bytes()))
        })
        .collect();
    transport::Mirror {
        method: values(headers, "mcp-method"),
        name: values(headers, "mcp-name"),
        params,
    }
}

/// A task id must be one this caller created through us, like a session id (MCP 2025-11-25
/// Tasks §"Security": tasks bind to the authorization context that created them). Unknown and
/// foreign ids are answered alike, so ids cannot be probed. A shared store binds a new task in
/// the background: an id it does not know yet is asked once more, a moment later.
async fn check_tasks(store: &Store, who: &Identity, request: &Request) -> Result<(), Rejection> {
    for id in request.calls().iter().flat_map(|c| &c.tasks) {
        let mut found = store.check(Kind::Task, id, who).await?;
        if found == Ownership::Unknown && store.is_shared() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            found = store.check(Kind::Task, id, who).await?;
        }
        if found != Ownership::Owner {
            return Err(Rejection::TaskNotFound);
        }
    }
    Ok(())
}

/// Every budget an allowed call spends from (`rate_limits`), after the grants: over one is 429
/// with when to retry. A store that cannot be asked follows `state.on_unavailable`.
async fn spend_budgets(
    store: &Store,
    settings: &crate::config::Settings,
    policy: &Policy,
    who: &Identity,
    request: &Request,
) -> Result<(), Rejection> {
    if !policy.has_limits() {
        return Ok(());
    }
    for call in request.calls() {
        for bucket in policy.buckets(who, call) {
            match store.spend(&bucket).await {
                Ok(Ok(())) => {}
                Ok(Err(retry_after)) => {
                    return Err(Rejection::RateLimited {
                        limit: bucket.limit.name.clone(),
                        retry_after,
                    })
                }
                Err(e) if settings.state.limits_when_unavailable == Unavailable::Deny => {
                    return Err(e.into())
                }
                Err(_) => {}
            }
        }
    }
    Ok(())
}

/// `Upgrade`, or `Connection` naming it: a request to leave HTTP for another protocol.
fn asks_for_upgrade(headers: &http::HeaderMap) -> bool {
    headers.contains_key(http::header::UPGRADE)
        || headers.get_all(http::header::CONNECTION).iter().any(|v| {
            v.to_str().map_or(true, |v| {
                v.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
            })
        })
}

/// A GET with `Last-Event-ID` in a session resumes a stream that session already had.
fn is_resumption(headers: &http::HeaderMap) -> bool {
    headers.contains_key("last-event-id") && headers.contains_key("mcp-session-id")
}

/// The pseudo-methods the policy grants GET and DELETE by: the GET stream carries whatever
/// the server notifies (2026-07-28 names its successor `subscriptions/listen`); DELETE ends
/// the caller's own session.
pub const STREAM_METHOD: &str = "subscriptions/listen";
pub const END_SESSION_METHOD: &str = "session/delete";

/// GET and DELETE carry no JSON-RPC body, so the policy judges them by their pseudo-method.
/// Not granted: 405, which MCP clients read as "this server offers no stream / keeps its
/// sessions" (Streamable HTTP §"Listening for Messages", §"Session Management").
fn judge_stream(
    policy: &Policy,
    who: &Identity,
    method: &http::Method,
    resumes: bool,
) -> Result<String, Rejection> {
    if resumes && method == http::Method::GET {
        // Resuming a stream of one's own session (its id is checked to be the caller's): a
        // tool call's answer the server sent after closing the POST stream (SEP-1699).
        return Ok("authenticated.resume".into());
    }
    let name = if method == http::Method::GET {
        STREAM_METHOD
    } else {
        END_SESSION_METHOD
    };
    let call = jsonrpc::Call {
        id: None,
        method: name.to_string(),
        target: CallTarget::Method,
        revision: None,
        tasks: Vec::new(),
        may_create_task: false,
    };
    let decision = policy.decide(who, &call);
    if decision.allowed {
        Ok(decision.rule)
    } else {
        Err(Rejection::NotGranted(format!(
            "{} is not granted {name} ({method} on the MCP endpoint)",
            describe_roles(who)
        )))
    }
}

/// A client's answer must answer a request the server sent this caller, and only once: an
/// answer to another caller's request (or to none) never reaches the upstream.
fn check_answers(
    sent: &ServerRequests,
    who: &Identity,
    request: &Request,
) -> Result<(), Rejection> {
    for call in request.calls() {
        if call.target != CallTarget::Answer {
            continue;
        }
        let id = call.id.as_ref().map(Value::to_string).unwrap_or_default();
        if !sent.answer(who, &id) {
            return Err(Rejection::Forbidden(
                "this response answers no request the server sent this caller".into(),
            ));
        }
    }
    Ok(())
}

/// The request line and header fields as sent, roughly: what the upstream would have to read.
fn header_bytes(request: &pingora::http::RequestHeader) -> usize {
    let target = request.uri.path_and_query().map_or(1, |p| p.as_str().len());
    let line = target + 16;
    request
        .headers
        .iter()
        .fold(line, |n, (k, v)| n + k.as_str().len() + v.len() + 4)
}

/// Only the MCP endpoint is proxied: whatever else the upstream serves (admin or debug routes)
/// stays out of reach. Compared as sent: `/mcp/../admin` or `/%6Dcp` is not `/mcp`.
fn is_mcp_path(paths: &[String], path: &str) -> bool {
    let path = path.strip_suffix('/').unwrap_or(path);
    paths.iter().any(|p| p == path)
}

/// Rules of the transport, before any credential is looked at: no token in the query, an
/// allowed `Origin`, a known protocol revision.
fn check_transport(settings: &crate::config::Settings, session: &Session) -> Result<(), Rejection> {
    let request = session.req_header();
    transport::check_query(request.uri.query())?;
    transport::check_host(&values(&request.headers, "host"), &settings.allowed_hosts)?;
    transport::check_origin(
        &values(&request.headers, "origin"),
        &settings.allowed_origins,
        &settings.allowed_hosts,
    )?;
    Ok(())
}

/// A session id must be one this caller created through us (see `session`).
async fn check_session(store: &Store, who: &Identity, session: &Session) -> Result<(), Rejection> {
    let ids = values(&session.req_header().headers, "mcp-session-id");
    match ids.as_slice() {
        [] => Ok(()),
        [id] => {
            let id = std::str::from_utf8(id).map_err(|_| Rejection::SessionNotFound)?;
            match store.check(Kind::Session, id, who).await? {
                Ownership::Owner => Ok(()),
                _ => Err(Rejection::SessionNotFound),
            }
        }
        _ => Err(Rejection::BadRequest(
            "more than one Mcp-Session-Id header".into(),
        )),
    }
}

fn values<'a>(headers: &'a http::HeaderMap, name: &str) -> Vec<&'a [u8]> {
    headers.get_all(name).iter().map(|v| v.as_bytes()).collect()
}

async fn authenticate(
    runtime: &Arc<Runtime>,
    session: &Session,
) -> Result<Arc<Identity>, Rejection> {
    let values: Vec<&[u8]> = session
        .req_header()
        .headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let token = auth::bearer_token(&values).map_err(Rejection::Unauthenticated)?;
    match runtime.verifier.verify_shared(token) {
        Err(auth::AuthError::UnknownKey) if refetch_keys(runtime, token).await => runtime
            .verifier
            .verify_shared(token)
            .map_err(Rejection::Unauthenticated),
        verdict => verdict.map_err(Rejection::Unauthenticated),
    }
}

/// The issuer may have rotated its keys: refetch its JWKS once (rate-limited, off the event
/// loop, bounded in time) before refusing.
async fn refetch_keys(runtime: &Arc<Runtime>, token: &str) -> bool {
    let runtime = runtime.clone();
    let token = token.to_string();
    let fetch = tokio::task::spawn_blocking(move || runtime.verifier.refetch_keys_for(&token));
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(6), fetch).await,
        Ok(Ok(true))
    )
}

fn decide(policy: &Policy, who: &Identity, request: &Request) -> Result<Vec<String>, Rejection> {
    match policy.decide_request(who, request) {
        Ok(decisions) => Ok(decisions.into_iter().map(|d| d.rule).collect()),
        Err((call, _)) => Err(Rejection::Forbidden(format!(
            "{} may not call {}",
            describe_roles(who),
            call.describe()
        ))),
    }
}

/// Shadow mode: judge the request with the candidate policy too; log and count disagreements,
/// never enforce them.
fn compare_with_shadow(
    live: &Live,
    policy: &Policy,
    who: &Identity,
    request: &Request,
    live_allowed: bool,
) -> bool {
    let Some(shadow) = live.shadow.load_full() else {
        return false;
    };
    let shadow_allowed = shadow.decide_request(who, request).is_ok();
    if shadow_allowed != live_allowed {
        let call = request.calls().first();
        let total = live.count_shadow_disagreement();
        tracing::warn!(
            target: "mcp_gatekeeper::shadow",
            roles = %who.roles_label(),
            method = call.map_or("-", |c| c.method.as_str()),
            tool = call.and_then(|c| c.tool()).unwrap_or("-"),
            live = if live_allowed { "allow" } else { "deny" },
            shadow = if shadow_allowed { "allow" } else { "deny" },
            live_version = policy.version(),
            shadow_version = shadow.version(),
            total,
            "shadow policy disagrees"
        );
    }
    shadow_allowed != live_allowed
}

fn describe_roles(who: &Identity) -> String {
    match who.roles.as_slice() {
        [] => "a caller with no role".to_string(),
        [one] => format!("role '{one}'"),
        many => format!("roles '{}'", many.join(", ")),
    }
}
