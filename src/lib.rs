//! mcp-gatekeeper: a Pingora sidecar that authenticates, authorizes and audits MCP traffic.
//!
//! The decision core (`auth`, `jsonrpc`, `policy`) is plain Rust with no I/O; `proxy` wires it
//! to Pingora's phases, `client` is the token-minting twin of the web app.

pub mod audit;
pub mod auth;
pub mod client;
pub mod config;
pub mod jsonrpc;
pub mod live;
pub mod mcp_session;
pub mod metrics;
pub mod percent;
pub mod policy;
#[cfg(feature = "proxy")]
pub mod proxy;
pub mod redact;
pub mod reload;
pub mod response;
pub mod strict_json;
pub mod transport;
