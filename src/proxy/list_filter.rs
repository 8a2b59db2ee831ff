//! `tools/list`, `prompts/list` and `resources/list` shown per role: what a caller may not use
//! is removed from the result before it leaves the gatekeeper, for JSON bodies and SSE streams
//! alike. The response is buffered (size-capped) because a list must be judged whole; past the
//! cap, or when it cannot be read, it fails closed with an error instead of the list.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use pingora::http::ResponseHeader;
use pingora::Result;
use serde_json::{json, Value};

use super::admit::Admitted;
use crate::auth::Identity;
use crate::config::Settings;
use crate::jsonrpc::codes;
use crate::jsonrpc::Request;
use crate::policy::Policy;

/// Which list a response carries.
#[derive(Debug, Clone, Copy)]
enum ListKind {
    Tools,
    Prompts,
    Resources,
    ResourceTemplates,
}

impl ListKind {
    fn of(method: &str) -> Option<Self> {
        match method {
            "tools/list" => Some(ListKind::Tools),
            "prompts/list" => Some(ListKind::Prompts),
            "resources/list" => Some(ListKind::Resources),
            "resources/templates/list" => Some(ListKind::ResourceTemplates),
            _ => None,
        }
    }

    /// The JSON pointer of the list in a result.
    fn pointer(self) -> &'static str {
        match self {
            ListKind::Tools => "/result/tools",
            ListKind::Prompts => "/result/prompts",
            ListKind::Resources => "/result/resources",
            ListKind::ResourceTemplates => "/result/resourceTemplates",
        }
    }
}

pub struct ListFilter {
    kind: ListKind,
    identity: Identity,
    id: Value,
    policy: Arc<Policy>,
    limit: usize,
    sse: bool,
    buffer: BytesMut,
    overflow: bool,
}

impl ListFilter {
    /// A filter when the request is a list call; `None` otherwise.
    pub fn for_request(settings: &Settings, admitted: &Admitted) -> Option<Self> {
        let Some(Request::Single(call)) = &admitted.request else {
            return None;
        };
        let kind = ListKind::of(&call.method)?;
        let id = call.id.clone().unwrap_or(Value::Null);
        let limit = settings.max_list_response_bytes;
        Some(Self::new(
            kind,
            admitted.identity.clone(),
            id,
            admitted.policy.clone(),
            limit,
        ))
    }

    fn new(
        kind: ListKind,
        identity: Identity,
        id: Value,
        policy: Arc<Policy>,
        limit: usize,
    ) -> Self {
        ListFilter {
            kind,
            identity,
            id,
            policy,
            limit,
            sse: false,
            buffer: BytesMut::new(),
            overflow: false,
        }
    }

