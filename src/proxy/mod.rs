//! The Pingora shell: one `ProxyHttp` impl whose phases hand each request to the pure core.
//!
//! `admit` (request phase), `upstream` (peer and headers), `rewrite` (the one response path),
//! `large_body` (bodies past Pingora's 64 KiB replay buffer), `respond` (our own answers),
//! `record` (audit and metrics), `admin` (the operators' listener), `server` (start-up).

pub mod admin;
mod admit;
mod coalesce;
mod connections;
mod large_body;
mod mcp_sessions;
mod metadata;
mod record;
mod rejection;
mod respond;
mod rewrite;
pub mod server;
mod upstream;

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::prelude::HttpPeer;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::{Error, ErrorSource, ErrorType, Result};

use crate::audit::OnFailure;
use crate::audit_sink::{AuditSink, Slot};
use crate::live::{Live, Runtime};
use crate::mcp_session::{ServerRequests, ToolParams};
use crate::metrics::Metrics;
use crate::state::{Kind, Store};
use rejection::Rejection;

use crate::response::Rewrite;
pub use admit::Admitted;
use admit::Refusal;

/// The gatekeeper service: what it decides with lives in `Live` (shared with the reloader);
/// what it reports goes to `metrics` and `audit`.
pub struct Gatekeeper {
    pub live: Arc<Live>,
    pub metrics: Arc<Metrics>,
    pub audit: Arc<AuditSink>,
    /// Session and task bindings and rate-limit buckets: this process's or shared (Redis).
    pub state: Arc<Store>,
    /// Requests the server sent each caller, which only that caller may answer.
    pub server_requests: Arc<ServerRequests>,
    /// The `Mcp-Param-*` headers each tool declares.
    pub tool_params: Arc<ToolParams>,
    /// The revisions the upstream speaks, from its last `server/discover` answer.
    pub upstream_versions: arc_swap::ArcSwapOption<Vec<String>>,
    /// Our certificate for an upstream that asks for one (`upstream_tls.cert_file`).
    pub upstream_cert: Option<Arc<pingora::utils::tls::CertKey>>,
}

/// What one request carries through the phases.
pub struct RequestCtx {
    started: Instant,
    /// Formatted only when a line is written (the audit trail, an error log).
    request_id: uuid::Uuid,
    /// The settings snapshot this request runs under, from start to end.
    runtime: Arc<Runtime>,
    admitted: Option<Admitted>,
    refused: Option<Box<Refusal>>,
    /// How the answer is rewritten (filtered, redacted); `None` passes it as it came.
    rewrite: Option<Rewrite>,
    /// Set on the subrequest that carries a large body; the main request reports for both.
    is_subrequest: bool,
    in_flight: bool,
    upstream_started: Option<Instant>,
    upstream_status: Option<u16>,
    upstream_error: Option<&'static str>,
    /// A public document (the resource metadata) was served: nothing to audit.
    public_document: bool,
    /// The audit queue place reserved for this request's record (`reject` mode).
    audit_slot: Option<Slot>,
}

