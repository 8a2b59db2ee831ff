//! One response path. Whatever the upstream answers — a JSON body, an SSE stream, a list, an
//! error, a notification or a server→client request — goes through the one `Rewrite` the shell
//! builds per request: lists filtered, payloads redacted, or both, with one event splitter,
//! one capped buffer and one fail-closed answer. Pure: the shell hands it header values and
//! body chunks and applies the `HeadChange` it returns.

mod list;
pub mod sse;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::{json, Value};

pub use list::{ListFilter, ListKind};

use crate::jsonrpc::codes;
use crate::redact::{merge_counts, Asked, Counts, Redactor};
use sse::{Event, Splitter};

/// What a response must go through for one request.
pub struct Plan {
    pub list: Option<ListFilter>,
    pub redactor: Option<Arc<Redactor>>,
    /// What the request asked: each answer is redacted by the method it answers.
    pub asked: Asked,
    /// The id a fail-closed error answers (the request's own, else `null`).
    pub id: Value,
    /// The most a body, or one SSE event, may hold while it is read.
    pub cap: usize,
    /// Note the requests the server sends the client (`Rewrite::server_requests`), even when
    /// nothing is rewritten: the client's answers are admitted only for those.
    pub observe: bool,
}

impl Plan {
    /// A rewrite when there is something to do; `None` means the answer passes as it came.
    pub fn into_rewrite(self) -> Option<Rewrite> {
        (self.list.is_some() || self.redactor.is_some() || self.observe).then(|| Rewrite::new(self))
    }

    fn rewrites(&self) -> bool {
        self.list.is_some() || self.redactor.is_some()
    }
}

/// The response head, as the shell read it.
#[derive(Debug, Default)]
pub struct Head<'a> {
    pub content_types: Vec<&'a str>,
    pub content_encodings: Vec<&'a str>,
}

/// What the shell must change in the response head.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HeadChange {
    /// The answer became the gatekeeper's own error: this status.
    pub status: Option<u16>,
    /// Replace `Content-Type` (one header) with this.
    pub content_type: Option<&'static str>,
    /// Remove `Content-Encoding`.
    pub drop_encoding: bool,
    /// The body is rewritten: `Content-Length` goes (the shell streams it chunked).
    pub body_changes: bool,
}

enum Mode {
    /// Buffer the whole body, then rewrite it as one JSON message or batch.
    Whole(Vec<u8>),
    Sse(Splitter),
    /// Nothing more may pass: emit the error once, then drop the rest.
    Cut(Option<Vec<u8>>),
    /// Passed as it comes, byte for byte; a copy of an SSE stream is read for the requests the
    /// server sends (until an event outgrows the cap).
    Pass(Option<Splitter>),
}

/// A response being rewritten.
pub struct Rewrite {
    plan: Plan,
    mode: Mode,
    sse: bool,
    /// Redactions made so far, by entity (for the audit line and metrics).
    pub counts: Counts,
    /// Ids (as JSON text) of the requests the server sent the client so far; the shell takes
    /// them (`take_server_requests`).
    server_requests: Vec<String>,
}

impl Rewrite {
    pub fn new(plan: Plan) -> Self {
        Rewrite {
            plan,
            mode: Mode::Whole(Vec::new()),
            sse: false,
            counts: Counts::new(),
            server_requests: Vec::new(),
        }
    }

    /// Whether the caller's role is redacted (the shell then keeps only the response headers
    /// the protocol needs: any other could carry what the body may not).
    pub fn redacts(&self) -> bool {
        self.plan.redactor.is_some()
    }

    /// Whether the body passes untouched and unread (nothing to rewrite, nothing to observe):
    /// the shell then leaves the chunks alone.
    pub fn passes_through(&self) -> bool {
        matches!(self.mode, Mode::Pass(None))
    }

    /// The requests the server has sent the client since the last call.
    pub fn take_server_requests(&mut self) -> Vec<String> {
        std::mem::take(&mut self.server_requests)
    }

    /// Chooses how the body is read from the head. A compressed answer the gatekeeper did not
    /// ask for is refused (502) rather than forwarded unread; an SSE stream is rewritten event
    /// by event; anything else is read as JSON whatever it is labelled (a hostile upstream
    /// must not dodge the rules with `text/plain`), and the answer is labelled JSON.
    pub fn start(&mut self, head: &Head) -> HeadChange {
        let lower = |v: &&str| v.trim().to_ascii_lowercase();
        let encodings: Vec<String> = head.content_encodings.iter().map(lower).collect();
        let encoded = encodings.iter().any(|e| !e.is_empty() && e != "identity");
        let types: Vec<String> = head.content_types.iter().map(lower).collect();
        self.sse = matches!(types.as_slice(), [one] if one.starts_with("text/event-stream"));
        if !self.plan.rewrites() {
            self.mode = Mode::Pass((self.sse && !encoded).then(Splitter::new));
            return HeadChange::default();
        }
        if encoded {
            let why = "the upstream compressed its response; the gatekeeper does not forward what it cannot read";
            self.mode = Mode::Cut(Some(self.error(why)));
            return HeadChange {
                status: Some(502),
                content_type: Some("application/json"),
                drop_encoding: true,
                body_changes: true,
            };
        }
        if self.sse {
            self.mode = Mode::Sse(Splitter::new());
            return HeadChange {
                body_changes: true,
                ..HeadChange::default()
            };
        }
        let labelled_json =
            matches!(types.as_slice(), [one] if one.starts_with("application/json"));
        HeadChange {
            content_type: (!labelled_json).then_some("application/json"),
            body_changes: true,
            ..HeadChange::default()
        }
    }

