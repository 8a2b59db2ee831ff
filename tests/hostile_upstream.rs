//! Hostile input from the other side: an upstream that answers what mock-mcp never would. Each
//! case proves from outside that a redacted role cannot read a hidden value from any part of
//! the answer, that protocol members still pass byte-identical, and — for client answers to
//! server requests — that what must not reach the upstream is never received there.

mod common;

use common::upstream::{start_upstream, Received, Reply, Upstream};
use common::*;
use serde_json::{json, Value};

const SSN: &str = "123-45-6789";
const NAME: &str = "Johnathan Smithers";

fn gate(upstream: &Upstream) -> Proc {
    start_gatekeeper(GateOptions::new(upstream.addr))
}

fn url(gate: &Proc) -> String {
    format!("http://{}/mcp", gate.addr)
}

/// Everything the client received, headers included, as one text to search.
fn everything(headers: &Headers, body: &[u8]) -> String {
    let mut all: String = headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    all.push_str(&String::from_utf8_lossy(body));
    all
}

fn assert_hidden(what: &str, text: &str) {
    for secret in [SSN, "123456789", NAME, "Smithers"] {
        assert!(
            !text.contains(secret),
            "{what}: {secret} reached the client:\n{text}"
        );
    }
}

fn records_call() -> Value {
    tools_call("get_medical_records", json!({"patient_id": "NUGWI"}))
}

#[test]
fn the_handshake_passes_byte_identical_for_a_redacted_role() {
    let init = json!({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25",
        "capabilities":{"tools":{"listChanged":true}},
        "serverInfo":{"name":"Hospital EHR","version":"2.1.0"}}})
    .to_string();
    let reply = init.clone();
    let up = start_upstream(move |_| Reply::raw(&["application/json"], reply.clone()));
    let gate = gate(&up);
    let request = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let (status, _, body) = post(&url(&gate), Some(&token("Researcher")), &request);
    assert_eq!(status, 200);
    assert_eq!(String::from_utf8_lossy(&body), init);
}

#[test]
fn sse_events_the_json_parser_refuses_cut_the_stream() {
    let deep = format!("{}\"{SSN}\"{}", "[".repeat(200), "]".repeat(200));
    for data in [
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"result":{{"content":[{{"type":"text","text":"{NAME} \ud83d SSN {SSN}"}}]}}}}"#
        ),
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"result":{{"n":1e400,"structuredContent":{{"name":"{NAME}","ssn":"{SSN}"}}}}}}"#
        ),
        deep,
    ] {
        let events = format!("event: message\ndata: {data}\n\n");
        let up = start_upstream(move |_| Reply::sse(&events));
        let gate = gate(&up);
        let (status, headers, body) =
            post(&url(&gate), Some(&token("Researcher")), &records_call());
        assert_eq!(status, 200);
        let text = everything(&headers, &body);
        assert_hidden("unparsable SSE data", &text);
        assert!(text.contains("\"error\""), "{text}");
    }
}

#[test]
fn every_carrier_of_a_list_stream_is_redacted_and_the_list_filtered() {
    let events = format!(
        concat!(
            ": comment {ssn}\n\n",
            "event: message\nid: {ssn}\ndata: {{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{{\"level\":\"info\",\"data\":\"Patient {name} SSN {ssn}\"}}}}\n\n",
            "event: message\ndata: {{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"method\":\"elicitation/create\",\"params\":{{\"message\":\"Confirm Mr. {name}, SSN {ssn}\",\"requestedSchema\":{{\"type\":\"object\",\"properties\":{{\"ok\":{{\"type\":\"boolean\"}}}}}}}}}}\n\n",
            "event: message\ndata: {{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{{\"tools\":[",
            "{{\"name\":\"get_medical_records\",\"description\":\"Records of Mr. {name}, SSN {ssn}\",\"inputSchema\":{{\"type\":\"object\"}},\"SSN {ssn}\":1}},",
            "{{\"name\":\"add_clinical_note\",\"description\":\"writes\",\"inputSchema\":{{\"type\":\"object\"}}}}],",
            "\"_meta\":{{\"note\":\"SSN {ssn}\"}}}}}}\n\n"
        ),
        ssn = SSN,
        name = NAME
    );
    let up = start_upstream(move |_| Reply::sse(&events));
    let gate = gate(&up);
    let list = json!({"jsonrpc":"2.0","id":7,"method":"tools/list"});
    let (status, headers, body) = post(&url(&gate), Some(&token("Researcher")), &list);
    assert_eq!(status, 200);
    let text = everything(&headers, &body);
    assert_hidden("tools/list stream", &text);
    let answer = messages(&body)
        .into_iter()
        .find(|m| m["id"] == 7)
        .unwrap_or_else(|| panic!("no list answer: {text}"));
    let names: Vec<&str> = answer["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["get_medical_records"], "{text}");
    assert!(
        text.contains("\"requestedSchema\":{\"type\":\"object\""),
        "{text}"
    );
}

#[test]
fn a_list_answered_as_a_batch_is_filtered_too() {
    let batch = json!([{"jsonrpc":"2.0","id":7,"result":{"tools":[
        {"name":"add_clinical_note","inputSchema":{"type":"object"}}]}}]);
    let up = start_upstream(move |_| Reply::json(&batch));
    let gate = gate(&up);
    let list = json!({"jsonrpc":"2.0","id":7,"method":"tools/list"});
    let (_, _, body) = post(&url(&gate), Some(&token("Janitor")), &list);
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains("add_clinical_note"), "{text}");
}

