//! The Pingora shell: one `ProxyHttp` impl whose phases hand each request to the pure core.
//!
//! `admit` (request phase), `upstream` (peer and headers), `list_filter` (responses),
//! `large_body` (bodies past Pingora's 64 KiB replay buffer), `respond` (our own answers).

mod admit;
mod large_body;
mod list_filter;
mod respond;
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

use crate::error::Rejection;
use crate::live::{Live, Runtime};

pub use admit::Admitted;
use list_filter::ListFilter;

/// The gatekeeper service: everything it decides with lives in `Live`, shared with the reloader.
pub struct Gatekeeper {
    pub live: Arc<Live>,
}

/// What one request carries through the phases.
pub struct RequestCtx {
    started: Instant,
    /// The settings snapshot this request runs under, from start to end.
    runtime: Arc<Runtime>,
    admitted: Option<Admitted>,
    refused: Option<&'static str>,
    list_filter: Option<ListFilter>,
    /// Set on the subrequest that carries a large body; the main request logs for both.
    is_subrequest: bool,
}

#[async_trait]
impl ProxyHttp for Gatekeeper {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            started: Instant::now(),
            runtime: self.live.runtime.load_full(),
            admitted: None,
            refused: None,
            list_filter: None,
            is_subrequest: false,
        }
    }

    fn allow_spawning_subrequest(&self, session: &Session, _ctx: &RequestCtx) -> bool {
        session.subrequest_ctx.is_none()
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        if session.subrequest_ctx.is_some() {
            return self.resume_subrequest(session, ctx).await;
        }
        match admit::admit(&self.live, &ctx.runtime, session).await {
            Ok(admitted) => self.forward(session, ctx, admitted).await,
            Err(refusal) => {
                ctx.refused = Some(refusal.rejection.kind());
                log_refusal(&refusal);
                respond::reject(session, &refusal.rejection, refusal.id.as_ref()).await?;
                Ok(true)
            }
        }
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> Result<Box<HttpPeer>> {
        Ok(upstream::peer(&ctx.runtime.settings))
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
        upstream::rewrite_request_headers(request, &admitted.identity, &ctx.runtime.settings)
    }

    async fn response_filter(
        &self,
        _session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        if let Some(filter) = ctx.list_filter.as_mut() {
            filter.on_header(response)?;
        }
        Ok(())
    }

    fn response_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut RequestCtx,
    ) -> Result<Option<std::time::Duration>> {
        if let Some(filter) = ctx.list_filter.as_mut() {
            filter.on_body(body, end_of_stream);
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
        let code = match &rejection {
            Some(r) if session.response_written().is_none() => {
                let id = ctx
                    .admitted
                    .as_ref()
                    .and_then(|a| a.request.as_ref()?.error_id().cloned());
                if let Err(err) = respond::reject(session, r, id.as_ref()).await {
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
        if ctx.is_subrequest {
            return;
        }
        let status = session.response_written().map_or(0, |r| r.status.as_u16());
        let latency_us = ctx.started.elapsed().as_micros() as u64;
        match (&ctx.admitted, ctx.refused) {
            (Some(a), _) => {
                let call = a.request.as_ref().and_then(|r| r.calls().first());
                tracing::info!(
                    target: "mcp_gatekeeper::access",
                    user_id = %a.identity.user_id,
                    roles = %a.identity.roles_label(),
                    method = call.map_or(session.req_header().method.as_str(), |c| c.method.as_str()),
                    tool = call.and_then(|c| c.tool()).unwrap_or("-"),
                    decision = "allow",
                    rule = a.rules.first().map_or("-", String::as_str),
                    status,
                    latency_us,
                    error = error.map(|e| e.etype().as_str()).unwrap_or("-"),
                );
            }
            (None, Some(kind)) => {
                tracing::debug!(target: "mcp_gatekeeper::access", decision = kind, status, latency_us)
            }
            (None, None) => {
                tracing::info!(target: "mcp_gatekeeper::access", decision = "error", status, latency_us)
            }
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
        ctx.list_filter = ListFilter::for_request(&ctx.runtime.settings, &admitted);
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

    /// The subrequest's request phase: the main request already decided; take its verdict.
    async fn resume_subrequest(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        ctx.is_subrequest = true;
        let Some(admitted) = large_body::admitted_of(session) else {
            respond::reject(
                session,
                &Rejection::Internal("subrequest without a decision".into()),
                None,
            )
            .await?;
            return Ok(true);
        };
        ctx.list_filter = ListFilter::for_request(&ctx.runtime.settings, &admitted);
        ctx.admitted = Some(admitted);
        Ok(false)
    }
}

/// Maps a proxying error to our answer: 504 for timeouts, 502 for the rest of the upstream's
/// failures; `None` when the downstream is gone and there is no one to answer.
fn upstream_failure(e: &Error) -> Option<Rejection> {
    use ErrorType::*;
    let what = e.etype().as_str().to_string();
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

fn log_refusal(refusal: &admit::Refusal) {
    let (user_id, roles) = refusal
        .identity
        .as_ref()
        .map_or(("-".to_string(), "-".to_string()), |i| {
            (i.user_id.clone(), i.roles_label())
        });
    let call = refusal.request.as_ref().and_then(|r| r.calls().first());
    tracing::info!(
        target: "mcp_gatekeeper::access",
        user_id = %user_id,
        roles = %roles,
        method = call.map_or("-", |c| c.method.as_str()),
        tool = call.and_then(|c| c.tool()).unwrap_or("-"),
        decision = "deny",
        reason = refusal.rejection.kind(),
        status = refusal.rejection.status(),
    );
}
