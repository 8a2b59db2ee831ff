//! The hostile-input suite: requests an attacker would send, grouped by what they attack —
//! authentication, JSON-RPC differentials, HTTP framing (raw TCP), authorization and
//! object-level access (BOLA), response redaction and reliability. Every case states the
//! answer it must get AND whether the upstream may see it; the mock MCP server counts every
//! request it receives on any path, so "never reached the upstream" is measured, not assumed.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

/// One attack: what to send, which status must come back, whether the upstream may see it.
struct Case {
    name: &'static str,
    expect: Expect,
    reaches_upstream: bool,
    send: Box<dyn Fn(&Stack) -> u16>,
}

#[derive(Clone, Copy, Debug)]
enum Expect {
    Status(u16),
    /// Any 4xx: framing errors Pingora itself refuses (its exact code is its business).
    ClientError,
}

fn case(
    name: &'static str,
    expect: u16,
    reaches_upstream: bool,
    send: impl Fn(&Stack) -> u16 + 'static,
) -> Case {
    Case {
        name,
        expect: Expect::Status(expect),
        reaches_upstream,
        send: Box::new(send),
    }
}

fn any_4xx(name: &'static str, send: impl Fn(&Stack) -> u16 + 'static) -> Case {
    Case {
        name,
        expect: Expect::ClientError,
        reaches_upstream: false,
        send: Box::new(send),
    }
}

/// Runs every case against one stack and reports all failures at once.
fn run(stack: &Stack, cases: Vec<Case>) {
    let mut failures = Vec::new();
    let total = cases.len();
    for c in cases {
        let before = stack.total();
        let status = (c.send)(stack);
        let reached = stack.total() != before;
        let status_ok = match c.expect {
            Expect::Status(s) => status == s,
            Expect::ClientError => (400..500).contains(&status),
        };
        if !status_ok || reached != c.reaches_upstream {
            failures.push(format!(
                "{}: got {status} (want {:?}), upstream reached: {reached} (want {})",
                c.name, c.expect, c.reaches_upstream
            ));
        }
    }
    println!("{total} hostile cases run");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- request builders -------------------------------------------------------------------

const GET_PATIENT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{"patient_id":"NUGWI"}}}"#;

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// POSTs `body` to `path` with JSON headers plus `extra`.
fn send(stack: &Stack, path: &str, extra: &[(&str, &str)], body: &str) -> u16 {
    let url = format!("http://{}{path}", stack.gate.addr);
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    headers.extend_from_slice(extra);
    post_raw(&url, &headers, body.as_bytes().to_vec()).0
}

fn as_role(stack: &Stack, role: &str, body: &str) -> u16 {
    let auth = bearer(&token(role));
    send(stack, "/mcp", &[("authorization", &auth)], body)
}

fn with_token(stack: &Stack, token: &str, body: &str) -> u16 {
    let auth = bearer(token);
    send(stack, "/mcp", &[("authorization", &auth)], body)
}

fn call(tool: &str, args: Value) -> String {
    tools_call(tool, args).to_string()
}

fn claims(role: &str) -> Value {
    json!({"user_id":"1","role":role,"exp": now() + 300})
}

/// A token with a hand-made header and claims, signed with the shared secret.
fn forge(header: &str, claims: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .expect("signing");
    format!("{input}.{sig}")
}

fn patient_token() -> String {
    token_with(json!({"user_id":"7","role":"Patient","patient_id":"NUGWI","exp": now() + 300}))
}

/// Sends raw bytes on a fresh connection and returns every status line's code, in order,
/// read until the gatekeeper closes the connection (or 5 s pass).
fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u16> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .split("HTTP/1.1 ")
        .skip(1)
        .filter_map(|s| s.get(..3)?.parse().ok())
        .collect()
}

/// Sends each request on one connection, reading each response (by its Content-Length) before
/// the next (Pingora does not serve pipelined requests); returns the statuses, stopping when
/// the connection closes.
fn one_connection(addr: SocketAddr, requests: &[&[u8]]) -> Vec<u16> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut statuses = Vec::new();
    for request in requests {
        if stream.write_all(request).is_err() {
            break;
        }
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return statuses,
            }
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let length = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("content-length:")?
                    .trim()
                    .parse::<usize>()
                    .ok()
            })
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        if stream.read_exact(&mut body).is_err() {
            return statuses;
        }
        statuses.push(status);
    }
    statuses
}