#[async_trait]
impl ProxyHttp for Gatekeeper {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            started: Instant::now(),
            request_id: uuid::Uuid::new_v4(),
            runtime: self.live.runtime.load_full(),
            admitted: None,
            refused: None,
            rewrite: None,
            is_subrequest: false,
            in_flight: false,
            upstream_started: None,
            upstream_status: None,
            upstream_error: None,
            public_document: false,
            audit_slot: None,
        }
    }

    fn allow_spawning_subrequest(&self, session: &Session, _ctx: &RequestCtx) -> bool {
        session.subrequest_ctx.is_none()
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        if session.subrequest_ctx.is_some() {
            return self.resume_subrequest(session, ctx).await;
        }
        if session.req_header().method == http::Method::GET
            && metadata::is_metadata_path(session.req_header().uri.path())
        {
            ctx.public_document = true;
            let resource = metadata::resource(&ctx.runtime, session);
            respond::json(session, &metadata::document(&ctx.runtime, &resource)).await?;
            return Ok(true);
        }
        self.metrics.in_flight().inc();
        ctx.in_flight = true;
        if self.audit.on_failure() == OnFailure::Reject {
            // A place for this request's record, held from now on: once served, its record
            // is queued at once even if the writer stalls meanwhile (no wait, no loss).
            ctx.audit_slot = self.audit.reserve();
            if ctx.audit_slot.is_none() {
                return self
                    .refuse(session, ctx, Box::new(Rejection::AuditUnavailable.into()))
                    .await;
            }
        }
        let deadline = ctx.started + ctx.runtime.settings.request_deadline;
        let state = admit::State {
            live: &self.live,
            runtime: &ctx.runtime,
            store: &self.state,
            server_requests: &self.server_requests,
            tool_params: &self.tool_params,
            upstream_versions: &self.upstream_versions,
        };
        match admit::admit(&state, session, deadline).await {
            Ok(admitted) => self.forward(session, ctx, admitted).await,
            Err(refusal) => self.refuse(session, ctx, refusal).await,
        }
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> Result<Box<HttpPeer>> {
        ctx.upstream_started = Some(Instant::now());
        let event_stream = ctx.admitted.as_ref().is_some_and(Admitted::opens_stream);
        Ok(upstream::peer(
            &ctx.runtime.settings,
            event_stream,
            self.upstream_cert.as_ref(),
        ))
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        request: &mut pingora::http::RequestHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        let admitted = ctx.admitted.as_ref().ok_or_else(|| {
            Error::explain(ErrorType::InternalError, "forwarding an unadmitted request")
        })?;
        let modern = admitted.revision.is_some_and(crate::transport::is_modern);
        upstream::rewrite_request_headers(
            request,
            &admitted.identity,
            &ctx.runtime.settings,
            modern,
        )
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        // The reason phrase is the upstream's own text (RFC 9112 §4: clients ignore it), free
        // to carry what the body may not: every answer gets the status code's canonical one.
        response.set_reason_phrase(None)?;
        if rewrite::on_interim(ctx.rewrite.as_ref(), response) {
            return Ok(());
        }
        if let Some(started) = ctx.upstream_started.take() {
            ctx.upstream_status = Some(response.status.as_u16());
            self.metrics.upstream_latency(started.elapsed());
        }
        if let Some(admitted) = &ctx.admitted {
            mcp_sessions::track(&self.state, session, response, admitted).await;
        }
        if let Some(rewrite) = ctx.rewrite.as_mut() {
            // Only a redacted role's headers are checked against the request's `Origin`.
            let origin = rewrite
                .redacts()
                .then(|| session.req_header().headers.get(http::header::ORIGIN))
                .flatten()
                .and_then(|o| o.to_str().ok())
                .map(str::to_owned);
            if rewrite::on_head(rewrite, response, origin.as_deref())? {
                coalesce::hold(session, response);
            }
        }
        Ok(())
    }

    fn response_body_filter(
        &self,
        session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut RequestCtx,
    ) -> Result<Option<std::time::Duration>> {
        if let Some(rewrite) = ctx.rewrite.as_mut().filter(|r| r.only_observes()) {
            // Sent on as it came: only read for what the server creates.
            rewrite.observe(body.as_deref().unwrap_or_default(), end_of_stream);
            if let Some(admitted) = &ctx.admitted {
                self.remember(&admitted.identity, rewrite.take_observed());
            }
            return Ok(None);
        }
        if let Some(rewrite) = ctx.rewrite.as_mut().filter(|r| !r.passes_through()) {
            let chunk = body.take().unwrap_or_default();
            let out = rewrite.push(&chunk, end_of_stream);
            if let Some(admitted) = &ctx.admitted {
                self.remember(&admitted.identity, rewrite.take_observed());
            }
            if !out.is_empty() || end_of_stream {
                *body = Some(Bytes::from(out));
            }
            if end_of_stream {
                coalesce::end(session);
            }
        }
        Ok(None)
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let rejection = upstream_failure(e);
        if let Some(r) = &rejection {
            ctx.upstream_error = Some(r.kind());
            self.metrics.upstream_error(r.kind());
        }
        let code = match &rejection {
            Some(r) if session.response_written().is_none() => {
                let id = ctx
                    .admitted
                    .as_ref()
                    .and_then(|a| a.request.as_ref()?.error_id().cloned());
                if let Err(err) = respond::reject(session, r, id.as_ref(), None).await {
                    tracing::debug!(error = %err, "could not send the error response");
                }
                r.status()
            }
            _ => 0,
        };
        FailToProxy {
            error_code: code,
            can_reuse_downstream: false,
        }
    }

    async fn logging(&self, session: &mut Session, error: Option<&Error>, ctx: &mut RequestCtx) {
        coalesce::finish(session);
        if ctx.is_subrequest {
            // The main request writes the one audit line; hand it what this part redacted.
            if let (Some(a), Some(r)) = (&ctx.admitted, &ctx.rewrite) {
                if let Ok(mut shared) = a.subrequest_redactions.lock() {
                    crate::redact::merge_counts(&mut shared, r.counts.clone());
                }
            }
            return;
        }
        if ctx.public_document {
            return;
        }
        if error.is_some() && ctx.upstream_error.is_none() && ctx.refused.is_none() {
            ctx.upstream_error = Some("aborted");
        }
        let status = session.response_written().map_or(0, |r| r.status.as_u16());
        let headers = &session.req_header().headers;
        let session_id = headers.get("mcp-session-id").and_then(|v| v.to_str().ok());
        let record = self.record(
            ctx,
            session.req_header().method.as_str(),
            session_id,
            status,
        );
        self.submit_audit(record, ctx.request_id, ctx.audit_slot.take());
        if self.state.is_shared() {
            self.metrics.state_store_up(self.state.is_up());
        }
        // Last: a request stops counting as in flight once its metrics and audit line are in.
        if ctx.in_flight {
            self.metrics.in_flight().dec();
        }
    }
}

