//! Prometheus metrics (`gatekeeper_*`). Every label comes from a bounded set — methods MCP
//! defines, tools and roles the policy names, fixed reasons — and anything else is `other`:
//! never a user id, a patient id or any value from a request.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

use crate::policy::Policy;

/// Buckets from 50 µs to 10 s: fine enough to see sub-millisecond proxy overhead.
const LATENCY_BUCKETS: [f64; 16] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    1.0, 2.5, 10.0,
];

/// MCP methods that may appear as a `method` label; anything else is `other`.
const KNOWN_METHODS: [&str; 16] = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
];

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    auth_failures: IntCounterVec,
    decisions: IntCounterVec,
    shadow_disagreements: IntCounter,
    reloads: IntCounterVec,
    policy_info: IntGaugeVec,
    last_reload: Gauge,
    request_seconds: Histogram,
    upstream_seconds: Histogram,
    upstream_errors: IntCounterVec,
    in_flight: IntGauge,
    audit_dropped: IntCounter,
    redactions: IntCounterVec,
    connections_refused: IntCounter,
    open_connections: IntGauge,
    tls_expiry: IntGaugeVec,
    rate_limited: IntCounterVec,
    state_up: IntGauge,
}

fn counter_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn histogram(r: &Registry, name: &str, help: &str) -> prometheus::Result<Histogram> {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()))?;
    r.register(Box::new(h.clone()))?;
    Ok(h)
}

impl Metrics {
    pub fn new() -> prometheus::Result<Self> {
        let r = Registry::new();
        let shadow_disagreements = IntCounter::new(
            "gatekeeper_shadow_disagreements_total",
            "Requests the shadow policy would have decided differently",
        )?;
        r.register(Box::new(shadow_disagreements.clone()))?;
        let policy_info = IntGaugeVec::new(
            Opts::new(
                "gatekeeper_policy_info",
                "The loaded policy's version (value is always 1)",
            ),
            &["version"],
        )?;
        r.register(Box::new(policy_info.clone()))?;
        let last_reload = Gauge::new(
            "gatekeeper_policy_last_reload_timestamp_seconds",
            "Unix time of the last successful policy load",
        )?;
        r.register(Box::new(last_reload.clone()))?;
        let in_flight = IntGauge::new("gatekeeper_in_flight_requests", "Requests being handled")?;
        r.register(Box::new(in_flight.clone()))?;
        let audit_dropped = IntCounter::new(
            "gatekeeper_audit_dropped_total",
            "Audit records lost because the sink could not keep up or failed (audit.on_failure: drop)",
        )?;
        r.register(Box::new(audit_dropped.clone()))?;
        let connections_refused = IntCounter::new(
            "gatekeeper_connections_refused_total",
            "Connections answered 503 and closed because limits.max_connections were open",
        )?;
        r.register(Box::new(connections_refused.clone()))?;
        let open_connections = IntGauge::new(
            "gatekeeper_open_connections",
            "Downstream connections being served (at most limits.max_connections)",
        )?;
        r.register(Box::new(open_connections.clone()))?;
        let tls_expiry = IntGaugeVec::new(
            Opts::new(
                "gatekeeper_tls_certificate_expiry_timestamp_seconds",
                "Unix time the certificate in use expires (notAfter), by listener",
            ),
            &["listener"],
        )?;
        r.register(Box::new(tls_expiry.clone()))?;
        let state_up = IntGauge::new(
            "gatekeeper_state_store_up",
            "Whether the shared state store (Redis) answered the last operation (memory: always 1)",
        )?;
        r.register(Box::new(state_up.clone()))?;
        state_up.set(1);
        Ok(Metrics {
            state_up,
            rate_limited: counter_vec(
                &r,
                "gatekeeper_rate_limited_total",
                "Calls refused (429) for a rate limit, by role and tool",
                &["role", "tool"],
            )?,
            tls_expiry,
            open_connections,
            connections_refused,
            requests: counter_vec(
                &r,
                "gatekeeper_requests_total",
                "Requests by JSON-RPC method, tool, role, decision and HTTP status",
                &["method", "tool", "role", "decision", "status"],
            )?,
            auth_failures: counter_vec(
                &r,
                "gatekeeper_auth_failures_total",
                "Authentication failures by reason",
                &["reason"],
            )?,
            decisions: counter_vec(
                &r,
                "gatekeeper_policy_decisions_total",
                "Policy decisions",
                &["decision"],
            )?,
            reloads: counter_vec(
                &r,
                "gatekeeper_reloads_total",
                "File reloads by file and result",
                &["file", "result"],
            )?,
            request_seconds: histogram(
                &r,
                "gatekeeper_request_duration_seconds",
                "Time from request start to the end of the response",
            )?,
            upstream_seconds: histogram(
                &r,
                "gatekeeper_upstream_duration_seconds",
                "Time from choosing the upstream to its response header",
            )?,
            upstream_errors: counter_vec(
                &r,
                "gatekeeper_upstream_errors_total",
                "Upstream failures by kind",
                &["kind"],
            )?,
            redactions: counter_vec(
                &r,
                "gatekeeper_redactions_total",
                "Values redacted from responses, by entity type",
                &["entity"],
            )?,
            shadow_disagreements,
            policy_info,
            last_reload,
            in_flight,
            audit_dropped,
            registry: r,
        })
    }

