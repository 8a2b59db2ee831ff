//! MCP 2026-07-28 beside 2025-11-25, through the real binaries: the same decisions, lists and
//! redaction for both generations of client; the 2026 mirror headers (`Mcp-Method`,
//! `Mcp-Name`, `Mcp-Param-*`, Base64 values) checked against the body and refused before the
//! upstream; no sessions, GET or DELETE in 2026; MRTR round trips; listen streams delivered as
//! they happen and cancelled upstream when the client goes; tasks bound to their creator.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine;
use common::upstream::{start_upstream, Reply};
use common::*;
use serde_json::{json, Value};

const MODERN: &str = "2026-07-28";
const LEGACY: &str = "2025-11-25";

fn token_for(role: &str, user: &str) -> String {
    token_with(json!({"user_id": user, "role": role, "username": user, "exp": now() + 300}))
}

/// What a 2026-07-28 client sends: `_meta` in the body and the headers mirroring it.
fn modern_body(mut body: Value) -> Value {
    let params = body
        .as_object_mut()
        .unwrap()
        .entry("params")
        .or_insert_with(|| json!({}));
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
    });
    body
}

fn mirror_headers(body: &Value) -> Vec<(String, String)> {
    let mut h = vec![
        ("mcp-protocol-version".to_string(), MODERN.to_string()),
        (
            "mcp-method".to_string(),
            body["method"].as_str().unwrap().to_string(),
        ),
    ];
    let p = &body["params"];
    if let Some(name) = p["name"]
        .as_str()
        .or(p["uri"].as_str())
        .or(p["taskId"].as_str())
    {
        h.push(("mcp-name".into(), name.into()));
    }
    if let Some(id) = p["arguments"]["patient_id"].as_str() {
        h.push(("mcp-param-patient-id".into(), id.into()));
    }
    h
}

/// POSTs as a 2026-07-28 client; `change` edits the headers first.
fn modern_post_with(
    url: &str,
    token: &str,
    body: Value,
    change: impl FnOnce(&mut Vec<(String, String)>),
) -> (u16, Headers, Value) {
    let body = modern_body(body);
    let mut headers = mirror_headers(&body);
    change(&mut headers);
    let auth = format!("Bearer {token}");
    let mut all: Vec<(&str, &str)> = vec![
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("authorization", &auth),
    ];
    all.extend(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (status, headers, bytes) = post_raw(url, &all, body.to_string().into_bytes());
    let msg = messages(&bytes).pop().unwrap_or(Value::Null);
    (status, headers, msg)
}

fn modern_post(url: &str, token: &str, body: Value) -> (u16, Value) {
    let (status, _, msg) = modern_post_with(url, token, body, |_| {});
    (status, msg)
}

/// A 2025-11-25 client: `initialize`, then every request in its session.
struct Legacy {
    url: String,
    auth: String,
    session: String,
}

impl Legacy {
    fn open(url: &str, token: &str) -> Legacy {
        let (status, headers, body) = post(
            url,
            Some(token),
            &json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
                "protocolVersion": LEGACY, "capabilities": {},
                "clientInfo": {"name": "test", "version": "1"}}}),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let session = header(&headers, "mcp-session-id")
            .expect("a session")
            .to_string();
        let legacy = Legacy {
            url: url.to_string(),
            auth: format!("Bearer {token}"),
            session,
        };
        assert_eq!(
            legacy
                .post(json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
                .0,
            202
        );
        legacy
    }

    fn post(&self, body: Value) -> (u16, Value) {
        let headers = [
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("authorization", self.auth.as_str()),
            ("mcp-session-id", self.session.as_str()),
            ("mcp-protocol-version", LEGACY),
        ];
        let (status, _, bytes) = post_raw(&self.url, &headers, body.to_string().into_bytes());
        (status, messages(&bytes).pop().unwrap_or(Value::Null))
    }
}

fn list_tools() -> Value {
    json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})
}

