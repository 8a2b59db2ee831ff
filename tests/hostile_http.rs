//! Hostile input, HTTP framing on raw TCP: smuggling, pipelining, odd lengths and headers. Every case states the answer it must get AND whether the upstream
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

// ---- HTTP framing, on raw TCP -----------------------------------------------------------

#[test]
fn http_framing_attacks() {
    let stack = Stack::start(false);
    let cases = vec![
        // On a 101 Pingora would tunnel raw bytes, unjudged, for the rest of the connection.
        case("ping asking for a WebSocket upgrade", 400, false, |s| {
            let req = raw_post(&format!("{}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", auth_line("Doctor")), r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
            raw_status(s, &req)
        }),
        case("GET asking for an h2c upgrade", 400, false, |s| {
            let req = format!("GET /mcp HTTP/1.1\r\nHost: localhost\r\n{}Accept: text/event-stream\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        case("Upgrade without Connection: upgrade", 400, false, |s| {
            let req = raw_post(
                &format!("{}Upgrade: websocket\r\n", auth_line("Doctor")),
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            );
            raw_status(s, &req)
        }),
        case("Content-Length with Transfer-Encoding", 400, false, |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        any_4xx("two different Content-Lengths", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"), GET_PATIENT.len());
            raw_status(s, req.as_bytes())
        }),
        any_4xx("non-numeric Content-Length", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nContent-Length: 12a\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        any_4xx("negative Content-Length", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nContent-Length: -1\r\nConnection: close\r\n\r\n", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        any_4xx("invalid chunk size", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{GET_PATIENT}\r\n0\r\n\r\n", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        any_4xx("obs-fold header line", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nX-Folded: a\r\n b\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"), GET_PATIENT.len());
            raw_status(s, req.as_bytes())
        }),
        any_4xx("NUL in a header value", |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nX-Evil: a\0b\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"), GET_PATIENT.len());
            raw_status(s, req.as_bytes())
        }),
        case("a 100 KiB header", 431, false, |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}X-Big: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GET_PATIENT}", auth_line("Doctor"), "a".repeat(100 * 1024), GET_PATIENT.len());
            raw_status(s, req.as_bytes())
        }),
        case("declared 2 MiB body", 413, false, |s| {
            let req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n{{", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        case("chunked body past the limit", 413, false, |s| {
            let chunk = "a".repeat(256 * 1024);
            let mut req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", auth_line("Doctor"));
            for _ in 0..5 {
                req.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
            }
            req.push_str("0\r\n\r\n");
            raw_status(s, req.as_bytes())
        }),
        case("GET with a body", 400, false, |s| {
            let req = format!("GET /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Length: 2\r\nConnection: close\r\n\r\n{{}}", auth_line("Doctor"));
            raw_status(s, req.as_bytes())
        }),
        case("a request smuggled in a refused body", 401, false, |s| {
            // Refused before its body is read: the body must not become the next request.
            let inner =
                String::from_utf8(raw_post(&auth_line("Doctor"), GET_PATIENT)).unwrap_or_default();
            let outer = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{inner}", inner.len());
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
                let outer = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{inner}\r\n0\r\n\r\n", inner.len());
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
                let refused = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{GET_PATIENT}", GET_PATIENT.len());
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
            let req = format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{GET_PATIENT}\r\n0\r\n\r\n", auth_line("Doctor"), GET_PATIENT.len());
            raw_status(s, req.as_bytes())
        }),
    ];
    run(&stack, cases);
}