impl Gatekeeper {
    /// Sends an admitted request on: Pingora replays bodies up to 64 KiB itself; larger ones
    /// go through a subrequest fed from memory (see `large_body`).
    async fn forward(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        admitted: Admitted,
    ) -> Result<bool> {
        self.plan_response(ctx, &admitted).await;
        let replayable = session
            .get_retry_buffer()
            .is_some_and(|b| b.len() == admitted.body.len());
        if admitted.body.is_empty() || replayable {
            ctx.admitted = Some(admitted);
            return Ok(false);
        }
        ctx.admitted = Some(admitted.clone());
        large_body::forward(session, admitted).await?;
        Ok(true)
    }

    /// How the answer will be rewritten: lists filtered to what the role may use, and every
    /// message redacted for the role — lists included.
    async fn plan_response(&self, ctx: &mut RequestCtx, admitted: &Admitted) {
        let lists_tasks = admitted
            .request
            .as_ref()
            .is_some_and(|r| r.calls().iter().any(|c| c.method == "tasks/list"));
        // Unknown when the store is down: the list then shows none (fail closed).
        let own_tasks = match lists_tasks {
            true => self
                .state
                .owned(Kind::Task, &admitted.identity)
                .await
                .unwrap_or_default(),
            false => Vec::new(),
        };
        ctx.rewrite = rewrite::plan(&ctx.runtime.settings, admitted, own_tasks);
    }

    /// What the server's messages created: requests only this caller may answer, tasks only
    /// this caller may poll, and the headers each listed tool declares.
    fn remember(&self, who: &crate::auth::Identity, observed: crate::response::Observed) {
        for id in observed.server_requests {
            self.server_requests.sent(who, id);
        }
        for task in observed.tasks {
            // The memory store binds at once; a shared one in the background, before the
            // client can have read the id (a poll that races it gets one retry, see admit).
            let (state, who) = (Arc::clone(&self.state), who.clone());
            if !state.bind_now(Kind::Task, &task, &who) {
                tokio::spawn(async move {
                    if let Err(e) = state.bind(Kind::Task, &task, &who).await {
                        tracing::error!(error = %e, "a task's binding could not be stored");
                    }
                });
            }
        }
        for (tool, params) in observed.tools {
            self.tool_params.learn(tool, params);
        }
        if let Some(versions) = observed.versions.filter(|v| !v.is_empty()) {
            self.upstream_versions.store(Some(Arc::new(versions)));
        }
    }

    async fn refuse(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        refusal: Box<Refusal>,
    ) -> Result<bool> {
        let metadata = matches!(refusal.rejection, Rejection::Unauthenticated(_))
            .then(|| metadata::metadata_url(&metadata::resource(&ctx.runtime, session)));
        let result = respond::reject(
            session,
            &refusal.rejection,
            refusal.id.as_ref(),
            metadata.as_deref(),
        )
        .await;
        ctx.refused = Some(refusal);
        result.map(|()| true)
    }

    /// The subrequest's request phase: the main request already decided; take its verdict.
    async fn resume_subrequest(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        ctx.is_subrequest = true;
        let Some(admitted) = large_body::admitted_of(session) else {
            respond::reject(
                session,
                &Rejection::Internal("subrequest without a decision".into()),
                None,
                None,
            )
            .await?;
            return Ok(true);
        };
        self.plan_response(ctx, &admitted).await;
        ctx.admitted = Some(admitted);
        Ok(false)
    }
}

/// Maps a proxying error to our answer: 504 for timeouts, 502 for the rest of the upstream's
/// failures; `None` when the downstream is gone and there is no one to answer.
fn upstream_failure(e: &Error) -> Option<Rejection> {
    use ErrorType::*;
    let what = e.etype().as_str().to_string();
    if matches!(
        e.etype(),
        TLSHandshakeFailure | InvalidCert | HandshakeError
    ) {
        // What was wrong with the upstream's certificate (expired, unknown issuer, another
        // name), as rustls put it: the operator's first question.
        let cause = e.to_string().chars().take(300).collect::<String>();
        return Some(Rejection::UpstreamUnavailable(format!(
            "TLS to the upstream failed, nothing was sent ({cause})"
        )));
    }
    match (e.esource(), e.etype()) {
        (_, ConnectTimedout | ReadTimedout | WriteTimedout) => {
            Some(Rejection::UpstreamTimeout(what))
        }
        (ErrorSource::Upstream, _) | (_, ConnectRefused | ConnectNoRoute | ConnectError) => {
            Some(Rejection::UpstreamUnavailable(what))
        }
        (ErrorSource::Downstream, ReadError | WriteError | ConnectionClosed) => None,
        (ErrorSource::Downstream, _) => Some(Rejection::BadRequest(what)),
        _ => Some(Rejection::Internal(what)),
    }
}
