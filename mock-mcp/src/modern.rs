//! MCP 2026-07-28 beside the older revisions, chosen per request by `MCP-Protocol-Version`:
//! no sessions, `server/discover` instead of `initialize`/`ping`, `resultType` on every result,
//! caching hints (`ttlMs`, `cacheScope: "public"`) on lists and reads, `x-mcp-header` on
//! `patient_id`, a Multi Round-Trip `add_clinical_note` (it asks the user to confirm first), and
//! `subscriptions/listen`. Tasks (`tasks`) are served in both revisions. Like the rest of the
//! mock, it trusts what it is sent: proving what the gatekeeper lets through is the tests' job.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::rpc::{self, Outcome, METHOD_NOT_FOUND};

pub const REVISION: &str = "2026-07-28";

/// Whether the request speaks 2026-07-28 or later (revisions are dates).
pub fn is_modern(header: Option<&str>) -> bool {
    header.is_some_and(|v| v.trim() >= REVISION)
}

/// What the modern revision answers itself, before the shared dispatch; `None`: dispatch.
pub fn intercept(message: &Value) -> Option<Outcome> {
    let method = message.get("method")?.as_str()?;
    let id = message.get("id").cloned();
    let params = message.get("params").and_then(Value::as_object);
    let result = match method {
        "initialize" | "ping" => Err((METHOD_NOT_FOUND, format!("Method not found: {method}"))),
        "server/discover" => Ok(discover()),
        "tools/call" if tool_name(params) == Some("add_clinical_note") => round_trip(params?)?,
        _ => return None,
    };
    Some(answer(method, id?, result))
}

fn answer(method: &str, id: Value, result: Result<Value, (i64, String)>) -> Outcome {
    Outcome {
        response: Some(match result {
            Ok(r) => json!({"jsonrpc": "2.0", "id": id, "result": r}),
            Err((code, message)) => rpc::error(id, code, &message),
        }),
        method: method.to_string(),
        ..Outcome::default()
    }
}

fn tool_name(params: Option<&Map<String, Value>>) -> Option<&str> {
    params?.get("name")?.as_str()
}

fn discover() -> Value {
    json!({
        "resultType": "complete",
        "supportedVersions": [REVISION],
        "capabilities": {"tools": {"listChanged": true}, "resources": {"subscribe": true}},
        "_meta": {"io.modelcontextprotocol/serverInfo":
            {"name": "mock-hospital", "version": env!("CARGO_PKG_VERSION")}},
        "instructions": "A synthetic hospital (every name, number and note is fake).",
        "ttlMs": 60000,
        "cacheScope": "public",
    })
}

/// What 2026-07-28 adds to a result the shared dispatch made.
pub fn decorate(method: &str, outcome: &mut Outcome) {
    let Some(result) = outcome
        .response
        .as_mut()
        .and_then(|r| r.get_mut("result"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    result
        .entry("resultType")
        .or_insert_with(|| json!("complete"));
    if method.ends_with("/list") || method == "resources/read" {
        result.insert("ttlMs".into(), json!(60000));
        result.insert("cacheScope".into(), json!("public"));
    }
    if method == "tools/list" {
        mirror_patient_id(result);
    }
}

/// `patient_id` travels as `Mcp-Param-Patient-Id` too (SEP-2243 `x-mcp-header`).
fn mirror_patient_id(result: &mut Map<String, Value>) {
    let tools = result.get_mut("tools").and_then(Value::as_array_mut);
    for tool in tools.into_iter().flatten() {
        let property = tool.pointer_mut("/inputSchema/properties/patient_id");
        if let Some(Value::Object(p)) = property {
            p.insert("x-mcp-header".into(), json!("Patient-Id"));
        }
    }
}

/// SEP-2322: `add_clinical_note` first asks the user to confirm, naming the patient; the
/// retry carries the answer and the state back. `None`: the confirmed call proceeds.
fn round_trip(params: &Map<String, Value>) -> Option<Result<Value, (i64, String)>> {
    let patient = params
        .get("arguments")
        .and_then(|a| a.get("patient_id"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let state = seal(patient);
    let confirmed = params
        .get("inputResponses")
        .and_then(|r| r.get("confirm_note"))
        .is_some_and(|r| r.get("action").and_then(Value::as_str) == Some("accept"));
    let returned = params.get("requestState").and_then(Value::as_str);
    match (confirmed, returned) {
        (true, Some(s)) if s == state => None,
        (true, Some(_)) => Some(Err((
            rpc::INVALID_PARAMS,
            "requestState was altered".into(),
        ))),
        _ => Some(Ok(json!({
            "resultType": "input_required",
            "inputRequests": {"confirm_note": {
                "method": "elicitation/create",
                "params": {
                    "message": format!("Add this note to the chart of patient {patient} (Harold Finch, SSN 219-09-9999)?"),
                    "requestedSchema": {"type": "object",
                        "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]},
                },
            }},
            "requestState": state,
        }))),
    }
}

/// An opaque, tamper-evident state: the patient id and a digest of it.
fn seal(patient: &str) -> String {
    let digest = Sha256::digest(format!("mock-hospital-state:{patient}").as_bytes());
    let tag: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("v1.{tag}")
}

/// The SSE frames of a `subscriptions/listen` stream: the acknowledgement, then one update
/// per resource watched (and a tools change when asked for). The stream then stays open.
pub fn listen_events(id: &Value, params: Option<&Map<String, Value>>) -> Vec<Value> {
    let filter = params
        .and_then(|p| p.get("notifications"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let meta = json!({"io.modelcontextprotocol/subscriptionId": id});
    let mut events = vec![json!({"jsonrpc": "2.0",
        "method": "notifications/subscriptions/acknowledged",
        "params": {"_meta": meta, "notifications": filter}})];
    if filter.get("toolsListChanged") == Some(&json!(true)) {
        events.push(
            json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed",
            "params": {"_meta": meta}}),
        );
    }
    let uris = filter
        .get("resourceSubscriptions")
        .and_then(Value::as_array);
    for uri in uris.into_iter().flatten() {
        events.push(
            json!({"jsonrpc": "2.0", "method": "notifications/resources/updated",
            "params": {"_meta": meta, "uri": uri,
                       "title": "Record of Harold Finch updated (SSN 219-09-9999)"}}),
        );
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discover_replaces_the_handshake() {
        let o = intercept(&json!({"jsonrpc":"2.0","id":1,"method":"server/discover"})).unwrap();
        assert_eq!(
            o.response.unwrap()["result"]["supportedVersions"],
            json!([REVISION])
        );
        let o = intercept(&json!({"jsonrpc":"2.0","id":2,"method":"initialize"})).unwrap();
        assert_eq!(o.response.unwrap()["error"]["code"], METHOD_NOT_FOUND);
    }

    #[test]
    fn a_note_is_confirmed_first() {
        let call = |extra: Value| {
            let mut params = json!({"name":"add_clinical_note",
                "arguments":{"patient_id":"NUGWI","note":"x"}});
            params
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            intercept(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":params}))
        };
        let first = call(json!({})).unwrap().response.unwrap();
        assert_eq!(first["result"]["resultType"], "input_required");
        let state = first["result"]["requestState"].clone();
        let accept = json!({"confirm_note":{"action":"accept","content":{"confirm":true}}});
        assert!(call(json!({"inputResponses": accept, "requestState": state})).is_none());
        let tampered = call(json!({"inputResponses": accept, "requestState": "v1.00"}));
        assert!(tampered.unwrap().response.unwrap()["error"].is_object());
    }
}
