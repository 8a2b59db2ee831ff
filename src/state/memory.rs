//! One replica's state: the session and task tables, and GCRA buckets, in this process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Kind;
use crate::mcp_session::Sessions;
use crate::policy::gcra;

pub struct Memory {
    sessions: Sessions,
    tasks: Sessions,
    /// Bucket key → theoretical arrival time, in µs since `epoch`.
    buckets: Mutex<HashMap<String, u64>>,
    epoch: Instant,
}

/// Buckets kept before the idle ones (their time passed) are dropped.
const MAX_BUCKETS: usize = 100_000;

impl Memory {
    pub fn new(session: (usize, Duration), task: Duration) -> Self {
        Memory {
            sessions: Sessions::new(session.0, session.1),
            tasks: Sessions::new(session.0, task),
            buckets: Mutex::default(),
            epoch: Instant::now(),
        }
    }

    pub fn table(&self, kind: Kind) -> &Sessions {
        match kind {
            Kind::Session => &self.sessions,
            Kind::Task => &self.tasks,
        }
    }

    pub fn spend(&self, key: &str, interval: u64, tolerance: u64) -> Result<(), Duration> {
        let now = self.epoch.elapsed().as_micros() as u64;
        let Ok(mut buckets) = self.buckets.lock() else {
            return Err(Duration::from_secs(1));
        };
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            buckets.retain(|_, tat| *tat > now);
        }
        match gcra(buckets.get(key).copied(), now, interval, tolerance) {
            Ok(tat) => {
                buckets.insert(key.to_string(), tat);
                Ok(())
            }
            Err(wait) => Err(Duration::from_micros(wait)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_faster_than_a_thousand_a_second_keep_their_pace() {
        let m = Memory::new((10, Duration::from_secs(60)), Duration::from_secs(60));
        // 100 000 calls a second, bursts of 3: one every 10 µs, three at once.
        let (interval, tolerance) = (10, 20);
        let allowed = (0..10)
            .filter(|_| m.spend("k", interval, tolerance).is_ok())
            .count();
        assert!((3..10).contains(&allowed), "{allowed}");
    }
}
