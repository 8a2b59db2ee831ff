//! The reference scenario end to end (DESIGN.md): real binaries, JSON and SSE upstreams,
//! `tools/call` and legacy forms; `GET /stats` proves what reached the MCP server.

mod common;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

const FORMS: [fn(&str, Value) -> Value; 2] = [tools_call, legacy_call];

fn records_of(msg: &Value) -> Vec<Value> {
    let result = &msg["result"];
    let list = result["structuredContent"]["diagnoses"]
        .as_array()
        .or_else(|| result["data"].as_array())
        .unwrap_or_else(|| panic!("no records in {msg}"));
    list.clone()
}

fn run_scenario(sse: bool) {
    let stack = Stack::start(sse);
    let url = stack.url();
    let nugwi = json!({"patient_id":"NUGWI"});

    for form in FORMS {
        let body = form("get_medical_records", nugwi.clone());
        for role in ["Doctor", "Nurse"] {
            let before = stack.tool_count("get_medical_records");
            let (status, headers, resp) = post(&url, Some(&token(role)), &body);
            assert_eq!(status, 200, "{role}: {}", String::from_utf8_lossy(&resp));
            let expected_type = if sse {
                "text/event-stream"
            } else {
                "application/json"
            };
            assert!(header(&headers, "content-type")
                .unwrap_or("")
                .starts_with(expected_type));
            let msg = message(&resp);
            assert!(!records_of(&msg).is_empty(), "{role} got no records: {msg}");
            assert!(msg.to_string().contains("NUGWI"));
            assert_eq!(stack.tool_count("get_medical_records"), before + 1);
        }

        let before = stack.total();
        let (status, headers, resp) = post(&url, None, &body);
        assert_eq!(status, 401);
        // RFC 9728 §5.1: the challenge tells the client where the resource metadata is.
        let metadata = format!(
            "http://{}/.well-known/oauth-protected-resource/mcp",
            stack.gate.addr
        );
        assert_eq!(
            header(&headers, "www-authenticate"),
            Some(format!("Bearer resource_metadata=\"{metadata}\"").as_str())
        );
        assert_eq!(message(&resp)["error"]["message"], "Missing Bearer token");

        let forged = sign_with(
            "another-secret-entirely-0123456789",
            Algorithm::HS256,
            json!({"user_id":"1","role":"Doctor","exp": now() + 300}),
        );
        let (status, headers, resp) = post(&url, Some(&forged), &body);
        assert_eq!(status, 401);
        assert!(header(&headers, "www-authenticate")
            .unwrap()
            .contains("invalid_token"));
        assert_eq!(
            message(&resp)["error"]["message"],
            "Invalid token: signature does not match"
        );

        let expired = token_with(json!({"user_id":"1","role":"Doctor","exp": now() - 120}));
        let (status, _, resp) = post(&url, Some(&expired), &body);
        assert_eq!(status, 401);
        assert_eq!(message(&resp)["error"]["message"], "Invalid token: expired");

        let (status, _, resp) = post(&url, Some(&token("Billing")), &body);
        assert_eq!(status, 403);
        let err = message(&resp);
        assert_eq!(err["id"], 1, "the error answers the request id");
        let text = err["error"]["message"].as_str().unwrap();
        assert!(
            text.contains("Billing") && text.contains("get_medical_records"),
            "{text}"
        );

        assert_eq!(stack.total(), before, "nothing refused may reach mock-mcp");
    }
}

#[test]
fn reference_scenario_with_a_json_upstream() {
    run_scenario(false);
}

#[test]
fn reference_scenario_with_an_sse_upstream() {
    run_scenario(true);
}

#[test]
fn every_role_gets_exactly_its_tools_allowed() {
    let stack = Stack::start(false);
    let tools = [
        "get_patient",
        "get_medical_records",
        "search_patients",
        "list_appointments",
        "get_billing",
        "add_clinical_note",
    ];
    let grants: [(&str, &[&str]); 5] = [
        ("Doctor", &tools),
        (
            "Nurse",
            &["get_patient", "get_medical_records", "list_appointments"],
        ),
        ("Billing", &["get_patient", "get_billing"]),
        ("Researcher", &["get_medical_records", "search_patients"]),
        ("Janitor", &[]),
    ];
    for (role, allowed) in grants {
        for tool in tools {
            let args = json!({"patient_id":"NUGWI","note":"seen","query":"a"});
            let before = stack.tool_count(tool);
            let (status, _, body) = post(&stack.url(), Some(&token(role)), &tools_call(tool, args));
            let expect_allowed = allowed.contains(&tool);
            assert_eq!(
                status,
                if expect_allowed { 200 } else { 403 },
                "{role} {tool}: {}",
                String::from_utf8_lossy(&body)
            );
            let reached = stack.tool_count(tool) - before;
            assert_eq!(
                reached,
                u64::from(expect_allowed),
                "{role} {tool} upstream count"
            );
        }
    }
}

