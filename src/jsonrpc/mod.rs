//! JSON-RPC 2.0 requests as MCP sends them: body bytes → `Vec<Call>`, strictly.
//!
//! Anything two parsers could read differently (duplicate keys, unknown members, odd ids) is an
//! error here, so the gatekeeper decides on exactly what the upstream will execute.

use serde_json::{Map, Value};

/// JSON-RPC error codes the gatekeeper answers with (the reserved range is -32000..-32099).
pub mod codes {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const INTERNAL_ERROR: i64 = -32603;
    pub const UNAUTHENTICATED: i64 = -32001;
    pub const UPSTREAM_UNAVAILABLE: i64 = -32002;
    pub const FORBIDDEN: i64 = -32003;
    /// Over a rate limit (outside -32020..-32099, which MCP reserves for itself).
    pub const RATE_LIMITED: i64 = -32004;
    /// A mirror header (`Mcp-Method`, `Mcp-Name`) disagrees with the body, as the SDKs answer.
    pub const HEADER_MISMATCH: i64 = -32020;
    /// MCP 2026-07-28 `UnsupportedProtocolVersionError` (`data.supported`, `data.requested`).
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
    /// Invalid params: what a server answers for a task id it does not know (SEP-2663).
    pub const INVALID_PARAMS: i64 = -32602;
}

/// What a call asks the server to do, as far as the policy is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum CallTarget {
    /// A method judged by its name alone (`initialize`, `tools/list`, notifications…).
    Method,
    /// `tools/call`, or the legacy form where the method is the tool's name.
    Tool {
        name: String,
        arguments: Map<String, Value>,
        legacy: bool,
    },
    /// `resources/read`.
    Resource { uri: String },
    /// `prompts/get`.
    Prompt { name: String },
    /// `completion/complete`: judged by the prompt or resource it completes for, as a
    /// `prompts/get` or `resources/read` of it would be.
    Completion { of: Referent },
    /// `resources/subscribe` and `resources/unsubscribe`: judged by the resource.
    Subscription { uri: String },
    /// `subscriptions/listen` (MCP 2026-07-28): judged by its method and by every resource
    /// it asks to watch (`params.notifications.resourceSubscriptions`); the task ids it names
    /// are in `Call::tasks`.
    Listen { uris: Vec<String> },
    /// A client's answer to a request the server sent it (sampling, elicitation, roots): a
    /// JSON-RPC response, not a call. The policy does not judge it; the shell checks that it
    /// answers a request this caller was sent.
    Answer,
}

/// What a completion completes for (MCP `ref/prompt` or `ref/resource`).
#[derive(Debug, Clone, PartialEq)]
pub enum Referent {
    Prompt(String),
    Resource(String),
}

/// One JSON-RPC request or notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `None` for a notification.
    pub id: Option<Value>,
    pub method: String,
    pub target: CallTarget,
    /// The revision the body names (`params._meta["io.modelcontextprotocol/protocolVersion"]`,
    /// MCP 2026-07-28), which the `MCP-Protocol-Version` header must agree with.
    pub revision: Option<String>,
    /// The task ids the call names (`params.taskId` of `tasks/*`, the `taskIds` a
    /// `subscriptions/listen` watches): each must be one the caller created.
    pub tasks: Vec<String>,
    /// The call may be answered with a task: 2025-11-25's `params.task`, or the 2026 tasks
    /// extension among the client's capabilities. Only then is a passed answer read for one.
    pub may_create_task: bool,
}

impl Call {
    /// The tool name when this call invokes one.
    pub fn tool(&self) -> Option<&str> {
        match &self.target {
            CallTarget::Tool { name, .. } => Some(name),
            _ => None,
        }
    }

    /// "tool 'x'", "resource 'u'", "prompt 'p'" or "method 'm'", for messages.
    pub fn describe(&self) -> String {
        match &self.target {
            CallTarget::Tool { name, .. } => format!("tool '{name}'"),
            CallTarget::Resource { uri } => format!("resource '{uri}'"),
            CallTarget::Prompt { name } => format!("prompt '{name}'"),
            CallTarget::Method => format!("method '{}'", self.method),
            CallTarget::Answer => "a response".to_string(),
            CallTarget::Completion {
                of: Referent::Prompt(name),
            } => format!("completion of prompt '{name}'"),
            CallTarget::Completion {
                of: Referent::Resource(uri),
            } => format!("completion of resource '{uri}'"),
            CallTarget::Subscription { uri } => format!("a subscription to resource '{uri}'"),
            CallTarget::Listen { .. } => "a listen stream".to_string(),
        }
    }
}

