//! mcp-gatekeeper: a Pingora sidecar that authenticates, authorizes, redacts and audits MCP
//! traffic.
//!
//! The core decides and does no I/O (checked by `tests/architecture.rs`): `auth`, `jsonrpc`,
//! `transport`, `policy`, `redact`, `response` (the one response path), `audit` (records and
//! their chain), `percent`, `strict_json`. The shell does the I/O around it, behind the `proxy`
//! feature: `proxy` wires the core to Pingora's phases; `config`, `policy_file`, `key_loader`,
//! `audit_sink`, `live`, `logs`, `reload`, `metrics`, `mcp_session`, `state`, `tls` hold files,
//! threads, certificates, the environment and the clock; `client` is the token-minting twin of
//! the web app.

// Request paths fail closed with an answer, never a panic: no unwrap or expect outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod audit;
#[cfg(feature = "proxy")]
pub(crate) mod audit_sink;
pub mod auth;
#[cfg(feature = "proxy")]
pub mod client;
pub mod config;
pub mod jsonrpc;
#[cfg(feature = "proxy")]
pub mod key_loader;
#[cfg(feature = "proxy")]
pub(crate) mod live;
#[cfg(feature = "proxy")]
pub mod logs;
#[cfg(feature = "proxy")]
pub(crate) mod mcp_session;
#[cfg(feature = "proxy")]
pub(crate) mod metrics;
pub(crate) mod percent;
pub mod policy;
pub mod policy_file;
#[cfg(feature = "proxy")]
pub mod proxy;
pub mod redact;
#[cfg(feature = "proxy")]
pub(crate) mod reload;
pub mod response;
#[cfg(feature = "proxy")]
pub(crate) mod state;
pub(crate) mod strict_json;
#[cfg(feature = "proxy")]
pub mod tls;
#[cfg_attr(not(feature = "proxy"), allow(dead_code))]
pub(crate) mod transport;
