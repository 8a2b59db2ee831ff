//! JSON-RPC 2.0 dispatch for one message: request-shape checks, the MCP lifecycle
//! (`initialize`, `ping`, notifications), `tools/list`, `tools/call`, and the web app's legacy
//! form where the method is the tool name and the answer is `result.data`. With the `Fhir`
//! flavour results are FHIR resources and the `resources/*` methods are served (see `fhir`).

use serde_json::{json, Map, Value};

use crate::data::Hospital;
use crate::{fhir, tools};

/// How results are shaped: the hospital's own JSON (the default), or FHIR R4 / US Core.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flavor {
    #[default]
    Plain,
    Fhir,
}

/// Protocol revisions this server speaks; the first is the one offered by default.
pub const PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
const LATEST: &str = PROTOCOL_VERSIONS[0];

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;

/// What one message produced.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// The response to send; `None` for a notification or a client's response.
    pub response: Option<Value>,
    /// The message was not a valid JSON-RPC request (answered with -32600).
    pub invalid: bool,
    /// Set by `initialize`: a new session is to be announced in `Mcp-Session-Id`.
    pub new_session: bool,
    /// For stats: the method, and the tool it invoked if any.
    pub method: String,
    pub tool: Option<String>,
}

type RpcResult = Result<Value, (i64, String)>;

/// Answers one message, results shaped as `flavor` says.
pub fn handle(flavor: Flavor, h: &mut Hospital, message: &Value) -> Outcome {
    let Some(obj) = message.as_object() else {
        return invalid(Value::Null, "not an object");
    };
    let id = obj.get("id").cloned();
    if let Some(bad) = id.as_ref().filter(|i| !valid_id(i)) {
        return invalid(Value::Null, &format!("bad id {bad}"));
    }
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid(id.unwrap_or(Value::Null), "jsonrpc must be \"2.0\"");
    }
    let Some(method) = obj.get("method") else {
        if id.is_some() && (obj.contains_key("result") || obj.contains_key("error")) {
            // A client's answer to a server request; we never send any, so just accept it.
            return Outcome {
                method: "(response)".into(),
                ..Outcome::default()
            };
        }
        return invalid(id.unwrap_or(Value::Null), "no method");
    };
    let Some(method) = method.as_str() else {
        return invalid(id.unwrap_or(Value::Null), "method must be a string");
    };
    let no_params = Map::new();
    let params = match obj.get("params") {
        None | Some(Value::Null) => &no_params,
        Some(Value::Object(p)) => p,
        Some(Value::Array(_)) => &no_params, // by-position params: no method here takes any
        Some(_) => return invalid(id.unwrap_or(Value::Null), "params must be structured"),
    };

    let mut outcome = Outcome {
        method: method.to_string(),
        ..Outcome::default()
    };
    let result = dispatch(flavor, h, method, params, &mut outcome);
    // The web app's legacy form is a request with or without an id, as the seed's server
    // reads it: it gets its answer (with `id: null`). Any other message without an id is a
    // notification and gets no response, whatever happened.
    let legacy = tools::NAMES.contains(&method);
    let Some(id) = id.or_else(|| legacy.then_some(Value::Null)) else {
        return outcome;
    };
    outcome.response = Some(match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message)) => error(id, code, &message),
    });
    outcome
}