fn raw_status(stack: &Stack, bytes: &[u8]) -> u16 {
    raw(stack.gate.addr, bytes).first().copied().unwrap_or(0)
}

/// A complete request with a JSON body and the given extra header lines.
fn raw_post(head_lines: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: gk\r\nContent-Type: application/json\r\n{head_lines}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn auth_line(role: &str) -> String {
    format!("Authorization: Bearer {}\r\n", token(role))
}

// ---- authentication ---------------------------------------------------------------------

#[test]
fn authentication_attacks() {
    let stack = Stack::start(false);
    let cases = vec![
        case("no Authorization header", 401, false, |s| {
            send(s, "/mcp", &[], GET_PATIENT)
        }),
        case("empty Bearer token", 401, false, |s| {
            send(s, "/mcp", &[("authorization", "Bearer ")], GET_PATIENT)
        }),
        case("Basic scheme", 401, false, |s| {
            send(
                s,
                "/mcp",
                &[("authorization", "Basic ZG9jdG9yOnB3")],
                GET_PATIENT,
            )
        }),
        case("two Authorization headers", 401, false, |s| {
            let two = format!("{}{}", auth_line("Doctor"), auth_line("Nurse"));
            raw_status(s, &raw_post(&two, GET_PATIENT))
        }),
        case("alg none, unsigned", 401, false, |s| {
            let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
            let c = URL_SAFE_NO_PAD.encode(claims("Doctor").to_string());
            with_token(s, &format!("{h}.{c}."), GET_PATIENT)
        }),
        case("alg NONE, upper case", 401, false, |s| {
            let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"NONE"}"#);
            let c = URL_SAFE_NO_PAD.encode(claims("Doctor").to_string());
            with_token(s, &format!("{h}.{c}."), GET_PATIENT)
        }),
        case("HS512 where HS256 is pinned", 401, false, |s| {
            with_token(
                s,
                &sign_with(SECRET, Algorithm::HS512, claims("Doctor")),
                GET_PATIENT,
            )
        }),
        case("header says RS256, signed HS256", 401, false, |s| {
            with_token(
                s,
                &forge(r#"{"alg":"RS256"}"#, &claims("Doctor").to_string()),
                GET_PATIENT,
            )
        }),
        case("signed with another secret", 401, false, |s| {
            let t = sign_with(
                "another-secret-of-sufficient-length!!",
                Algorithm::HS256,
                claims("Doctor"),
            );
            with_token(s, &t, GET_PATIENT)
        }),
        case("payload swapped to Doctor", 401, false, |s| {
            let nurse = token("Nurse");
            let parts: Vec<&str> = nurse.split('.').collect();
            let doctor = URL_SAFE_NO_PAD.encode(claims("Doctor").to_string());
            with_token(
                s,
                &format!("{}.{doctor}.{}", parts[0], parts[2]),
                GET_PATIENT,
            )
        }),
        case("expired", 401, false, |s| {
            let t = token_with(json!({"user_id":"1","role":"Doctor","exp": now() - 120}));
            with_token(s, &t, GET_PATIENT)
        }),
        case("not yet valid (nbf)", 401, false, |s| {
            let t = token_with(
                json!({"user_id":"1","role":"Doctor","nbf": now() + 600,"exp": now() + 900}),
            );
            with_token(s, &t, GET_PATIENT)
        }),
        case("no exp", 401, false, |s| {
            with_token(
                s,
                &token_with(json!({"user_id":"1","role":"Doctor"})),
                GET_PATIENT,
            )
        }),
        case("exp as a string", 401, false, |s| {
            let t = token_with(json!({"user_id":"1","role":"Doctor","exp": "9999999999"}));
            with_token(s, &t, GET_PATIENT)
        }),
        case("token over 8 KiB", 401, false, |s| {
            let t = token_with(
                json!({"user_id":"1","role":"Doctor","pad":"x".repeat(9000),"exp": now()+60}),
            );
            with_token(s, &t, GET_PATIENT)
        }),
        case("token with a quote", 401, false, |s| {
            send(
                s,
                "/mcp",
                &[("authorization", "Bearer abc\"def")],
                GET_PATIENT,
            )
        }),
        case("crit header", 401, false, |s| {
            with_token(
                s,
                &forge(
                    r#"{"alg":"HS256","crit":["exp"]}"#,
                    &claims("Doctor").to_string(),
                ),
                GET_PATIENT,
            )
        }),
        case("duplicate role claim", 401, false, |s| {
            let c = format!(
                r#"{{"user_id":"1","role":"Nurse","role":"Doctor","exp":{}}}"#,
                now() + 60
            );
            with_token(s, &forge(r#"{"alg":"HS256"}"#, &c), GET_PATIENT)
        }),
        case("duplicate alg header parameter", 401, false, |s| {
            with_token(
                s,
                &forge(
                    r#"{"alg":"HS256","alg":"none"}"#,
                    &claims("Doctor").to_string(),
                ),
                GET_PATIENT,
            )
        }),
        case("two-part token", 401, false, |s| {
            let t = token("Doctor");
            with_token(s, t.rsplit_once('.').map_or("", |(a, _)| a), GET_PATIENT)
        }),
        case("four-part token", 401, false, |s| {
            with_token(s, &format!("{}.x", token("Doctor")), GET_PATIENT)
        }),
        case("roles with a non-string", 401, false, |s| {
            let t = token_with(json!({"user_id":"1","roles":["Doctor", 1],"exp": now()+60}));
            with_token(s, &t, GET_PATIENT)
        }),
        case("no user id", 401, false, |s| {
            with_token(
                s,
                &token_with(json!({"role":"Doctor","exp": now()+60})),
                GET_PATIENT,
            )
        }),
        case("token in the query string", 400, false, |s| {
            let path = format!("/mcp?access_token={}", token("Doctor"));
            send(s, &path, &[], GET_PATIENT)
        }),
        case("token in the query beside a header", 400, false, |s| {
            let auth = bearer(&token("Doctor"));
            send(
                s,
                "/mcp?access_token=x",
                &[("authorization", &auth)],
                GET_PATIENT,
            )
        }),
        case("control: lower-case scheme, valid token", 200, true, |s| {
            let auth = format!("bearer {}", token("Doctor"));
            send(s, "/mcp", &[("authorization", &auth)], GET_PATIENT)
        }),
    ];
    run(&stack, cases);
    // The gatekeeper never hands the client's token to the upstream (no passthrough).
    as_role(&stack, "Doctor", GET_PATIENT);
    assert_eq!(
        stack.stats()["last_request"]["authorization_present"],
        false
    );
}

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
            raw_status(s, format!("PUT /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Length: 0\r\nConnection: close\r\n\r\n", auth_line("Doctor")).as_bytes())
        }),
        case("another upstream path (/stats/reset)", 404, false, |s| {
            let auth = bearer(&token("Doctor"));
            send(s, "/stats/reset", &[("authorization", &auth)], GET_PATIENT)
        }),
        case("dot segments out of /mcp", 404, false, |s| {
            raw_status(s, format!("POST /mcp/../admin HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"), GET_PATIENT.len()).as_bytes())
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

// ---- HTTP framing, on raw TCP -----------------------------------------------------------

#[test]
fn http_framing_attacks() {
    let stack = Stack::start(false);
    let cases = vec![
        case("Content-Length with Transfer-Encoding", 400, false, |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        any_4xx("two different Content-Lengths", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"), GET_PATIENT.len());
            raw_status(s, req.as_bytes())
        }),
        any_4xx("non-numeric Content-Length", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nContent-Length: 12a\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        any_4xx("negative Content-Length", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nContent-Length: -1\r\nConnection: close\r\n\r\n", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        any_4xx("invalid chunk size", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{GET_PATIENT}\r\n0\r\n\r\n", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        any_4xx("obs-fold header line", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nX-Folded: a\r\n b\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"), GET_PATIENT.len());
            raw_status(s, req.as_bytes())
        }),
        any_4xx("NUL in a header value", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nX-Evil: a\0b\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"), GET_PATIENT.len());
            raw_status(s, req.as_bytes())
        }),
        case("a 100 KiB header", 431, false, |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}X-Big: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"), "a".repeat(100 * 1024), GET_PATIENT.len());
            raw_status(s, req.as_bytes())
        }),
        case("declared 2 MiB body", 413, false, |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n{{", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        case("chunked body past the limit", 413, false, |s| {
            let chunk = "a".repeat(256 * 1024);
            let mut req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", auth_line("Doctor"));
            for _ in 0..5 {
                req.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
            }
            req.push_str("0\r\n\r\n");
            raw_status(s, req.as_bytes())
        }),
        case("GET with a body", 400, false, |s| {
            let req = format!("GET /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Length: 2\r\nConnection: close\r\n\r\n{{}}", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        case("a request smuggled in a refused body", 401, false, |s| {
            // Refused before its body is read: the body must not become the next request.
            let inner =
                String::from_utf8(raw_post(&auth_line("Doctor"), GET_PATIENT)).unwrap_or_default();
            let outer = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{inner}", inner.len());
            let statuses = raw(s.gate.addr, outer.as_bytes());
            if statuses.len() == 1 {
                statuses[0]
            } else {
                0
            }
        }),
        case(
            "a request smuggled behind a chunked body",
            401,
            false,
            |s| {
                let inner = String::from_utf8(raw_post(&auth_line("Doctor"), GET_PATIENT))
                    .unwrap_or_default();
                let outer = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{inner}\r\n0\r\n\r\n", inner.len());
                let statuses = raw(s.gate.addr, outer.as_bytes());
                if statuses.len() == 1 {
                    statuses[0]
                } else {
                    0
                }
            },
        ),
        case(
            "after a refused small body, the connection serves the next request",
            200,
            true,
            |s| {
                // The refused request's body is drained, not parsed as a request, and the
                // kept-alive connection then serves a real one.
                let refused = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{GET_PATIENT}", GET_PATIENT.len());
                let next = raw_post(&auth_line("Doctor"), GET_PATIENT);
                let statuses = one_connection(s.gate.addr, &[refused.as_bytes(), &next]);
                if statuses == [401, 200] {
                    200
                } else {
                    0
                }
            },
        ),
        case("control: a well-framed chunked request", 200, true, |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{GET_PATIENT}\r\n0\r\n\r\n", auth_line("Doctor"), GET_PATIENT.len());
            raw_status(s, req.as_bytes())
        }),
    ];
    run(&stack, cases);
}

// ---- authorization and object-level access ----------------------------------------------

#[test]
fn authorization_and_object_level_attacks() {
    let stack = Stack::start(false);
    let patient = |args: Value| {
        move |s: &Stack| {
            with_token(
                s,
                &patient_token(),
                &call("get_medical_records", args.clone()),
            )
        }
    };
    let cases = vec![
        case(
            "Patient reads another patient",
            403,
            false,
            patient(json!({"patient_id":"SQHUM"})),
        ),
        case(
            "Patient id padded",
            403,
            false,
            patient(json!({"patient_id":" NUGWI"})),
        ),
        case(
            "Patient id in another case",
            403,
            false,
            patient(json!({"patient_id":"nugwi"})),
        ),
        case(
            "Patient id as an array",
            403,
            false,
            patient(json!({"patient_id":["NUGWI"]})),
        ),
        case(
            "Patient id null",
            403,
            false,
            patient(json!({"patient_id":null})),
        ),
        case("Patient id missing", 403, false, patient(json!({}))),
        case("Nurse writes a clinical note", 403, false, |s| {
            as_role(
                s,
                "Nurse",
                &call(
                    "add_clinical_note",
                    json!({"patient_id":"NUGWI","note":"x"}),
                ),
            )
        }),
        case("Billing reads medical records", 403, false, |s| {
            as_role(
                s,
                "Billing",
                &call("get_medical_records", json!({"patient_id":"NUGWI"})),
            )
        }),
        case("Nurse, legacy form of a forbidden tool", 403, false, |s| {
            as_role(
                s,
                "Nurse",
                &legacy_call("add_clinical_note", json!({"patient_id":"NUGWI"})).to_string(),
            )
        }),
        case("unknown role", 403, false, |s| {
            as_role(s, "Janitor", GET_PATIENT)
        }),
        case("no role at all", 403, false, |s| {
            with_token(
                s,
                &token_with(json!({"user_id":"1","exp": now()+60})),
                GET_PATIENT,
            )
        }),
        case("Mcp-Method disagrees with the body", 400, false, |s| {
            let auth = bearer(&token("Nurse"));
            send(
                s,
                "/mcp",
                &[("authorization", &auth), ("mcp-method", "tools/list")],
                &call("add_clinical_note", json!({})),
            )
        }),
        case("Mcp-Name disagrees with the body", 400, false, |s| {
            let auth = bearer(&token("Nurse"));
            send(
                s,
                "/mcp",
                &[
                    ("authorization", &auth),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "get_patient"),
                ],
                &call("add_clinical_note", json!({})),
            )
        }),
        case("newest revision without Mcp-Method", 400, false, |s| {
            let auth = bearer(&token("Doctor"));
            send(
                s,
                "/mcp",
                &[
                    ("authorization", &auth),
                    ("mcp-protocol-version", "2026-07-28"),
                ],
                GET_PATIENT,
            )
        }),
        case("unknown MCP-Protocol-Version", 400, false, |s| {
            let auth = bearer(&token("Doctor"));
            send(
                s,
                "/mcp",
                &[
                    ("authorization", &auth),
                    ("mcp-protocol-version", "1999-01-01"),
                ],
                GET_PATIENT,
            )
        }),
        case("Origin not allowed (DNS rebinding)", 403, false, |s| {
            let auth = bearer(&token("Doctor"));
            send(
                s,
                "/mcp",
                &[("authorization", &auth), ("origin", "http://evil.example")],
                GET_PATIENT,
            )
        }),
        case("a session id never issued", 404, false, |s| {
            let auth = bearer(&token("Doctor"));
            send(
                s,
                "/mcp",
                &[("authorization", &auth), ("mcp-session-id", "guessed-0001")],
                GET_PATIENT,
            )
        }),
        case(
            "control: Patient reads their own record",
            200,
            true,
            patient(json!({"patient_id":"NUGWI"})),
        ),
    ];
    run(&stack, cases);

    // A session belongs to whoever initialized it: another user presenting its id gets 404,
    // and their call never reaches the server.
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let owner = bearer(&token_with(
        json!({"user_id":"alice","role":"Doctor","exp": now()+300}),
    ));
    let (status, headers, _) = post_raw(
        &stack.url(),
        &[
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("authorization", &owner),
        ],
        init.into(),
    );
    assert_eq!(status, 200);
    let sid = header(&headers, "mcp-session-id")
        .expect("a session id")
        .to_string();
    assert_eq!(
        send(
            &stack,
            "/mcp",
            &[("authorization", &owner), ("mcp-session-id", &sid)],
            GET_PATIENT
        ),
        200
    );
    let before = stack.total();
    let thief = bearer(&token_with(
        json!({"user_id":"mallory","role":"Doctor","exp": now()+300}),
    ));
    assert_eq!(
        send(
            &stack,
            "/mcp",
            &[("authorization", &thief), ("mcp-session-id", &sid)],
            GET_PATIENT
        ),
        404
    );
    assert_eq!(stack.total(), before, "the thief's call reached the server");

    // Identity headers are the gatekeeper's: a client's copy never reaches the server.
    let auth = bearer(&token("Nurse"));
    let status = send(
        &stack,
        "/mcp",
        &[
            ("authorization", &auth),
            ("x-gatekeeper-roles", "Doctor"),
            ("x-gatekeeper-user-id", "0"),
        ],
        GET_PATIENT,
    );
    assert_eq!(status, 200);
    let seen = &stack.stats()["last_request"]["headers"];
    assert_eq!(seen["x-gatekeeper-roles"], "Nurse");
    assert_eq!(seen["x-gatekeeper-user-id"], "1");
}

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

// ---- reliability -------------------------------------------------------------------------

fn gate_with(upstream: SocketAddr, yaml: &str) -> Proc {
    let mut opts = GateOptions::new(upstream);
    opts.config_yaml = yaml.to_string();
    start_gatekeeper(opts)
}

#[test]
fn an_upstream_down_is_502_and_a_hung_one_is_504_within_its_bound() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let gate = gate_with(closed, "");
    let url = format!("http://{}/mcp", gate.addr);
    let body: Value = serde_json::from_str(GET_PATIENT).unwrap();
    assert_eq!(post(&url, Some(&token("Doctor")), &body).0, 502);

    // Accepts connections and never answers.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gate = gate_with(
        hung.local_addr().unwrap(),
        "upstream_timeouts:\n  read_ms: 500\n",
    );
    let started = Instant::now();
    let (status, _, _) = post(
        &format!("http://{}/mcp", gate.addr),
        Some(&token("Doctor")),
        &body,
    );
    assert_eq!(status, 504);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(hung);
}

