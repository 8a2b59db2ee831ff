//! Writing the audit trail: records go off the request path through a bounded queue to one
//! writer thread, which seals them into the hash chain, writes and flushes in batches, and
//! reopens the file when it is rotated away so no line is lost or doubled.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use crate::audit::{chain, AuditOutput, AuditRecord, Chain, OnFailure};

/// The request side of the trail: a bounded queue to the writer thread.
pub struct AuditSink {
    tx: SyncSender<AuditRecord>,
    queued: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
    capacity: usize,
    on_failure: OnFailure,
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
        })
    }

    pub fn on_failure(&self) -> OnFailure {
        self.on_failure
    }

    /// Whether a new request can count on its record being written.
    pub fn accepting(&self) -> bool {
        !self.failing.load(Ordering::Relaxed) && self.queued.load(Ordering::Relaxed) < self.capacity
    }

    /// Queues a record. In `reject` mode a full queue is waited on briefly — asynchronously:
    /// the request was already served and its record must not be lost, but a Pingora worker
    /// must never block on it (new requests are refused while the sink is not `accepting`).
    /// In `drop` mode a full queue drops the record at once.
    ///
    /// `served`: the request reached the upstream. A refusal's record is not waited for: nothing
    /// was served, and its client must not be held (it counts as dropped when the queue is full).
    pub async fn submit(&self, record: AuditRecord, served: bool) -> Result<(), Dropped> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        let mut record = record;
        // Counted before it is sent: the writer may take it (and count it off) at once.
        self.queued.fetch_add(1, Ordering::Relaxed);
        let mut pause = Duration::from_millis(1);
        loop {
            match self.tx.try_send(record) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(_)) => {
                    self.queued.fetch_sub(1, Ordering::Relaxed);
                    return Err(Dropped::Closed);
                }
                Err(TrySendError::Full(r)) => {
                    if self.on_failure == OnFailure::Drop
                        || !served
                        || tokio::time::Instant::now() > deadline
                    {
                        self.queued.fetch_sub(1, Ordering::Relaxed);
                        return Err(Dropped::Full);
                    }
                    record = r;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
            }
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
