//! Shared state in Redis or Valkey, for replicas behind one load balancer. Bindings are
//! `gk:s:<id digest>` / `gk:t:<id digest>` → the owner's digest, with the idle time as their
//! TTL; a caller's tasks are also a set (`tasks/list`); buckets are `gk:rl:<key>` holding
//! GCRA's arrival time, spent by one Lua script on the server's clock (replicas' clocks never
//! disagree about a budget). The client runs on a runtime of its own, so its reconnecting
//! connection outlives any one Pingora worker; every call is bounded by `state.timeout_ms`.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};

use super::{Kind, Unavailable};
use crate::mcp_session::Ownership;

/// GCRA on the server's clock; KEYS[1] the bucket, ARGV interval and tolerance (µs).
/// Returns 0 when allowed, else the microseconds to wait.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if now < tat - tolerance then return math.max(1, tat - tolerance - now) end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new), 'PX', math.floor((new - now) / 1000) + 1000)
return 0
";

/// KEYS[1] the binding, ARGV[1] the caller, ARGV[2] the idle time (ms): 1 theirs (and
/// refreshed), 2 someone else's, 0 unknown.
const CHECK: &str = r"
local owner = redis.call('GET', KEYS[1])
if not owner then return 0 end
if owner ~= ARGV[1] then return 2 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
";

pub struct Redis {
    client: Option<redis::Client>,
    /// The connection, once made; remade by the manager when it drops.
    conn: Mutex<Option<ConnectionManager>>,
    last_attempt: Mutex<Option<Instant>>,
    runtime: Option<tokio::runtime::Runtime>,
    timeout: Duration,
    idle: (Duration, Duration),
    up: AtomicBool,
    gcra: redis::Script,
    check: redis::Script,
}

