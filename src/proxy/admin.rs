//! The operators' listener (`GATEKEEPER_METRICS_LISTEN`): `GET /metrics` (Prometheus text),
//! `/healthz` (the process answers) and `/readyz` (a policy is loaded, the upstream accepts
//! connections, the listener's certificate has not expired — and whether it expires soon). It
//! carries no MCP traffic and needs no token; bind it to a private address.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use serde_json::json;

use crate::live::Live;
use crate::metrics::Metrics;
use crate::state::Store;
use crate::tls::certs::LiveCert;

pub struct Admin {
    pub live: Arc<Live>,
    pub metrics: Arc<Metrics>,
    /// The listener's certificate, when it serves TLS.
    pub certificate: Option<Expiry>,
    /// The shared state store, asked on every readiness probe.
    pub state: Arc<Store>,
}

/// A certificate to report on, and how early its expiry is worth a warning.
pub struct Expiry {
    pub cert: Arc<LiveCert>,
    pub warning: Duration,
}

impl Expiry {
    /// `(expired, expires within the warning, what to report)`.
    fn report(&self) -> (bool, bool, serde_json::Value) {
        let not_after = self.cert.not_after();
        let left = not_after - chrono::Utc::now().timestamp();
        let warning = left < self.warning.as_secs() as i64;
        let at = chrono::DateTime::from_timestamp(not_after, 0).map(|t| t.to_rfc3339());
        let report = json!({
            "expires_at": at,
            "expires_in_days": left.div_euclid(86_400),
            "warning": warning.then_some("the listener's certificate expires soon: renew it"),
        });
        (left <= 0, warning, report)
    }
}

#[async_trait]
impl ServeHttp for Admin {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let path = session.req_header().uri.path().to_string();
        match path.as_str() {
            "/metrics" => reply(200, "text/plain; version=0.0.4", self.metrics.render()),
            "/healthz" => reply(200, "text/plain", b"ok\n".to_vec()),
            "/readyz" => self.readiness().await,
            _ => reply(404, "text/plain", b"not found\n".to_vec()),
        }
    }
}

impl Admin {
    async fn readiness(&self) -> Response<Vec<u8>> {
        let upstream = self.live.runtime.load().settings.upstream.addr;
        let reachable = matches!(
            tokio::time::timeout(
                Duration::from_millis(500),
                tokio::net::TcpStream::connect(upstream)
            )
            .await,
            Ok(Ok(_))
        );
        let mut body = json!({
            "policy": self.live.policy.load().version(),
            "upstream": if reachable { "reachable" } else { "unreachable" },
        });
        let store_up = self.state.ping().await;
        self.metrics.state_store_up(store_up);
        if self.state.is_shared() {
            body["state_store"] = json!(if store_up { "reachable" } else { "unreachable" });
        }
        let mut expired = false;
        if let Some(expiry) = &self.certificate {
            let (gone, soon, report) = expiry.report();
            if soon {
                tracing::warn!(report = %report, "TLS certificate expires soon");
            }
            expired = gone;
            body["tls"] = report;
        }
        // Soon-to-expire stays ready (taking the pod out would be the outage); expired is not.
        let status = if reachable && !expired && store_up {
            200
        } else {
            503
        };
        reply(status, "application/json", body.to_string().into_bytes())
    }
}

fn reply(status: u16, content_type: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut response = Response::new(body);
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    let len = response.body().len();
    response
        .headers_mut()
        .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    response
}
