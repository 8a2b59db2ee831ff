//! One response path. Whatever the upstream answers — a JSON body, an SSE stream, a list, an
//! error, a notification or a server→client request — goes through the one `Rewrite` the shell
//! builds per request: lists filtered, payloads redacted, or both, with one event splitter,
//! one capped buffer and one fail-closed answer. Pure: the shell hands it header values and
//! body chunks and applies the `HeadChange` it returns.

pub mod headers;
mod list;
mod observe;
pub mod sse;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::{json, Value};

pub use list::{ListFilter, ListKind};
pub use observe::{Observed, Watch};

use crate::jsonrpc::codes;
use crate::redact::tree::Node;
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
    /// Note what the server's messages create (`Observed`: requests to the client, tasks),
    /// even when nothing is rewritten: the client's answers and task calls are admitted only
    /// for those.
    pub observe: bool,
    /// What else to note of the answers (the tools' headers, the server's revisions).
    pub watch: Watch,
    /// The answer may carry a result shaped per caller (a list, a resource): even unredacted,
    /// it is rewritten so its `cacheScope` says `"private"`.
    pub private_cache: bool,
    /// A JSON answer that passes unrewritten is still read once it is whole (it may create a
    /// task or list tools); SSE answers are always read event by event.
    pub read_passed_body: bool,
}

impl Plan {
    /// A rewrite when there is something to do; `None` means the answer passes as it came.
    pub fn into_rewrite(self) -> Option<Rewrite> {
        (self.rewrites() || self.observe).then(|| Rewrite::new(self))
    }

    fn rewrites(&self) -> bool {
        self.list.is_some() || self.redactor.is_some() || self.private_cache
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
    /// The body is rewritten in one piece, sent at its end (not event by event): nothing of it
    /// is worth sending early.
    pub whole: bool,
}

enum Mode {
    /// Buffer the whole body, then rewrite it as one JSON message or batch.
    Whole(Vec<u8>),
    Sse(Splitter),
    /// Nothing more may pass: emit the error once, then drop the rest.
    Cut(Option<Vec<u8>>),
    /// Passed as it comes, byte for byte; a copy is read for what the server creates (until it
    /// outgrows the cap).
    Pass(Observer),
}

/// How a passed-through answer is read.
enum Observer {
    None,
    Events(Splitter),
    Body(Vec<u8>),
}

/// A response being rewritten.
pub struct Rewrite {
    plan: Plan,
    mode: Mode,
    sse: bool,
    /// Redactions made so far, by entity (for the audit line and metrics).
    pub counts: Counts,
    /// What the server's messages created so far; the shell takes it (`take_observed`).
    observed: Observed,
}

impl Rewrite {
    pub fn new(plan: Plan) -> Self {
        Rewrite {
            plan,
            mode: Mode::Whole(Vec::new()),
            sse: false,
            counts: Counts::new(),
            observed: Observed::default(),
        }
    }

    /// Whether the caller's role is redacted (the shell then keeps only the response headers
    /// the protocol needs: any other could carry what the body may not).
    pub fn redacts(&self) -> bool {
        self.plan.redactor.is_some()
    }

    /// The caller's redactor, when its role is redacted.
    pub fn redactor(&self) -> Option<&Redactor> {
        self.plan.redactor.as_deref()
    }

    /// Whether the body passes untouched and unread (nothing to rewrite, nothing to observe):
    /// the shell then leaves the chunks alone.
    pub fn passes_through(&self) -> bool {
        matches!(self.mode, Mode::Pass(Observer::None))
    }

    /// Whether the body passes byte for byte (only read, for what the server creates): the
    /// shell then hands chunks to `observe` and sends them on as they are, without a copy.
    pub fn only_observes(&self) -> bool {
        matches!(self.mode, Mode::Pass(_))
    }

    /// Reads a chunk of a body that passes unchanged.
    pub fn observe(&mut self, chunk: &[u8], end_of_stream: bool) {
        if let Mode::Pass(observer) = &mut self.mode {
            let (cap, watch) = (self.plan.cap, self.plan.watch);
            Self::read_passed(
                observer,
                &mut self.observed,
                chunk,
                end_of_stream,
                cap,
                watch,
            );
        }
    }

    fn read_passed(
        observer: &mut Observer,
        observed: &mut Observed,
        chunk: &[u8],
        end_of_stream: bool,
        cap: usize,
        watch: Watch,
    ) {
        match observer {
            Observer::None => {}
            Observer::Events(splitter) => {
                splitter.push(chunk);
                while let Some(event) = splitter.next_event() {
                    if let Some(data) = std::str::from_utf8(event)
                        .ok()
                        .and_then(|t| Event::parse(t).data)
                    {
                        observed.note(data.as_bytes(), watch);
                    }
                }
                if splitter.held() > cap {
                    *observer = Observer::None;
                }
            }
            Observer::Body(copy) if copy.len() + chunk.len() > cap => *observer = Observer::None,
            Observer::Body(copy) => {
                copy.extend_from_slice(chunk);
                if end_of_stream {
                    observed.note(copy, watch);
                    *observer = Observer::None;
                }
            }
        }
    }