    /// The text exposition format, with the derived `seconds since last reload` gauge and the
    /// log's dropped lines (counted by its writer, not by this registry).
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        let since = (unix_now() - self.last_reload.get()).max(0.0);
        out.extend_from_slice(
            format!("# HELP gatekeeper_policy_seconds_since_reload Seconds since the last successful policy load\n# TYPE gatekeeper_policy_seconds_since_reload gauge\ngatekeeper_policy_seconds_since_reload {since:.3}\n").as_bytes(),
        );
        let dropped = crate::logs::dropped_lines();
        out.extend_from_slice(
            format!("# HELP gatekeeper_log_lines_dropped_total Log lines dropped because stderr did not keep up\n# TYPE gatekeeper_log_lines_dropped_total counter\ngatekeeper_log_lines_dropped_total {dropped}\n").as_bytes(),
        );
        out
    }

    pub fn request(&self, labels: &RequestLabels, duration: Duration) {
        let status = labels.status.to_string();
        self.requests
            .with_label_values(&[
                labels.method,
                labels.tool.as_str(),
                labels.role.as_str(),
                labels.decision,
                &status,
            ])
            .inc();
        self.request_seconds.observe(duration.as_secs_f64());
    }

    pub fn auth_failure(&self, reason: &str) {
        self.auth_failures.with_label_values(&[reason]).inc();
    }

    pub fn decision(&self, allowed: bool) {
        self.decisions
            .with_label_values(&[if allowed { "allow" } else { "deny" }])
            .inc();
    }

    pub fn shadow_disagreement(&self) {
        self.shadow_disagreements.inc();
    }

    pub fn reload(&self, file: &'static str, ok: bool) {
        self.reloads
            .with_label_values(&[file, if ok { "success" } else { "failure" }])
            .inc();
    }

    /// A policy became live: the info metric names only the current version.
    pub fn policy_loaded(&self, version: &str) {
        self.policy_info.reset();
        self.policy_info.with_label_values(&[version]).set(1);
        self.last_reload.set(unix_now());
    }

    pub fn rate_limited(&self, role: &str, tool: &str) {
        self.rate_limited.with_label_values(&[role, tool]).inc();
    }

    pub fn state_store_up(&self, up: bool) {
        self.state_up.set(i64::from(up));
    }

    /// The certificate `listener` serves now expires at `not_after` (Unix seconds).
    pub fn tls_expiry(&self, listener: &'static str, not_after: i64) {
        self.tls_expiry
            .with_label_values(&[listener])
            .set(not_after);
    }

    pub fn upstream_latency(&self, duration: Duration) {
        self.upstream_seconds.observe(duration.as_secs_f64());
    }

    pub fn upstream_error(&self, kind: &'static str) {
        self.upstream_errors.with_label_values(&[kind]).inc();
    }

    pub fn in_flight(&self) -> &IntGauge {
        &self.in_flight
    }

    /// `entity` is one of the redactor's fixed entity labels.
    pub fn redactions(&self, entity: &str, n: u64) {
        self.redactions.with_label_values(&[entity]).inc_by(n);
    }

    pub fn audit_dropped(&self) {
        self.audit_dropped.inc();
    }

    pub fn connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// The gauge of open connections; a connection holds a clone and decrements it on close.
    pub fn open_connections(&self) -> IntGauge {
        self.open_connections.clone()
    }
}

/// The labels of one request, already reduced to bounded sets.
pub struct RequestLabels {
    pub method: &'static str,
    pub tool: String,
    pub role: String,
    pub decision: &'static str,
    pub status: u16,
}

/// `method` as a label: a known MCP method, `legacy` (method named after a tool), the HTTP
/// verb for streams, `-` when no body was parsed, or `other`.
pub fn method_label(method: &str, legacy: bool) -> &'static str {
    if legacy {
        return "legacy";
    }
    match method {
        "GET" => "GET",
        "DELETE" => "DELETE",
        // A POST refused before its body was parsed (authentication, framing).
        "POST" => "-",
        // A client's answer to a server's request has no method.
        "" => "response",
        m => KNOWN_METHODS
            .iter()
            .find(|k| **k == m)
            .copied()
            .unwrap_or("other"),
    }
}

/// `tool` as a label: a tool the policy names, `-` for none, else `other`.
pub fn tool_label(policy: &Policy, tool: Option<&str>) -> String {
    match tool {
        None => "-".into(),
        Some(t) if policy.names_tool(t) => t.to_string(),
        Some(_) => "other".into(),
    }
}

/// `role` as a label: the one role the policy knows, `multiple`, `none`, or `other`.
pub fn role_label(policy: &Policy, roles: Option<&[String]>) -> String {
    match roles {
        None | Some([]) => "none".into(),
        Some([one]) if policy.names_role(one) => one.clone(),
        Some([_]) => "other".into(),
        Some(_) => "multiple".into(),
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_bounded_sets() {
        let p = Policy::from_yaml("roles:\n  Nurse: {tools: [get_patient]}\n").unwrap();
        assert_eq!(tool_label(&p, Some("get_patient")), "get_patient");
        assert_eq!(tool_label(&p, Some("NUGWI-123-45-6789")), "other");
        assert_eq!(role_label(&p, Some(&["Nurse".into()])), "Nurse");
        assert_eq!(role_label(&p, Some(&["user-4711".into()])), "other");
        assert_eq!(method_label("tools/call", false), "tools/call");
        assert_eq!(method_label("whatever/leak", false), "other");
        assert_eq!(method_label("get_patient", true), "legacy");
    }

    #[test]
    fn renders_the_text_format() {
        let m = Metrics::new().unwrap();
        m.policy_loaded("v1");
        m.auth_failure("expired");
        let text = String::from_utf8(m.render()).unwrap();
        assert!(text.contains("gatekeeper_auth_failures_total{reason=\"expired\"} 1"));
        assert!(text.contains("gatekeeper_policy_info{version=\"v1\"} 1"));
        assert!(text.contains("gatekeeper_policy_seconds_since_reload"));
    }
}
