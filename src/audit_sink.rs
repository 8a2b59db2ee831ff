//! Writing the audit trail: records go off the request path through a bounded queue to one
//! writer thread, which seals them into the hash chain, writes and flushes in batches, and
//! reopens the file when it is rotated away so no line is lost or doubled.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::audit::{chain, AuditOutput, AuditRecord, Chain, OnFailure};

/// The request side of the trail: a bounded queue to the writer thread.
pub struct AuditSink {
    tx: SyncSender<AuditRecord>,
    queued: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
    capacity: usize,
    on_failure: OnFailure,
    drops: DropLog,
}

/// Drops are logged at most once a second, with how many since: a stalled trail refuses every
/// request, and a line per refusal would flood the log — and block the Pingora worker that
/// writes it to a slow stderr (a 10 s stall once held requests 270 ms at p99 this way).
struct DropLog {
    start: Instant,
    /// Milliseconds since `start` of the last line, `u64::MAX` before the first.
    last_ms: AtomicU64,
    unlogged: AtomicU64,
}

impl DropLog {
    const EVERY_MS: u64 = 1000;

    fn new() -> Self {
        DropLog {
            start: Instant::now(),
            last_ms: AtomicU64::new(u64::MAX),
            unlogged: AtomicU64::new(0),
        }
    }

    /// Counts a drop; `Some(n)`: log now, for the `n` drops since the last line.
    fn count(&self) -> Option<u64> {
        self.unlogged.fetch_add(1, Ordering::Relaxed);
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        let last = self.last_ms.load(Ordering::Relaxed);
        let due = last == u64::MAX || now >= last.saturating_add(Self::EVERY_MS);
        // One caller wins the line; the others' drops are in its count or the next one's.
        (due && self
            .last_ms
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok())
        .then(|| self.unlogged.swap(0, Ordering::Relaxed))
    }
}

/// Why a record could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Dropped {
    Full,
    Closed,
}

impl AuditSink {
    /// Opens the target (continuing its chain) and starts the writer thread.
    pub fn start(
        target: AuditOutput,
        capacity: usize,
        on_failure: OnFailure,
        key: Option<Vec<u8>>,
    ) -> std::io::Result<Self> {
        let chain = Chain::new(key);
        let out = Output::open(target)?;
        let prev = out.last_hash(&chain);
        let (tx, rx) = mpsc::sync_channel(capacity.max(1));
        let queued = Arc::new(AtomicUsize::new(0));
        let failing = Arc::new(AtomicBool::new(false));
        let writer = Writer {
            out,
            chain,
            prev,
            queued: Arc::clone(&queued),
            failing: Arc::clone(&failing),
        };
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer.run(rx))?;
        Ok(AuditSink {
            tx,
            queued,
            failing,
            capacity: capacity.max(1),
            on_failure,
            drops: DropLog::new(),
        })
    }

    pub fn on_failure(&self) -> OnFailure {
        self.on_failure
    }

    /// Waits until every queued record is written, while the writer makes progress: at most
    /// `within` in all, and no longer than `stalled` without a record written (a trail that
    /// takes nothing will not start again because we wait). Returns how many were not
    /// written. For shutdown: the process must not exit with served requests' records in
    /// memory while the trail can still take them.
    pub fn drain(&self, within: Duration, stalled: Duration) -> usize {
        let started = Instant::now();
        let (mut last, mut moved) = (usize::MAX, started);
        loop {
            let left = self.queued.load(Ordering::Relaxed);
            if left < last {
                (last, moved) = (left, Instant::now());
            }
            if left == 0 || started.elapsed() >= within || moved.elapsed() >= stalled {
                return left;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Counts a record that was dropped; `Some(n)` when the shell should log now, for the `n`
    /// drops since its last line (at most one line a second).
    pub fn dropped_to_log(&self) -> Option<u64> {
        self.drops.count()
    }

    /// A place in the queue for the record of a request about to be served (`reject` mode):
    /// `None` when the trail is failing or the queue is full, and the request must be refused.
    /// While a slot is held the queue always has room for its record, so a served request's
    /// record is neither waited for nor lost when the writer stalls.
    pub fn reserve(&self) -> Option<Slot> {
        if self.failing.load(Ordering::Relaxed) || !self.take_place() {
            return None;
        }
        Some(Slot {
            queued: Some(Arc::clone(&self.queued)),
        })
    }

    /// Counts one more record in the queue, unless that would pass its capacity.
    fn take_place(&self) -> bool {
        let mut now = self.queued.load(Ordering::Relaxed);
        while now < self.capacity {
            match self.queued.compare_exchange_weak(
                now,
                now + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(seen) => now = seen,
            }
        }
        false
    }

    /// Queues a record, never waiting: into its reserved `slot`, else into a free place. Every
    /// record counted in `queued` fits the channel (it holds `capacity`, and nothing is counted
    /// past that), so only a record that found no place is dropped.
    pub fn submit(&self, record: AuditRecord, slot: Option<Slot>) -> Result<(), Dropped> {
        let placed = match slot {
            Some(slot) => {
                slot.pass_to_record();
                true
            }
            None => self.take_place(),
        };
        if !placed {
            return Err(Dropped::Full);
        }
        match self.tx.try_send(record) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                Err(match e {
                    TrySendError::Full(_) => Dropped::Full,
                    TrySendError::Disconnected(_) => Dropped::Closed,
                })
            }
        }
    }
}

