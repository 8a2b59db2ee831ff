//! Hostile input, reliability: upstream failures, slow clients, connection caps, public metadata. Every case states the answer it must get AND whether the upstream
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
    slow.write_all(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\n")
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
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
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
        b"GET /mcp HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
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

/// The log is a pipe nobody reads (a wedged collector): a dead upstream makes every request
/// log an error line, and some two hundred fill the pipe. The workers must keep answering;
/// what the log's buffer cannot hold is dropped and counted, never waited for.
#[test]
fn a_log_nobody_reads_never_stalls_a_request() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut opts = GateOptions::new(closed);
    opts.stderr_unread = true;
    let gate = start_gatekeeper(opts);
    let url = format!("http://{}/mcp", gate.addr);
    let body: Value = serde_json::from_str(GET_PATIENT).unwrap();
    let doctor = token("Doctor");
    // More lines than the pipe and the log's buffer (16 Ki lines) hold together.
    let (threads, each) = (4, 5_000);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for i in 0..each {
                    let started = Instant::now();
                    let (status, _, _) = post(&url, Some(&doctor), &body);
                    assert_eq!(status, 502, "request {i}");
                    assert!(
                        started.elapsed() < Duration::from_secs(2),
                        "request {i} took {:?}",
                        started.elapsed()
                    );
                }
            });
        }
    });
    let metrics = gate.metrics_addr.expect("metrics listener");
    let (status, _, _) = get(&format!("http://{metrics}/healthz"), &[]);
    assert_eq!(status, 200);
    let (_, _, text) = get(&format!("http://{metrics}/metrics"), &[]);
    let dropped = String::from_utf8_lossy(&text)
        .lines()
        .find_map(|l| {
            l.strip_prefix("gatekeeper_log_lines_dropped_total ")?
                .parse::<u64>()
                .ok()
        })
        .expect("the dropped-lines counter");
    assert!(dropped > 0, "no line was dropped: the pipe never filled?");
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

// ---- a rewritten answer sent in one piece ------------------------------------------------

/// A kept-alive POST of `body` as `role` (the attack helpers' requests close the connection).
fn keep_alive_post(role: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\n{}Content-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        auth_line(role),
        body.len()
    )
    .into_bytes()
}

/// A POST on `conn` as `role`; the raw answer once its chunked body ends (or the connection
/// closes, or 5 s pass), and how many reads that took.
fn exchange(conn: &mut TcpStream, role: &str, body: &str) -> (Vec<u8>, usize) {
    conn.write_all(&keep_alive_post(role, body)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (mut answer, mut reads, mut buf) = (Vec::new(), 0, vec![0u8; 1 << 16]);
    while !answer.ends_with(b"\r\n0\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                reads += 1;
            }
        }
    }
    (answer, reads)
}

/// The JSON of a chunked answer's body (one chunk or several).
fn dechunk(answer: &[u8]) -> Value {
    let text = String::from_utf8_lossy(answer);
    let (_, mut rest) = text.split_once("\r\n\r\n").expect("a head");
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    serde_json::from_str(&body).expect("the body is JSON")
}

#[test]
fn a_redacted_answer_is_sent_whole_and_the_connection_serves_the_next() {
    let mock = start_mock(false);
    let gate = gate_with(mock.addr, "");
    let mut conn = TcpStream::connect(gate.addr).unwrap();
    let call = tools_call("get_medical_records", json!({"patient_id": "NUGWI"})).to_string();
    for i in 0..3 {
        let (answer, reads) = exchange(&mut conn, "Researcher", &call);
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 200"), "answer {i}: {text}");
        // Head, body and last chunk leave in one send, so they arrive in one read.
        assert_eq!(reads, 1, "answer {i} came in {reads} reads");
        let redacted = dechunk(&answer);
        let records = redacted["result"]["structuredContent"].to_string();
        assert!(records.contains("[REDACTED:NAME]"), "{records}");
        assert!(!records.contains("Ingrid Iwu"), "{records}");
    }
    // Passed answers (a Doctor's) keep their length and still share the connection.
    let (answer, _) = exchange(&mut conn, "Doctor", &call);
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}

/// An upstream that promises a body and dies inside it: the held answer must not hang the
/// client or linger on the connection for the next answer.
#[test]
fn an_upstream_dying_mid_body_closes_a_held_answer() {
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = upstream.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut conn in upstream.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n\
                  {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"name\":\"Johnathan Smithers\"",
            );
            // Dropped: the connection closes 4.9 KB short.
        }
    });
    let gate = gate_with(addr, "");
    let mut conn = TcpStream::connect(gate.addr).unwrap();
    let call = tools_call("get_medical_records", json!({"patient_id": "NUGWI"})).to_string();
    let started = Instant::now();
    let (answer, _) = exchange(&mut conn, "Researcher", &call);
    let text = String::from_utf8_lossy(&answer);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the client waited: {text}"
    );
    assert!(!text.contains("Smithers"), "{text}");
    assert!(
        !text.ends_with("\r\n0\r\n\r\n"),
        "a cut answer must not look complete: {text}"
    );
    // The connection is closed, not handed to the next request.
    let mut rest = [0u8; 64];
    let closed = matches!(conn.read(&mut rest), Ok(0) | Err(_));
    assert!(closed, "the connection stayed open after a broken answer");
}

/// A status without a body (204) has no last chunk: its head is not held.
#[test]
fn a_bodiless_answer_to_a_redacted_role_is_not_held() {
    let up = common::upstream::start_upstream(|_| common::upstream::Reply {
        status: 204,
        ..common::upstream::Reply::raw(&["application/json"], Vec::new())
    });
    let gate = gate_with(up.addr, "");
    let mut conn = TcpStream::connect(gate.addr).unwrap();
    let call = tools_call("get_medical_records", json!({"patient_id": "NUGWI"})).to_string();
    for _ in 0..2 {
        let started = Instant::now();
        conn.write_all(&keep_alive_post("Researcher", &call))
            .unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = conn.read(&mut buf).expect("a prompt answer");
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 204"), "{text}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
