//! The command line as users run it: `token`, `call` (success and each failure's one-line
//! error and exit code), `policy check` and `policy explain`.

mod common;

use std::process::{Command, Output};

use common::*;

fn gatekeeper(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcp-gatekeeper"))
        .args(args)
        .env("JWT_SECRET", SECRET)
        .env_remove("JWT_ALG")
        .env_remove("MCP_SERVER_URL")
        .env("RUST_LOG", "off")
        .output()
        .expect("running mcp-gatekeeper")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

#[test]
fn call_prints_the_response_and_exits_zero() {
    let stack = Stack::start(false);
    let url = stack.url();
    let out = gatekeeper(&[
        "call",
        "--url",
        &url,
        "--user-id",
        "1",
        "--role",
        "Doctor",
        "--username",
        "yenji100",
        "get_medical_records",
        "--arg",
        "patient_id=NUGWI",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let msg = message(text(&out.stdout).as_bytes());
    assert_eq!(msg["result"]["structuredContent"]["patient_id"], "NUGWI");

    let out = gatekeeper(&[
        "call",
        "--url",
        &url,
        "--user-id",
        "1",
        "--role",
        "Doctor",
        "--legacy",
        "get_medical_records",
        "--arg",
        "patient_id=NUGWI",
    ]);
    assert!(out.status.success());
    assert!(message(text(&out.stdout).as_bytes())["result"]["data"].is_array());
}

#[test]
fn call_failures_are_one_clear_line_and_a_non_zero_exit() {
    let stack = Stack::start(false);
    let url = stack.url();
    let base = ["call", "--url", url.as_str(), "--user-id", "1"];
    let cases: [(&[&str], &str); 4] = [
        (&["--role", "Billing", "get_medical_records", "--arg", "patient_id=NUGWI"],
         "MCP server returned 403: Forbidden: role 'Billing' may not call tool 'get_medical_records'"),
        (&["--role", "Doctor", "--ttl", "-100", "tools/list"],
         "MCP server returned 401: Invalid token: expired"),
        (&["--role", "Doctor", "--no-token", "tools/list"],
         "MCP server returned 401: Missing Bearer token"),
        (&["--role", "Doctor", "no_such_tool"],
         "MCP server returned a JSON-RPC error -32602: Unknown tool: no_such_tool"),
    ];
    for (args, expected) in cases {
        let all: Vec<&str> = base.iter().chain(args.iter()).copied().collect();
        let out = gatekeeper(&all);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&out.stderr), expected, "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn call_to_a_closed_port_says_it_cannot_reach_the_server() {
    let url = format!("http://127.0.0.1:{}/mcp", free_port());
    let out = gatekeeper(&[
        "call",
        "--url",
        &url,
        "--user-id",
        "1",
        "--role",
        "Doctor",
        "ping",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!("cannot reach MCP server at {url}")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn call_needs_a_secret() {
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-gatekeeper"))
        .args(["token", "--user-id", "1", "--role", "Doctor"])
        .env_remove("JWT_SECRET")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("JWT_SECRET is not set"));
}

#[test]
fn token_prints_a_verifiable_jwt() {
    let out = gatekeeper(&[
        "token",
        "--user-id",
        "7",
        "--role",
        "Nurse",
        "--claim",
        "ward=3B",
    ]);
    assert!(out.status.success());
    let token = text(&out.stdout);
    let rules = mcp_gatekeeper::auth::JwtRules {
        leeway_seconds: 0,
        cache_entries: 0,
        ..mcp_gatekeeper::auth::JwtRules::default()
    };
    let id = mcp_gatekeeper::auth::Verifier::hmac(SECRET.as_bytes(), &rules)
        .unwrap()
        .verify(&token)
        .unwrap();
    assert_eq!(id.user_id, "7");
    assert_eq!(id.roles, vec!["Nurse"]);
    assert_eq!(id.claim_str("ward"), Some("3B"));
}

#[test]
fn policy_check_accepts_the_shipped_policy_and_locates_errors() {
    let shipped = repo_root().join("policy/hospital.yaml");
    let out = gatekeeper(&["policy", "check", shipped.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ok"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "roles:\n  Nurse:\n    tool: [get_patient]\n").unwrap();
    let out = gatekeeper(&["policy", "check", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown field `tool`") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn policy_explain_names_the_rule() {
    let shipped = repo_root().join("policy/hospital.yaml");
    let p = shipped.to_str().unwrap();
    let out = gatekeeper(&[
        "policy",
        "explain",
        "--policy",
        p,
        "--role",
        "Nurse",
        "get_patient",
    ]);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("ALLOW tool 'get_patient'"));
    assert!(text(&out.stdout).contains("roles.Nurse.tools.get_patient"));
    let out = gatekeeper(&[
        "policy",
        "explain",
        "--policy",
        p,
        "--role",
        "Patient",
        "--claim",
        "patient_id=NUGWI",
        "get_medical_records",
        "--arg",
        "patient_id=SQHUM",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stdout).starts_with("DENY"));
}

#[test]
fn policy_check_warns_about_rules_that_can_never_match() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.yaml");
    std::fs::write(
        &policy,
        "roles:\n  Nurse: {tools: [get_patient, get_chart]}\n  Ghost: {}\n",
    )
    .unwrap();
    let tools = dir.path().join("tools.json");
    std::fs::write(&tools, r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"get_patient"},{"name":"get_billing"}]}}"#).unwrap();
    let out = gatekeeper(&[
        "policy",
        "check",
        policy.to_str().unwrap(),
        "--tools",
        tools.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "warnings do not fail the check");
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: role 'Ghost' grants nothing"),
        "{err}"
    );
    assert!(
        err.contains("warning: roles.Nurse.tools.get_chart can never match"),
        "{err}"
    );
    assert!(
        err.contains(
            "warning: tool 'get_billing' is offered by the server but no role may call it"
        ),
        "{err}"
    );
}