fn dispatch(
    flavor: Flavor,
    h: &mut Hospital,
    method: &str,
    params: &Map<String, Value>,
    o: &mut Outcome,
) -> RpcResult {
    let call = |h: &mut Hospital, name: &str, args: &Map<String, Value>| match flavor {
        Flavor::Plain => tools::call(h, name, args),
        Flavor::Fhir => fhir::call(h, name, args),
    };
    match method {
        "initialize" => {
            o.new_session = true;
            Ok(initialize(params, flavor))
        }
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": tools::definitions()})),
        "tools/call" => {
            let Some(name) = params.get("name").and_then(Value::as_str) else {
                return Err((INVALID_PARAMS, "Invalid params: missing tool name".into()));
            };
            o.tool = Some(name.to_string());
            let result = match params.get("arguments") {
                None | Some(Value::Null) => call(h, name, &Map::new()),
                Some(Value::Object(args)) => call(h, name, args),
                Some(_) => tools::NAMES
                    .contains(&name)
                    .then(|| Err("arguments must be an object".to_string())),
            };
            match result {
                Some(r) => Ok(call_tool_result(r)),
                None => Err((INVALID_PARAMS, format!("Unknown tool: {name}"))),
            }
        }
        m if m.starts_with("notifications/") => Ok(Value::Null),
        m if flavor == Flavor::Fhir && m.starts_with("resources/") => fhir::resources(h, m, params)
            .unwrap_or_else(|| Err((METHOD_NOT_FOUND, format!("Method not found: {m}")))),
        legacy if tools::NAMES.contains(&legacy) => {
            o.tool = Some(legacy.to_string());
            let args = match params.get("arguments") {
                Some(Value::Object(args)) => args,
                None => params,
                Some(_) => return Err((INVALID_PARAMS, "arguments must be an object".into())),
            };
            match call(h, legacy, args) {
                Some(Ok(v)) => Ok(json!({"data": match flavor {
                    Flavor::Plain => tools::legacy_data(legacy, v),
                    Flavor::Fhir => fhir::legacy_data(v),
                }})),
                Some(Err(message)) => Err((INVALID_PARAMS, message)),
                None => Err((METHOD_NOT_FOUND, format!("Method not found: {legacy}"))),
            }
        }
        other => Err((METHOD_NOT_FOUND, format!("Method not found: {other}"))),
    }
}

/// Echoes the client's protocol version when we speak it, otherwise offers the latest.
fn initialize(params: &Map<String, Value>, flavor: Flavor) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = asked
        .filter(|v| PROTOCOL_VERSIONS.contains(v))
        .unwrap_or(LATEST);
    if flavor == Flavor::Fhir {
        return json!({
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": false},
                             "resources": {"subscribe": false, "listChanged": false}},
            "serverInfo": {"name": "mock-hospital", "version": env!("CARGO_PKG_VERSION")},
            "instructions": "A synthetic hospital (every name, number and note is fake) \
                served as FHIR R4 / US Core resources. Look patients up with search_patients, \
                then read them with get_patient (a Patient), get_medical_records (a searchset \
                Bundle), list_appointments and get_billing; add_clinical_note writes a \
                DocumentReference. Resources: fhir://Patient/<id> and fhir://Bundle/<id>.",
        });
    }
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "mock-hospital", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "A synthetic hospital (every name, number and note is fake). \
            Look patients up with search_patients, then read them with get_patient, \
            get_medical_records, list_appointments and get_billing; add_clinical_note writes.",
    })
}

/// MCP `CallToolResult`: the JSON as text content plus `structuredContent`, or a tool error.
fn call_tool_result(result: tools::ToolResult) -> Value {
    match result {
        Ok(v) => json!({
            "content": [{"type": "text", "text": v.to_string()}],
            "structuredContent": v,
            "isError": false,
        }),
        Err(message) => json!({
            "content": [{"type": "text", "text": message}],
            "isError": true,
        }),
    }
}

fn valid_id(id: &Value) -> bool {
    matches!(id, Value::String(_) | Value::Number(_) | Value::Null)
}