#[test]
fn errors_keep_their_code_and_lose_what_identifies() {
    let error = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32602,
        "message":format!("No consent on file for {SSN}"),"data":{"name":NAME,"ssn":SSN}}});
    let up = start_upstream(move |_| Reply::json(&error));
    let gate = gate(&up);
    let (_, headers, body) = post(&url(&gate), Some(&token("Researcher")), &records_call());
    let text = everything(&headers, &body);
    assert_hidden("error message and data", &text);
    assert_eq!(message(&body)["error"]["code"], -32602);
}

#[test]
fn a_label_that_is_not_json_does_not_dodge_the_field_rules() {
    let billing = json!({"jsonrpc":"2.0","id":1,"result":{"structuredContent":{
        "patient_id":"NUGWI","balance":120,"diagnoses":[{"code":"F32.A","description":"Depression"}],
        "clinical_notes":[{"text":"sees a psychiatrist"}]}}})
    .to_string();
    for labels in [
        vec!["text/plain"],
        vec!["text/html"],
        vec![],
        vec!["application/json", "text/plain"],
    ] {
        let body = billing.clone();
        let up = start_upstream(move |_| Reply::raw(&labels, body.clone()));
        let gate = gate(&up);
        let call = tools_call("get_billing", json!({"patient_id":"NUGWI"}));
        let (_, headers, answer) = post(&url(&gate), Some(&token("Billing")), &call);
        let text = everything(&headers, &answer);
        assert!(
            !text.contains("Depression") && !text.contains("psychiatrist"),
            "{text}"
        );
    }
    let up = start_upstream(|_| Reply::raw(&["text/html"], format!("<p>{NAME} SSN {SSN}</p>")));
    let gate = gate(&up);
    let (_, headers, answer) = post(&url(&gate), Some(&token("Researcher")), &records_call());
    assert_hidden("an HTML answer", &everything(&headers, &answer));
}

/// The upstream asks the client something on the stream of a tool call, then answers the call.
fn asking_upstream() -> Upstream {
    start_upstream(|r: &Received| {
        if r.method().is_empty() {
            return Reply {
                status: 202,
                ..Reply::raw(&[], Vec::new())
            };
        }
        Reply::sse(concat!(
            "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"elicit-1\",\"method\":\"elicitation/create\",",
            "\"params\":{\"message\":\"Which ward?\",\"requestedSchema\":{\"type\":\"object\",\"properties\":{}}}}\n\n",
            "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[]}}\n\n"
        ))
    })
}

#[test]
fn a_client_answers_only_what_the_server_asked_it_and_only_once() {
    let answer = json!({"jsonrpc":"2.0","id":"elicit-1","result":{"action":"accept","content":{}}});
    for role in ["Doctor", "Researcher"] {
        let up = asking_upstream();
        let gate = gate(&up);
        let alice = token(role);
        let mallory = token_with(json!({"user_id":"2","role":role,"exp": now() + 300}));
        // Nobody asked yet: refused, never forwarded.
        assert_eq!(post(&url(&gate), Some(&alice), &answer).0, 403, "{role}");
        assert_eq!(up.count(""), 0);
        let (status, _, body) = post(&url(&gate), Some(&alice), &records_call());
        assert_eq!(status, 200, "{role}: {}", String::from_utf8_lossy(&body));
        // Another user cannot answer what alice was asked.
        assert_eq!(post(&url(&gate), Some(&mallory), &answer).0, 403, "{role}");
        assert_eq!(up.count(""), 0);
        assert_eq!(post(&url(&gate), Some(&alice), &answer).0, 202, "{role}");
        assert_eq!(up.count(""), 1);
        // Answered once: a replay is refused.
        assert_eq!(post(&url(&gate), Some(&alice), &answer).0, 403, "{role}");
        assert_eq!(up.count(""), 1);
    }
}

