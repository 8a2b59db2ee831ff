//! What reached the server on `/mcp`, for tests to prove what the gatekeeper let through: HTTP
//! requests by verb, JSON-RPC messages by method, tool invocations by tool, and a fingerprint of
//! the last request (body length and SHA-256, gatekeeper headers, a few others).

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Counters since start or the last reset. `to_json` is the `GET /stats` body.
#[derive(Debug)]
pub struct Stats {
    total_requests: u64,
    http: BTreeMap<String, u64>,
    methods: BTreeMap<String, u64>,
    tools: BTreeMap<String, u64>,
    last_request: Value,
    /// `subscriptions/listen` streams opened and closed (a closed one was cancelled).
    listen: (u64, u64),
}

impl Default for Stats {
    fn default() -> Self {
        let http = ["POST", "GET", "DELETE"]
            .into_iter()
            .map(|verb| (verb.to_string(), 0))
            .collect();
        Stats {
            total_requests: 0,
            http,
            methods: BTreeMap::new(),
            tools: BTreeMap::new(),
            last_request: Value::Null,
            listen: (0, 0),
        }
    }
}

impl Stats {
    /// One HTTP request to `/mcp`, whatever its verb and whether or not it is answered.
    pub fn record_http(&mut self, verb: &str, headers: &HeaderMap, body: &[u8]) {
        self.total_requests += 1;
        *self.http.entry(verb.to_string()).or_default() += 1;
        let gatekeeper: Map<String, Value> = headers
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("x-gatekeeper-"))
            .map(|(name, v)| {
                (
                    name.to_string(),
                    json!(String::from_utf8_lossy(v.as_bytes())),
                )
            })
            .collect();
        let text = |name: &str| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
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

    /// One JSON-RPC message (batch elements count one each) and the tool it invoked, if any.
    pub fn record_message(&mut self, method: &str, tool: Option<&str>) {
        *self.methods.entry(method.to_string()).or_default() += 1;
        if let Some(t) = tool {
            *self.tools.entry(t.to_string()).or_default() += 1;
        }
    }

    pub fn listen_opened(&mut self) {
        self.listen.0 += 1;
    }

    pub fn listen_closed(&mut self) {
        self.listen.1 += 1;
    }

    pub fn to_json(&self) -> Value {
        json!({
            "listen": {"opened": self.listen.0, "closed": self.listen.1},
            "total_requests": self.total_requests,
            "http": self.http,
            "methods": self.methods,
            "tools": self.tools,
            "last_request": self.last_request,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn counts_and_fingerprints() {
        let mut s = Stats::default();
        assert_eq!(s.to_json()["http"], json!({"POST":0,"GET":0,"DELETE":0}));
        let mut h = HeaderMap::new();
        h.insert("x-gatekeeper-role", HeaderValue::from_static("Doctor"));
        h.insert("x-other", HeaderValue::from_static("no"));
        h.insert("authorization", HeaderValue::from_static("Bearer t"));
        s.record_http("POST", &h, b"abc");
        s.record_message("tools/call", Some("get_patient"));
        s.record_message("get_patient", Some("get_patient"));
        let j = s.to_json();
        assert_eq!(j["total_requests"], 1);
        assert_eq!(j["http"]["POST"], 1);
        assert_eq!(j["methods"]["tools/call"], 1);
        assert_eq!(j["tools"]["get_patient"], 2);
        let last = &j["last_request"];
        assert_eq!(last["body_len"], 3);
        assert_eq!(
            last["body_sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(last["headers"], json!({"x-gatekeeper-role":"Doctor"}));
        assert_eq!(last["authorization_present"], true);
        assert_eq!(last["accept_encoding"], Value::Null);
    }
}
