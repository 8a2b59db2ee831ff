//! What the gatekeeper does with the request itself: framing, media types, sizes, bodies past
//! Pingora's 64 KiB replay buffer (forwarded byte for byte), identity headers, upstream failure.

mod common;

use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const KIB: usize = 1024;
const LIMIT: usize = 1024 * 1024;

/// A valid tools/call body of exactly `size` bytes (padding inside an argument).
fn body_of_size(size: usize) -> Vec<u8> {
    let empty = tools_call("get_patient", json!({"patient_id":"NUGWI","pad":""})).to_string();
    let pad = "x".repeat(size - empty.len());
    let body = tools_call("get_patient", json!({"patient_id":"NUGWI","pad":pad})).to_string();
    assert_eq!(body.len(), size);
    body.into_bytes()
}

fn auth(role: &str) -> String {
    format!("Bearer {}", token(role))
}

fn last_request(stack: &Stack) -> Value {
    stack.stats()["last_request"].clone()
}

#[test]
fn bodies_around_the_replay_buffer_reach_the_upstream_byte_for_byte() {
    let stack = Stack::start(false);
    let auth = auth("Doctor");
    for size in [64 * KIB - 1, 64 * KIB, 64 * KIB + 1, 200 * KIB, LIMIT] {
        for chunked in [false, true] {
            let body = body_of_size(size);
            let digest = hex(&Sha256::digest(&body));
            let before = stack.total();
            let (status, _, resp) = if chunked {
                post_chunked(&stack, &auth, &body)
            } else {
                post_raw(
                    &stack.url(),
                    &[
                        ("content-type", "application/json"),
                        ("authorization", &auth),
                    ],
                    body,
                )
            };
            assert_eq!(
                status,
                200,
                "size {size} chunked={chunked}: {}",
                String::from_utf8_lossy(&resp[..resp.len().min(300)])
            );
            assert_eq!(message(&resp)["result"]["isError"], false, "size {size}");
            assert_eq!(
                stack.total(),
                before + 1,
                "exactly one upstream request for size {size}"
            );
            let seen = last_request(&stack);
            assert_eq!(seen["body_len"], size, "size {size} chunked={chunked}");
            assert_eq!(
                seen["body_sha256"],
                digest.as_str(),
                "size {size} chunked={chunked}"
            );
        }
    }
}

/// Sends the body with `Transfer-Encoding: chunked` over a raw socket.
fn post_chunked(stack: &Stack, auth: &str, body: &[u8]) -> (u16, Headers, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(stack.gate.addr).unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    for chunk in body.chunks(10_000) {
        s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .unwrap();
        s.write_all(chunk).unwrap();
        s.write_all(b"\r\n").unwrap();
    }
    s.write_all(b"0\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    parse_raw_response(&raw)
}

/// Sends only the request head with `Content-Length: len` and reads the answer.
fn declare_length_only(stack: &Stack, auth: &str, len: usize) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(stack.gate.addr).unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: {auth}\r\nContent-Length: {len}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let (status, _, body) = parse_raw_response(&raw);
    (status, body)
}