fn tool_names(msg: &Value) -> Vec<String> {
    msg["result"]["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What a role got from a call, without what the revisions add (`resultType`).
fn content(msg: &Value) -> Value {
    let mut msg = msg.clone();
    if let Some(r) = msg.get_mut("result").and_then(Value::as_object_mut) {
        r.remove("resultType");
    }
    msg
}

#[test]
fn both_generations_get_the_same_decisions_lists_and_redaction() {
    let mock = start_mock(false);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let url = format!("http://{}/mcp", gate.addr);
    let calls = [
        ("get_patient", json!({"patient_id": "NUGWI"})),
        ("get_medical_records", json!({"patient_id": "NUGWI"})),
        ("get_billing", json!({"patient_id": "NUGWI"})),
        ("search_patients", json!({"query": "a"})),
    ];
    for role in ["Doctor", "Nurse", "Billing", "Researcher", "Patient"] {
        let token = token_with(json!({"user_id":"7","role":role,"patient_id":"NUGWI",
            "exp": now() + 300}));
        let legacy = Legacy::open(&url, &token);
        let (_, old) = legacy.post(list_tools());
        let (status, new) = modern_post(&url, &token, list_tools());
        assert_eq!(status, 200, "{role}: {new}");
        assert_eq!(tool_names(&old), tool_names(&new), "{role}: tools/list");
        assert!(!tool_names(&new).is_empty(), "{role}: {new}");
        for (tool, args) in &calls {
            let (old_status, old) = legacy.post(tools_call(tool, args.clone()));
            let (new_status, new) = modern_post(&url, &token, tools_call(tool, args.clone()));
            assert_eq!(old_status, new_status, "{role} {tool}: {old} / {new}");
            assert_eq!(content(&old), content(&new), "{role} {tool}");
        }
    }
    let stats = get_stats(&mock);
    assert_eq!(stats["http"]["GET"], 0);
}

fn get_stats(mock: &Proc) -> Value {
    let (_, _, body) = get(&format!("http://{}/stats", mock.addr), &[]);
    serde_json::from_slice(&body).unwrap()
}

fn tool_count(mock: &Proc, tool: &str) -> u64 {
    get_stats(mock)["tools"][tool].as_u64().unwrap_or(0)
}

fn b64(s: &str) -> String {
    format!(
        "=?base64?{}?=",
        base64::engine::general_purpose::STANDARD.encode(s)
    )
}

type Change = fn(&mut Vec<(String, String)>);

fn set(headers: &mut Vec<(String, String)>, name: &str, value: Option<String>) {
    headers.retain(|(k, _)| k != name);
    if let Some(v) = value {
        headers.push((name.to_string(), v));
    }
}

#[test]
fn mirror_headers_that_disagree_with_the_body_never_reach_the_upstream() {
    let mock = start_mock(false);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let url = format!("http://{}/mcp", gate.addr);
    let doctor = token("Doctor");
    let call = || tools_call("get_patient", json!({"patient_id": "NUGWI"}));
    let refused: [(&str, Change); 9] = [
        ("no Mcp-Method", |h| set(h, "mcp-method", None)),
        ("no Mcp-Name", |h| set(h, "mcp-name", None)),
        ("another tool in Mcp-Name", |h| {
            set(h, "mcp-name", Some("get_billing".into()))
        }),
        ("another tool, Base64", |h| {
            set(h, "mcp-name", Some(b64("get_billing")))
        }),
        ("Mcp-Name not Base64", |h| {
            set(h, "mcp-name", Some("=?base64?***?=".into()))
        }),
        ("another patient in Mcp-Param", |h| {
            set(h, "mcp-param-patient-id", Some("SQHUM".into()))
        }),
        ("another patient, Base64", |h| {
            set(h, "mcp-param-patient-id", Some(b64("SQHUM")))
        }),
        ("a parameter the tool does not have", |h| {
            set(h, "mcp-param-region", Some("us-west1".into()))
        }),
        ("the header says 2025-11-25, the body 2026-07-28", |h| {
            set(h, "mcp-protocol-version", Some(LEGACY.into()))
        }),
    ];
    for (why, change) in refused {
        let (status, _, msg) = modern_post_with(&url, &doctor, call(), change);
        assert_eq!(status, 400, "{why}: {msg}");
        assert_eq!(msg["error"]["code"], -32020, "{why}: {msg}");
        assert_eq!(msg["id"], 1, "{why}: the error answers the request");
    }
    assert_eq!(
        tool_count(&mock, "get_patient"),
        0,
        "nothing refused reached the upstream"
    );

    let allowed: [(&str, Change); 3] = [
        ("as sent", |_| {}),
        ("Mcp-Name in Base64", |h| {
            set(h, "mcp-name", Some(b64("get_patient")))
        }),
        ("Mcp-Param in Base64", |h| {
            set(h, "mcp-param-patient-id", Some(b64("NUGWI")))
        }),
    ];
    for (why, change) in allowed {
        let (status, _, msg) = modern_post_with(&url, &doctor, call(), change);
        assert_eq!(status, 200, "{why}: {msg}");
    }
    assert_eq!(tool_count(&mock, "get_patient"), 3);

    // Once tools/list showed which parameter a header mirrors, leaving it out is refused too.
    modern_post(&url, &doctor, list_tools());
    let (status, _, msg) = modern_post_with(&url, &doctor, call(), |h| {
        set(h, "mcp-param-patient-id", None)
    });
    assert_eq!(
        (status, msg["error"]["code"].clone()),
        (400, json!(-32020)),
        "{msg}"
    );
    assert_eq!(tool_count(&mock, "get_patient"), 3);
}

#[test]
fn a_header_cannot_dodge_a_condition_on_an_argument() {
    let mock = start_mock(false);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let url = format!("http://{}/mcp", gate.addr);
    // A Patient may read their own record only: the body names theirs, the header another's.
    let patient = token_with(json!({"user_id":"p1","role":"Patient","patient_id":"NUGWI",
        "exp": now() + 300}));
    let own = tools_call("get_medical_records", json!({"patient_id": "NUGWI"}));
    for other in ["SQHUM".to_string(), b64("SQHUM")] {
        let (status, _, msg) = modern_post_with(&url, &patient, own.clone(), |h| {
            set(h, "mcp-param-patient-id", Some(other))
        });
        assert_eq!(status, 400, "{msg}");
    }
    let theirs = tools_call("get_medical_records", json!({"patient_id": "SQHUM"}));
    let (status, _, msg) = modern_post_with(&url, &patient, theirs, |h| {
        set(h, "mcp-param-patient-id", Some("NUGWI".into()))
    });
    assert_eq!(status, 400, "{msg}");
    assert_eq!(tool_count(&mock, "get_medical_records"), 0);
    assert_eq!(modern_post(&url, &patient, own).0, 200);
}

#[test]
fn an_unsupported_revision_is_answered_with_the_supported_ones() {
    let mock = start_mock(false);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let url = format!("http://{}/mcp", gate.addr);
    let (status, _, msg) = modern_post_with(&url, &token("Doctor"), list_tools(), |h| {
        set(h, "mcp-protocol-version", Some("2099-01-01".into()))
    });
    assert_eq!(status, 400, "{msg}");
    assert_eq!(msg["id"], 1);
    assert_eq!(msg["error"]["code"], -32022);
    assert_eq!(msg["error"]["data"]["requested"], "2099-01-01");
    let supported = msg["error"]["data"]["supported"].as_array().unwrap();
    assert!(supported.contains(&json!(MODERN)) && supported.contains(&json!(LEGACY)));
    assert_eq!(get_stats(&mock)["total_requests"], 0);
}

#[test]
fn a_2026_request_has_no_session_no_get_and_no_delete() {
    let mock = start_mock(false);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let url = format!("http://{}/mcp", gate.addr);
    let auth = format!("Bearer {}", token("Doctor"));
    for verb in ["GET", "DELETE"] {
        let headers = [
            ("authorization", auth.as_str()),
            ("mcp-protocol-version", MODERN),
            ("accept", "text/event-stream"),
        ];
        let status = if verb == "GET" {
            get(&url, &headers).0
        } else {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .new_agent()
                .delete(&url)
                .header("authorization", auth.as_str())
                .header("mcp-protocol-version", MODERN)
                .call()
                .unwrap()
                .status()
                .as_u16()
        };
        assert_eq!(status, 405, "{verb}");
    }
    let stats = get_stats(&mock);
    assert_eq!(
        (
            stats["http"]["GET"].clone(),
            stats["http"]["DELETE"].clone()
        ),
        (json!(0), json!(0))
    );

    // A session id (or a resumption point) a 2026 request carries is ignored, never sent on;
    // one the upstream mints anyway is not passed back.
    let upstream = start_upstream(|_| {
        Reply::json(&json!({"jsonrpc":"2.0","id":1,"result":{"resultType":"complete","tools":[]}}))
            .with_header("Mcp-Session-Id: minted-anyway")
    });
    let gate = start_gatekeeper(GateOptions::new(upstream.addr));
    let url = format!("http://{}/mcp", gate.addr);
    let (status, headers, msg) = modern_post_with(&url, &token("Doctor"), list_tools(), |h| {
        set(h, "mcp-session-id", Some("not-a-session-of-ours".into()));
        set(h, "last-event-id", Some("42".into()));
    });
    assert_eq!(status, 200, "{msg}");
    assert_eq!(header(&headers, "mcp-session-id"), None);
    let head = upstream.received()[0].head.to_ascii_lowercase();
    assert!(
        !head.contains("mcp-session-id") && !head.contains("last-event-id"),
        "{head}"
    );
}

#[test]
fn a_list_shaped_per_role_is_never_shared_across_callers() {
    let mock = start_mock(false);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let url = format!("http://{}/mcp", gate.addr);
    for role in ["Doctor", "Researcher"] {
        let (status, msg) = modern_post(&url, &token(role), list_tools());
        assert_eq!(status, 200);
        assert_eq!(msg["result"]["cacheScope"], "private", "{role}: {msg}");
        assert_eq!(
            msg["result"]["ttlMs"], 60000,
            "{role}: the hint itself stays"
        );
        let tool = &msg["result"]["tools"][0];
        assert_eq!(
            tool["inputSchema"]["properties"]["patient_id"]["x-mcp-header"], "Patient-Id",
            "{role}: the schema passes unaltered"
        );
    }
    // Discovery is the same for everyone: it passes as it came to an unredacted role.
    let discover = json!({"jsonrpc":"2.0","id":1,"method":"server/discover"});
    let (status, msg) = modern_post(&url, &token("Doctor"), discover.clone());
    assert_eq!(status, 200, "{msg}");
    assert_eq!(msg["result"]["supportedVersions"], json!([MODERN]));
    let (_, msg) = modern_post(&url, &token("Researcher"), discover);
    assert_eq!(msg["result"]["supportedVersions"], json!([MODERN]), "{msg}");
    assert_eq!(
        msg["result"]["cacheScope"], "private",
        "redacted for this role: {msg}"
    );
}

fn policy_with(edit: impl FnOnce(&str) -> String) -> (tempfile::TempDir, std::path::PathBuf) {
    let text = std::fs::read_to_string(repo_root().join("policy/hospital.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, edit(&text)).unwrap();
    (dir, path)
}

#[test]
fn a_round_trip_keeps_its_protocol_and_loses_its_phi() {
    let mock = start_mock(false);
    // Nurses (SSNs masked) may write notes here.
    let (_dir, policy) = policy_with(|t| {
        t.replace(
            "tools: [get_patient, get_medical_records, list_appointments]",
            "tools: [get_patient, get_medical_records, list_appointments, add_clinical_note]",
        )
    });
    let mut opts = GateOptions::new(mock.addr);
    opts.policy = policy;
    let gate = start_gatekeeper(opts);
    let url = format!("http://{}/mcp", gate.addr);
    let nurse = token("Nurse");
    let note = || {
        tools_call(
            "add_clinical_note",
            json!({"patient_id":"NUGWI","note":"BP stable"}),
        )
    };

    let (status, first) = modern_post(&url, &nurse, note());
    assert_eq!(status, 200, "{first}");
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    let ask = &result["inputRequests"]["confirm_note"];
    assert_eq!(
        ask["method"], "elicitation/create",
        "the key and request kept: {first}"
    );
    let message = ask["params"]["message"].as_str().unwrap();
    assert!(
        !message.contains("219-09-9999") && message.contains("9999"),
        "{message}"
    );
    assert_eq!(
        ask["params"]["requestedSchema"]["properties"]["confirm"]["type"],
        "boolean"
    );

    // The retry is judged like the first call, and the state comes back unaltered (the mock
    // refuses a state it did not issue).
    let mut retry = note();
    retry["id"] = json!(2);
    retry["params"]["inputResponses"] =
        json!({"confirm_note": {"action": "accept", "content": {"confirm": true}}});
    retry["params"]["requestState"] = result["requestState"].clone();
    let (status, done) = modern_post(&url, &nurse, retry.clone());
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["result"]["isError"], false, "{done}");
    assert!(done["result"]["structuredContent"].is_object(), "{done}");

    // A role that may not write gets no further with a round trip's answers in hand.
    let before = tool_count(&mock, "add_clinical_note");
    let (status, msg) = modern_post(&url, &token("Researcher"), retry);
    assert_eq!(status, 403, "{msg}");
    assert_eq!(tool_count(&mock, "add_clinical_note"), before);
}

/// A raw HTTP/1.1 POST whose answer is read as it arrives.
fn open_stream(addr: std::net::SocketAddr, token: &str, body: &Value) -> BufReader<TcpStream> {
    let body = modern_body(body.clone());
    let text = body.to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {}\r\n",
        text.len()
    );
    for (k, v) in mirror_headers(&body) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(text.as_bytes()).unwrap();
    BufReader::new(stream)
}

/// Reads lines until one contains `needle`; everything read so far.
fn read_until(reader: &mut BufReader<TcpStream>, needle: &str) -> String {
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => seen.push_str(&line),
            Err(e) => panic!("reading the stream: {e}; so far: {seen}"),
        }
        if seen.contains(needle) {
            return seen;
        }
    }
    panic!("{needle} did not arrive; got: {seen}");
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what}");
}

