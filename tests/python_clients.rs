//! Interop with the clients hospitals actually run: tokens minted by PyJWT in the web app's
//! format (legacy call form), and the official MCP Python SDK as a Nurse, over JSON and SSE
//! upstreams. tests/sdk_clients.rs runs the same script over every role, both SDKs and an SDK
//! server. `make test` provides the Python environment (GATEKEEPER_TEST_PYTHON); a bare
//! `cargo test` without it says so and skips.

mod common;

use std::process::Command;

use common::*;

fn python() -> Option<String> {
    let python = std::env::var("GATEKEEPER_TEST_PYTHON").ok();
    if python.is_none() {
        eprintln!("GATEKEEPER_TEST_PYTHON is not set: skipping the Python interop test (make test sets it)");
    }
    python
}

fn run_interop(sse: bool) {
    let Some(python) = python() else { return };
    let stack = Stack::start(sse);
    let script = repo_root().join("tests/python/interop.py");
    let out = Command::new(python)
        .arg(script)
        .arg(stack.url())
        .args(["--legacy", "--roles", "Nurse"])
        .args(["--upstream", &format!("http://{}/mcp", stack.mock.addr)])
        .env("JWT_SECRET", SECRET)
        .output()
        .expect("running the Python interop script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "interop failed (sse={sse}):\n{stdout}\n{stderr}\ngatekeeper:\n{}",
        stack.gate.stderr_so_far()
    );
    assert!(
        stdout.contains("ok pyjwt-token-accepted-and-policy-applied"),
        "{stdout}"
    );
    for check in [
        "initialize",
        "tools-list",
        "call-get_medical_records(NUGWI)",
        "deny-get_billing(NUGWI)",
    ] {
        assert!(stdout.contains(&format!("ok Nurse/{check}\n")), "{stdout}");
    }
}

#[test]
fn pyjwt_tokens_and_the_mcp_python_sdk_work_through_the_gatekeeper() {
    run_interop(false);
}

#[test]
fn the_mcp_python_sdk_works_with_an_sse_upstream() {
    run_interop(true);
}
