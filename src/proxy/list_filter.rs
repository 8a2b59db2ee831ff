//! `tools/list` responses shown per role: the tools a caller may not call are removed from the
//! result before it leaves the gatekeeper, for JSON bodies and SSE streams alike. The response
//! is buffered (size-capped) because a list must be judged whole; past the cap it fails closed.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use pingora::http::ResponseHeader;
use pingora::Result;
use serde_json::{json, Value};

use super::admit::Admitted;
use super::Gatekeeper;
use crate::auth::Identity;
use crate::error::codes;
use crate::jsonrpc::Request;
use crate::policy::Policy;

pub struct ListFilter {
    identity: Identity,
    id: Value,
    policy: Arc<Policy>,
    limit: usize,
    sse: bool,
    buffer: BytesMut,
    overflow: bool,
}

impl ListFilter {
    /// A filter when the request is a `tools/list` call; `None` otherwise.
    pub fn for_request(gk: &Gatekeeper, admitted: &Admitted) -> Option<Self> {
        let Some(Request::Single(call)) = &admitted.request else {
            return None;
        };
        (call.method == "tools/list").then(|| ListFilter {
            identity: admitted.identity.clone(),
            id: call.id.clone().unwrap_or(Value::Null),
            policy: gk.policy.load_full(),
            limit: gk.settings.max_list_response_bytes,
            sse: false,
            buffer: BytesMut::new(),
            overflow: false,
        })
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
            return self.failure("tools/list response exceeds the gatekeeper's buffer limit");
        }
        let filtered = if self.sse {
            self.filter_sse(whole)
        } else {
            self.filter_json(whole).map(|v| v.to_string().into_bytes())
        };
        filtered.unwrap_or_else(|| self.failure("tools/list response could not be read"))
    }

    fn filter_json(&self, bytes: &[u8]) -> Option<Value> {
        let mut message: Value = serde_json::from_slice(bytes).ok()?;
        if let Some(tools) = message.pointer_mut("/result/tools") {
            let tools = tools.as_array_mut()?;
            tools.retain(|tool| {
                tool.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| self.policy.tool_visible(&self.identity, name))
            });
        }
        Some(message)
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
