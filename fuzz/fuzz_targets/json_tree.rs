//! The redactor's borrowed JSON tree against serde_json: both accept the same documents, what
//! the tree writes back reads as the same value (strings it copies unescaped must still be
//! valid JSON), a JSON text written escaped at once is the serialisation escaped, and a
//! redacted body is valid JSON whenever the input was.
#![no_main]

mod researcher;

use libfuzzer_sys::fuzz_target;
use mcp_gatekeeper::redact::tree::Node;
use researcher::redactor;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let value = serde_json::from_slice::<Value>(data);
    let node = Node::parse(data);
    assert_eq!(
        value.is_ok(),
        node.is_ok(),
        "serde_json and the tree disagree"
    );
    let (Ok(value), Ok(node)) = (value, node) else {
        return;
    };
    // Both sides written and read back: serde_json's float parsing may differ from the exact
    // value by an ulp, the same way for both.
    let written: Value = serde_json::from_slice(&node.to_json()).expect("the tree writes JSON");
    let expected: Value = serde_json::from_slice(&serde_json::to_vec(&value).expect("writes"))
        .expect("serde_json reads what it writes");
    assert_eq!(written, expected);
    // A text that is this document, written escaped at once, is what escaping it would give.
    assert_eq!(
        Node::json_text(&node).to_json(),
        Node::string(node.to_json_string()).to_json(),
        "json_text differs from the escaped serialisation"
    );
    let (redacted, _) = redactor().redact_json(data).expect("valid JSON redacts");
    serde_json::from_slice::<Value>(&redacted).expect("redacted output is JSON");
});
