//! Hostile input, JSON-RPC differentials: bodies the gatekeeper and the upstream could read differently. Every case states the answer it must get AND whether the upstream
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

// ---- JSON-RPC differentials --------------------------------------------------------------

#[test]
fn json_rpc_differentials() {
    let stack = Stack::start(false);
    let doc = |body: &'static str| move |s: &Stack| as_role(s, "Doctor", body);
    let cases = vec![
        case(
            "duplicate method keys",
            400,
            false,
            doc(
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"get_patient","arguments":{}}}"#,
            ),
        ),
        case(
            "duplicate tool name (Nurse: allowed, then forbidden)",
            400,
            false,
            |s| {
                as_role(
                    s,
                    "Nurse",
                    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","name":"add_clinical_note","arguments":{}}}"#,
                )
            },
        ),
        case(
            "duplicate argument (Patient: own, then other)",
            400,
            false,
            |s| {
                with_token(
                    s,
                    &patient_token(),
                    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{"patient_id":"NUGWI","patient_id":"SQHUM"}}}"#,
                )
            },
        ),
        case("escaped spelling of a duplicate key", 400, false, |s| {
            as_role(
                s,
                "Nurse",
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","n\u0061me":"add_clinical_note","arguments":{}}}"#,
            )
        }),
        case(
            "unknown top-level member",
            400,
            false,
            doc(
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{}},"extra":1}"#,
            ),
        ),
        case(
            "jsonrpc 1.0",
            400,
            false,
            doc(
                r#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{}}}"#,
            ),
        ),
        case(
            "id is an object",
            400,
            false,
            doc(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#),
        ),
        case(
            "method is a number",
            400,
            false,
            doc(r#"{"jsonrpc":"2.0","id":1,"method":7}"#),
        ),
        case(
            "batch (removed in 2025-06-18)",
            400,
            false,
            doc(
                r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#,
            ),
        ),
        case(
            "trailing garbage",
            400,
            false,
            doc(r#"{"jsonrpc":"2.0","id":1,"method":"ping"} x"#),
        ),
        case(
            "two JSON values",
            400,
            false,
            doc(
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_clinical_note"}}"#,
            ),
        ),
        case(
            "UTF-8 byte order mark",
            400,
            false,
            doc("\u{feff}{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"),
        ),
        case("empty body", 400, false, doc("")),
        case(
            "params is an array",
            400,
            false,
            doc(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["get_patient"]}"#),
        ),
        case(
            "tools/call without a name",
            400,
            false,
            doc(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}"#),
        ),
        case(
            "tool name is not a string",
            400,
            false,
            doc(
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":["get_patient"]}}"#,
            ),
        ),
        case("invalid UTF-8", 400, false, |s| {
            let mut body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{"patient_id":""#.to_vec();
            body.extend_from_slice(b"\xff\xfe\"}}}");
            let auth = bearer(&token("Doctor"));
            post_raw(
                &format!("http://{}/mcp", s.gate.addr),
                &[
                    ("content-type", "application/json"),
                    ("authorization", &auth),
                ],
                body,
            )
            .0
        }),
        case("arguments nested 5,000 deep", 400, false, |s| {
            let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
            let body = format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"get_patient","arguments":{{"x":{deep}}}}}}}"#
            );
            as_role(s, "Doctor", &body)
        }),
        case("text/plain body", 415, false, |s| {
            let auth = bearer(&token("Doctor"));
            post_raw(
                &format!("http://{}/mcp", s.gate.addr),
                &[("content-type", "text/plain"), ("authorization", &auth)],
                GET_PATIENT.into(),
            )
            .0
        }),
        case("application/jsonx", 415, false, |s| {
            let auth = bearer(&token("Doctor"));
            post_raw(
                &format!("http://{}/mcp", s.gate.addr),
                &[
                    ("content-type", "application/jsonx"),
                    ("authorization", &auth),
                ],
                GET_PATIENT.into(),
            )
            .0
        }),
        case("gzip request body", 415, false, |s| {
            let auth = bearer(&token("Doctor"));
            send(
                s,
                "/mcp",
                &[("authorization", &auth), ("content-encoding", "gzip")],
                GET_PATIENT,
            )
        }),
        case("PUT", 405, false, |s| {
            raw_status(s, format!("PUT /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Length: 0\r\nConnection: close\r\n\r\n", auth_line("Doctor")).as_bytes())
        }),
        case("another upstream path (/stats/reset)", 404, false, |s| {
            let auth = bearer(&token("Doctor"));
            send(s, "/stats/reset", &[("authorization", &auth)], GET_PATIENT)
        }),
        case("dot segments out of /mcp", 404, false, |s| {
            raw_status(s, format!("POST /mcp/../admin HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"), GET_PATIENT.len()).as_bytes())
        }),
        case("percent-encoded /mcp", 404, false, |s| {
            let auth = bearer(&token("Doctor"));
            send(s, "/%6Dcp", &[("authorization", &auth)], GET_PATIENT)
        }),
        case(
            "control: escaped but identical method",
            200,
            true,
            doc(
                r#"{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"get_patient","arguments":{"patient_id":"NUGWI"}}}"#,
            ),
        ),
    ];
    run(&stack, cases);
}
