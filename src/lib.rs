//! mcp-gatekeeper: a Pingora sidecar that authenticates, authorizes and audits MCP traffic.
//!
//! The decision core (`auth`, `jsonrpc`, `policy`) is plain Rust with no I/O; `proxy` wires it
//! to Pingora's phases, `client` is the token-minting twin of the web app.

pub mod audit;
#[cfg(feature = "proxy")]
pub mod audit_sink;
pub mod auth;
#[cfg(feature = "proxy")]
pub mod client;
pub mod config;
pub mod jsonrpc;
#[cfg(feature = "proxy")]
pub mod key_loader;
#[cfg(feature = "proxy")]
pub mod live;
pub mod mcp_session;
pub mod metrics;
pub mod percent;
pub mod policy;
pub mod policy_file;
#[cfg(feature = "proxy")]
pub mod proxy;
pub mod redact;
#[cfg(feature = "proxy")]
pub mod reload;
pub mod response;
pub mod strict_json;
pub mod transport;