/// A parsed request body: one call, or a batch (an array of calls).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Single(Call),
    Batch(Vec<Call>),
}

impl Request {
    pub fn calls(&self) -> &[Call] {
        match self {
            Request::Single(c) => std::slice::from_ref(c),
            Request::Batch(calls) => calls,
        }
    }

    /// The id to answer an error with: a single call's id; `null` for a batch.
    pub fn error_id(&self) -> Option<&Value> {
        match self {
            Request::Single(c) => c.id.as_ref(),
            Request::Batch(_) => None,
        }
    }
}

/// Why a body is not a request the gatekeeper will judge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    /// The request id, when it could be read, so the error can answer it.
    pub id: Option<Value>,
    pub not_json: bool,
}

impl ParseError {
    fn invalid(message: impl Into<String>, id: Option<&Value>) -> Self {
        ParseError {
            message: format!("Invalid Request: {}", message.into()),
            id: id.cloned(),
            not_json: false,
        }
    }

    /// -32700 for bytes that are not JSON, -32600 for JSON that is not a valid request.
    pub fn code(&self) -> i64 {
        if self.not_json {
            codes::PARSE_ERROR
        } else {
            codes::INVALID_REQUEST
        }
    }
}

/// Batches larger than this are refused outright.
pub const MAX_BATCH: usize = 100;

/// Parses a whole request body.
pub fn parse(body: &[u8]) -> Result<Request, ParseError> {
    let value = crate::strict_json::from_slice(body).map_err(|e| match e.classify() {
        // Valid JSON we refuse to read (a repeated key): not a valid Request object.
        serde_json::error::Category::Data => ParseError::invalid(e.to_string(), None),
        _ => ParseError {
            message: format!("Parse error: {e}"),
            id: None,
            not_json: true,
        },
    })?;
    match value {
        Value::Array(items) if items.is_empty() => Err(ParseError::invalid("empty batch", None)),
        Value::Array(items) if items.len() > MAX_BATCH => Err(ParseError::invalid(
            format!("batch of {} calls exceeds {MAX_BATCH}", items.len()),
            None,
        )),
        Value::Array(items) => items
            .into_iter()
            .map(parse_call)
            .collect::<Result<_, _>>()
            .map(Request::Batch)
            .map_err(|mut e| {
                e.id = None;
                e
            }),
        other => parse_call(other).map(Request::Single),
    }
}

const MEMBERS: [&str; 4] = ["jsonrpc", "id", "method", "params"];

fn parse_call(value: Value) -> Result<Call, ParseError> {
    let Value::Object(mut obj) = value else {
        return Err(ParseError::invalid("a call must be a JSON object", None));
    };
    let id = take_id(&mut obj)?;
    let id_ref = id.as_ref();
    if obj.contains_key("result") || obj.contains_key("error") {
        return parse_answer(obj, id);
    }
    check_envelope(&obj, &MEMBERS, "", id_ref)?;
    let method = match obj.remove("method") {
        Some(Value::String(m)) if !m.is_empty() => m,
        _ => {
            return Err(ParseError::invalid(
                "\"method\" must be a non-empty string",
                id_ref,
            ))
        }
    };
    let params = match obj.remove("params") {
        None => None,
        Some(Value::Object(p)) => Some(p),
        Some(Value::Array(_)) => {
            return Err(ParseError::invalid("MCP params must be an object", id_ref))
        }
        Some(_) => return Err(ParseError::invalid("\"params\" must be an object", id_ref)),
    };
    if let Some(p) = &params {
        refuse_case_twins(p, "params").map_err(|m| ParseError::invalid(m, id_ref))?;
    }
    let revision = params.as_ref().and_then(body_revision);
    let may_create_task = params.as_ref().is_some_and(asks_for_task);
    let tasks = params
        .as_ref()
        .map(|p| named_tasks(&method, p))
        .transpose()
        .map_err(|m| ParseError::invalid(m, id_ref))?
        .unwrap_or_default();
    let target = classify(&method, params).map_err(|m| ParseError::invalid(m, id_ref))?;
    if let CallTarget::Tool { arguments, .. } = &target {
        refuse_case_twins(arguments, "arguments").map_err(|m| ParseError::invalid(m, id_ref))?;
    }
    Ok(Call {
        id,
        method,
        target,
        revision,
        tasks,
        may_create_task,
    })
}

