//! `mock-mcp`: a small synthetic hospital served as an MCP server over Streamable HTTP, so
//! mcp-gatekeeper's demo and tests have a real upstream that counts what reaches it.

mod data;
mod http;
mod rpc;
mod stats;
mod tools;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "mock-mcp",
    version,
    about = "Mock hospital MCP server (Streamable HTTP)"
)]
struct Cli {
    /// Address to listen on (port 0 picks a free one; the chosen address is printed).
    #[arg(long, env = "MOCK_MCP_LISTEN", default_value = "127.0.0.1:5000")]
    listen: SocketAddr,
    /// Answer with text/event-stream (one SSE event per JSON-RPC message).
    #[arg(long)]
    sse: bool,
    /// A hospital data set to serve instead of the built-in one.
    #[arg(long)]
    data: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
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
    let state = Arc::new(http::AppState::new(hospital, cli.sse));
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Tests and the demo read this line to learn the port and know we are ready.
    println!("mock-mcp listening on http://{addr}");
    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
