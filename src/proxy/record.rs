//! The logging phase: every request — allowed, refused or failed — yields exactly one audit
//! record and one set of metric updates. Only identities, methods, tools, decisions and counts
//! are recorded; arguments appear at most as a keyed HMAC, response data never.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::rejection::Rejection;
use super::{Gatekeeper, RequestCtx};
use crate::audit::AuditRecord;
use crate::audit_sink::Slot;
use crate::auth::Identity;
use crate::jsonrpc::{Call, CallTarget, Request};
use crate::metrics::{method_label, role_label, tool_label, RequestLabels};
use crate::redact::Counts;

/// What one request amounted to, from either path.
struct Summary<'a> {
    identity: Option<&'a Identity>,
    request: Option<&'a Request>,
    http_method: &'a str,
    decision: &'static str,
    rule: String,
    reason: Option<&'static str>,
    policy_version: String,
}

impl Gatekeeper {
    pub(super) fn record(
        &self,
        ctx: &RequestCtx,
        http_method: &str,
        session_id: Option<&str>,
        status: u16,
    ) -> AuditRecord {
        let summary = summarize(self, ctx, http_method);
        let latency = ctx.started.elapsed();
        let first = summary.request.and_then(|r| r.calls().first());
        self.count(&summary, ctx, first, status, latency);
        let policy = self.live.policy.load();
        AuditRecord {
            ts: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            request_id: ctx.request_id.to_string(),
            session_id: session_id.map(|s| s.chars().take(128).collect()),
            user_id: summary.identity.map(|i| i.user_id.clone()),
            username: summary.identity.and_then(|i| i.username.clone()),
            client_cert: summary
                .identity
                .and_then(|i| i.certificate.as_ref())
                .map(|c| c.subject.chars().take(256).collect()),
            roles: summary
                .identity
                .map(|i| i.roles.clone())
                .unwrap_or_default(),
            // A name the client chose (a tool, a legacy method) can carry anything, PHI
            // included: the trail writes it only when the policy names it.
            method: first.map_or_else(
                || summary.http_method.to_string(),
                |c| audit_name(&policy, &c.method, method_label(&c.method, false)),
            ),
            tool: first
                .and_then(Call::tool)
                .map(|t| audit_name(&policy, t, "other")),
            calls: summary.request.map_or(0, |r| r.calls().len()),
            decision: summary.decision,
            rule: summary.rule,
            reason: summary.reason,
            policy_version: summary.policy_version,
            status,
            upstream_status: ctx.upstream_status,
            redactions: redactions(ctx)
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            latency_us: latency.as_micros() as u64,
            args_hmac: first.and_then(|c| args_hmac(ctx.runtime.settings.audit.key.as_deref(), c)),
        }
    }

    /// Hands the record to the audit sink: into the place the request reserved (`reject` mode),
    /// else into a free one; never waits.
    pub(super) fn submit_audit(
        &self,
        record: AuditRecord,
        request_id: uuid::Uuid,
        slot: Option<Slot>,
    ) {
        if let Err(e) = self.audit.submit(record, slot) {
            self.metrics.audit_dropped();
            if let Some(dropped) = self.audit.dropped_to_log() {
                tracing::error!(reason = ?e, dropped, last_request_id = %request_id,
                    "audit records dropped (at most one line a second; gatekeeper_audit_dropped_total counts each)");
            }
        }
    }