/// `params.task` (2025-11-25) or `_meta["io.modelcontextprotocol/clientCapabilities"]
/// .extensions["io.modelcontextprotocol/tasks"]` (SEP-2663).
fn asks_for_task(params: &Map<String, Value>) -> bool {
    params.get("task").is_some_and(Value::is_object)
        || params
            .get("_meta")
            .and_then(|m| m.get("io.modelcontextprotocol/clientCapabilities"))
            .and_then(|c| c.get("extensions"))
            .and_then(|e| e.get("io.modelcontextprotocol/tasks"))
            .is_some()
}

/// The `_meta` member naming the request's revision (MCP 2026-07-28, Streamable HTTP
/// §"Protocol Version Header").
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";

fn body_revision(params: &Map<String, Value>) -> Option<String> {
    let meta = params.get("_meta")?.as_object()?;
    meta.get(META_PROTOCOL_VERSION)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The task ids a call names: `params.taskId` of `tasks/get`, `tasks/result`, `tasks/update`
/// and `tasks/cancel` (2025-11-25 and the 2026 tasks extension), and the `taskIds` a
/// `subscriptions/listen` asks to be told about (SEP-2663).
fn named_tasks(method: &str, params: &Map<String, Value>) -> Result<Vec<String>, String> {
    if method.starts_with("tasks/") && method != "tasks/list" {
        return match params.get("taskId") {
            Some(Value::String(id)) if !id.is_empty() => Ok(vec![id.clone()]),
            _ => Err(format!("{method} needs params.taskId, a non-empty string")),
        };
    }
    if method != LISTEN {
        return Ok(Vec::new());
    }
    match params.get("notifications").and_then(|n| n.get("taskIds")) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|id| match id {
                Value::String(id) => Ok(id.clone()),
                _ => Err("params.notifications.taskIds must hold strings".to_string()),
            })
            .collect(),
        Some(_) => Err("params.notifications.taskIds must be an array".into()),
    }
}

/// The 2026-07-28 method that opens a long-lived stream of change notifications.
pub const LISTEN: &str = "subscriptions/listen";

const ANSWER_MEMBERS: [&str; 3] = ["jsonrpc", "result", "error"];

/// JSON-RPC 2.0 §5: a response has an id and exactly one of `result` and `error` (an object
/// with an integer `code` and a string `message`).
fn parse_answer(obj: Map<String, Value>, id: Option<Value>) -> Result<Call, ParseError> {
    let id_ref = id.as_ref();
    check_envelope(&obj, &ANSWER_MEMBERS, " in a response", id_ref)?;
    if id.is_none() {
        return Err(ParseError::invalid(
            "a response needs the id it answers",
            None,
        ));
    }
    match (obj.get("result"), obj.get("error")) {
        (Some(_), None) => {}
        (None, Some(Value::Object(e)))
            if e.get("code").is_some_and(|c| c.is_i64())
                && e.get("message").is_some_and(Value::is_string) => {}
        (None, Some(_)) => {
            return Err(ParseError::invalid(
                "a response's error needs an integer code and a string message",
                id_ref,
            ))
        }
        _ => {
            return Err(ParseError::invalid(
                "a response has exactly one of result and error",
                id_ref,
            ))
        }
    }
    Ok(Call {
        id,
        method: String::new(),
        target: CallTarget::Answer,
        revision: None,
        tasks: Vec::new(),
        may_create_task: false,
    })
}

/// The members a message may have (`allowed`, the id already taken out) and its version.
fn check_envelope(
    obj: &Map<String, Value>,
    allowed: &[&str],
    what: &str,
    id: Option<&Value>,
) -> Result<(), ParseError> {
    if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ParseError::invalid(
            format!("unknown member '{extra}'{what}"),
            id,
        ));
    }
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(ParseError::invalid("\"jsonrpc\" must be \"2.0\"", id));
    }
    Ok(())
}

/// `case_twins` as a refusal naming the member that holds them.
fn refuse_case_twins(members: &Map<String, Value>, what: &str) -> Result<(), String> {
    match case_twins(members) {
        Some(twin) => Err(format!(
            "{what} has members differing only in case ('{twin}')"
        )),
        None => Ok(()),
    }
}

/// Two member names that differ only in case: a parser that folds case (Go's
/// `encoding/json`, Jackson configured so) may read the other one than we judged.
fn case_twins(members: &Map<String, Value>) -> Option<&str> {
    let mut seen: Vec<String> = Vec::with_capacity(members.len());
    for key in members.keys() {
        let folded = key.to_lowercase();
        if seen.contains(&folded) {
            return Some(key);
        }
        seen.push(folded);
    }
    None
}

