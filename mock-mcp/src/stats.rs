//! What reached the server, for tests to prove what the gatekeeper let through:
//! HTTP requests by verb, JSON-RPC messages by method, tool calls by tool, the last request.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[derive(Default)]
pub struct Stats {
    total_requests: u64,
    http: BTreeMap<String, u64>,
    methods: BTreeMap<String, u64>,
    tools: BTreeMap<String, u64>,
    last_request: Value,
}

impl Stats {
    pub fn record_http(&mut self, verb: &str, headers: &HeaderMap, body: &[u8]) {
        self.total_requests += 1;
        *self.http.entry(verb.to_string()).or_default() += 1;
        let gatekeeper: serde_json::Map<String, Value> = headers
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("x-gatekeeper-"))
            .map(|(name, v)| (name.to_string(), json!(v.to_str().unwrap_or(""))))
            .collect();
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        self.last_request = json!({
            "body_len": body.len(),
            "body_sha256": hex(&Sha256::digest(body)),
            "headers": gatekeeper,
            "authorization_present": headers.contains_key("authorization"),
            "accept_encoding": text("accept-encoding"),
            "content_type": text("content-type"),
        });
    }

    pub fn record_call(&mut self, method: &str, tool: Option<&str>) {
        *self.methods.entry(method.to_string()).or_default() += 1;
        if let Some(t) = tool {
            *self.tools.entry(t.to_string()).or_default() += 1;
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "total_requests": self.total_requests,
            "http": self.http,
            "methods": self.methods,
            "tools": self.tools,
            "last_request": self.last_request,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
