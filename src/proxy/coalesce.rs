//! One send for a rewritten answer. A rewritten body has no length when its head is written,
//! so Pingora sends that head at once, then the body, then the last chunk: three sends (and
//! three wake-ups of the client) where a passed answer takes one. A body rewritten whole is
//! only complete at its end anyway, so on HTTP/1.1 the connection holds its flushes from the
//! head until the last chunk (RFC 9112 §7.1: `0\r\n\r\n`) is written, and sends it all at once.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use pingora::http::ResponseHeader;
use pingora::proxy::Session;

use super::connections::GuardedStream;

/// The last chunk of a chunked body (RFC 9112 §7.1), which Pingora writes on its own; as the
/// five bytes packed into a number, the way `FlushHold` keeps the tail of what was written.
#[cfg(test)]
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";
const LAST_CHUNK_PACKED: u64 = u64::from_be_bytes([0, 0, 0, b'0', b'\r', b'\n', b'\r', b'\n']);
const FIVE_BYTES: u64 = 0xFF_FFFF_FFFF;

const OFF: u8 = 0;
/// Flushes are held: the head (and any body) waits in the connection's write buffer.
const HOLDING: u8 = 1;
/// The rewrite has emitted the whole body: the last chunk ends the hold.
const ENDING: u8 = 2;
/// The last chunk is written: the next flush sends everything.
const RELEASING: u8 = 3;

/// Where a connection is in holding one answer's flushes.
#[derive(Debug, Default)]
pub struct FlushHold {
    state: AtomicU8,
    /// The last five bytes written since the rewrite's end: a write may take the last chunk
    /// in pieces. (Data ending in `0\r\n` looks like it too; that only releases early.)
    tail: AtomicU64,
}

impl FlushHold {
    /// Whether a flush asked for now goes through (and the hold ends, if it was releasing).
    pub fn flush_passes(&self) -> bool {
        match self.state.load(Ordering::Relaxed) {
            HOLDING | ENDING => false,
            RELEASING => {
                self.state.store(OFF, Ordering::Relaxed);
                true
            }
            _ => true,
        }
    }

    /// Sees what is written: the last chunk after the rewrite's end releases the hold.
    pub fn written(&self, bytes: &[u8]) {
        if self.state.load(Ordering::Relaxed) != ENDING {
            return;
        }
        let mut tail = self.tail.load(Ordering::Relaxed);
        for &b in &bytes[bytes.len().saturating_sub(5)..] {
            tail = ((tail << 8) | u64::from(b)) & FIVE_BYTES;
        }
        self.tail.store(tail, Ordering::Relaxed);
        if tail == LAST_CHUNK_PACKED {
            self.state.store(RELEASING, Ordering::Relaxed);
        }
    }

    fn hold(&self) {
        self.state.store(HOLDING, Ordering::Relaxed);
    }

    fn end(&self) {
        self.tail.store(0, Ordering::Relaxed);
        let _ = self
            .state
            .compare_exchange(HOLDING, ENDING, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Ends any hold; `true` if one was still on (the answer did not end as written).
    fn clear(&self) -> bool {
        self.state.swap(OFF, Ordering::Relaxed) != OFF
    }
}

fn hold_of(session: &Session) -> Option<&FlushHold> {
    let stream = session.as_downstream().stream()?;
    let guarded = stream.as_any().downcast_ref::<GuardedStream>()?;
    Some(guarded.flush_hold())
}

/// Holds the connection's flushes for an answer rewritten whole, when it ends with a last
/// chunk: HTTP/1.1, chunked, a status and method that carry a body. HTTP/2 and subrequests
/// have no such connection and are left alone.
pub fn hold(session: &Session, response: &ResponseHeader) {
    let chunked = response
        .headers
        .get(http::header::TRANSFER_ENCODING)
        .is_some_and(|te| te.as_bytes().eq_ignore_ascii_case(b"chunked"));
    let has_body = !matches!(response.status.as_u16(), 100..=199 | 204 | 304)
        && session.req_header().method != http::Method::HEAD;
    if chunked && has_body && response.version == http::Version::HTTP_11 {
        if let Some(h) = hold_of(session) {
            h.hold();
        }
    }
}

/// The rewrite emitted its last piece: the last chunk Pingora writes next releases the hold.
pub fn end(session: &Session) {
    if let Some(h) = hold_of(session) {
        h.end();
    }
}

/// At the end of the request: a hold still on means the answer did not end with its last
/// chunk (an upstream failure mid-body). The connection is then not reused, so what it holds
/// is sent as it closes and can never precede the next answer.
pub fn finish(session: &mut Session) {
    if hold_of(session).is_some_and(FlushHold::clear) {
        tracing::debug!("a held answer did not end with its last chunk; closing the connection");
        session.set_keepalive(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flushes_pass_without_a_hold() {
        let h = FlushHold::default();
        assert!(h.flush_passes());
        h.written(LAST_CHUNK);
        assert!(h.flush_passes());
    }

    #[test]
    fn a_hold_keeps_flushes_until_the_last_chunk_after_the_end() {
        let h = FlushHold::default();
        h.hold();
        assert!(!h.flush_passes(), "the head waits");
        // A last chunk before the rewrite's end is not the end (it cannot be the body's own
        // bytes, but nothing is taken on trust).
        h.written(LAST_CHUNK);
        assert!(!h.flush_passes());
        h.end();
        h.written(b"7A\r\n");
        assert!(!h.flush_passes(), "the body waits for the last chunk");
        h.written(LAST_CHUNK);
        assert!(h.flush_passes(), "the last chunk's flush sends it all");
        assert!(h.flush_passes(), "and the hold is over");
        assert!(!h.clear());
    }

    #[test]
    fn a_last_chunk_written_in_pieces_still_ends_the_hold() {
        let h = FlushHold::default();
        h.hold();
        h.end();
        h.written(b"{\"a\":1}");
        h.written(b"\r\n0\r");
        assert!(!h.flush_passes());
        h.written(b"\n\r\n");
        assert!(h.flush_passes());
    }

    #[test]
    fn a_hold_left_on_is_reported() {
        let h = FlushHold::default();
        h.hold();
        assert!(h.clear());
        assert!(h.flush_passes());
    }
}