#[test]
fn a_listen_stream_arrives_as_it_happens_and_closing_it_cancels_upstream() {
    let mock = start_mock(false);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let listen = json!({"jsonrpc":"2.0","id":"listen-1","method":"subscriptions/listen",
        "params":{"notifications":{"toolsListChanged":true}}});
    for (i, role) in ["Doctor", "Nurse"].iter().enumerate() {
        let mut stream = open_stream(gate.addr, &token(role), &listen);
        // The stream stays open upstream: these arrive event by event, never at its end.
        let seen = read_until(&mut stream, "notifications/tools/list_changed");
        assert!(seen.starts_with("HTTP/1.1 200"), "{role}: {seen}");
        assert!(
            seen.contains("notifications/subscriptions/acknowledged"),
            "{seen}"
        );
        drop(stream);
        let closed = i as u64 + 1;
        wait_for("the upstream's listen stream was not closed", || {
            get_stats(&mock)["listen"]["closed"] == closed
        });
    }
    // What a listen watches must be the caller's to read; a role without the grant gets none.
    let watch = json!({"jsonrpc":"2.0","id":2,"method":"subscriptions/listen",
        "params":{"notifications":{"resourceSubscriptions":["hospital://patients/NUGWI"]}}});
    let url = format!("http://{}/mcp", gate.addr);
    assert_eq!(modern_post(&url, &token("Doctor"), watch).0, 403);
    assert_eq!(modern_post(&url, &token("Researcher"), listen).0, 403);
    assert_eq!(get_stats(&mock)["listen"]["opened"], 2);
}

