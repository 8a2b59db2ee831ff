//! JSON-RPC dispatch for one message: MCP lifecycle (`initialize`, `ping`), `tools/list`,
//! `tools/call`, and the legacy form where the method is the tool name (`result.data`).

use serde_json::{json, Map, Value};

use crate::data::Hospital;
use crate::tools;

pub const PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
const LATEST: &str = "2025-11-25";

/// What one message produced.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// `None` for a notification.
    pub response: Option<Value>,
    /// Set by `initialize`: the new session to announce in `Mcp-Session-Id`.
    pub new_session: bool,
    /// For stats: the method and the tool it invoked, if any.
    pub method: String,
    pub tool: Option<String>,
}

pub fn handle(h: &mut Hospital, message: &Value) -> Outcome {
    let Some(obj) = message.as_object() else {
        return error_outcome(Value::Null, -32600, "Invalid Request: not an object");
    };
    let id = obj.get("id").cloned();
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        return error_outcome(
            id.unwrap_or(Value::Null),
            -32600,
            "Invalid Request: no method",
        );
    };
    let params = obj
        .get("params")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut outcome = Outcome {
        method: method.to_string(),
        ..Outcome::default()
    };
    let result = match method {
        "initialize" => {
            outcome.new_session = true;
            Ok(initialize(&params))
        }
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": tools::definitions()})),
        "tools/call" => {
            let name = params
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            outcome.tool = Some(name.to_string());
            let args = arguments(params.get("arguments"));
            match tools::call(h, name, &args) {
                Some(r) => Ok(mcp_result(r)),
                None => Err((-32602, format!("Unknown tool: {name}"))),
            }
        }
        m if m.starts_with("notifications/") => Ok(Value::Null),
        legacy if tools::NAMES.contains(&legacy) => {
            outcome.tool = Some(legacy.to_string());
            let args = match params.get("arguments") {
                Some(a) => arguments(Some(a)),
                None => params.clone(),
            };
            match tools::call(h, legacy, &args) {
                Some(Ok(v)) => Ok(json!({"data": tools::legacy_data(legacy, v)})),
                Some(Err(message)) => Err((-32602, message)),
                None => Err((-32601, format!("Method not found: {legacy}"))),
            }
        }
        other => Err((-32601, format!("Method not found: {other}"))),
    };
    let Some(id) = id else {
        return outcome; // a notification gets no response, whatever happened
    };
    outcome.response = Some(match result {
        Ok(result) => json!({"jsonrpc":"2.0","id":id,"result":result}),
        Err((code, message)) => error(id, code, &message),
    });
    outcome
}

fn initialize(params: &Map<String, Value>) -> Value {
    let asked = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or(LATEST);
    let version = if PROTOCOL_VERSIONS.contains(&asked) {
        asked
    } else {
        LATEST
    };
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "mock-hospital", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "A synthetic hospital. Every name, number and note here is fake."
    })
}

fn arguments(value: Option<&Value>) -> Map<String, Value> {
    value
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// MCP `CallToolResult`: the JSON as text content plus `structuredContent`.
fn mcp_result(result: Result<Value, String>) -> Value {
    match result {
        Ok(v) => json!({"content":[{"type":"text","text":v.to_string()}],
                        "structuredContent": v, "isError": false}),
        Err(message) => json!({"content":[{"type":"text","text":message}], "isError": true}),
    }
}

pub fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}})
}

fn error_outcome(id: Value, code: i64, message: &str) -> Outcome {
    Outcome {
        response: Some(error(id, code, message)),
        method: "(invalid)".into(),
        ..Outcome::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(msg: Value) -> Outcome {
        handle(&mut Hospital::builtin().unwrap(), &msg)
    }

    #[test]
    fn initialize_negotiates_the_version() {
        for (asked, got) in [
            ("2025-06-18", "2025-06-18"),
            ("2025-11-25", "2025-11-25"),
            ("1999-01-01", LATEST),
        ] {
            let o = run(
                json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":asked}}),
            );
            assert!(o.new_session);
            assert_eq!(o.response.unwrap()["result"]["protocolVersion"], got);
        }
    }

    #[test]
    fn tools_call_returns_text_and_structured_content() {
        let o = run(json!({"jsonrpc":"2.0","id":2,"method":"tools/call",
            "params":{"name":"get_medical_records","arguments":{"patient_id":"NUGWI"}}}));
        let r = &o.response.unwrap()["result"];
        assert_eq!(r["isError"], false);
        let text: Value = serde_json::from_str(r["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(text, r["structuredContent"]);
        assert_eq!(o.tool.as_deref(), Some("get_medical_records"));
    }

    #[test]
    fn legacy_form_answers_with_data() {
        let o = run(
            json!({"jsonrpc":"2.0","id":3,"method":"get_medical_records",
            "params":{"arguments":{"patient_id":"NUGWI"}}}),
        );
        let data = &o.response.unwrap()["result"]["data"];
        assert!(data.as_array().unwrap().len() >= 2);
    }

    #[test]
    fn unknown_tools_and_methods_are_errors() {
        let o = run(json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope"}}));
        assert_eq!(o.response.unwrap()["error"]["code"], -32602);
        let o = run(json!({"jsonrpc":"2.0","id":5,"method":"nope"}));
        assert_eq!(o.response.unwrap()["error"]["code"], -32601);
    }

    #[test]
    fn notifications_get_no_response() {
        assert_eq!(
            run(json!({"jsonrpc":"2.0","method":"notifications/initialized"})).response,
            None
        );
    }
}
