//! `mock-mcp`: a small synthetic hospital served as an MCP server over Streamable HTTP, so
//! mcp-gatekeeper's demo and tests have a real upstream that counts what reaches it.
//! This file owns the command line, startup (the ready line) and shutdown on SIGINT/SIGTERM;
//! `--fhir` serves the same patients as FHIR R4 / US Core resources (`fhir`); `--tls-cert`
//! and `--tls-key` serve HTTPS (`tls`).

mod data;
mod fhir;
mod http;
mod modern;
mod rpc;
mod stats;
mod tasks;
mod tls;
mod tools;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "mock-mcp",
    version,
    about = "Mock hospital MCP server (Streamable HTTP)"
)]
struct Cli {
    /// Address to listen on; port 0 picks a free one (the chosen address is printed).
    #[arg(long, env = "MOCK_MCP_LISTEN", default_value = "127.0.0.1:5000")]
    listen: String,
    /// Answer with text/event-stream (one SSE event per JSON-RPC response).
    #[arg(long)]
    sse: bool,
    /// Compress every answer with gzip whatever the client asked (tests that the gatekeeper
    /// refuses what it cannot read).
    #[arg(long)]
    gzip: bool,
    /// Serve the patients as FHIR R4 / US Core resources: tool results become Patients and
    /// searchset Bundles, and resources/list and resources/read serve fhir://Patient/<id>
    /// and fhir://Bundle/<id>.
    #[arg(long)]
    fhir: bool,
    /// A hospital data set (JSON) to serve instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-mcp: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let hospital = match &cli.data {
        Some(path) => data::Hospital::load(path)?,
        None => data::Hospital::builtin()?,
    };
    let state = Arc::new(
        http::AppState::new(hospital, cli.sse)
            .with_gzip(cli.gzip)
            .with_fhir(cli.fhir),
    );
    let listener = tokio::net::TcpListener::bind(&cli.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Tests and the demo read this line to learn the port and to know we are ready.
    let acceptor = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let mut out = std::io::stdout().lock();
    writeln!(out, "mock-mcp listening on {scheme}://{addr}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(out);
    let app = http::router(state);
    match acceptor {
        Some(acceptor) => {
            tokio::select! {
                () = tls::serve(listener, acceptor, app) => Ok(()),
                () = shutdown_signal() => Ok(()),
            }
        }
        None => axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| e.to_string()),
    }
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
