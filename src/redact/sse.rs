//! SSE streams redacted event by event (WHATWG HTML §9.2.6): `data:` lines are joined with
//! "\n", the message redacted, and the event re-emitted. Events may arrive split anywhere —
//! across TCP chunks, inside a UTF-8 character, between the CR and LF of a line end; CRLF, CR
//! and LF all end lines. An event larger than the cap ends the stream: unredacted bytes never
//! leave.

use std::sync::Arc;

use super::{merge, Counts, Redactor};

/// A stream being redacted.
pub struct SseRedactor {
    redactor: Arc<Redactor>,
    pending: Vec<u8>,
    cap: usize,
    pub counts: Counts,
}

/// The stream was cut: an event exceeded the cap or was not UTF-8.
#[derive(Debug, PartialEq, Eq)]
pub struct StreamCut(pub &'static str);

impl SseRedactor {
    pub fn new(redactor: Arc<Redactor>, cap: usize) -> Self {
        SseRedactor {
            redactor,
            pending: Vec::new(),
            cap,
            counts: Counts::new(),
        }
    }

    /// Takes a chunk; returns the redacted text of every event it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, StreamCut> {
        self.pending.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(end) = event_end(&self.pending, false) {
            let event: Vec<u8> = self.pending.drain(..end).collect();
            out.extend(self.redact_event(&event)?);
        }
        if self.pending.len() > self.cap {
            return Err(StreamCut("an SSE event exceeds the redaction buffer limit"));
        }
        Ok(out)
    }

    /// The end of the stream: a last event without its blank line still counts.
    pub fn finish(&mut self) -> Result<Vec<u8>, StreamCut> {
        let rest = std::mem::take(&mut self.pending);
        if rest.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            return Ok(Vec::new());
        }
        self.redact_event(&rest)
    }

    fn redact_event(&mut self, raw: &[u8]) -> Result<Vec<u8>, StreamCut> {
        let text = std::str::from_utf8(raw).map_err(|_| StreamCut("an SSE event is not UTF-8"))?;
        let mut fields = String::new();
        let mut data: Vec<&str> = Vec::new();
        for line in text.split("\r\n").flat_map(|l| l.split(['\r', '\n'])) {
            if line.is_empty() {
                continue;
            }
            if line.starts_with(':') {
                // Comments keep a connection alive; their text could carry anything.
                fields.push_str(":\n");
                continue;
            }
            let (name, value) = match line.split_once(':') {
                Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match name {
                "data" => data.push(value),
                "event" | "id" | "retry" => {
                    let (clean, counts) = self.redactor.redact_text(value);
                    merge(&mut self.counts, counts);
                    fields.push_str(&format!("{name}: {clean}\n"));
                }
                _ => {} // unknown fields are ignored by clients (§9.2.6); drop them
            }
        }
        let mut out = fields;
        if !data.is_empty() {
            out.push_str(&self.redact_data(&data.join("\n")));
        }
        if out.is_empty() {
            return Ok(Vec::new());
        }
        out.push('\n');
        Ok(out.into_bytes())
    }

    fn redact_data(&mut self, data: &str) -> String {
        let (redacted, counts) = match self.redactor.redact_json(data.as_bytes()) {
            // Written from `str`s and ASCII, so always UTF-8; were it not, the event would go
            // out with an empty `data:` line rather than anything unredacted.
            Ok((json, counts)) => (String::from_utf8(json).unwrap_or_default(), counts),
            Err(_) => self.redactor.redact_text(data),
        };
        merge(&mut self.counts, counts);
        redacted
            .split('\n')
            .map(|l| format!("data: {l}\n"))
            .collect()
    }
}

/// Where the first complete event in `buf` ends (just past its blank line). A CR at the very
/// end may be half of a CRLF, so it does not end a line until more data (or the end) arrives.
fn event_end(buf: &[u8], at_eof: bool) -> Option<usize> {
    let mut i = 0;
    let mut line_was_empty = true;
    while i < buf.len() {
        let (is_eol, len) = match buf[i] {
            b'\n' => (true, 1),
            b'\r' if i + 1 < buf.len() => (true, if buf[i + 1] == b'\n' { 2 } else { 1 }),
            b'\r' if at_eof => (true, 1),
            b'\r' => return None,
            _ => (false, 1),
        };
        if is_eol {
            if line_was_empty && i > 0 {
                return Some(i + len);
            }
            line_was_empty = true;
        } else {
            line_was_empty = false;
        }
        i += len;
    }
    None
}