    /// Takes a chunk of the body; returns what may be sent on now.
    pub fn push(&mut self, chunk: &[u8], end_of_stream: bool) -> Vec<u8> {
        let cap = self.plan.cap;
        match &mut self.mode {
            Mode::Pass(observer) => {
                if let Some(splitter) = observer {
                    splitter.push(chunk);
                    let mut found = Vec::new();
                    while let Some(event) = splitter.next_event() {
                        found.extend(
                            std::str::from_utf8(event)
                                .ok()
                                .and_then(|t| Event::parse(t).data),
                        );
                    }
                    if splitter.held() > cap {
                        *observer = None;
                    }
                    for data in found {
                        self.note_server_requests(&data);
                    }
                }
                chunk.to_vec()
            }
            Mode::Cut(error) => error.take().unwrap_or_default(),
            Mode::Whole(buffer) if buffer.len() + chunk.len() > cap => {
                self.cut("response exceeds the gatekeeper's buffer limit")
            }
            Mode::Whole(buffer) => {
                buffer.extend_from_slice(chunk);
                if !end_of_stream {
                    return Vec::new();
                }
                let whole = std::mem::take(buffer);
                if whole.is_empty() {
                    return whole;
                }
                self.message(&whole).unwrap_or_else(|why| self.cut(why))
            }
            Mode::Sse(_) => self.push_events(chunk, end_of_stream),
        }
    }

    fn push_events(&mut self, chunk: &[u8], end_of_stream: bool) -> Vec<u8> {
        let Mode::Sse(splitter) = &mut self.mode else {
            return Vec::new();
        };
        splitter.push(chunk);
        let mut events = Vec::new();
        while let Some(event) = splitter.next_event() {
            events.push(event.to_vec());
        }
        if splitter.held() > self.plan.cap {
            return self.cut("an SSE event exceeds the gatekeeper's buffer limit");
        }
        if end_of_stream {
            events.extend(splitter.rest());
        }
        let mut out = Vec::new();
        for event in events {
            match self.event(&event) {
                Ok(bytes) => out.extend(bytes),
                Err(why) => {
                    out.extend(self.cut(why));
                    break;
                }
            }
        }
        out
    }

    /// One event rewritten: its data is a message like any other; `id`/`event`/`retry` get
    /// the detectors when the role is redacted, and comments lose their text (keep-alive only).
    fn event(&mut self, raw: &[u8]) -> Result<Vec<u8>, &'static str> {
        let text = std::str::from_utf8(raw).map_err(|_| "an SSE event is not UTF-8")?;
        let event = Event::parse(text);
        let mut out = String::new();
        for _ in 0..event.comments {
            out.push_str(":\n");
        }
        for (name, value) in &event.fields {
            let value = match &self.plan.redactor {
                Some(r) => {
                    let (clean, counts) = r.redact_text(value);
                    merge_counts(&mut self.counts, counts);
                    clean
                }
                None => value.to_string(),
            };
            out.push_str(&format!("{name}: {value}\n"));
        }
        match event.data.as_deref() {
            // A priming or keep-alive event (SEP-1699): no message to read.
            Some(data) if data.trim().is_empty() => out.push_str("data:\n"),
            Some(data) => {
                self.note_server_requests(data);
                let message = self.message(data.as_bytes())?;
                let message = String::from_utf8(message).map_err(|_| "not UTF-8")?;
                for line in message.split('\n') {
                    out.push_str("data: ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
            None => {}
        }
        if out.is_empty() {
            return Ok(Vec::new());
        }
        out.push('\n');
        Ok(out.into_bytes())
    }

    /// Notes the requests in one message or batch the server sends (a method and an id).
    fn note_server_requests(&mut self, data: &str) {
        if !data.contains("\"method\"") {
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(data) else {
            return;
        };
        let messages = match &value {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for m in messages {
            let id = m
                .get("id")
                .filter(|i| i.is_string() || i.is_i64() || i.is_u64());
            if let (Some(id), Some(_)) = (id, m.get("method").and_then(Value::as_str)) {
                self.server_requests.push(id.to_string());
            }
        }
    }

    /// One JSON message or batch, filtered then redacted. What cannot be read as JSON is an
    /// error: the caller fails closed.
    fn message(&mut self, bytes: &[u8]) -> Result<Vec<u8>, &'static str> {
        let filtered;
        let bytes = match &self.plan.list {
            Some(list) => {
                filtered = list.apply(bytes).ok_or("list response could not be read")?;
                filtered.as_slice()
            }
            None => bytes,
        };
        let Some(redactor) = &self.plan.redactor else {
            return Ok(bytes.to_vec());
        };
        let (out, counts) = redactor
            .redact_answer(bytes, &self.plan.asked)
            .map_err(|_| "the upstream's response could not be read as JSON")?;
        merge_counts(&mut self.counts, counts);
        Ok(out)
    }

    /// Ends the response here: one error, then nothing.
    fn cut(&mut self, why: &'static str) -> Vec<u8> {
        tracing::warn!(
            reason = why,
            "response cut: the gatekeeper does not forward what it cannot rewrite"
        );
        let error = self.error(why);
        self.mode = Mode::Cut(None);
        error
    }

    /// The fail-closed answer, framed as the response is (an SSE event or a JSON body).
    fn error(&self, message: &str) -> Vec<u8> {
        let error = json!({"jsonrpc":"2.0","id":self.plan.id,"error":{"code":codes::UPSTREAM_UNAVAILABLE,"message":message}});
        if self.sse {
            format!("event: message\ndata: {error}\n\n").into_bytes()
        } else {
            error.to_string().into_bytes()
        }
    }
}