/// JSON-RPC 2.0 §4: ids are strings or numbers; we also refuse null and fractions.
fn take_id(obj: &mut Map<String, Value>) -> Result<Option<Value>, ParseError> {
    match obj.remove("id") {
        None => Ok(None),
        Some(id @ Value::String(_)) => Ok(Some(id)),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(Value::Number(n))),
        Some(_) => Err(ParseError::invalid(
            "\"id\" must be a string or an integer",
            None,
        )),
    }
}

/// MCP methods that carry no '/' and are not legacy tool calls.
const BARE_MCP_METHODS: [&str; 2] = ["initialize", "ping"];

fn classify(method: &str, params: Option<Map<String, Value>>) -> Result<CallTarget, String> {
    match method {
        "tools/call" => {
            let mut p = params.ok_or("tools/call needs params")?;
            let name = take_string(&mut p, "name")?;
            let arguments = take_arguments(&mut p)?.unwrap_or_default();
            Ok(CallTarget::Tool {
                name,
                arguments,
                legacy: false,
            })
        }
        "resources/read" => {
            let mut p = params.ok_or("resources/read needs params")?;
            Ok(CallTarget::Resource {
                uri: take_string(&mut p, "uri")?,
            })
        }
        "prompts/get" => {
            let mut p = params.ok_or("prompts/get needs params")?;
            Ok(CallTarget::Prompt {
                name: take_string(&mut p, "name")?,
            })
        }
        "completion/complete" => {
            let mut p = params.ok_or("completion/complete needs params")?;
            let Some(Value::Object(mut reference)) = p.remove("ref") else {
                return Err("completion/complete needs params.ref (a prompt or a resource)".into());
            };
            refuse_case_twins(&reference, "params.ref")?;
            let of = match reference.get("type").and_then(Value::as_str) {
                Some("ref/prompt") => Referent::Prompt(take_string(&mut reference, "name")?),
                Some("ref/resource") => Referent::Resource(take_string(&mut reference, "uri")?),
                _ => return Err("params.ref.type must be ref/prompt or ref/resource".into()),
            };
            Ok(CallTarget::Completion { of })
        }
        // Without a `uri` there is nothing to watch: judged by the method alone (2026-07-28
        // removed these methods; its servers answer 404 and the probe must reach them).
        "resources/subscribe" | "resources/unsubscribe"
            if params.as_ref().is_none_or(|p| !p.contains_key("uri")) =>
        {
            Ok(CallTarget::Method)
        }
        "resources/subscribe" | "resources/unsubscribe" => {
            let mut p = params.ok_or("a subscription needs params")?;
            Ok(CallTarget::Subscription {
                uri: take_string(&mut p, "uri")?,
            })
        }
        LISTEN => Ok(CallTarget::Listen {
            uris: watched_resources(params.as_ref())?,
        }),
        m if m.contains('/') || BARE_MCP_METHODS.contains(&m) => Ok(CallTarget::Method),
        legacy => Ok(CallTarget::Tool {
            name: legacy.to_string(),
            arguments: legacy_arguments(params)?,
            legacy: true,
        }),
    }
}

/// The resources a `subscriptions/listen` asks to watch.
fn watched_resources(params: Option<&Map<String, Value>>) -> Result<Vec<String>, String> {
    let watched = params
        .and_then(|p| p.get("notifications"))
        .and_then(|n| n.get("resourceSubscriptions"));
    match watched {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(uris)) => uris
            .iter()
            .map(|u| match u {
                Value::String(u) if !u.is_empty() => Ok(u.clone()),
                _ => Err("resourceSubscriptions must hold non-empty strings".to_string()),
            })
            .collect(),
        Some(_) => Err("params.notifications.resourceSubscriptions must be an array".into()),
    }
}

/// The legacy form's arguments: `params.arguments` when present, else `params` itself —
/// exactly how the upstream reads them.
fn legacy_arguments(params: Option<Map<String, Value>>) -> Result<Map<String, Value>, String> {
    let Some(mut p) = params else {
        return Ok(Map::new());
    };
    Ok(match take_arguments(&mut p)? {
        Some(args) => args,
        None => p,
    })
}

fn take_string(p: &mut Map<String, Value>, key: &str) -> Result<String, String> {
    match p.remove(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(format!("params.{key} must be a non-empty string")),
    }
}

