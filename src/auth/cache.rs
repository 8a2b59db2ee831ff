//! Verified tokens, remembered until they expire: a client sends the same token with every
//! request of a session, and an RS256/ES256 signature costs hundreds of microseconds to check.
//! Entries are keyed by the token's SHA-256 (the cache never holds a usable credential), honour
//! `exp` with the configured leeway, and die with the key set that verified them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::Identity;

const SHARDS: usize = 16;

struct Entry {
    identity: Arc<Identity>,
    /// `exp` plus leeway, in seconds since the epoch; `None` when the token has no `exp`.
    valid_until: Option<f64>,
    /// The key-set generation that verified it (a JWKS refresh bumps it).
    generation: u64,
}

pub struct TokenCache {
    shards: Vec<Mutex<HashMap<[u8; 32], Entry>>>,
    per_shard: usize,
}

impl TokenCache {
    /// A cache for about `capacity` tokens; `None` when `capacity` is 0 (caching off).
    pub fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| TokenCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: capacity.div_ceil(SHARDS),
        })
    }

    pub fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The identity a still-valid token verified to, if it was verified under `generation`.
    pub fn get(&self, key: &[u8; 32], now: f64, generation: u64) -> Option<Arc<Identity>> {
        let mut shard = self.shard(key).lock().ok()?;
        match shard.get(key) {
            Some(e) if e.generation == generation && e.valid_until.is_none_or(|t| now <= t) => {
                Some(e.identity.clone())
            }
            Some(_) => {
                shard.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn insert(
        &self,
        key: [u8; 32],
        identity: Arc<Identity>,
        valid_until: Option<f64>,
        generation: u64,
        now: f64,
    ) {
        let Ok(mut shard) = self.shard(&key).lock() else {
            return;
        };
        if shard.len() >= self.per_shard {
            shard.retain(|_, e| e.valid_until.is_some_and(|t| now <= t));
            if shard.len() >= self.per_shard {
                shard.clear();
            }
        }
        shard.insert(
            key,
            Entry {
                identity,
                valid_until,
                generation,
            },
        );
    }

    fn shard(&self, key: &[u8; 32]) -> &Mutex<HashMap<[u8; 32], Entry>> {
        &self.shards[key[0] as usize % SHARDS]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Arc<Identity> {
        Arc::new(Identity {
            user_id: "1".into(),
            username: None,
            roles: vec!["Nurse".into()],
            claims: Default::default(),
            certificate: None,
        })
    }

    #[test]
    fn an_entry_lives_until_its_token_expires_and_its_key_set_changes() {
        let cache = TokenCache::new(64).unwrap();
        let key = TokenCache::key("a.b.c");
        cache.insert(key, identity(), Some(100.0), 7, 50.0);
        assert!(cache.get(&key, 99.0, 7).is_some());
        assert!(cache.get(&key, 100.5, 7).is_none(), "expired");
        cache.insert(key, identity(), Some(100.0), 7, 50.0);
        assert!(cache.get(&key, 60.0, 8).is_none(), "key set changed");
        assert!(cache.get(&TokenCache::key("a.b.d"), 60.0, 7).is_none());
    }

    #[test]
    fn a_full_cache_stays_bounded() {
        let cache = TokenCache::new(32).unwrap();
        for i in 0..10_000 {
            cache.insert(
                TokenCache::key(&i.to_string()),
                identity(),
                Some(1e12),
                0,
                0.0,
            );
        }
        let held: usize = cache.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= 32, "{held}");
        assert!(TokenCache::new(0).is_none());
    }
}
