//! The process log: tracing (and Pingora's `log` records) to stderr through a writer thread,
//! so a Pingora worker never blocks on a stderr nobody reads (a stalled pipe, a wedged log
//! collector). Lines that find the buffer full are dropped and counted, never waited for.

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};

/// Lines held for the writer thread before new ones are dropped: a burst of per-request
/// warnings fits, a log that stopped draining costs at most this much memory.
const BUFFERED_LINES: usize = 16 * 1024;

static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// Installs the subscriber. Keep the guard for the life of the process: dropping it flushes
/// what is still buffered.
pub fn init() -> Option<WorkerGuard> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Pingora's debug and trace logs carry request and response bodies, unredacted: whatever
    // RUST_LOG asks, its crates log at info at most.
    let filter = ["pingora_core=info", "pingora_proxy=info", "pingora=info"]
        .into_iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, |f, d| f.add_directive(d));
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFERED_LINES)
        .lossy(true)
        .thread_name("gatekeeper-log")
        .finish(std::io::stderr());
    let _ = DROPPED.set(writer.error_counter());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer)
        .try_init()
        .ok()
        .map(|()| guard)
}

/// Log lines dropped because stderr did not keep up (0 before `init`).
pub fn dropped_lines() -> u64 {
    DROPPED
        .get()
        .map_or(0, |counter| counter.dropped_lines() as u64)
}
