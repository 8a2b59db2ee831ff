//! The floor of any Pingora proxy: a bare reverse proxy with the gatekeeper's server settings
//! and nothing else — no token, no body read, no policy, no audit. `make bench` measures it
//! beside nginx and the gatekeeper, so the table shows what Pingora itself costs and what the
//! gatekeeper adds on top.
//!
//!     cargo run --release --example pingora_floor -- LISTEN UPSTREAM THREADS

use async_trait::async_trait;
use pingora::listeners::{L4BufferSettings, ListenerConfig};
use pingora::prelude::*;
use pingora::server::configuration::ServerConf;

/// The same allocator as the gatekeeper's, so the floor measures Pingora, not malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Floor {
    upstream: std::net::SocketAddr,
}

#[async_trait]
impl ProxyHttp for Floor {
    type CTX = ();
    fn new_ctx(&self) {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(self.upstream, false, String::new())))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, upstream, threads] = args.as_slice() else {
        eprintln!("usage: pingora_floor LISTEN UPSTREAM THREADS");
        std::process::exit(2);
    };
    let conf = ServerConf {
        threads: threads.parse().unwrap_or(2),
        grace_period_seconds: Some(1),
        graceful_shutdown_timeout_seconds: Some(5),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let Ok(upstream) = upstream.parse() else {
        eprintln!("UPSTREAM must be an address such as 127.0.0.1:8080");
        std::process::exit(2);
    };
    let floor = Floor { upstream };
    let mut service = http_proxy_service(&server.configuration, floor);
    // The gatekeeper's listener buffer (`WRITE_BUFFER`); FLOOR_WRITE_BUFFER overrides it, so
    // the knob can be measured on bare Pingora too.
    let write = std::env::var("FLOOR_WRITE_BUFFER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(mcp_gatekeeper::proxy::server::WRITE_BUFFER);
    service.add_listener(
        ListenerConfig::tcp(listen).l4_buffer(L4BufferSettings::default().write(write)),
    );
    server.add_service(service);
    server.run_forever()
}