    fn count(
        &self,
        s: &Summary,
        ctx: &RequestCtx,
        first: Option<&Call>,
        status: u16,
        latency: Duration,
    ) {
        let policy = self.live.policy.load();
        let legacy =
            first.is_some_and(|c| matches!(c.target, CallTarget::Tool { legacy: true, .. }));
        self.metrics.request(
            &RequestLabels {
                method: first.map_or_else(
                    || method_label(s.http_method, false),
                    |c| method_label(&c.method, legacy),
                ),
                tool: tool_label(&policy, first.and_then(Call::tool)),
                role: role_label(&policy, s.identity.map(|i| i.roles.as_slice())),
                decision: s.decision,
                status,
            },
            latency,
        );
        match (&ctx.admitted, ctx.refused.as_deref()) {
            (Some(a), _) if a.request.is_some() => self.metrics.decision(true),
            (_, Some(r)) => match &r.rejection {
                Rejection::Forbidden(_) => self.metrics.decision(false),
                Rejection::Unauthenticated(e) => self.metrics.auth_failure(e.reason()),
                Rejection::RateLimited { .. } => self.metrics.rate_limited(
                    &role_label(&policy, s.identity.map(|i| i.roles.as_slice())),
                    &tool_label(&policy, first.and_then(Call::tool)),
                ),
                _ => {}
            },
            _ => {}
        }
        for (entity, n) in &redactions(ctx) {
            self.metrics.redactions(entity, *n);
        }
        let disagreed = ctx
            .admitted
            .as_ref()
            .map(|a| a.shadow_disagreed)
            .or(ctx.refused.as_ref().map(|r| r.shadow_disagreed));
        if disagreed == Some(true) {
            self.metrics.shadow_disagreement();
        }
    }
}

fn summarize<'a>(gk: &Gatekeeper, ctx: &'a RequestCtx, http_method: &'a str) -> Summary<'a> {
    if let Some(r) = ctx.refused.as_deref() {
        return Summary {
            identity: r.identity.as_deref(),
            request: r.request.as_ref(),
            http_method,
            decision: match r.rejection {
                Rejection::RateLimited { .. } => "rate_limited",
                _ => "deny",
            },
            rule: match &r.rejection {
                Rejection::Forbidden(_) => "default-deny".into(),
                Rejection::RateLimited { limit, .. } => format!("rate_limits.{limit}"),
                _ => format!("refused:{}", r.rejection.kind()),
            },
            reason: Some(r.rejection.kind()),
            policy_version: gk.live.policy.load().version().to_string(),
        };
    }
    match &ctx.admitted {
        Some(a) => Summary {
            identity: Some(&a.identity),
            request: a.request.as_ref(),
            http_method,
            decision: if ctx.upstream_error.is_some() {
                "error"
            } else {
                "allow"
            },
            rule: a.rules.first().cloned().unwrap_or_default(),
            reason: ctx.upstream_error,
            policy_version: a.policy.version().to_string(),
        },
        None => Summary {
            identity: None,
            request: None,
            http_method,
            decision: "error",
            rule: "-".into(),
            reason: ctx.upstream_error.or(Some("internal")),
            policy_version: gk.live.policy.load().version().to_string(),
        },
    }
}

/// `name` as the audit trail writes it: as sent when it is a protocol method or a tool the
/// policy names, else `fallback`.
fn audit_name(policy: &crate::policy::Policy, name: &str, fallback: &str) -> String {
    if policy.names_tool(name) || method_label(name, false) == name {
        name.to_string()
    } else {
        fallback.to_string()
    }
}

/// What was redacted from the answer, here or in the subrequest that carried a large body.
fn redactions(ctx: &RequestCtx) -> Counts {
    let mut all = ctx
        .rewrite
        .as_ref()
        .map(|r| r.counts.clone())
        .unwrap_or_default();
    if let Some(shared) = ctx
        .admitted
        .as_ref()
        .and_then(|a| a.subrequest_redactions.lock().ok())
    {
        crate::redact::merge_counts(&mut all, shared.clone());
    }
    all
}

/// HMAC-SHA256 of the call's arguments under the audit key, when one is configured.
fn args_hmac(key: Option<&[u8]>, call: &Call) -> Option<String> {
    let CallTarget::Tool { arguments, .. } = &call.target else {
        return None;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key?).ok()?;
    mac.update(Value::Object(arguments.clone()).to_string().as_bytes());
    Some(
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}
