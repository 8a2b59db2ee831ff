//! `mcp-gatekeeper serve`: load and validate everything, start the reloader, then hand the
//! listener to Pingora.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use pingora::listeners::{L4BufferSettings, ListenerConfig};
use pingora::server::configuration::ServerConf;
use pingora::server::{RunArgs, Server};

use super::admin::Admin;
use super::connections::Guarded;
use super::Gatekeeper;
use crate::audit_sink::AuditSink;
use crate::config::{Env, Settings};
use crate::live::{Live, Runtime};
use crate::mcp_session::ServerRequests;
use crate::state::Store;

/// How long a task binding lives without being polled.
const TASK_IDLE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// How often the listener's certificate files are compared with what is loaded.
const TLS_POLL: std::time::Duration = std::time::Duration::from_secs(1);
use crate::metrics::Metrics;
use crate::reload::Reloader;
use pingora::services::listening::Service;
use tokio::sync::Semaphore;

/// Builds the live state from validated settings. Fails before listening if anything is wrong.
pub fn build(settings: Settings) -> anyhow::Result<Arc<Live>> {
    let policy = crate::policy_file::load(&settings.policy_path)
        .with_context(|| format!("loading policy {}", settings.policy_path.display()))?;
    tracing::info!(policy = %settings.policy_path.display(), version = policy.version(), "policy loaded");
    let shadow = match &settings.shadow_policy_path {
        Some(path) => {
            let p = crate::policy_file::load(path)
                .with_context(|| format!("loading shadow policy {}", path.display()))?;
            tracing::info!(policy = %path.display(), version = p.version(), "shadow policy loaded (logged, not enforced)");
            Some(p)
        }
        None => None,
    };
    if settings.jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
        tracing::warn!(
            "JWT_SECRET is shorter than 32 bytes; RFC 7518 §3.2 asks for at least 256 bits"
        );
    }
    let runtime = Runtime::new(settings, None).map_err(anyhow::Error::msg)?;
    Ok(Arc::new(Live::new(runtime, policy, shadow)))
}

