//! What the shell must remember from the server's messages, whatever the caller's role and
//! whether or not the answer is rewritten: requests the server sent the client (only that
//! client may answer them), tasks it created (only their creator may poll them), and the
//! `Mcp-Param-*` headers its tools declare (a `tools/call` header is checked against them),
//! and the revisions it speaks (an unsupported one is answered with those).
//! Read from the upstream's own bytes, before any rewrite.

use serde_json::Value;

use crate::transport::{declared_params, ParamHeader};

/// What one answer told the gatekeeper so far.
#[derive(Debug, Default, PartialEq)]
pub struct Observed {
    /// Ids (as JSON text) of requests the server sent the client.
    pub server_requests: Vec<String>,
    /// Task ids the server created for this request.
    pub tasks: Vec<String>,
    /// Each tool a `tools/list` answer showed, and the parameters it mirrors into headers.
    pub tools: Vec<(String, Vec<ParamHeader>)>,
    /// The `supportedVersions` a `server/discover` answer gave.
    pub versions: Option<Vec<String>>,
}

/// What the request asked that is worth noting in its answers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    /// `tools/list`: the headers each tool declares.
    pub tools: bool,
    /// `server/discover`: the revisions the server speaks.
    pub versions: bool,
}

impl Observed {
    pub fn is_empty(&self) -> bool {
        self.server_requests.is_empty()
            && self.tasks.is_empty()
            && self.tools.is_empty()
            && self.versions.is_none()
    }

    /// Reads one message or batch. Parsed only when a member it looks for appears in the text.
    pub fn note(&mut self, data: &[u8], watch: Watch) {
        let has = |needle: &[u8]| memchr::memmem::find(data, needle).is_some();
        let wanted = has(b"\"method\"")
            || has(b"\"taskId\"")
            || (watch.tools && has(b"\"tools\""))
            || (watch.versions && has(b"\"supportedVersions\""));
        if !wanted {
            return;
        }
        let Ok(value) = serde_json::from_slice::<Value>(data) else {
            return;
        };
        let messages = match &value {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for m in messages {
            self.message(m, watch);
        }
    }

    fn message(&mut self, m: &Value, watch: Watch) {
        let id = m
            .get("id")
            .filter(|i| i.is_string() || i.is_i64() || i.is_u64());
        if let (Some(id), Some(_)) = (id, m.get("method").and_then(Value::as_str)) {
            self.server_requests.push(id.to_string());
        }
        let Some(result) = m.get("result") else {
            return;
        };
        self.tasks.extend(created_task(result).map(str::to_string));
        if watch.versions {
            let versions = result.get("supportedVersions").and_then(Value::as_array);
            self.versions = versions.map(|v| {
                v.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            });
        }
        if watch.tools {
            let tools = result.get("tools").and_then(Value::as_array);
            for tool in tools.into_iter().flatten() {
                if let Some(name) = tool.get("name").and_then(Value::as_str) {
                    let params = tool
                        .get("inputSchema")
                        .map(declared_params)
                        .unwrap_or_default();
                    self.tools.push((name.to_string(), params));
                }
            }
        }
    }
}

/// The task a result creates: 2025-11-25's `CreateTaskResult` nests it (`{"task":{"taskId"}}`),
/// the 2026 tasks extension flattens it (`{"resultType":"task","taskId"}`, SEP-2663).
fn created_task(result: &Value) -> Option<&str> {
    let nested = result.get("task").and_then(|t| t.get("taskId"));
    let flat = (result.get("resultType").and_then(Value::as_str) == Some("task"))
        .then(|| result.get("taskId"))
        .flatten();
    nested
        .or(flat)
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
}
