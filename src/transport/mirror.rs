//! The request metadata headers (MCP 2026-07-28, Streamable HTTP §"Request Metadata"):
//! `Mcp-Method`, `Mcp-Name` and `Mcp-Param-{Name}` mirror the body so intermediaries can route
//! without parsing it. The gatekeeper parses it anyway and refuses any header that says
//! something else (§"Server Validation", `HeaderMismatch`): no component behind us may be told
//! another request than the one the policy judged.

use base64::Engine;
use serde_json::{Map, Value};

use super::{is_modern, TransportError};
use crate::jsonrpc::{Call, CallTarget, Request};

/// The mirror headers of one request, as sent.
#[derive(Debug, Default)]
pub struct Mirror<'a> {
    pub method: Vec<&'a [u8]>,
    pub name: Vec<&'a [u8]>,
    /// `Mcp-Param-*`: the name after the prefix, lowercased, and the value.
    pub params: Vec<(String, &'a [u8])>,
}

/// A tool parameter its server mirrors into `Mcp-Param-{name}` (`x-mcp-header` in the tool's
/// input schema, §"Custom Headers from Tool Parameters").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeader {
    /// The header's name after `Mcp-Param-`, lowercased (header names are case-insensitive).
    pub name: String,
    /// The chain of `properties` keys from the arguments to the value.
    pub path: Vec<String>,
}

/// `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` must say what the body says; from 2026-07-28
/// `Mcp-Method` is required on requests and `Mcp-Name` on calls that name a target. `params`
/// is what the tool's schema declares, when the gatekeeper has seen its `tools/list` entry.
pub fn check_mirror(
    mirror: &Mirror,
    request: &Request,
    version: Option<&str>,
    params: Option<&[ParamHeader]>,
) -> Result<(), TransportError> {
    let method = single(&mirror.method, "Mcp-Method")?
        .map(|m| String::from_utf8_lossy(m).trim().to_string());
    let name = single(&mirror.name, "Mcp-Name")?
        .map(decode_value)
        .transpose()?;
    let modern = version.is_some_and(is_modern);
    let call = match request {
        Request::Single(call) => call,
        Request::Batch(_) if method.is_none() && name.is_none() && mirror.params.is_empty() => {
            return Ok(())
        }
        Request::Batch(_) => {
            return Err(mismatch("Mcp-Method/Mcp-Name cannot describe a batch"));
        }
    };
    if call.target == CallTarget::Answer {
        // A response carries no method or target for a header to mirror.
        return match (method, name, mirror.params.is_empty()) {
            (None, None, true) => Ok(()),
            _ => Err(mismatch(
                "Mcp-Method/Mcp-Name describe a request, but the body is a response",
            )),
        };
    }
    // A notification's headers are not defined by 2026-07-28: checked when sent, not required.
    let required = modern && call.id.is_some();
    match method {
        Some(m) if m != call.method => {
            return Err(mismatch("Mcp-Method does not match the body's method"))
        }
        None if required => return Err(mismatch("Mcp-Method is required by this revision")),
        _ => {}
    }
    let (target, must_name) = named_target(call);
    match (name.as_deref(), target) {
        (Some(n), Some(t)) if n == t => {}
        (Some(_), _) => return Err(mismatch("Mcp-Name does not match the body's target")),
        (None, Some(_)) if required && must_name => {
            return Err(mismatch("Mcp-Name is required by this revision"))
        }
        (None, _) => {}
    }
    check_params(mirror, call, modern, params)
}

/// What `Mcp-Name` mirrors, and whether the core revision requires it (`tools/call`,
/// `resources/read`, `prompts/get`); the tasks extension names the task (SEP-2663).
fn named_target(call: &Call) -> (Option<&str>, bool) {
    match &call.target {
        CallTarget::Tool {
            name,
            legacy: false,
            ..
        } => (Some(name), true),
        CallTarget::Prompt { name } => (Some(name), true),
        CallTarget::Resource { uri } => (Some(uri), true),
        _ if call.method.starts_with("tasks/") => (call.tasks.first().map(String::as_str), false),
        _ => (None, false),
    }
}