#[test]
fn bodies_another_parser_could_read_differently_never_reach_the_upstream() {
    let up = start_upstream(|_| Reply::json(&json!({"jsonrpc":"2.0","id":1,"result":{}})));
    let gate = gate(&up);
    let doctor = format!("Bearer {}", token("Patient"));
    let twins = [
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","NAME":"add_clinical_note","arguments":{"patient_id":"NUGWI"}}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{"patient_id":"NUGWI"},"Arguments":{"patient_id":"SQHUM"}}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{"patient_id":"NUGWI","Patient_ID":"SQHUM"}}}"#,
    ];
    for body in twins {
        let (status, _, answer) = post_raw(
            &url(&gate),
            &[
                ("Authorization", &doctor),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes().to_vec(),
        );
        assert_eq!(status, 400, "{body}: {}", String::from_utf8_lossy(&answer));
    }
    let (status, _, _) = post_raw(
        &url(&gate),
        &[
            ("Authorization", &doctor),
            ("Content-Type", "application/json; charset=utf-16"),
        ],
        records_call().to_string().into_bytes(),
    );
    assert_eq!(status, 415);
    assert_eq!(up.received().len(), 0);
}

#[test]
fn upstream_headers_a_redacted_role_does_not_need_are_dropped() {
    let answer = json!({"jsonrpc":"2.0","id":1,"result":{"content":[]}});
    let up = start_upstream(move |_| {
        Reply::json(&answer)
            .with_header(&format!("X-Patient: {NAME} {SSN}"))
            .with_header("Set-Cookie: chart=NUGWI; Path=/")
            .with_header("Mcp-Session-Id: s-1")
    });
    let gate = gate(&up);
    let (_, headers, body) = post(&url(&gate), Some(&token("Researcher")), &records_call());
    let text = everything(&headers, &body);
    assert_hidden("response headers", &text);
    assert!(header(&headers, "set-cookie").is_none(), "{text}");
    assert_eq!(header(&headers, "mcp-session-id"), Some("s-1"));
    let (_, headers, _) = post(&url(&gate), Some(&token("Doctor")), &records_call());
    assert!(
        header(&headers, "x-patient").is_some(),
        "Doctor sees responses unchanged"
    );
}

#[test]
fn names_the_client_chose_reach_the_audit_trail_only_when_the_policy_knows_them() {
    let up = start_upstream(|_| Reply::json(&json!({"jsonrpc":"2.0","id":1,"result":{}})));
    let gate = gate(&up);
    for call in [
        tools_call(&format!("{NAME} {SSN}"), json!({})),
        json!({"jsonrpc":"2.0","id":1,"method":format!("{NAME}_{SSN}"),"params":{}}),
    ] {
        let (status, _, _) = post(&url(&gate), Some(&token("Doctor")), &call);
        assert!(status == 200 || status == 403, "{status}");
    }
    let log = gate.audit_log.clone().expect("audit log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let trail = loop {
        let trail = std::fs::read_to_string(&log).unwrap_or_default();
        if trail.lines().count() >= 2 || std::time::Instant::now() > deadline {
            break trail;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(trail.lines().count(), 2, "{trail}");
    assert_hidden("the audit trail", &trail);
}

#[test]
fn debug_logging_never_prints_what_the_upstream_answered() {
    let answer =
        json!({"jsonrpc":"2.0","id":1,"result":{"structuredContent":{"name":NAME,"ssn":SSN}}});
    let up = start_upstream(move |_| Reply::json(&answer));
    let mut opts = GateOptions::new(up.addr);
    opts.env = vec![("RUST_LOG".into(), "debug".into())];
    let gate = start_gatekeeper(opts);
    let (status, _, body) = post(&url(&gate), Some(&token("Researcher")), &records_call());
    assert_eq!(status, 200);
    assert_hidden("the answer", &String::from_utf8_lossy(&body));
    assert_hidden("the gatekeeper's own log at debug", &gate.stderr_so_far());
}

#[test]
fn a_host_that_is_not_this_endpoints_is_refused_and_never_echoed() {
    let up = start_upstream(|_| Reply::json(&json!({"jsonrpc":"2.0","id":1,"result":{}})));
    let gate = gate(&up);
    let auth = format!("Bearer {}", token("Doctor"));
    for host in ["evil.example", "evil.example:80", "localhost.evil.example"] {
        let (status, headers, body) = post_raw(
            &url(&gate),
            &[
                ("Host", host),
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            records_call().to_string().into_bytes(),
        );
        assert_eq!(status, 403, "{host}: {}", String::from_utf8_lossy(&body));
        assert!(
            !everything(&headers, &body).contains("evil.example/"),
            "{host}"
        );
    }
    // A 401 names the metadata by the listener's own name, whatever Host the request sent.
    let (status, headers, _) = post_raw(
        &url(&gate),
        &[
            ("Host", "evil.example"),
            ("Content-Type", "application/json"),
        ],
        records_call().to_string().into_bytes(),
    );
    assert!(status == 401 || status == 403, "{status}");
    let challenge = header(&headers, "www-authenticate").unwrap_or("");
    assert!(!challenge.contains("evil.example"), "{challenge}");
    assert_eq!(up.received().len(), 0);
}

#[test]
fn json_inside_strings_and_binary_content_do_not_carry_phi_past_the_field_rules() {
    use base64::Engine;
    let record = json!({"name": NAME, "ssn": SSN, "zip": "06184"});
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let note = b64(&format!("Spoke with Mr. {NAME}, SSN {SSN}."));
    let answers = [
        (
            "resources/read",
            json!({"jsonrpc":"2.0","id":1,"result":{"contents":[
            {"uri":"file:///chart","mimeType":"application/json","text":record.to_string()},
            {"uri":"file:///note","mimeType":"text/plain","blob":note}]}}),
        ),
        (
            "tools/call",
            json!({"jsonrpc":"2.0","id":1,"result":{"content":[
            {"type":"text","text":format!("Chart:\n```json\n{record}\n```")},
            {"type":"image","mimeType":"image/png","data":b64(&format!("PNG {NAME}"))}]}}),
        ),
        (
            "prompts/get",
            json!({"jsonrpc":"2.0","id":1,"result":{"messages":[
            {"role":"user","content":{"type":"text","text":format!("{record}\n{record}\n")}}]}}),
        ),
    ];
    for (method, answer) in answers {
        let up = start_upstream(move |_| Reply::json(&answer));
        let gate = gate(&up);
        let call = match method {
            "resources/read" => {
                json!({"jsonrpc":"2.0","id":1,"method":method,"params":{"uri":"file:///chart"}})
            }
            "prompts/get" => {
                json!({"jsonrpc":"2.0","id":1,"method":method,"params":{"name":"handover"}})
            }
            _ => records_call(),
        };
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.yaml");
        std::fs::write(&policy, "authenticated:\n  methods: [initialize, ping]\nroles:\n  Researcher:\n    tools: ['*']\n    resources: ['*']\n    prompts: ['*']\n").unwrap();
        let mut opts = GateOptions::new(up.addr);
        opts.policy = policy;
        drop(gate);
        let gate = start_gatekeeper(opts);
        let (status, headers, body) = post(&url(&gate), Some(&token("Researcher")), &call);
        assert_eq!(status, 200, "{method}: {}", String::from_utf8_lossy(&body));
        let mut all = everything(&headers, &body);
        // Decode every base64 blob the client got, as it could.
        for m in messages(&body) {
            let text = m.to_string();
            for piece in text.split('"').filter(|p| p.len() > 8) {
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(piece) {
                    all.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
        }
        assert_hidden(method, &all);
        assert!(!all.contains("06184"), "{method}: {all}");
    }
}

#[test]
fn identifiers_written_as_bare_numbers_do_not_pass() {
    // What a server would quote, written as JSON numbers: the SSN a field rule takes under
    // `ssn`, repeated under another key and in a note; a card number; a card number as a
    // member of a list entry.
    let result = json!({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}],
        "structuredContent":{"ssn":123456789,"ref":123456789,"note":"on file: 123456789",
        "payment":4111111111111111_u64,"visits":3}}});
    let list = json!({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"get_medical_records",
        "inputSchema":{"type":"object"},"account":4111111111111111_u64}]}});
    let list_call = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"});
    for (call, answer, kept) in [
        (records_call(), result, "\"visits\":3"),
        (list_call, list, "\"name\":\"get_medical_records\""),
    ] {
        let up = start_upstream(move |_| Reply::json(&answer));
        let gate = gate(&up);
        let (status, headers, body) = post(&url(&gate), Some(&token("Researcher")), &call);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let text = everything(&headers, &body);
        assert_hidden("bare numbers", &text);
        assert!(!text.contains("4111111111111111"), "{text}");
        assert!(text.contains(kept), "{text}");
    }
}

