//! Hostile input, response redaction: what a redacted role must not be able to read. Every case states the answer it must get AND whether the upstream
//! may see it; the mock counts every request it receives, so "never reached the upstream" is
//! measured, not assumed.
#![allow(unused_imports)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::attack::*;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

// ---- response redaction -----------------------------------------------------------------

#[test]
fn redaction_attacks() {
    for sse in [false, true] {
        let stack = Stack::start(sse);
        let records = call("get_medical_records", json!({"patient_id":"NUGWI"}));
        let auth = bearer(&token("Researcher"));
        let url = stack.url();
        let before = stack.total();
        // Asking for gzip must not get bytes the gatekeeper did not read.
        let (status, headers, body) = post_raw(
            &url,
            &[
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
                ("accept-encoding", "gzip, br"),
                ("authorization", &auth),
            ],
            records.into_bytes(),
        );
        assert_eq!(status, 200, "sse={sse}");
        assert_eq!(stack.total(), before + 1);
        assert!(header(&headers, "content-encoding").is_none_or(|e| e == "identity"));
        assert_eq!(stack.stats()["last_request"]["accept_encoding"], "identity");
        let text = String::from_utf8_lossy(&body);
        for secret in ["Ingrid", "Iwu"] {
            assert!(
                !text.contains(secret),
                "sse={sse}: Researcher saw '{secret}'"
            );
        }
        assert!(text.contains("REDACTED"), "sse={sse}: nothing was redacted");
    }

    // An upstream that compresses anyway is refused, never passed through.
    let mock = start_mock_with(&["--gzip"]);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let body = call("get_medical_records", json!({"patient_id":"NUGWI"}));
    let (status, _, resp) = post(
        &format!("http://{}/mcp", gate.addr),
        Some(&token("Researcher")),
        &serde_json::from_str(&body).unwrap(),
    );
    assert_eq!(status, 502);
    assert!(!String::from_utf8_lossy(&resp).contains("Ingrid"));
}