/// Runs the proxy until the process is signalled. Never returns on success.
pub fn run(config_path: Option<PathBuf>, env: Env) -> anyhow::Result<()> {
    let settings = Settings::load(config_path.as_deref(), &env)?;
    let listen = settings.listen.clone();
    let metrics_listen = settings.metrics_listen.clone();
    let upstream = settings.upstream.authority.clone();
    let (session_capacity, session_idle) = (settings.session_capacity, settings.session_idle);
    let (max_connections, header_deadline) = (settings.max_connections, settings.request_deadline);
    let tls = settings.tls.clone();
    let upstream_cert =
        super::upstream::client_cert(&settings).context("upstream_tls.cert_file")?;
    let upstream_tls = settings.upstream.tls.clone();
    if upstream_tls
        .as_ref()
        .is_some_and(|t| t.insecure_skip_verify)
    {
        tracing::error!(
            upstream = %upstream,
            "upstream_tls.insecure_skip_verify is on: the upstream's certificate is NOT verified; \
             anyone on the path can read and change PHI. Never in production."
        );
    }
    let conf = ServerConf {
        threads: settings.threads,
        grace_period_seconds: Some(1),
        graceful_shutdown_timeout_seconds: Some(5),
        // The upstream's chain is checked against this CA bundle instead of the system roots.
        ca_file: upstream_tls
            .as_ref()
            .and_then(|t| t.ca_file.as_ref())
            .map(|p| p.display().to_string()),
        ..ServerConf::default()
    };
    let a = &settings.audit;
    let audit_target = a.target.clone();
    let audit = AuditSink::start(a.target.clone(), a.queue, a.on_failure, a.key.clone())
        .with_context(|| format!("opening the audit trail {:?}", a.target))?;
    // Tasks outlive sessions: a poll may come a day later (2025-11-25 Tasks §ttl).
    let state = Arc::new(Store::new(
        &settings.state,
        (session_capacity, session_idle),
        TASK_IDLE,
    ));
    if state.is_shared() {
        tracing::info!("shared state in Redis: rate limits, sessions and tasks span replicas");
    }
    let live = build(settings)?;
    let metrics = Arc::new(Metrics::new().context("registering metrics")?);
    metrics.policy_loaded(live.policy.load().version());
    let reloader = Reloader::new(Arc::clone(&live), Arc::clone(&metrics), config_path, env);
    let watching = reloader.watch().context("starting the file watcher")?;
    if let crate::audit::AuditOutput::File(path) = &audit_target {
        if watching.watches_dir_of(path) {
            tracing::warn!(
                audit = %path.display(),
                "the audit trail is in a directory watched for policy/config changes: every \
                 audit write wakes the watcher; keep it elsewhere (e.g. /var/log)"
            );
        }
    }

    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let audit = Arc::new(audit);
    let gatekeeper = Gatekeeper {
        live: Arc::clone(&live),
        metrics: Arc::clone(&metrics),
        audit: Arc::clone(&audit),
        state: Arc::clone(&state),
        // A caller holds at most 256 unanswered server requests, each for up to 10 minutes.
        server_requests: Arc::new(ServerRequests::new(
            256,
            std::time::Duration::from_secs(600),
        )),
        tool_params: Arc::default(),
        upstream_versions: Default::default(),
        upstream_cert,
    };
    let guarded = Guarded {
        app: Arc::new(pingora::proxy::http_proxy(
            &server.configuration,
            gatekeeper,
        )),
        permits: Arc::new(Semaphore::new(max_connections)),
        header_deadline,
        metrics: Arc::clone(&metrics),
    };
    let mut service = Service::new("mcp-gatekeeper".into(), guarded);
    let certificate = match &tls {
        Some(config) => {
            let (settings, cert) = crate::tls::listener(config).map_err(anyhow::Error::msg)?;
            metrics.tls_expiry("listener", cert.not_after());
            let gauge = Arc::clone(&metrics);
            cert.watch(TLS_POLL, move |not_after| {
                gauge.tls_expiry("listener", not_after)
            });
            service.add_listener(listener(&listen).tls(settings));
            Some(super::admin::Expiry {
                cert,
                warning: config.expiry_warning,
            })
        }
        None => {
            service.add_listener(listener(&listen));
            None
        }
    };
    server.add_service(service);
    if let Some(addr) = &metrics_listen {
        let admin = Admin {
            live,
            metrics,
            certificate,
            state,
        };
        let mut admin = pingora::services::listening::Service::new("admin".into(), admin);
        admin.add_tcp(addr);
        server.add_service(admin);
    }
    tracing::info!(%listen, metrics = metrics_listen.as_deref().unwrap_or("off"), %upstream, "mcp-gatekeeper serving");
    // `run`, not `run_forever`: it returns after the graceful shutdown instead of exiting the
    // process, so the audit trail can be drained and `main` can flush the log.
    server.run(RunArgs::default());
    let unwritten = audit.drain(AUDIT_DRAIN, AUDIT_STALLED);
    if unwritten > 0 {
        tracing::error!(
            records = unwritten,
            "shutting down with audit records unwritten: the trail stopped taking them"
        );
    }
    Ok(())
}

/// How long shutdown waits for the audit trail to take the records of requests already
/// served (a slow disk, a slow collector) before it gives up and says how many are lost: at
/// most this long in all, and this long without a record written.
const AUDIT_DRAIN: std::time::Duration = std::time::Duration::from_secs(10);
const AUDIT_STALLED: std::time::Duration = std::time::Duration::from_secs(3);

/// Pingora buffers at most one MSS of writes per connection by default, so a response head and
/// a 2 KB body leave as two segments (and the client wakes twice). With room for both, Pingora's
/// flush after each body write sends them in one; streams are not delayed, since every body
/// write is still flushed. Bodies larger than this are written straight through, as before.
pub const WRITE_BUFFER: usize = 16 * 1024;

fn listener(addr: &str) -> ListenerConfig {
    ListenerConfig::tcp(addr).l4_buffer(L4BufferSettings::default().write(WRITE_BUFFER))
}
