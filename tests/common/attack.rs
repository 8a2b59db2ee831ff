//! The hostile-input suites' shared kit: one attack as a table row (`Case`: what to send,
//! which status must come back, whether the upstream may see it), the runner that reports every
//! failed row at once, and request builders down to raw TCP bytes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::*;

/// One attack: what to send, which status must come back, whether the upstream may see it.
pub struct Case {
    pub name: &'static str,
    pub expect: Expect,
    pub reaches_upstream: bool,
    pub send: Box<dyn Fn(&Stack) -> u16>,
}

#[derive(Clone, Copy, Debug)]
pub enum Expect {
    Status(u16),
    /// Any 4xx: framing errors Pingora itself refuses (its exact code is its business).
    ClientError,
}

pub fn case(
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

pub fn any_4xx(name: &'static str, send: impl Fn(&Stack) -> u16 + 'static) -> Case {
    Case {
        name,
        expect: Expect::ClientError,
        reaches_upstream: false,
        send: Box::new(send),
    }
}

/// Runs every case against one stack and reports all failures at once.
pub fn run(stack: &Stack, cases: Vec<Case>) {
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

pub const GET_PATIENT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{"patient_id":"NUGWI"}}}"#;

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// POSTs `body` to `path` with JSON headers plus `extra`.
pub fn send(stack: &Stack, path: &str, extra: &[(&str, &str)], body: &str) -> u16 {
    let url = format!("http://{}{path}", stack.gate.addr);
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    headers.extend_from_slice(extra);
    post_raw(&url, &headers, body.as_bytes().to_vec()).0
}

pub fn as_role(stack: &Stack, role: &str, body: &str) -> u16 {
    let auth = bearer(&token(role));
    send(stack, "/mcp", &[("authorization", &auth)], body)
}

pub fn with_token(stack: &Stack, token: &str, body: &str) -> u16 {
    let auth = bearer(token);
    send(stack, "/mcp", &[("authorization", &auth)], body)
}

pub fn call(tool: &str, args: Value) -> String {
    tools_call(tool, args).to_string()
}

pub fn claims(role: &str) -> Value {
    json!({"user_id":"1","role":role,"exp": now() + 300})
}

/// A token with a hand-made header and claims, signed with the shared secret.
pub fn forge(header: &str, claims: &str) -> String {
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

pub fn patient_token() -> String {
    token_with(json!({"user_id":"7","role":"Patient","patient_id":"NUGWI","exp": now() + 300}))
}

/// Sends raw bytes on a fresh connection and returns every status line's code, in order,
/// read until the gatekeeper closes the connection (or 5 s pass).
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u16> {
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
pub fn one_connection(addr: SocketAddr, requests: &[&[u8]]) -> Vec<u16> {
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

pub fn raw_status(stack: &Stack, bytes: &[u8]) -> u16 {
    raw(stack.gate.addr, bytes).first().copied().unwrap_or(0)
}

/// A complete request with a JSON body and the given extra header lines.
pub fn raw_post(head_lines: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{head_lines}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub fn auth_line(role: &str) -> String {
    format!("Authorization: Bearer {}\r\n", token(role))
}