/// A reserved place in the audit queue (`AuditSink::reserve`); given back if never used.
pub struct Slot {
    queued: Option<Arc<AtomicUsize>>,
}

impl Slot {
    /// The slot's count becomes its record's (the writer counts it off once written).
    fn pass_to_record(mut self) {
        self.queued = None;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(queued) = &self.queued {
            queued.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

enum Output {
    Stdout(std::io::Stdout),
    File {
        path: PathBuf,
        file: BufWriter<File>,
        inode: u64,
    },
}

impl Output {
    fn open(target: AuditOutput) -> std::io::Result<Self> {
        match target {
            AuditOutput::Stdout => Ok(Output::Stdout(std::io::stdout())),
            AuditOutput::File(path) => {
                let (file, inode) = open_append(&path)?;
                Ok(Output::File {
                    path,
                    file: BufWriter::new(file),
                    inode,
                })
            }
        }
    }

    /// The hash the next line must point at: the last line of an existing file, else genesis.
    fn last_hash(&self, chain: &Chain) -> String {
        let Output::File { path, .. } = self else {
            return chain::GENESIS.to_string();
        };
        last_line(path)
            .and_then(|line| chain.open(&line).ok())
            .map_or_else(|| chain::GENESIS.to_string(), |(_, hash)| hash)
    }

    /// After logrotate moved the file away (or deleted it), continue in a new file at the path.
    fn follow_rotation(&mut self) -> std::io::Result<()> {
        let Output::File { path, file, inode } = self else {
            return Ok(());
        };
        let current = std::fs::metadata(&*path).map(|m| m.ino()).ok();
        if current != Some(*inode) {
            file.flush()?;
            let (new, new_inode) = open_append(path)?;
            *file = BufWriter::new(new);
            *inode = new_inode;
        }
        Ok(())
    }

    /// One whole line, newline included.
    fn write_bytes(&mut self, line: &[u8]) -> std::io::Result<()> {
        match self {
            Output::Stdout(out) => out.lock().write_all(line),
            Output::File { file, .. } => file.write_all(line),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(out) => out.flush(),
            Output::File { file, .. } => file.flush(),
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<(File, u64)> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let inode = file.metadata()?.ino();
    Ok((file, inode))
}

fn last_line(path: &Path) -> Option<String> {
    const TAIL: u64 = 64 * 1024;
    let mut file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None; // a device or a pipe: nothing to continue
    }
    file.seek(SeekFrom::Start(meta.len().saturating_sub(TAIL)))
        .ok()?;
    let mut tail = String::new();
    file.take(TAIL).read_to_string(&mut tail).ok()?;
    tail.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(String::from)
}

struct Writer {
    out: Output,
    chain: Chain,
    prev: String,
    queued: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
}

impl Writer {
    fn run(mut self, rx: Receiver<AuditRecord>) {
        const COALESCE: Duration = Duration::from_millis(2);
        while let Ok(first) = rx.recv() {
            // Let a burst gather: one wake-up, one write and one flush per batch instead of
            // per record (at load, waking this thread per record cost more than writing).
            std::thread::sleep(COALESCE);
            let mut batch = vec![first];
            batch.extend(rx.try_iter().take(1023));
            while let Err(e) = self.write_batch(&batch) {
                self.failing.store(true, Ordering::Relaxed);
                tracing::error!(error = %e, "audit trail write failed; retrying");
                std::thread::sleep(Duration::from_millis(250));
            }
            self.failing.store(false, Ordering::Relaxed);
            self.queued.fetch_sub(batch.len(), Ordering::Relaxed);
        }
        let _ = self.out.flush();
    }

    /// Writes and flushes a batch; on failure nothing of the chain advances, so a retry writes
    /// the same lines with the same hashes. One buffer serves every line of the batch.
    fn write_batch(&mut self, batch: &[AuditRecord]) -> std::io::Result<()> {
        self.out.follow_rotation()?;
        let mut prev = self.prev.clone();
        let mut line = Vec::with_capacity(1024);
        for record in batch {
            line.clear();
            serde_json::to_writer(&mut line, record).map_err(std::io::Error::other)?;
            if line.last() == Some(&b'}') {
                line.pop();
            }
            line.extend_from_slice(b",\"prev\":\"");
            line.extend_from_slice(prev.as_bytes());
            line.push(b'"');
            prev = self.chain.seal_into(&mut line);
            line.push(b'\n');
            self.out.write_bytes(&line)?;
        }
        self.out.flush()?;
        self.prev = prev;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> AuditRecord {
        AuditRecord {
            ts: "2026-12-01T00:00:00Z".into(),
            request_id: "r".into(),
            session_id: None,
            user_id: None,
            username: None,
            roles: Vec::new(),
            client_cert: None,
            method: "tools/call".into(),
            tool: None,
            calls: 1,
            decision: "allow",
            rule: String::new(),
            reason: None,
            policy_version: String::new(),
            status: 200,
            upstream_status: Some(200),
            redactions: Default::default(),
            latency_us: 1,
            args_hmac: None,
        }
    }

    #[test]
    fn a_reserved_place_is_kept_for_the_record_and_given_back_if_unused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let sink =
            AuditSink::start(AuditOutput::File(path.clone()), 2, OnFailure::Reject, None).unwrap();
        let (a, b) = (sink.reserve(), sink.reserve());
        assert!(a.is_some() && b.is_some());
        assert!(
            sink.reserve().is_none(),
            "the queue is full: the next request is refused"
        );
        assert_eq!(
            sink.submit(record(), None),
            Err(Dropped::Full),
            "a record without a place does not take a reserved one"
        );
        drop(b);
        assert!(sink.reserve().is_some(), "an unused place is given back");
        sink.submit(record(), a).unwrap();
        // The writer counts the record off once it is written.
        let deadline = Instant::now() + Duration::from_secs(5);
        while sink.queued.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(sink.queued.load(Ordering::Relaxed), 0);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }

    #[test]
    fn drain_waits_for_the_writer_and_gives_up_on_a_held_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let sink =
            AuditSink::start(AuditOutput::File(path.clone()), 8, OnFailure::Reject, None).unwrap();
        for _ in 0..5 {
            sink.submit(record(), None).unwrap();
        }
        let long = Duration::from_secs(5);
        assert_eq!(sink.drain(long, long), 0);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 5);
        // A place nothing will fill never drains: the wait ends when nothing moves.
        let _held = sink.reserve();
        let started = Instant::now();
        assert_eq!(sink.drain(long, Duration::from_millis(50)), 1);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn drops_are_logged_once_a_second_with_how_many_since() {
        let log = DropLog::new();
        assert_eq!(log.count(), Some(1), "the first drop is logged at once");
        for _ in 0..999 {
            assert_eq!(log.count(), None);
        }
        // A second later, the next drop's line carries every drop since the last line.
        log.last_ms.store(0, Ordering::Relaxed);
        let later = DropLog {
            start: log.start - Duration::from_millis(DropLog::EVERY_MS),
            ..log
        };
        assert_eq!(later.count(), Some(1000));
        assert_eq!(later.count(), None);
    }
}