#[test]
fn tools_list_shows_each_role_only_its_tools() {
    for sse in [false, true] {
        let stack = Stack::start(sse);
        let list = json!({"jsonrpc":"2.0","id":7,"method":"tools/list"});
        for (role, expected) in [
            (
                "Nurse",
                vec!["get_medical_records", "get_patient", "list_appointments"],
            ),
            ("Billing", vec!["get_billing", "get_patient"]),
            ("Researcher", vec!["get_medical_records", "search_patients"]),
            ("Janitor", vec![]),
        ] {
            let (status, _, body) = post(&stack.url(), Some(&token(role)), &list);
            assert_eq!(status, 200);
            let msg = message(&body);
            assert_eq!(msg["id"], 7);
            let mut names: Vec<&str> = msg["result"]["tools"]
                .as_array()
                .unwrap_or_else(|| panic!("{msg}"))
                .iter()
                .filter_map(|t| t["name"].as_str())
                .collect();
            names.sort_unstable();
            assert_eq!(names, expected, "{role} (sse={sse})");
        }
        let (_, _, body) = post(&stack.url(), Some(&token("Doctor")), &list);
        assert_eq!(
            message(&body)["result"]["tools"].as_array().unwrap().len(),
            6
        );
    }
}

#[test]
fn patient_reads_only_their_own_record() {
    let stack = Stack::start(false);
    let me =
        token_with(json!({"user_id":"p1","role":"Patient","patient_id":"NUGWI","exp": now()+300}));
    let (status, _, _) = post(
        &stack.url(),
        Some(&me),
        &tools_call("get_medical_records", json!({"patient_id":"NUGWI"})),
    );
    assert_eq!(status, 200);
    let before = stack.total();
    for args in [
        json!({"patient_id":"ZZZZZ"}),
        json!({"patient_id":" NUGWI"}),
        json!({"patient_id":["NUGWI"]}),
        json!({"patient_id":null}),
        json!({}),
    ] {
        let (status, _, _) = post(
            &stack.url(),
            Some(&me),
            &tools_call("get_medical_records", args.clone()),
        );
        assert_eq!(status, 403, "{args}");
    }
    let dup = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_medical_records","arguments":{"patient_id":"NUGWI","patient_id":"ZZZZZ"}}}"#;
    let auth = format!("Bearer {me}");
    let (status, _, _) = post_raw(
        &stack.url(),
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        dup.to_vec(),
    );
    assert_eq!(status, 400, "duplicate keys are refused");
    assert_eq!(stack.total(), before);
}

#[test]
fn the_mcp_session_flow_passes_through() {
    let stack = Stack::start(false);
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let (status, headers, body) = post(&stack.url(), Some(&token("Nurse")), &init);
    assert_eq!(status, 200);
    assert_eq!(message(&body)["result"]["protocolVersion"], "2025-06-18");
    let session = header(&headers, "mcp-session-id")
        .expect("session id")
        .to_string();
    let auth = format!("Bearer {}", token("Nurse"));
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    let (status, _, _) = post_raw(
        &stack.url(),
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
            ("mcp-session-id", &session),
        ],
        note.to_string().into_bytes(),
    );
    assert_eq!(status, 202);
    let (status, _, _) = get(&stack.url(), &[]);
    assert_eq!(status, 401, "GET needs a token too");
    let (status, _, _) = get(&stack.url(), &[("authorization", &auth)]);
    assert_eq!(
        status, 405,
        "mock-mcp offers no GET stream; the gatekeeper forwards the answer"
    );
}

/// The seed's web app, byte for byte: a PyJWT-style HS256 token without `exp` (user_id, role,
/// username) and the legacy call without an `id`. It reads `result.data` from a 200.
#[test]
fn the_seed_web_apps_own_request_gets_its_data() {
    let mock = start_mock(false);
    let mut opts = GateOptions::new(mock.addr);
    opts.config_yaml = "jwt:\n  require_exp: false\n".into();
    let gate = start_gatekeeper(opts);
    let url = format!("http://{}/mcp", gate.addr);
    let body = br#"{"jsonrpc":"2.0","method":"get_medical_records","params":{"arguments":{"patient_id":"NUGWI"}}}"#;
    for (role, sees_name) in [("Doctor", true), ("Researcher", false)] {
        let jwt = sign_with(
            SECRET,
            Algorithm::HS256,
            json!({"user_id": 1, "role": role, "username": "yenji100"}),
        );
        let auth = format!("Bearer {jwt}");
        let (status, _, answer) = post_raw(
            &url,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.to_vec(),
        );
        let text = String::from_utf8_lossy(&answer);
        assert_eq!(status, 200, "{role}: {text}");
        let msg = message(&answer);
        let data = msg["result"]["data"]
            .as_array()
            .unwrap_or_else(|| panic!("{role}: {msg}"));
        assert!(!data.is_empty(), "{role}: {msg}");
        assert_eq!(text.contains("Ingrid Iwu"), sees_name, "{role}: {text}");
    }
}
