//! The JSON-RPC classifier on arbitrary bytes: it never panics, and whatever it accepts is
//! something serde_json reads the same way (a strict parse may refuse, never differ).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_gatekeeper::jsonrpc::{self, Request};

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