/// The records call as a Researcher, over a bare socket: the whole answer as sent, status
/// lines and interim heads included (an HTTP client would hide them).
fn researcher_call_raw(gate: &Proc) -> String {
    let body = records_call().to_string();
    let mut conn = std::net::TcpStream::connect(gate.addr).unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        gate.addr,
        token("Researcher"),
        body.len()
    );
    std::io::Write::write_all(&mut conn, head.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut conn, &mut answer);
    answer
}

#[test]
fn the_upstream_status_line_carries_no_text_of_its_own() {
    let up = start_upstream(|_| {
        Reply::json(&json!({"jsonrpc":"2.0","id":1,"result":{"content":[]}}))
            .with_reason(&format!("OK {NAME} {SSN}"))
    });
    let gate = gate(&up);
    let answer = researcher_call_raw(&gate);
    let status_line = answer.lines().next().unwrap_or_default();
    assert!(status_line.starts_with("HTTP/1.1 200"), "{status_line}");
    assert_hidden("the status line", &answer);
}

#[test]
fn informational_answers_carry_no_upstream_headers_to_a_redacted_role() {
    let json = json!({"jsonrpc":"2.0","id":1,"result":{"content":[]}}).to_string();
    let real = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
        json.len()
    );
    let up = start_upstream(move |_| Reply {
        status: 103,
        reason: format!("Early Hints {SSN}"),
        headers: vec![
            format!("Link: </patients/{SSN}>; rel=preload"),
            format!("X-Patient: {NAME}"),
        ],
        body: real.clone().into_bytes(),
    });
    let gate = gate(&up);
    let answer = researcher_call_raw(&gate);
    assert_hidden("an informational answer", &answer);
    // The interim head stays an interim head: no framing of a body it cannot have.
    let interim = answer.split("\r\n\r\n").next().unwrap_or_default();
    assert!(interim.starts_with("HTTP/1.1 103"), "{answer}");
    assert!(
        !interim.to_ascii_lowercase().contains("transfer-encoding"),
        "{answer}"
    );
    let last = answer.rsplit("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(last.contains("\"content\":[]"), "{answer}");
}

