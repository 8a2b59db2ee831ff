//! Hostile input, authorization and object-level access (BOLA): what a role or user may not reach. Every case states the answer it must get AND whether the upstream
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

/// GET (the server's notification stream) and DELETE (ending a session) carry no JSON-RPC
/// body; the policy judges them by `subscriptions/listen` and `session/delete`. Not granted:
/// 405, which SDK clients read as "no stream here", and nothing reaches the upstream.
#[test]
fn get_and_delete_need_a_grant() {
    let stack = Stack::start(false);
    let url = stack.url();
    let get_as = |role: &str| {
        let auth = format!("Bearer {}", token(role));
        get(
            &url,
            &[("authorization", &auth), ("accept", "text/event-stream")],
        )
        .0
    };
    let before = stack.total();
    for role in ["Patient", "Researcher", "Billing", "Janitor"] {
        assert_eq!(get_as(role), 405, "{role} opened the notification stream");
    }
    let roleless = format!(
        "Bearer {}",
        token_with(json!({"user_id":"9","exp":now()+60}))
    );
    assert_eq!(get(&url, &[("authorization", &roleless)]).0, 405);
    assert_eq!(stack.total(), before, "a refused GET reached the upstream");
    // Granted: Doctor's GET reaches the upstream (mock-mcp itself offers no stream: 405).
    assert_eq!(get_as("Doctor"), 405);
    assert_eq!(stack.total(), before + 1);
    // DELETE ends only a session, and only for a caller granted session/delete.
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "authenticated:\n  methods: [initialize]\nroles:\n  Doctor:\n    methods: [session/delete]\n").unwrap();
    let mut opts = GateOptions::new(stack.mock.addr);
    opts.policy = policy;
    let gate = start_gatekeeper(opts);
    let url = format!("http://{}/mcp", gate.addr);
    let delete_as = |role: &str| {
        let auth = format!("Bearer {}", token(role));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        agent
            .delete(&url)
            .header("authorization", &auth)
            .call()
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    let before = stack.total();
    assert_eq!(delete_as("Nurse"), 405, "a role without session/delete");
    assert_eq!(
        stack.total(),
        before,
        "a refused DELETE reached the upstream"
    );
    assert_ne!(delete_as("Doctor"), 405);
    assert_eq!(stack.total(), before + 1);
}

/// `completion/complete` and `resources/subscribe` are judged by what they name: a prompt or
/// resource the role may not read is not theirs to complete or to watch.
#[test]
fn completion_and_subscriptions_are_judged_by_what_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "authenticated:\n  methods: [initialize, ping, completion/complete, resources/subscribe, resources/unsubscribe]\n\
         roles:\n  Billing:\n    prompts: [billing_summary]\n    resources: ['file:///billing/**']\n",
    )
    .unwrap();
    let mock = start_mock(false);
    let mut opts = GateOptions::new(mock.addr);
    opts.policy = policy;
    let gate = start_gatekeeper(opts);
    let url = format!("http://{}/mcp", gate.addr);
    let billing = token("Billing");
    let stats = |mock: &Proc| -> u64 {
        let (_, _, body) = get(&format!("http://{}/stats", mock.addr), &[]);
        serde_json::from_slice::<Value>(&body).unwrap()["total_requests"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = stats(&mock);
    let refused = [
        json!({"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{
            "ref":{"type":"ref/prompt","name":"psych_intake"},"argument":{"name":"patient","value":"N"}}}),
        json!({"jsonrpc":"2.0","id":2,"method":"completion/complete","params":{
            "ref":{"type":"ref/resource","uri":"file:///psych/notes/{id}"},"argument":{"name":"id","value":"Q"}}}),
        json!({"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"file:///psych/notes/QWXYZ"}}),
        json!({"jsonrpc":"2.0","id":4,"method":"completion/complete","params":{
            "ref":{"type":"ref/prompt","name":"billing_summary","NAME":"psych_intake"},"argument":{"name":"a","value":"b"}}}),
    ];
    for call in &refused {
        let (status, _, body) = post(&url, Some(&billing), call);
        assert!(
            status == 403 || status == 400,
            "{call}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    assert_eq!(
        stats(&mock),
        before,
        "a refused completion or subscription reached the upstream"
    );
    let allowed = [
        json!({"jsonrpc":"2.0","id":5,"method":"completion/complete","params":{
            "ref":{"type":"ref/prompt","name":"billing_summary"},"argument":{"name":"a","value":"b"}}}),
        json!({"jsonrpc":"2.0","id":6,"method":"resources/subscribe","params":{"uri":"file:///billing/2026"}}),
    ];
    for call in &allowed {
        let (status, _, _) = post(&url, Some(&billing), call);
        assert_ne!(status, 403, "{call}");
    }
    assert_eq!(stats(&mock), before + 2);
}

/// One user opening sessions without end cannot evict anyone else's binding: a caller holds
/// at most 64, and past that loses their own oldest.
#[test]
fn one_caller_cannot_evict_everyone_elses_sessions() {
    let stack = Stack::start(false);
    let url = stack.url();
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let open = |tok: &str| -> String {
        let (status, headers, _) = post(&url, Some(tok), &init);
        assert_eq!(status, 200);
        header(&headers, "mcp-session-id")
            .expect("a session id")
            .to_string()
    };
    let bob = token_with(json!({"user_id":"bob","role":"Nurse","exp":now()+300}));
    let mallory = token_with(json!({"user_id":"mallory","role":"Nurse","exp":now()+300}));
    let bobs = open(&bob);
    let mallorys: Vec<String> = (0..80).map(|_| open(&mallory)).collect();
    let ping = json!({"jsonrpc":"2.0","id":2,"method":"ping"});
    let ping_in = |tok: &str, session: &str| {
        let auth = format!("Bearer {tok}");
        post_raw(
            &url,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
                ("mcp-session-id", session),
            ],
            ping.to_string().into_bytes(),
        )
        .0
    };
    assert_eq!(ping_in(&bob, &bobs), 200, "bob's session was evicted");
    assert_eq!(ping_in(&mallory, &mallorys[79]), 200);
    assert_eq!(
        ping_in(&mallory, &mallorys[0]),
        404,
        "mallory's oldest went first"
    );
}
