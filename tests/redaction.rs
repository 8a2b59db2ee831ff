//! What each role receives: no value its profile hides appears anywhere in the bytes the client
//! gets — JSON or SSE upstream, `structuredContent` or `content[].text`, tools/call or legacy —
//! and what it may see is intact. Compressed answers are refused, never forwarded unread.

mod common;

use std::io::{Read, Write};

use common::*;
use serde_json::{json, Value};

fn nugwi() -> Value {
    let data: Value = serde_json::from_str(include_str!("../mock-mcp/data/hospital.json")).unwrap();
    data["patients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["patient_id"] == "NUGWI")
        .unwrap()
        .clone()
}

fn s<'a>(p: &'a Value, ptr: &str) -> &'a str {
    p.pointer(ptr)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{ptr}"))
}

/// The bytes a client receives, read off a raw socket (no client-side decompression).
fn raw_call(stack: &Stack, role: &str, body: &Value, accept_gzip: bool) -> (u16, String) {
    let mut sock = std::net::TcpStream::connect(stack.gate.addr).unwrap();
    let body = body.to_string();
    let extra = if accept_gzip {
        "Accept-Encoding: gzip\r\n"
    } else {
        ""
    };
    write!(
        sock,
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n{extra}Authorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        token(role),
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    sock.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    assert!(
        !text.to_ascii_lowercase().contains("content-encoding: gzip"),
        "the gatekeeper forwarded a compressed body"
    );
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

struct Expect {
    role: &'static str,
    tools: &'static [&'static str],
    hidden: Vec<String>,
    /// (tool, value that must arrive intact)
    visible: Vec<(&'static str, String)>,
}

fn expectations() -> Vec<Expect> {
    let p = nugwi();
    let ssn = s(&p, "/ssn").to_string();
    let member = s(&p, "/insurance/member_id").to_string();
    let diagnosis = s(&p, "/diagnoses/0/description").to_string();
    let name = s(&p, "/name").to_string();
    let note = s(&p, "/clinical_notes/0/text").to_string();
    let last4 = |v: &str| v[v.len() - 4..].to_string();
    vec![
        Expect {
            role: "Doctor",
            tools: &["get_patient", "get_medical_records", "get_billing"],
            hidden: vec![],
            visible: vec![
                ("get_patient", ssn.clone()),
                ("get_patient", member.clone()),
                ("get_patient", name.clone()),
                ("get_medical_records", note.clone()),
            ],
        },
        Expect {
            role: "Nurse",
            tools: &["get_patient", "get_medical_records"],
            hidden: vec![ssn.clone(), member.clone()],
            visible: vec![
                ("get_patient", name.clone()),
                ("get_patient", format!("***-**-{}", last4(&ssn))),
                ("get_patient", last4(&member)),
                ("get_medical_records", diagnosis.clone()),
            ],
        },
        Expect {
            role: "Billing",
            tools: &["get_patient", "get_billing"],
            hidden: vec![
                ssn.clone(),
                format!("-{}", last4(&ssn)),
                diagnosis.clone(),
                note.clone(),
            ],
            visible: vec![
                ("get_patient", name.clone()),
                ("get_patient", member.clone()),
                ("get_patient", "[REDACTED:SSN]".into()),
                ("get_billing", member.clone()),
            ],
        },
        Expect {
            role: "Researcher",
            tools: &["get_medical_records"],
            hidden: [
                "/name",
                "/first_name",
                "/last_name",
                "/ssn",
                "/phone",
                "/email",
                "/mrn",
                "/date_of_birth",
                "/address/street",
                "/address/city",
                "/address/zip",
                "/insurance/member_id",
                "/patient_id",
                "/emergency_contact/phone",
            ]
            .iter()
            .filter_map(|ptr| p.pointer(ptr).and_then(Value::as_str).map(String::from))
            .collect(),
            visible: vec![
                ("get_medical_records", diagnosis.clone()),
                ("get_medical_records", "HbA1c".into()),
            ],
        },
    ]
}

fn check(stack: &Stack, accept_gzip: bool) {
    for e in expectations() {
        for tool in e.tools {
            for body in [
                tools_call(tool, json!({"patient_id":"NUGWI"})),
                legacy_call(tool, json!({"patient_id":"NUGWI"})),
            ] {
                let (status, text) = raw_call(stack, e.role, &body, accept_gzip);
                assert_eq!(status, 200, "{} {tool}: {text}", e.role);
                for h in &e.hidden {
                    assert!(
                        !text.contains(h.as_str()),
                        "{} {tool} received hidden value {h}:\n{text}",
                        e.role
                    );
                }
                for (_, v) in e.visible.iter().filter(|(t, _)| t == tool) {
                    assert!(
                        text.contains(v.as_str()),
                        "{} {tool} lost visible value {v}:\n{text}",
                        e.role
                    );
                }
            }
        }
    }
}

#[test]
fn each_role_receives_only_what_it_may_see_from_a_json_upstream() {
    check(&Stack::start(false), false);
}

#[test]
fn each_role_receives_only_what_it_may_see_from_an_sse_upstream() {
    check(&Stack::start(true), false);
}

#[test]
fn a_client_asking_for_gzip_gets_the_same_redacted_bytes() {
    let stack = Stack::start(false);
    check(&stack, true);
    assert_eq!(stack.stats()["last_request"]["accept_encoding"], "identity");
}

#[test]
fn a_compressing_upstream_is_refused_for_redacted_roles() {
    let mock = start_mock_with(&["--gzip"]);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let stack = Stack { mock, gate };
    let (status, text) = raw_call(
        &stack,
        "Nurse",
        &tools_call("get_patient", json!({"patient_id":"NUGWI"})),
        false,
    );
    assert_eq!(status, 502, "{text}");
    assert!(text.contains("compressed"), "{text}");
}

#[test]
fn redactions_are_counted_in_the_audit_trail_and_metrics() {
    let stack = Stack::start(false);
    let (status, _) = raw_call(
        &stack,
        "Nurse",
        &tools_call("get_patient", json!({"patient_id":"NUGWI"})),
        false,
    );
    assert_eq!(status, 200);
    let log = stack.gate.audit_log.clone().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let line = loop {
        if let Some(l) = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .last()
            .map(String::from)
        {
            break l;
        }
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let record: Value = serde_json::from_str(&line).unwrap();
    assert!(
        record["redactions"]["ssn"].as_u64().unwrap() >= 2,
        "{record}"
    );
    let metrics = get(
        &format!("http://{}/metrics", stack.gate.metrics_addr.unwrap()),
        &[],
    )
    .2;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("gatekeeper_redactions_total{entity=\"ssn\"}")),
        "{metrics}"
    );
}

#[test]
fn large_requests_are_redacted_and_counted_like_small_ones() {
    let stack = Stack::start(false);
    let pad = "x".repeat(100 * 1024);
    let body = tools_call("get_patient", json!({"patient_id":"NUGWI","pad":pad}));
    let (status, text) = raw_call(&stack, "Nurse", &body, false);
    assert_eq!(status, 200, "{}", &text[..text.len().min(300)]);
    let ssn = s(&nugwi(), "/ssn").to_string();
    assert!(
        !text.contains(&ssn),
        "the large-body path skipped redaction"
    );
    let log = stack.gate.audit_log.clone().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let record: Value = loop {
        let last = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .last()
            .map(String::from);
        if let Some(line) = last {
            break serde_json::from_str(&line).unwrap();
        }
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(record["status"], 200);
    assert!(
        record["redactions"]["ssn"].as_u64().unwrap_or(0) >= 2,
        "{record}"
    );
}
