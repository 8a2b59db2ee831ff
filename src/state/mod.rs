//! What replicas must agree on: session and task bindings (who may use an id) and rate-limit
//! buckets. In this process's memory (`memory`, one replica) or in Redis / Valkey (`redis`,
//! shared). Every operation either answers or says the store is unavailable: session and task
//! checks then fail closed, rate limits follow `state.on_unavailable`.

mod memory;
mod redis;

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::auth::Identity;
use crate::config::StateSettings;
use crate::mcp_session::{Ownership, Sessions};
use crate::policy::Bucket;

/// Which ids a binding is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Session,
    Task,
}

/// The store could not be asked in time.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the shared state store is unavailable ({0})")]
pub struct Unavailable(pub String);

// One per process, behind an `Arc`: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Store {
    Memory(memory::Memory),
    Redis(Box<redis::Redis>),
}

impl Store {
    /// The store the settings name; a Redis that is down now is retried on use.
    pub fn new(settings: &StateSettings, session: (usize, Duration), task: Duration) -> Self {
        match &settings.redis_url {
            None => Store::Memory(memory::Memory::new(session, task)),
            Some(url) => Store::Redis(Box::new(redis::Redis::new(
                url,
                settings.timeout,
                session.1,
                task,
            ))),
        }
    }

    pub fn is_shared(&self) -> bool {
        matches!(self, Store::Redis(_))
    }

    /// Whether the last operation reached the store (memory always does).
    pub fn is_up(&self) -> bool {
        match self {
            Store::Memory(_) => true,
            Store::Redis(r) => r.is_up(),
        }
    }

    /// Asks the store now (readiness); also how a store that came back is noticed.
    pub async fn ping(&self) -> bool {
        match self {
            Store::Memory(_) => true,
            Store::Redis(r) => r.ping().await,
        }
    }

    /// `id` belongs to `who`.
    pub async fn bind(&self, kind: Kind, id: &str, who: &Identity) -> Result<(), Unavailable> {
        match self {
            Store::Memory(m) => {
                m.table(kind).bind(id, who);
                Ok(())
            }
            Store::Redis(r) => r.bind(kind, id, &principal(who)).await,
        }
    }

    /// Binds at once when the store is this process's; `false`: call `bind` (shared store).
    pub fn bind_now(&self, kind: Kind, id: &str, who: &Identity) -> bool {
        match self {
            Store::Memory(m) => {
                m.table(kind).bind(id, who);
                true
            }
            Store::Redis(_) => false,
        }
    }

    /// What `id` is to `who`; a use refreshes the binding's idle time.
    pub async fn check(
        &self,
        kind: Kind,
        id: &str,
        who: &Identity,
    ) -> Result<Ownership, Unavailable> {
        match self {
            Store::Memory(m) => Ok(m.table(kind).check(id, who)),
            Store::Redis(r) => r.check(kind, id, &principal(who)).await,
        }
    }

    pub async fn end(&self, kind: Kind, id: &str) -> Result<(), Unavailable> {
        match self {
            Store::Memory(m) => {
                m.table(kind).end(id);
                Ok(())
            }
            Store::Redis(r) => r.end(kind, id).await,
        }
    }

    /// The ids of `kind` bound to `who` (`tasks/list` shows only those).
    pub async fn owned(&self, kind: Kind, who: &Identity) -> Result<Vec<String>, Unavailable> {
        match self {
            Store::Memory(m) => Ok(m.table(kind).owned_by(who)),
            Store::Redis(r) => r.owned(kind, &principal(who)).await,
        }
    }

    /// Spends one call from `bucket`: `Ok(Ok(()))` allowed, `Ok(Err(wait))` over the limit.
    pub async fn spend(&self, bucket: &Bucket<'_>) -> Result<Result<(), Duration>, Unavailable> {
        // Microseconds: a budget of more than 1000 calls a second still has a pace.
        let interval = bucket.limit.interval.as_micros() as u64;
        let tolerance = bucket.limit.tolerance().as_micros() as u64;
        match self {
            Store::Memory(m) => Ok(m.spend(&bucket.key, interval, tolerance)),
            Store::Redis(r) => r.spend(&bucket.key, interval, tolerance).await,
        }
    }
}

/// Who a binding is for, as a digest: a shared store never holds a user id in clear.
fn principal(who: &Identity) -> String {
    let digest = Sha256::digest(Sessions::principal(who).as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