fn parse_raw_response(raw: &[u8]) -> (u16, Headers, Vec<u8>) {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if header(&headers, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        body = dechunk(&body);
    }
    (status, headers, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 4 + size..];
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_body_over_the_limit_is_413_and_never_forwarded() {
    let stack = Stack::start(false);
    let auth = auth("Doctor");
    let before = stack.total();
    // A declared Content-Length over the limit is answered at once, before any body is sent.
    let (status, resp) = declare_length_only(&stack, &auth, LIMIT + 1);
    assert_eq!(status, 413);
    let msg = message(&resp);
    assert!(
        msg["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exceeds"),
        "{msg}"
    );
    // Without a length, the body is counted as it arrives.
    let body = body_of_size(LIMIT + 1);
    let (status, _, _) = post_chunked(&stack, &auth, &body);
    assert_eq!(status, 413, "chunked bodies are counted as they arrive");
    assert_eq!(stack.total(), before);
}

#[test]
fn hostile_and_malformed_requests_get_a_clear_4xx_and_never_reach_the_upstream() {
    let stack = Stack::start(false);
    let auth = auth("Doctor");
    let json = ("content-type", "application/json");
    let a = ("authorization", auth.as_str());
    let valid = tools_call("get_patient", json!({"patient_id":"NUGWI"})).to_string();
    let no_user = format!(
        "Bearer {}",
        token_with(json!({"role":"Doctor","exp":now()+60}))
    );
    // (case, request headers, body, expected HTTP status, expected JSON-RPC code)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, String, u16, i64);
    let cases: Vec<Case> = vec![
        ("not json", vec![json, a], "{".into(), 400, -32700),
        ("empty body", vec![json, a], String::new(), 400, -32700),
        ("wrong jsonrpc version", vec![json, a], r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#.into(), 400, -32600),
        ("duplicate method", vec![json, a], r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}"#.into(), 400, -32600),
        ("duplicate tool name", vec![json, a], r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","name":"add_clinical_note"}}"#.into(), 400, -32600),
        ("unknown member", vec![json, a], r#"{"jsonrpc":"2.0","id":1,"method":"ping","x":1}"#.into(), 400, -32600),
        ("batch", vec![json, a], format!("[{valid}]"), 400, -32600),
        // An answer to a request the server never sent this caller (bound answers: hostile_upstream.rs).
        ("unasked client response", vec![json, a], r#"{"jsonrpc":"2.0","id":1,"result":{}}"#.into(), 403, -32003),
        ("charset utf-16", vec![("content-type", "application/json; charset=utf-16"), a], valid.clone(), 415, -32600),
        ("text/plain", vec![("content-type", "text/plain"), a], valid.clone(), 415, -32600),
        ("no content type", vec![a], valid.clone(), 415, -32600),
        ("gzip body", vec![json, a, ("content-encoding", "gzip")], valid.clone(), 415, -32600),
        ("alg none", vec![json, ("authorization", "Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoiMSIsInJvbGUiOiJEb2N0b3IifQ.")], valid.clone(), 401, -32001),
        ("basic auth", vec![json, ("authorization", "Basic dXNlcjpwYXNz")], valid.clone(), 401, -32001),
        ("no user id", vec![json, ("authorization", no_user.as_str())], valid.clone(), 401, -32001),
    ];
    let before = stack.total();
    for (name, headers, body, status, code) in cases {
        let (got, _, resp) = post_raw(&stack.url(), &headers, body.into_bytes());
        assert_eq!(got, status, "{name}: {}", String::from_utf8_lossy(&resp));
        let msg = message(&resp);
        assert_eq!(msg["error"]["code"], code, "{name}: {msg}");
        assert_eq!(msg["jsonrpc"], "2.0");
    }
    let (got, _, _) = post_raw(
        &stack.url(),
        &[json, ("authorization", &auth), ("authorization", &auth)],
        valid.into_bytes(),
    );
    assert_eq!(got, 401, "two Authorization headers");
    assert_eq!(stack.total(), before, "nothing refused reached mock-mcp");
}

#[test]
fn identity_headers_are_the_gatekeepers_and_the_token_stays_here() {
    let stack = Stack::start(false);
    let auth = auth("Nurse");
    let body = tools_call("get_patient", json!({"patient_id":"NUGWI"})).to_string();
    let (status, _, _) = post_raw(
        &stack.url(),
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
            ("x-gatekeeper-user-id", "999"),
            ("X-Gatekeeper-Roles", "Doctor"),
            ("x-gatekeeper-anything", "forged"),
        ],
        body.into_bytes(),
    );
    assert_eq!(status, 200);
    let seen = last_request(&stack);
    assert_eq!(seen["headers"]["x-gatekeeper-user-id"], "1");
    assert_eq!(seen["headers"]["x-gatekeeper-roles"], "Nurse");
    assert_eq!(seen["headers"]["x-gatekeeper-username"], "yenji100");
    assert!(seen["headers"].get("x-gatekeeper-anything").is_none());
    assert_eq!(seen["authorization_present"], false);
    assert_eq!(seen["accept_encoding"], "identity");
}

#[test]
fn an_unreachable_upstream_is_a_502_json_rpc_error() {
    let dead = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let gate = start_gatekeeper(GateOptions::new(dead));
    let url = format!("http://{}/mcp", gate.addr);
    let (status, _, body) = post(
        &url,
        Some(&token("Doctor")),
        &tools_call("get_patient", json!({"patient_id":"NUGWI"})),
    );
    assert_eq!(status, 502);
    let msg = message(&body);
    assert_eq!(msg["id"], 1);
    assert!(
        msg["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unavailable"),
        "{msg}"
    );
}

#[test]
fn keep_alive_survives_a_denial() {
    use std::io::{BufRead, BufReader, Read, Write};
    let stack = Stack::start(false);
    let denied = tools_call("get_billing", json!({"patient_id":"NUGWI"})).to_string();
    let allowed = tools_call("get_patient", json!({"patient_id":"NUGWI"})).to_string();
    let auth = auth("Nurse");
    let mut s = std::net::TcpStream::connect(stack.gate.addr).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    for (body, want) in [(&denied, 403), (&allowed, 200)] {
        let req = format!(
            "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.contains(&want.to_string()), "{status}");
        let mut len = 0;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let l = line.to_ascii_lowercase();
            if let Some(v) = l.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            chunked |= l.starts_with("transfer-encoding:") && l.contains("chunked");
            if line == "\r\n" {
                break;
            }
        }
        if chunked {
            // Redacted answers are re-framed: read chunks up to the terminating one.
            loop {
                let mut size = String::new();
                reader.read_line(&mut size).unwrap();
                let n = usize::from_str_radix(size.trim(), 16).unwrap();
                let mut chunk = vec![0; n + 2];
                reader.read_exact(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
            }
        } else {
            let mut buf = vec![0; len];
            reader.read_exact(&mut buf).unwrap();
        }
    }
}

#[test]
fn a_hung_upstream_is_a_504_within_the_read_timeout() {
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = hung.local_addr().unwrap();
    let held = std::thread::spawn(move || {
        // Accept and hold the connection open without ever answering.
        let conn = hung.accept();
        std::thread::sleep(std::time::Duration::from_secs(3));
        drop(conn);
    });
    let mut opts = GateOptions::new(addr);
    opts.config_yaml = "upstream_timeouts: {connect_ms: 500, read_ms: 300}\n".into();
    let gate = start_gatekeeper(opts);
    let url = format!("http://{}/mcp", gate.addr);
    let started = std::time::Instant::now();
    let (status, _, body) = post(
        &url,
        Some(&token("Doctor")),
        &tools_call("get_patient", json!({"patient_id":"NUGWI"})),
    );
    assert_eq!(status, 504, "{}", String::from_utf8_lossy(&body));
    assert!(message(&body)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("timed out"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "answered within the bound"
    );
    held.join().unwrap();
}

#[test]
fn batches_are_refused_by_default_and_judged_whole_when_enabled() {
    let mock = start_mock(false);
    let mut opts = GateOptions::new(mock.addr);
    opts.config_yaml = "allow_batches: true\n".into();
    let gate = start_gatekeeper(opts);
    let url = format!("http://{}/mcp", gate.addr);
    let stats = |tool: &str| {
        let (_, _, b) = get(&format!("http://{}/stats", mock.addr), &[]);
        serde_json::from_slice::<Value>(&b).unwrap()["tools"][tool]
            .as_u64()
            .unwrap_or(0)
    };
    let allowed = json!([
        tools_call("get_patient", json!({"patient_id":"NUGWI"})),
        {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_appointments","arguments":{}}}
    ]);
    let (status, _, body) = post(&url, Some(&token("Nurse")), &allowed);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(message(&body).as_array().map(Vec::len), Some(2));
    let mixed = json!([
        tools_call("get_patient", json!({"patient_id":"NUGWI"})),
        {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_billing","arguments":{"patient_id":"NUGWI"}}}
    ]);
    let before = stats("get_patient");
    let (status, _, body) = post(&url, Some(&token("Nurse")), &mixed);
    assert_eq!(status, 403);
    assert!(message(&body)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("get_billing"));
    assert_eq!(
        stats("get_patient"),
        before,
        "no element of a denied batch is forwarded"
    );
    let with_list = json!([
        tools_call("get_patient", json!({"patient_id":"NUGWI"})),
        {"jsonrpc":"2.0","id":2,"method":"tools/list"}
    ]);
    let (status, _, body) = post(&url, Some(&token("Nurse")), &with_list);
    assert_eq!(
        status, 400,
        "a list inside a batch would escape per-role filtering"
    );
    assert!(message(&body)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cannot be batched"));
}