#[test]
fn the_headers_a_redacted_role_keeps_carry_only_their_own_form() {
    let answer = json!({"jsonrpc":"2.0","id":1,"result":{"content":[]}});
    let up = start_upstream(move |_| Reply {
        headers: vec![
            format!("Content-Type: application/json; patient=\"{NAME} {SSN}\""),
            format!("ETag: \"{NAME}\""),
            format!("Last-Modified: {SSN}"),
            format!("Cache-Control: private=\"{NAME}\", max-age=60"),
            format!("Vary: Accept, {SSN}"),
            format!("Expires: {NAME}"),
            format!("Pragma: {NAME}"),
            format!("Retry-After: {SSN}"),
            format!("Allow: POST, {NAME}"),
            format!("Mcp-Protocol-Version: {SSN}"),
            format!("Mcp-Session-Id: {SSN}"),
            format!("Access-Control-Expose-Headers: {NAME}"),
        ],
        ..Reply::json(&answer)
    });
    let first = gate(&up);
    let (status, headers, body) = post(&url(&first), Some(&token("Researcher")), &records_call());
    assert_eq!(status, 200);
    let text = everything(&headers, &body);
    assert_hidden("protocol headers", &text);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));

    // In their own form they pass.
    let answer = json!({"jsonrpc":"2.0","id":1,"result":{"content":[]}});
    let good = [
        ("cache-control", "no-store, max-age=0"),
        ("vary", "Accept, Origin"),
        ("retry-after", "120"),
        ("expires", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ("mcp-protocol-version", "2025-11-25"),
        ("mcp-session-id", "9f8e7d6c-5b4a-4f3e-8d2c-1b0a9f8e7d6c"),
        (
            "access-control-expose-headers",
            "Mcp-Session-Id, Mcp-Protocol-Version",
        ),
    ];
    let lines: Vec<String> = good.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let up = start_upstream(move |_| Reply {
        headers: lines.clone(),
        ..Reply::raw(&["application/json; charset=utf-8"], answer.to_string())
    });
    let gate = gate(&up);
    let (_, headers, _) = post(&url(&gate), Some(&token("Researcher")), &records_call());
    for (name, value) in good {
        assert_eq!(header(&headers, name), Some(value), "{name}: {headers:?}");
    }
}