impl Redis {
    pub fn new(url: &str, timeout: Duration, session_idle: Duration, task_idle: Duration) -> Self {
        let client = redis::Client::open(url)
            .map_err(|e| tracing::error!(error = %e, "state.store: not a usable Redis URL"))
            .ok();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("state-store")
            .enable_all()
            .build()
            .map_err(|e| tracing::error!(error = %e, "cannot start the state store's runtime"))
            .ok();
        Redis {
            client,
            conn: Mutex::new(None),
            last_attempt: Mutex::new(None),
            runtime,
            timeout,
            idle: (session_idle, task_idle),
            up: AtomicBool::new(false),
            gcra: redis::Script::new(GCRA),
            check: redis::Script::new(CHECK),
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    pub async fn ping(&self) -> bool {
        self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .is_ok()
    }

    pub async fn bind(&self, kind: Kind, id: &str, owner: &str) -> Result<(), Unavailable> {
        let (key, owner, ttl) = (binding(kind, id), owner.to_string(), self.ttl(kind));
        let listed = (kind == Kind::Task).then(|| (format!("gk:tl:{owner}"), id.to_string()));
        self.run(move |mut c| async move {
            let mut pipe = redis::pipe();
            pipe.cmd("SET")
                .arg(&key)
                .arg(&owner)
                .arg("PX")
                .arg(ttl)
                .ignore();
            if let Some((set, id)) = &listed {
                pipe.cmd("SADD").arg(set).arg(id).ignore();
                pipe.cmd("PEXPIRE").arg(set).arg(ttl).ignore();
            }
            pipe.query_async::<()>(&mut c).await
        })
        .await
    }

    pub async fn check(&self, kind: Kind, id: &str, owner: &str) -> Result<Ownership, Unavailable> {
        let (key, owner, ttl) = (binding(kind, id), owner.to_string(), self.ttl(kind));
        let script = self.check.clone();
        let found: i64 = self
            .run(move |mut c| async move {
                script
                    .key(&key)
                    .arg(&owner)
                    .arg(ttl)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(match found {
            1 => Ownership::Owner,
            2 => Ownership::Foreign,
            _ => Ownership::Unknown,
        })
    }

    pub async fn end(&self, kind: Kind, id: &str) -> Result<(), Unavailable> {
        let key = binding(kind, id);
        self.run(
            move |mut c| async move { redis::cmd("DEL").arg(&key).query_async::<()>(&mut c).await },
        )
        .await
    }

    pub async fn owned(&self, kind: Kind, owner: &str) -> Result<Vec<String>, Unavailable> {
        if kind != Kind::Task {
            return Ok(Vec::new());
        }
        let set = format!("gk:tl:{owner}");
        self.run(
            move |mut c| async move { redis::cmd("SMEMBERS").arg(&set).query_async(&mut c).await },
        )
        .await
    }

    pub async fn spend(
        &self,
        key: &str,
        interval: u64,
        tolerance: u64,
    ) -> Result<Result<(), Duration>, Unavailable> {
        let (key, script) = (format!("gk:rl:{key}"), self.gcra.clone());
        let wait: u64 = self
            .run(move |mut c| async move {
                script
                    .key(&key)
                    .arg(interval.max(1))
                    .arg(tolerance)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(if wait == 0 {
            Ok(())
        } else {
            Err(Duration::from_micros(wait))
        })
    }

    fn ttl(&self, kind: Kind) -> u64 {
        let idle = match kind {
            Kind::Session => self.idle.0,
            Kind::Task => self.idle.1,
        };
        idle.as_millis().max(1) as u64
    }

    /// Runs `op` on the store's runtime with a connection, within the timeout; notes whether
    /// the store answered.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce(ConnectionManager) -> Fut + Send + 'static,
        Fut: Future<Output = redis::RedisResult<T>> + Send + 'static,
    {
        let result = self.attempt(op).await;
        let up = result.is_ok();
        if self.up.swap(up, Ordering::Relaxed) != up {
            if up {
                tracing::info!("the shared state store is reachable again");
            } else if let Err(e) = &result {
                tracing::error!(error = %e, "the shared state store is unavailable: sessions and tasks fail closed");
            }
        }
        result
    }

    async fn attempt<T, F, Fut>(&self, op: F) -> Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce(ConnectionManager) -> Fut + Send + 'static,
        Fut: Future<Output = redis::RedisResult<T>> + Send + 'static,
    {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| Unavailable("no runtime".into()))?;
        let conn = self.connection(runtime).await?;
        let task = runtime.spawn(op(conn));
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(Unavailable(e.to_string())),
            Ok(Err(e)) => Err(Unavailable(e.to_string())),
            Err(_) => Err(Unavailable("timed out".into())),
        }
    }

    /// The connection; made on first use, and retried at most once a second while down.
    async fn connection(
        &self,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<ConnectionManager, Unavailable> {
        if let Some(conn) = self.conn.lock().ok().and_then(|c| c.clone()) {
            return Ok(conn);
        }
        let client = self
            .client
            .clone()
            .ok_or_else(|| Unavailable("state.store is not a usable Redis URL".into()))?;
        {
            let Ok(mut last) = self.last_attempt.lock() else {
                return Err(Unavailable("poisoned".into()));
            };
            if last.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
                return Err(Unavailable("not connected".into()));
            }
            *last = Some(Instant::now());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let made = runtime.spawn(ConnectionManager::new_with_config(client, config));
        let conn = match tokio::time::timeout(self.timeout * 4, made).await {
            Ok(Ok(Ok(conn))) => conn,
            Ok(Ok(Err(e))) => return Err(Unavailable(e.to_string())),
            _ => return Err(Unavailable("could not connect in time".into())),
        };
        if let Ok(mut slot) = self.conn.lock() {
            *slot = Some(conn.clone());
        }
        Ok(conn)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn binding(kind: Kind, id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    match kind {
        Kind::Session => format!("gk:s:{hex}"),
        Kind::Task => format!("gk:t:{hex}"),
    }
}