#[test]
fn slow_clients_are_cut_off_by_the_request_deadline() {
    let stack = Stack::start(false);
    let gate = gate_with(stack.mock.addr, "limits:\n  request_deadline_ms: 800\n");

    // Slowloris: a header that never ends. The connection is closed near the deadline.
    let mut slow = TcpStream::connect(gate.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    slow.write_all(b"POST /mcp HTTP/1.1\r\nHost: gk\r\n")
        .unwrap();
    let mut buf = [0u8; 256];
    for _ in 0..20 {
        if slow.write_all(b"X-Drip: 1\r\n").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let n = slow.read(&mut buf).unwrap_or(0);
    assert!(n == 0 || !String::from_utf8_lossy(&buf[..n]).contains("200"));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // A body that trickles: 408 once the deadline passes, nothing forwarded.
    let before = stack.total();
    let mut trickle = TcpStream::connect(gate.addr).unwrap();
    trickle
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: gk\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        auth_line("Doctor"),
        GET_PATIENT.len()
    );
    trickle.write_all(head.as_bytes()).unwrap();
    trickle.write_all(&GET_PATIENT.as_bytes()[..10]).unwrap();
    let mut answer = Vec::new();
    let _ = trickle.read_to_end(&mut answer);
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(stack.total(), before);

    // A well-behaved client on the same gatekeeper is unaffected.
    let body: Value = serde_json::from_str(GET_PATIENT).unwrap();
    assert_eq!(
        post(
            &format!("http://{}/mcp", gate.addr),
            Some(&token("Doctor")),
            &body
        )
        .0,
        200
    );
}

#[test]
fn connections_past_the_cap_get_503() {
    let stack = Stack::start(false);
    let gate = gate_with(stack.mock.addr, "limits:\n  max_connections: 2\n");
    // The harness's readiness probe was a connection too: once the gatekeeper has seen it
    // close, both places are free (otherwise one held connection could be the one refused).
    wait_for_metric(&gate, "gatekeeper_open_connections", 0.0);
    // Two connections held open (each mid-header, within the deadline).
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(gate.addr).unwrap();
            s.write_all(b"POST /mcp HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    // Both must hold their places before the third arrives.
    wait_for_metric(&gate, "gatekeeper_open_connections", 2.0);
    let statuses = raw(
        gate.addr,
        b"GET /mcp HTTP/1.1\r\nHost: gk\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(statuses, vec![503]);
    held.clear();
    // Once they close, service resumes.
    let body: Value = serde_json::from_str(GET_PATIENT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = post(
            &format!("http://{}/mcp", gate.addr),
            Some(&token("Doctor")),
            &body,
        )
        .0;
        if status == 200 || Instant::now() > deadline {
            assert_eq!(status, 200);
            break;
        }
    }
}

fn wait_for_metric(gate: &Proc, name: &str, want: f64) {
    let url = format!(
        "http://{}/metrics",
        gate.metrics_addr.expect("metrics listener")
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, _, body) = get(&url, &[]);
        let value = String::from_utf8_lossy(&body)
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok());
        if value == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never reached {want} (last {value:?})"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn protected_resource_metadata_is_public() {
    let stack = Stack::start(false);
    let before = stack.total();
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let (status, headers, body) = get(&format!("http://{}{path}", stack.gate.addr), &[]);
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        let doc: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(doc["resource"], format!("http://{}/mcp", stack.gate.addr));
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    }
    assert_eq!(stack.total(), before, "metadata is the gatekeeper's own");
}
