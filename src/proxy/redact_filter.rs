//! Responses rewritten for the caller's role (see `redact`): JSON bodies whole, SSE streams
//! event by event. A compressed answer the gatekeeper did not ask for is refused (502) rather
//! than forwarded unread; a body or event past the buffer limit ends the response instead of
//! passing through unredacted.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use pingora::http::ResponseHeader;
use pingora::Result;
use serde_json::{json, Value};

use super::admit::Admitted;
use crate::config::Settings;
use crate::jsonrpc::codes;
use crate::redact::sse::SseRedactor;
use crate::redact::{Counts, Redactor};

enum Mode {
    /// Buffer the whole body, then redact it as JSON (or as text when it is not JSON).
    Whole {
        json: bool,
    },
    Sse(SseRedactor),
    /// Nothing more may pass: emit `error` once, then drop the rest.
    Cut {
        error: Option<Vec<u8>>,
    },
}

pub struct ResponseRedaction {
    redactor: Arc<Redactor>,
    id: Value,
    cap: usize,
    mode: Mode,
    buffer: BytesMut,
    pub counts: Counts,
}

impl ResponseRedaction {
    /// A redaction when the caller's role does not see responses unchanged.
    pub fn for_request(settings: &Settings, admitted: &Admitted) -> Option<Self> {
        let redactor = admitted.policy.redactor_for(&admitted.identity)?;
        let id = admitted
            .request
            .as_ref()
            .and_then(|r| r.error_id().cloned())
            .unwrap_or(Value::Null);
        Some(ResponseRedaction {
            redactor,
            id,
            cap: settings.max_list_response_bytes,
            mode: Mode::Whole { json: true },
            buffer: BytesMut::new(),
            counts: Counts::new(),
        })
    }

    pub fn on_header(&mut self, response: &mut ResponseHeader) -> Result<()> {
        let header = |name: http::HeaderName| {
            response
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_ascii_lowercase())
        };
        let encoded = header(http::header::CONTENT_ENCODING).is_some_and(|e| e != "identity");
        let media = header(http::header::CONTENT_TYPE).unwrap_or_default();
        self.mode = if encoded {
            response.set_status(502)?;
            response.remove_header(&http::header::CONTENT_ENCODING);
            response.insert_header(http::header::CONTENT_TYPE, "application/json")?;
            Mode::Cut {
                error: Some(self.error_body(false, "the upstream compressed its response; the gatekeeper does not forward what it cannot read")),
            }
        } else if media.starts_with("text/event-stream") {
            Mode::Sse(SseRedactor::new(Arc::clone(&self.redactor), self.cap))
        } else {
            Mode::Whole {
                json: media.starts_with("application/json") || media.contains("+json"),
            }
        };
        response.remove_header(&http::header::CONTENT_LENGTH);
        if response.version != http::Version::HTTP_10 {
            response.insert_header(http::header::TRANSFER_ENCODING, "chunked")?;
        }
        Ok(())
    }

    pub fn on_body(&mut self, body: &mut Option<Bytes>, end_of_stream: bool) {
        let chunk = body.take().unwrap_or_default();
        let out = match &mut self.mode {
            Mode::Cut { error } => error.take().unwrap_or_default(),
            Mode::Sse(stream) => {
                let mut out = stream.push(&chunk);
                if end_of_stream {
                    out = out.and_then(|mut o| {
                        stream.finish().map(|rest| {
                            o.extend(rest);
                            o
                        })
                    });
                }
                match out {
                    Ok(bytes) => bytes,
                    Err(cut) => self.cut(true, cut.0),
                }
            }
            Mode::Whole { json } => {
                let json = *json;
                if self.buffer.len() + chunk.len() > self.cap {
                    self.buffer.clear();
                    self.cut(false, "response exceeds the redaction buffer limit")
                } else {
                    self.buffer.extend_from_slice(&chunk);
                    if end_of_stream {
                        self.redact_whole(json)
                    } else {
                        Vec::new()
                    }
                }
            }
        };
        if let Mode::Sse(stream) = &mut self.mode {
            crate::redact::merge_counts(&mut self.counts, std::mem::take(&mut stream.counts));
        }
        if !out.is_empty() || end_of_stream {
            *body = Some(Bytes::from(out));
        }
    }

    fn redact_whole(&mut self, json: bool) -> Vec<u8> {
        let whole = std::mem::take(&mut self.buffer);
        if whole.is_empty() {
            return Vec::new();
        }
        if json {
            return match self.redactor.redact_json(&whole) {
                Ok((bytes, counts)) => {
                    crate::redact::merge_counts(&mut self.counts, counts);
                    bytes
                }
                Err(_) => self.error_body(false, "the upstream's JSON response could not be read"),
            };
        }
        match std::str::from_utf8(&whole) {
            Ok(text) => {
                let (clean, counts) = self.redactor.redact_text(text);
                crate::redact::merge_counts(&mut self.counts, counts);
                clean.into_bytes()
            }
            Err(_) => self.error_body(
                false,
                "the upstream's response is not text the gatekeeper can read",
            ),
        }
    }

    /// Ends the response here: one error, then nothing.
    fn cut(&mut self, sse: bool, why: &str) -> Vec<u8> {
        tracing::warn!(reason = why, "response cut to keep unredacted data in");
        let error = self.error_body(sse, why);
        self.mode = Mode::Cut { error: None };
        error
    }

    fn error_body(&self, sse: bool, message: &str) -> Vec<u8> {
        let error = json!({"jsonrpc":"2.0","id":self.id,"error":{"code":codes::UPSTREAM_UNAVAILABLE,"message":message}});
        if sse {
            format!("event: message\ndata: {error}\n\n").into_bytes()
        } else {
            error.to_string().into_bytes()
        }
    }
}