#[test]
fn a_task_belongs_to_the_caller_who_created_it() {
    let mock = start_mock(false);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let url = format!("http://{}/mcp", gate.addr);
    let (alice, bob) = (token_for("Doctor", "alice"), token_for("Doctor", "bob"));
    let mut call = tools_call("get_patient", json!({"patient_id":"NUGWI"}));
    call["params"]["task"] = json!({"ttl": 60000});
    let task = |id: &str, method: &str| json!({"jsonrpc":"2.0","id":5,"method":method,"params":{"taskId":id}});

    // 2025-11-25: params.task asks for one; the answer nests it.
    let (a, b) = (Legacy::open(&url, &alice), Legacy::open(&url, &bob));
    let (status, created) = a.post(call.clone());
    assert_eq!(status, 200, "{created}");
    let id = created["result"]["task"]["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let before = get_stats(&mock)["methods"].clone();
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        let (status, msg) = b.post(task(&id, method));
        assert_eq!(status, 404, "bob's {method}: {msg}");
        assert_eq!(
            b.post(task("no-such-task", method)).0,
            404,
            "unknown ids look alike"
        );
    }
    assert_eq!(
        get_stats(&mock)["methods"],
        before,
        "nothing of bob's reached the upstream"
    );
    let (status, msg) = b.post(json!({"jsonrpc":"2.0","id":6,"method":"tasks/list"}));
    assert_eq!(status, 200);
    assert_eq!(
        msg["result"]["tasks"],
        json!([]),
        "bob sees none of alice's tasks: {msg}"
    );
    let (_, msg) = a.post(json!({"jsonrpc":"2.0","id":6,"method":"tasks/list"}));
    assert_eq!(msg["result"]["tasks"][0]["taskId"], id.as_str(), "{msg}");
    let (status, msg) = a.post(task(&id, "tasks/result"));
    assert_eq!(status, 200, "{msg}");
    assert!(msg["result"]["structuredContent"].is_object(), "{msg}");

    // 2026: the tasks extension capability asks for one; the answer is flat.
    let mut call = tools_call("get_patient", json!({"patient_id":"NUGWI"}));
    call = modern_body(call);
    call["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]["extensions"] =
        json!({"io.modelcontextprotocol/tasks": {}});
    let headers = mirror_headers(&call);
    let auth = format!("Bearer {alice}");
    let mut all: Vec<(&str, &str)> = vec![
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("authorization", &auth),
    ];
    all.extend(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (status, _, body) = post_raw(&url, &all, call.to_string().into_bytes());
    let created = message(&body);
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    let id = created["result"]["taskId"].as_str().unwrap();
    let (status, msg) = modern_post(&url, &bob, task(id, "tasks/get"));
    assert_eq!(status, 404, "{msg}");
    let listen = json!({"jsonrpc":"2.0","id":7,"method":"subscriptions/listen",
        "params":{"notifications":{"taskIds":[id]}}});
    assert_eq!(
        modern_post(&url, &bob, listen).0,
        404,
        "nor may bob watch it"
    );
    let (status, msg) = modern_post(&url, &alice, task(id, "tasks/get"));
    assert_eq!(status, 200, "{msg}");
    assert_eq!(msg["result"]["status"], "completed", "{msg}");
}

#[test]
fn a_task_result_is_redacted_like_the_tool_result_it_is() {
    let mock = start_mock(false);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let url = format!("http://{}/mcp", gate.addr);
    let mut call = tools_call("get_medical_records", json!({"patient_id":"NUGWI"}));
    call["params"]["task"] = json!({"ttl": 60000});
    let result_of = |role: &str| {
        let session = Legacy::open(&url, &token_for(role, role));
        let (status, created) = session.post(call.clone());
        assert_eq!(status, 200, "{created}");
        let id = created["result"]["task"]["taskId"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, result) = session.post(json!({"jsonrpc":"2.0","id":9,
            "method":"tasks/result","params":{"taskId":id}}));
        assert_eq!(status, 200, "{result}");
        result.to_string()
    };
    let doctor = result_of("Doctor");
    let ssns = ssns_in(&doctor);
    assert!(
        !ssns.is_empty(),
        "the Doctor's result names an SSN: {doctor}"
    );
    let researcher = result_of("Researcher");
    for ssn in ssns {
        assert!(
            !researcher.contains(&ssn),
            "the Researcher saw {ssn}: {researcher}"
        );
    }
}

/// SSN-shaped strings (`ddd-dd-dddd`) in a text.
fn ssns_in(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(10))
        .filter(|&i| {
            bytes[i..i + 11].iter().enumerate().all(|(j, b)| match j {
                3 | 6 => *b == b'-',
                _ => b.is_ascii_digit(),
            })
        })
        .map(|i| text[i..i + 11].to_string())
        .collect()
}

#[test]
fn messages_one_after_another_in_one_body_are_each_redacted() {
    let upstream = start_upstream(|_| {
        let log = json!({"jsonrpc":"2.0","method":"notifications/message",
            "params":{"level":"info","data":"looked up SSN 219-09-9999"}});
        let result = json!({"jsonrpc":"2.0","id":1,"result":{"content":[
            {"type":"text","text":"Harold Finch, SSN 219-09-9999"}]}});
        Reply::raw(&["application/json"], format!("{log}\n{result}\n"))
    });
    let gate = start_gatekeeper(GateOptions::new(upstream.addr));
    let url = format!("http://{}/mcp", gate.addr);
    let (status, _, body) = post(
        &url,
        Some(&token("Researcher")),
        &tools_call("search_patients", json!({"query":"Finch"})),
    );
    let text = String::from_utf8_lossy(&body).to_string();
    assert_eq!(status, 200, "{text}");
    assert!(
        !text.contains("219-09-9999") && !text.contains("-32002"),
        "{text}"
    );
    let parts: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parts.len(), 2, "{text}");
    assert_eq!(parts[1]["id"], 1);
}