    /// What the server's messages created since the last call.
    pub fn take_observed(&mut self) -> Observed {
        std::mem::take(&mut self.observed)
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
            self.mode = Mode::Pass(match (encoded, self.sse) {
                (true, _) => Observer::None,
                (false, true) => Observer::Events(Splitter::new()),
                (false, false) if self.plan.read_passed_body => Observer::Body(Vec::new()),
                (false, false) => Observer::None,
            });
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
                whole: true,
            };
        }
        // A redacted role gets the media type alone: a parameter is the upstream's text.
        let redacts = self.redacts();
        if self.sse {
            self.mode = Mode::Sse(Splitter::new());
            return HeadChange {
                content_type: redacts.then_some("text/event-stream"),
                body_changes: true,
                ..HeadChange::default()
            };
        }
        let labelled_json =
            matches!(types.as_slice(), [one] if one.starts_with("application/json"));
        HeadChange {
            content_type: (redacts || !labelled_json).then_some("application/json"),
            body_changes: true,
            whole: true,
            ..HeadChange::default()
        }
    }

    /// Takes a chunk of the body; returns what may be sent on now.
    pub fn push(&mut self, chunk: &[u8], end_of_stream: bool) -> Vec<u8> {
        if self.only_observes() {
            self.observe(chunk, end_of_stream);
            return chunk.to_vec();
        }
        let cap = self.plan.cap;
        match &mut self.mode {
            Mode::Pass(_) => chunk.to_vec(),
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
                self.observed.note(&whole, self.plan.watch);
                self.body(&whole).unwrap_or_else(|why| self.cut(why))
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
                self.observed.note(data.as_bytes(), self.plan.watch);
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

    /// A whole JSON body: one message or batch — or, from a server that writes them so,
    /// several messages one after another (newline-delimited), each rewritten on its own and
    /// sent on in the same framing.
    fn body(&mut self, bytes: &[u8]) -> Result<Vec<u8>, &'static str> {
        // One message is the rule: the body is split (a second parse) only when it is not one.
        let why = match self.message(bytes) {
            Ok(out) => return Ok(out),
            Err(why) => why,
        };
        let parts = split_messages(bytes);
        if parts.len() < 2 {
            return Err(why);
        }
        let mut out = Vec::with_capacity(bytes.len());
        for part in parts {
            if !out.is_empty() {
                out.push(b'\n');
            }
            out.extend(self.message(part)?);
        }
        Ok(out)
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
        let out = match &self.plan.redactor {
            None => bytes.to_vec(),
            Some(redactor) => {
                let (out, counts) = redactor
                    .redact_answer(bytes, &self.plan.asked)
                    .map_err(|_| "the upstream's response could not be read as JSON")?;
                merge_counts(&mut self.counts, counts);
                out
            }
        };
        Ok(private_scope(out))
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

/// A result the gatekeeper shaped for this caller (filtered, redacted, or read for a role that
/// could be shown another) is theirs alone: `cacheScope: "public"` would let a shared cache
/// hand it to another authorization context (MCP 2026-07-28 §Caching), so it becomes
/// `"private"`. Parsed only when the member appears.
fn private_scope(message: Vec<u8>) -> Vec<u8> {
    // Built once: a finder costs more to build than the search of a typical answer.
    static MEMBER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"cacheScope\""));
    if MEMBER.find(&message).is_none() {
        return message;
    }
    let Ok(mut root) = Node::parse(&message) else {
        return message;
    };
    let mut mark = |m: &mut Node| {
        if let Some(scope) = m.get_mut("result").and_then(|r| r.get_mut("cacheScope")) {
            *scope = Node::string("private".into());
        }
    };
    match &mut root {
        Node::Array(messages) => messages.iter_mut().for_each(&mut mark),
        one => mark(one),
    }
    root.to_json()
}

/// The JSON values a body holds one after another; one part when it holds a single value or
/// is not JSON at all (the caller then fails closed on it as a whole).
fn split_messages(bytes: &[u8]) -> Vec<&[u8]> {
    let mut values =
        serde_json::Deserializer::from_slice(bytes).into_iter::<serde::de::IgnoredAny>();
    let mut parts = Vec::new();
    let mut start = 0;
    while let Some(next) = values.next() {
        if next.is_err() {
            return vec![bytes];
        }
        let end = values.byte_offset();
        parts.push(&bytes[start..end]);
        start = end;
    }
    if parts.is_empty() {
        return vec![bytes];
    }
    parts
}