    /// The body will change length: drop Content-Length and stream it chunked.
    pub fn on_header(&mut self, response: &mut ResponseHeader) -> Result<()> {
        self.sse = response
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/event-stream")
            });
        response.remove_header(&http::header::CONTENT_LENGTH);
        // An HTTP/1.0 response without a length is delimited by closing the connection.
        if response.version != http::Version::HTTP_10 {
            response.insert_header(http::header::TRANSFER_ENCODING, "chunked")?;
        }
        Ok(())
    }

    /// Holds the body back until it is complete, then emits the filtered version.
    pub fn on_body(&mut self, body: &mut Option<Bytes>, end_of_stream: bool) {
        if let Some(chunk) = body.take() {
            if self.buffer.len() + chunk.len() > self.limit {
                self.overflow = true;
                self.buffer.clear();
            } else if !self.overflow {
                self.buffer.extend_from_slice(&chunk);
            }
        }
        if end_of_stream {
            let whole = std::mem::take(&mut self.buffer);
            *body = Some(Bytes::from(self.render(&whole)));
        }
    }

    fn render(&self, whole: &[u8]) -> Vec<u8> {
        if self.overflow {
            return self.failure("list response exceeds the gatekeeper's buffer limit");
        }
        let filtered = if self.sse {
            self.filter_sse(whole)
        } else {
            self.filter_json(whole).map(|v| v.to_string().into_bytes())
        };
        filtered.unwrap_or_else(|| self.failure("list response could not be read"))
    }

    fn filter_json(&self, bytes: &[u8]) -> Option<Value> {
        let mut message: Value = serde_json::from_slice(bytes).ok()?;
        if let Some(items) = message.pointer_mut(self.kind.pointer()) {
            items.as_array_mut()?.retain(|item| self.visible(item));
        }
        Some(message)
    }

    fn visible(&self, item: &Value) -> bool {
        let (policy, who) = (&self.policy, &self.identity);
        let field = |key: &str| item.get(key).and_then(Value::as_str);
        match self.kind {
            ListKind::Tools => field("name").is_some_and(|n| policy.tool_visible(who, n)),
            ListKind::Prompts => field("name").is_some_and(|n| policy.prompt_visible(who, n)),
            ListKind::Resources => field("uri").is_some_and(|u| policy.resource_visible(who, u)),
            ListKind::ResourceTemplates => policy.all_resources_visible(who),
        }
    }

    /// Rewrites each event's data (WHATWG HTML §9.2.6: `data:` lines joined by "\n").
    fn filter_sse(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let text = std::str::from_utf8(bytes).ok()?;
        let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
        let mut out = String::with_capacity(normalized.len());
        for event in normalized.split("\n\n").filter(|e| !e.is_empty()) {
            let mut data: Vec<&str> = Vec::new();
            for line in event.split('\n') {
                match line.strip_prefix("data:") {
                    Some(value) => data.push(value.strip_prefix(' ').unwrap_or(value)),
                    None => {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
            if !data.is_empty() {
                let message = self.filter_json(data.join("\n").as_bytes())?;
                out.push_str("data: ");
                out.push_str(&message.to_string());
                out.push('\n');
            }
            out.push('\n');
        }
        Some(out.into_bytes())
    }

    /// Fail closed: the client gets an error, never an unfiltered list.
    fn failure(&self, message: &str) -> Vec<u8> {
        let error = json!({"jsonrpc":"2.0","id":self.id,"error":{"code":codes::UPSTREAM_UNAVAILABLE,"message":message}});
        if self.sse {
            format!("event: message\ndata: {error}\n\n").into_bytes()
        } else {
            error.to_string().into_bytes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const POLICY: &str = "roles:\n  Nurse:\n    tools: [get_patient]\n    prompts: [handover]\n    resources: ['file:///ward/**']\n  Admin:\n    resources: ['*']\n";

    fn filter(kind: ListKind, role: &str, limit: usize) -> ListFilter {
        let identity = Identity {
            user_id: "1".into(),
            username: None,
            roles: vec![role.into()],
            claims: Default::default(),
        };
        let policy = Arc::new(Policy::from_yaml(POLICY).unwrap());
        ListFilter::new(kind, identity, json!(9), policy, limit)
    }

    fn run(f: &mut ListFilter, chunks: &[&str]) -> String {
        let mut out = String::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let mut body = Some(Bytes::from(chunk.to_string()));
            f.on_body(&mut body, i + 1 == chunks.len());
            if let Some(b) = body {
                out.push_str(std::str::from_utf8(&b).unwrap());
            }
        }
        out
    }

    #[test]
    fn tools_are_filtered_across_chunks() {
        let mut f = filter(ListKind::Tools, "Nurse", 1 << 20);
        let out = run(
            &mut f,
            &[
                r#"{"jsonrpc":"2.0","id":9,"result":{"tools":[{"name":"get_pat"#,
                r#"ient"},{"name":"add_clinical_note"}]}}"#,
            ],
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["result"]["tools"], json!([{"name":"get_patient"}]));
    }

    #[test]
    fn prompts_resources_and_templates() {
        let mut f = filter(ListKind::Prompts, "Nurse", 1 << 20);
        let out = run(
            &mut f,
            &[r#"{"result":{"prompts":[{"name":"handover"},{"name":"discharge"}]}}"#],
        );
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap()["result"]["prompts"],
            json!([{"name":"handover"}])
        );
        let mut f = filter(ListKind::Resources, "Nurse", 1 << 20);
        let out = run(
            &mut f,
            &[
                r#"{"result":{"resources":[{"uri":"file:///ward/a"},{"uri":"file:///ward/../admin/b"},{"uri":"file:///admin/c"}]}}"#,
            ],
        );
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap()["result"]["resources"],
            json!([{"uri":"file:///ward/a"}])
        );
        let templates = r#"{"result":{"resourceTemplates":[{"uriTemplate":"file:///{x}"}]}}"#;
        let mut f = filter(ListKind::ResourceTemplates, "Nurse", 1 << 20);
        assert_eq!(
            serde_json::from_str::<Value>(&run(&mut f, &[templates])).unwrap()["result"]
                ["resourceTemplates"],
            json!([])
        );
        let mut f = filter(ListKind::ResourceTemplates, "Admin", 1 << 20);
        assert_eq!(
            serde_json::from_str::<Value>(&run(&mut f, &[templates])).unwrap()["result"]
                ["resourceTemplates"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn sse_events_are_rewritten_with_any_line_ending() {
        let mut f = filter(ListKind::Tools, "Nurse", 1 << 20);
        f.sse = true;
        let out = run(
            &mut f,
            &[
                "event: message\r\nid: 4\r\ndata: {\"result\":{\"tools\":[{\"name\":\"x\"},",
                "{\"name\":\"get_patient\"}]}}\r\n\r\n",
            ],
        );
        assert_eq!(out, "event: message\nid: 4\ndata: {\"result\":{\"tools\":[{\"name\":\"get_patient\"}]}}\n\n");
    }

    #[test]
    fn oversized_or_unreadable_lists_fail_closed() {
        let mut f = filter(ListKind::Tools, "Nurse", 10);
        let out = run(
            &mut f,
            &[r#"{"result":{"tools":[{"name":"add_clinical_note"}]}}"#],
        );
        assert!(!out.contains("add_clinical_note"));
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["id"], 9);
        let mut f = filter(ListKind::Tools, "Nurse", 1 << 20);
        let out = run(&mut f, &["{not json add_clinical_note"]);
        assert!(!out.contains("add_clinical_note") && out.contains("could not be read"));
    }
}
