//! `mcp-gatekeeper serve`: load and validate everything, then hand the listener to Pingora.

use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;
use pingora::server::configuration::ServerConf;
use pingora::server::Server;

use super::Gatekeeper;
use crate::auth::Verifier;
use crate::config::Settings;
use crate::policy::Policy;

/// Builds the gatekeeper from validated settings. Fails before listening if anything is wrong.
pub fn build(settings: Settings) -> anyhow::Result<Gatekeeper> {
    let policy = Policy::load(&settings.policy_path)
        .with_context(|| format!("loading policy {}", settings.policy_path.display()))?;
    let verifier =
        Verifier::hmac(&settings.jwt_secret, &settings.jwt).map_err(anyhow::Error::msg)?;
    if settings.jwt_secret.len() < 32 {
        tracing::warn!(
            "JWT_SECRET is shorter than 32 bytes; RFC 7518 §3.2 asks for at least 256 bits"
        );
    }
    tracing::info!(policy = %settings.policy_path.display(), version = policy.version(), "policy loaded");
    Ok(Gatekeeper {
        settings: Arc::new(settings),
        verifier,
        policy: Arc::new(ArcSwap::from_pointee(policy)),
    })
}

/// Runs the proxy until the process is signalled. Never returns on success.
pub fn run(settings: Settings) -> anyhow::Result<()> {
    let listen = settings.listen.clone();
    let upstream = settings.upstream.authority.clone();
    let conf = ServerConf {
        threads: settings.threads,
        grace_period_seconds: Some(1),
        graceful_shutdown_timeout_seconds: Some(5),
        ..ServerConf::default()
    };
    let gatekeeper = build(settings)?;
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut service = pingora::proxy::http_proxy_service(&server.configuration, gatekeeper);
    service.add_tcp(&listen);
    server.add_service(service);
    tracing::info!(%listen, %upstream, "mcp-gatekeeper serving");
    server.run_forever()
}