/// Every `Mcp-Param-*` header must equal the argument it mirrors. Which argument that is
/// comes from the tool's schema when known; otherwise the argument of the same name
/// (case, `-` and `_` aside). A header the gatekeeper cannot tie to an argument is refused: an
/// upstream reading it would act on a value nobody judged. The client's remedy is the one the
/// spec gives for `HeaderMismatch`: list the tools, then retry.
fn check_params(
    mirror: &Mirror,
    call: &Call,
    modern: bool,
    declared: Option<&[ParamHeader]>,
) -> Result<(), TransportError> {
    let (tool, arguments) = match &call.target {
        CallTarget::Tool {
            name,
            arguments,
            legacy: false,
        } => (name, arguments),
        _ if mirror.params.is_empty() => return Ok(()),
        _ => return Err(mismatch("Mcp-Param-* headers belong to tools/call only")),
    };
    for (i, (header, raw)) in mirror.params.iter().enumerate() {
        if mirror.params[..i].iter().any(|(h, _)| h == header) {
            return Err(TransportError::BadHeader(format!(
                "more than one Mcp-Param-{header} header"
            )));
        }
        let value = decode_value(raw)?;
        let path = match declared {
            Some(declared) => declared
                .iter()
                .find(|p| p.name == *header)
                .map(|p| p.path.clone()),
            None => same_name(arguments, header).map(|k| vec![k]),
        };
        let Some(path) = path else {
            return Err(mismatch(&format!(
                "Mcp-Param-{header} mirrors no parameter of tool '{tool}' the gatekeeper knows; list the tools and retry"
            )));
        };
        if !at_path(arguments, &path).is_some_and(|body| agrees(&value, body)) {
            return Err(mismatch(&format!(
                "Mcp-Param-{header} does not match the body's argument"
            )));
        }
    }
    // A value the schema mirrors but the client left out of the headers: the spec has
    // servers refuse it, and a router reading the (absent) header would see another request.
    let declared = declared.unwrap_or_default();
    let missing = declared.iter().find(|p| {
        at_path(arguments, &p.path).is_some_and(|v| !v.is_null())
            && !mirror.params.iter().any(|(h, _)| *h == p.name)
    });
    match missing {
        Some(p) if modern => Err(mismatch(&format!(
            "Mcp-Param-{} is required: the body carries the argument it mirrors",
            p.name
        ))),
        _ => Ok(()),
    }
}

/// The one argument whose name is the header's, ignoring case, `-` and `_`.
fn same_name(arguments: &Map<String, Value>, header: &str) -> Option<String> {
    let fold = |s: &str| {
        s.chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let wanted = fold(header);
    let mut found = arguments.keys().filter(|k| fold(k) == wanted);
    match (found.next(), found.next()) {
        (Some(k), None) => Some(k.clone()),
        _ => None,
    }
}

fn at_path<'v>(arguments: &'v Map<String, Value>, path: &[String]) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(arguments.get(first)?, |v, key| v.as_object()?.get(key))
}

/// §"Value Encoding": strings as they are, integers in decimal (compared as numbers),
/// booleans as `true`/`false`; nothing else may be mirrored.
fn agrees(header: &str, body: &Value) -> bool {
    match body {
        Value::String(s) => s == header,
        Value::Bool(b) => header == if *b { "true" } else { "false" },
        Value::Number(n) => match (n.as_f64(), header.parse::<f64>()) {
            (Some(b), Ok(h)) => b == h && b.fract() == 0.0 && b.abs() < 9_007_199_254_740_992.0,
            _ => false,
        },
        _ => false,
    }
}

/// The parameters a tool's schema mirrors into headers: `x-mcp-header` on a property reached
/// from the root through `properties` keys only (any other placement makes the tool invalid
/// and clients drop it, so the gatekeeper expects no header for it).
pub fn declared_params(input_schema: &Value) -> Vec<ParamHeader> {
    let mut found = Vec::new();
    collect(input_schema, &mut Vec::new(), &mut found);
    found
}

fn collect(schema: &Value, path: &mut Vec<String>, found: &mut Vec<ParamHeader>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (key, property) in properties {
        path.push(key.clone());
        if let Some(name) = property.get("x-mcp-header").and_then(Value::as_str) {
            found.push(ParamHeader {
                name: name.to_ascii_lowercase(),
                path: path.clone(),
            });
        }
        if path.len() < 16 {
            collect(property, path, found);
        }
        path.pop();
    }
}

/// A mirrored value as the client meant it: visible ASCII, space and tab only (RFC 9110
/// §5.5), and `=?base64?…?=` decoded (§"Value Encoding"; the markers are case-sensitive).
fn decode_value(raw: &[u8]) -> Result<String, TransportError> {
    if raw
        .iter()
        .any(|&b| !(b == b'\t' || (0x20..0x7f).contains(&b)))
    {
        return Err(mismatch(
            "a mirror header holds characters a header may not",
        ));
    }
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_matches([' ', '\t']);
    let Some(encoded) = text
        .strip_prefix("=?base64?")
        .and_then(|t| t.strip_suffix("?="))
    else {
        return Ok(text.to_string());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| mismatch("a =?base64?…?= header value is not Base64"))?;
    String::from_utf8(bytes).map_err(|_| mismatch("a =?base64?…?= header value is not UTF-8"))
}

fn single<'a>(values: &[&'a [u8]], header: &str) -> Result<Option<&'a [u8]>, TransportError> {
    match values {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(TransportError::BadHeader(format!(
            "more than one {header} header"
        ))),
    }
}

fn mismatch(why: &str) -> TransportError {
    TransportError::HeaderMismatch(why.to_string())
}
