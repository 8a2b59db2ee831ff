//! Server-Sent Events framing (WHATWG HTML §9.2.6): a stream cut into events wherever the
//! chunks fell — across TCP reads, inside a UTF-8 character, between the CR and LF of a line
//! end; CRLF, CR and LF all end lines. Each byte is scanned once, however the stream is split.

/// Splits a byte stream into whole events.
#[derive(Default)]
pub struct Splitter {
    pending: Vec<u8>,
    /// Where the event being read starts in `pending`.
    start: usize,
    /// How far `pending` has been scanned for the event's end.
    scanned: usize,
    /// Whether the line being scanned has had no byte yet.
    line_empty: bool,
}

impl Splitter {
    pub fn new() -> Self {
        Splitter {
            line_empty: true,
            ..Default::default()
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 {
            self.pending.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.pending.extend_from_slice(chunk);
    }

    /// Bytes held for an event not yet complete.
    pub fn held(&self) -> usize {
        self.pending.len() - self.start
    }

    /// The next complete event (with its blank line), if one has arrived.
    pub fn next_event(&mut self) -> Option<&[u8]> {
        let buf = &self.pending;
        let mut i = self.scanned;
        while i < buf.len() {
            let len = match buf[i] {
                b'\n' => 1,
                // A CR at the very end may be half of a CRLF: wait for the next byte.
                b'\r' if i + 1 == buf.len() => break,
                b'\r' if buf[i + 1] == b'\n' => 2,
                b'\r' => 1,
                _ => {
                    self.line_empty = false;
                    i += 1;
                    continue;
                }
            };
            if self.line_empty && i > self.start {
                let (from, to) = (self.start, i + len);
                self.start = to;
                self.scanned = to;
                return Some(&self.pending[from..to]);
            }
            self.line_empty = true;
            i += len;
        }
        self.scanned = i;
        None
    }

    /// What is left at the end of the stream: a last event without its blank line still
    /// counts; `None` when only line ends remain.
    pub fn rest(&mut self) -> Option<Vec<u8>> {
        let rest = self.pending.split_off(self.start);
        self.pending.clear();
        self.start = 0;
        self.scanned = 0;
        self.line_empty = true;
        (!rest.iter().all(|b| matches!(b, b'\r' | b'\n'))).then_some(rest)
    }
}

/// One event's fields, in the order they came.
pub struct Event<'a> {
    pub fields: Vec<(&'a str, &'a str)>,
    /// `data:` lines joined with "\n"; `None` when the event has none.
    pub data: Option<String>,
    /// How many comment lines it had (their text is never needed).
    pub comments: usize,
}

impl<'a> Event<'a> {
    /// Reads one event. Unknown field names are dropped (clients ignore them, §9.2.6).
    pub fn parse(text: &'a str) -> Self {
        let mut event = Event {
            fields: Vec::new(),
            data: None,
            comments: 0,
        };
        let mut data: Vec<&str> = Vec::new();
        for line in text.split("\r\n").flat_map(|l| l.split(['\r', '\n'])) {
            if line.is_empty() {
                continue;
            }
            if line.starts_with(':') {
                event.comments += 1;
                continue;
            }
            let (name, value) = match line.split_once(':') {
                Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match name {
                "data" => data.push(value),
                "event" | "id" | "retry" => event.fields.push((name, value)),
                _ => {}
            }
        }
        if !data.is_empty() {
            event.data = Some(data.join("\n"));
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<String> {
        let mut s = Splitter::new();
        let mut out = Vec::new();
        for chunk in chunks {
            s.push(chunk);
            while let Some(e) = s.next_event() {
                out.push(String::from_utf8_lossy(e).into_owned());
            }
        }
        out.extend(s.rest().map(|r| String::from_utf8_lossy(&r).into_owned()));
        out
    }

    #[test]
    fn events_end_at_blank_lines_of_any_ending_however_split() {
        let stream = b"data: a\r\n\r\nid: 2\rdata: b\r\rdata: c\n\ndata: tail";
        let whole = events(&[stream]);
        assert_eq!(
            whole,
            [
                "data: a\r\n\r\n",
                "id: 2\rdata: b\r\r",
                "data: c\n\n",
                "data: tail"
            ]
        );
        for step in 1..stream.len() {
            let pieces: Vec<&[u8]> = stream.chunks(step).collect();
            assert_eq!(events(&pieces), whole, "split every {step} bytes");
        }
    }

    #[test]
    fn fields_comments_and_multiline_data() {
        let e = Event::parse(
            "event: message\n: keep-alive\nid: 7\nretry: 5000\nfoo: x\ndata: {\"a\":\ndata: 1}\n\n",
        );
        assert_eq!(
            e.fields,
            [("event", "message"), ("id", "7"), ("retry", "5000")]
        );
        assert_eq!(e.data.as_deref(), Some("{\"a\":\n1}"));
        assert_eq!(e.comments, 1);
        let priming = Event::parse("id: 1\ndata:\n\n");
        assert_eq!(priming.data.as_deref(), Some(""));
    }
}
