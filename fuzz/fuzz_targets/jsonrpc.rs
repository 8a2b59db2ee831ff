//! The JSON-RPC classifier on arbitrary bytes: it never panics, and whatever it accepts is
//! something serde_json reads the same way (a strict parse may refuse, never differ). A
//! client's response (an answer to a server request) has no method, and serde_json must see
//! none either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_gatekeeper::jsonrpc::{self, CallTarget, Request};

fuzz_target!(|data: &[u8]| {
    let Ok(request) = jsonrpc::parse(data) else {
        return;
    };
    let lenient: serde_json::Value =
        serde_json::from_slice(data).expect("accepted bytes must be JSON to serde_json too");
    let first = match &lenient {
        serde_json::Value::Array(items) => items.first().cloned().unwrap_or_default(),
        one => one.clone(),
    };
    let calls = request.calls();
    assert!(!calls.is_empty());
    if calls[0].target == CallTarget::Answer {
        assert!(
            first.get("method").is_none(),
            "an answer that serde_json reads as a call"
        );
        assert!(first.get("result").is_some() || first.get("error").is_some());
        return;
    }
    assert_eq!(
        first.get("method").and_then(|m| m.as_str()),
        Some(calls[0].method.as_str()),
        "the classifier and serde_json disagree on the method"
    );
    if let Request::Single(call) = &request {
        if call.method == "tools/call" {
            let name = first.pointer("/params/name").and_then(|n| n.as_str());
            assert_eq!(
                name,
                call.tool(),
                "the classifier and serde_json disagree on the tool"
            );
        }
    }
});