pub fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn invalid(id: Value, why: &str) -> Outcome {
    Outcome {
        response: Some(error(
            id,
            INVALID_REQUEST,
            &format!("Invalid Request: {why}"),
        )),
        invalid: true,
        method: "(invalid)".into(),
        ..Outcome::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(msg: Value) -> Outcome {
        handle(Flavor::Plain, &mut Hospital::builtin().unwrap(), &msg)
    }

    fn response(msg: Value) -> Value {
        run(msg).response.expect("a response")
    }

    #[test]
    fn initialize_negotiates_the_version() {
        for (asked, got) in [
            (json!("2025-06-18"), "2025-06-18"),
            (json!("2025-11-25"), "2025-11-25"),
            (json!("2025-03-26"), "2025-03-26"),
            (json!("1999-01-01"), LATEST),
            (json!(42), LATEST),
        ] {
            let o = run(json!({"jsonrpc":"2.0","id":1,"method":"initialize",
                "params":{"protocolVersion":asked,"capabilities":{}}}));
            assert!(o.new_session);
            let r = &o.response.unwrap()["result"];
            assert_eq!(r["protocolVersion"], got);
            assert_eq!(r["serverInfo"]["name"], "mock-hospital");
            assert_eq!(r["capabilities"]["tools"]["listChanged"], false);
        }
    }

    #[test]
    fn tools_list_names_the_six_tools() {
        let r = response(json!({"jsonrpc":"2.0","id":"a","method":"tools/list"}));
        assert_eq!(r["id"], "a");
        let names: Vec<&str> = r["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(names, tools::NAMES);
    }

    #[test]
    fn tools_call_returns_text_and_structured_content() {
        let o = run(json!({"jsonrpc":"2.0","id":2,"method":"tools/call",
            "params":{"name":"get_medical_records","arguments":{"patient_id":"NUGWI"}}}));
        assert_eq!(o.tool.as_deref(), Some("get_medical_records"));
        let r = &o.response.unwrap()["result"];
        assert_eq!(r["isError"], false);
        let text: Value = serde_json::from_str(r["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(text, r["structuredContent"]);
        assert_eq!(r["structuredContent"]["patient_id"], "NUGWI");
    }

    #[test]
    fn tool_failures_are_results_with_is_error() {
        for args in [json!({"patient_id":"ZZZZZ"}), json!({}), json!("NUGWI")] {
            let r = response(json!({"jsonrpc":"2.0","id":3,"method":"tools/call",
                "params":{"name":"get_patient","arguments":args}}));
            assert_eq!(r["result"]["isError"], true, "{args}");
            assert!(r["result"]["content"][0]["text"].is_string());
        }
    }

    #[test]
    fn legacy_form_answers_with_data() {
        for params in [
            json!({"arguments":{"patient_id":"NUGWI"}}),
            json!({"patient_id":"NUGWI"}),
        ] {
            let o = run(
                json!({"jsonrpc":"2.0","id":1,"method":"get_medical_records",
                "params":params}),
            );
            assert_eq!(o.method, "get_medical_records");
            assert_eq!(o.tool.as_deref(), Some("get_medical_records"));
            let r = o.response.unwrap();
            assert_eq!(r["id"], 1);
            assert!(r["result"]["data"].as_array().unwrap().len() >= 2);
        }
        let r = response(json!({"jsonrpc":"2.0","id":1,"method":"get_patient",
            "params":{"arguments":{"patient_id":"NUGWI"}}}));
        assert_eq!(r["result"]["data"][0]["patient_id"], "NUGWI");
        let r = response(json!({"jsonrpc":"2.0","id":1,"method":"get_patient",
            "params":{"arguments":{"patient_id":"ZZZZZ"}}}));
        assert_eq!(r["error"]["code"], INVALID_PARAMS);
    }

    #[test]
    fn the_seed_web_apps_legacy_call_without_an_id_is_answered() {
        let r = response(json!({"jsonrpc":"2.0","method":"get_medical_records",
            "params":{"arguments":{"patient_id":"NUGWI"}}}));
        assert_eq!(r["id"], Value::Null);
        assert!(r["result"]["data"].as_array().unwrap().len() >= 2, "{r}");
    }

    #[test]
    fn unknown_tools_and_methods_are_errors() {
        let r = response(json!({"jsonrpc":"2.0","id":4,"method":"tools/call",
            "params":{"name":"drop_tables","arguments":{}}}));
        assert_eq!(r["error"]["code"], INVALID_PARAMS);
        assert_eq!(r["error"]["message"], "Unknown tool: drop_tables");
        let r = response(json!({"jsonrpc":"2.0","id":5,"method":"resources/list"}));
        assert_eq!(r["error"]["code"], METHOD_NOT_FOUND);
        assert_eq!(r["error"]["message"], "Method not found: resources/list");
    }

    #[test]
    fn malformed_requests_are_invalid() {
        for msg in [
            json!(7),
            json!({"jsonrpc":"2.0","id":1}),
            json!({"jsonrpc":"1.0","id":1,"method":"ping"}),
            json!({"jsonrpc":"2.0","id":{},"method":"ping"}),
            json!({"jsonrpc":"2.0","id":1,"method":5}),
            json!({"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}),
        ] {
            let o = run(msg.clone());
            assert!(o.invalid, "{msg}");
            assert_eq!(o.response.unwrap()["error"]["code"], INVALID_REQUEST);
        }
    }

    #[test]
    fn notifications_and_client_responses_get_no_response() {
        let o = run(json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        assert_eq!(
            (o.response, o.method.as_str()),
            (None, "notifications/initialized")
        );
        assert_eq!(
            run(json!({"jsonrpc":"2.0","id":9,"result":{}})).response,
            None
        );
        let pong = response(json!({"jsonrpc":"2.0","id":0,"method":"ping"}));
        assert_eq!(pong, json!({"jsonrpc":"2.0","id":0,"result":{}}));
    }
}