fn take_arguments(p: &mut Map<String, Value>) -> Result<Option<Map<String, Value>>, String> {
    match p.remove("arguments") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(args)) => Ok(Some(args)),
        Some(_) => Err("params.arguments must be an object".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(body: &str) -> Call {
        match parse(body.as_bytes()).unwrap() {
            Request::Single(c) => c,
            other => panic!("expected one call, got {other:?}"),
        }
    }

    fn err(body: &str) -> ParseError {
        parse(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_clients_answer_to_a_server_request_is_a_response_not_a_call() {
        for body in [
            r#"{"jsonrpc":"2.0","id":"elicit-1","result":{"action":"accept"}}"#,
            r#"{"jsonrpc":"2.0","id":7,"error":{"code":-1,"message":"declined"}}"#,
        ] {
            let c = one(body);
            assert_eq!(c.target, CallTarget::Answer, "{body}");
            assert!(c.id.is_some() && c.tool().is_none());
        }
    }

    #[test]
    fn members_that_differ_only_in_case_are_refused() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","NAME":"b"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{},"Arguments":{"x":1}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"patient_id":"X","Patient_ID":"Y"}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"get_patient","params":{"patient_id":"X","PATIENT_ID":"Y"}}"#,
        ] {
            assert!(
                err(body).message.contains("differing only in case"),
                "{body}"
            );
        }
    }

    #[test]
    fn tools_call_yields_tool_and_arguments() {
        let c = one(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{"patient_id":"NUGWI"}}}"#,
        );
        assert_eq!(c.id, Some(json!(1)));
        assert_eq!(c.tool(), Some("get_patient"));
        let CallTarget::Tool {
            arguments, legacy, ..
        } = c.target
        else {
            unreachable!()
        };
        assert_eq!(arguments["patient_id"], "NUGWI");
        assert!(!legacy);
    }

    #[test]
    fn legacy_form_names_the_tool_in_the_method() {
        let c = one(
            r#"{"jsonrpc":"2.0","method":"get_medical_records","params":{"arguments":{"patient_id":"NUGWI"}}}"#,
        );
        assert_eq!(c.id, None);
        assert_eq!(c.tool(), Some("get_medical_records"));
        let CallTarget::Tool {
            arguments, legacy, ..
        } = c.target
        else {
            unreachable!()
        };
        assert_eq!(arguments["patient_id"], "NUGWI");
        assert!(legacy);
    }

    #[test]
    fn legacy_form_without_the_arguments_wrapper() {
        let c =
            one(r#"{"jsonrpc":"2.0","id":"a","method":"get_billing","params":{"patient_id":"X"}}"#);
        let CallTarget::Tool { arguments, .. } = c.target else {
            unreachable!()
        };
        assert_eq!(arguments["patient_id"], "X");
    }

    #[test]
    fn plumbing_methods_are_methods() {
        for m in [
            "initialize",
            "ping",
            "tools/list",
            "notifications/initialized",
        ] {
            let c = one(&format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{m}"}}"#));
            assert_eq!(c.target, CallTarget::Method, "{m}");
        }
    }

    #[test]
    fn resources_and_prompts() {
        let c = one(
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a"}}"#,
        );
        assert_eq!(
            c.target,
            CallTarget::Resource {
                uri: "file:///a".into()
            }
        );
        let c = one(r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}}"#);
        assert_eq!(c.target, CallTarget::Prompt { name: "p".into() });
    }

    #[test]
    fn batch_parses_every_element() {
        let r =
            parse(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"x"}]"#)
                .unwrap();
        assert_eq!(r.calls().len(), 2);
        assert_eq!(r.error_id(), None);
    }

    #[test]
    fn not_json_is_a_parse_error() {
        let e = err("{");
        assert_eq!(e.code(), codes::PARSE_ERROR);
        assert_eq!(err("").code(), codes::PARSE_ERROR);
    }

    #[test]
    fn invalid_shapes_are_invalid_requests_with_the_id_when_known() {
        let e = err(r#"{"jsonrpc":"1.0","id":9,"method":"ping"}"#);
        assert_eq!(e.code(), codes::INVALID_REQUEST);
        assert_eq!(e.id, Some(json!(9)));
        for body in [
            r#"[]"#,
            r#"42"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":""}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","extra":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":[]}}"#,
            r#"{"jsonrpc":"2.0","result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{},"method":"tools/call"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"get_patient","params":{"arguments":"x"}}"#,
        ] {
            assert_eq!(err(body).code(), codes::INVALID_REQUEST, "{body}");
        }
    }

    #[test]
    fn duplicate_keys_are_refused_anywhere() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"patient_id":"A","patient_id":"B"}}}"#,
        ] {
            assert!(parse(body.as_bytes()).is_err(), "{body}");
        }
    }

    #[test]
    fn oversized_batches_are_refused() {
        let call = r#"{"jsonrpc":"2.0","method":"ping"}"#;
        let body = format!("[{}]", vec![call; MAX_BATCH + 1].join(","));
        assert!(err(&body).message.contains("exceeds"));
    }
}
