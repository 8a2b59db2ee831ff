//! Verification keys and where they come from: a shared secret, a PEM public key, or a JSON Web
//! Key Set (RFC 7517) in a file or at an HTTP(S) URL. The bytes are brought by a `KeyLoader`
//! the shell implements; here they are parsed and kept. A JWKS keeps its last good key set when
//! a refresh fails and refetches (rate-limited) when a token names a `kid` it does not know.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// JWKS documents larger than this are refused (a key set is a few KiB).
pub const MAX_JWKS_BYTES: u64 = 256 * 1024;
/// However short a server's `Cache-Control: max-age`, refreshes come no faster than this.
const MIN_REFRESH: Duration = Duration::from_secs(1);

/// Bumped whenever any JWKS swaps in a new key set, so tokens cached as verified under the old
/// set are verified again (a key the issuer withdrew stops working at once).
static GENERATION: AtomicU64 = AtomicU64::new(0);

pub fn key_generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// Where an issuer's keys are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A shared HMAC secret (from the environment, never a file in the repository).
    Secret(Vec<u8>),
    /// A PEM public key (RSA, EC or Ed25519) in a file.
    PemFile(PathBuf),
    JwksFile(PathBuf),
    JwksUrl(String),
}

/// Brings key material: a PEM file, a JWKS file or URL. The shell implements it (files and
/// HTTP); the core only parses what it brings.
pub trait KeyLoader: Send + Sync {
    /// The bytes at `source` and, when the server said, how long they stay fresh
    /// (`Cache-Control: max-age`).
    fn load(&self, source: &KeySource) -> Result<(Vec<u8>, Option<Duration>), String>;
}

/// One usable key.
pub struct Key {
    pub kid: Option<String>,
    /// The algorithm the key is restricted to, when its JWK says so.
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
}

/// What a token's `kid` and `alg` found.
pub enum Lookup<'a> {
    Found(&'a Key),
    /// No key has this id (a JWKS may have rotated: refetch).
    UnknownKid,
    /// The token names no `kid` and several keys could verify it.
    Ambiguous,
    /// No key of the algorithm's family.
    NoKeyForAlgorithm,
}

#[derive(Default)]
pub struct KeySet {
    keys: Vec<Key>,
}

impl KeySet {
    pub fn new(keys: Vec<Key>) -> Self {
        KeySet { keys }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for a token with header `kid` and `alg` (already checked against the issuer's
    /// algorithms). A key never verifies an algorithm of another family, nor another algorithm
    /// than the one its JWK names.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> Lookup<'_> {
        let fits = |k: &&Key| k.key.family() == alg.family() && k.alg.is_none_or(|a| a == alg);
        if let Some(kid) = kid {
            if self.keys.iter().all(|k| k.kid.is_none()) {
                return self.find(None, alg);
            }
            return match self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)) {
                Some(k) if fits(&k) => Lookup::Found(k),
                Some(_) => Lookup::NoKeyForAlgorithm,
                None => Lookup::UnknownKid,
            };
        }
        let mut candidates = self.keys.iter().filter(fits);
        match (candidates.next(), candidates.next()) {
            (Some(k), None) => Lookup::Found(k),
            (Some(_), Some(_)) => Lookup::Ambiguous,
            (None, _) => Lookup::NoKeyForAlgorithm,
        }
    }
}

/// Reads a PEM public key of any supported type.
pub fn key_from_pem(pem: &[u8]) -> Result<DecodingKey, String> {
    DecodingKey::from_rsa_pem(pem)
        .or_else(|_| DecodingKey::from_ec_pem(pem))
        .or_else(|_| DecodingKey::from_ed_pem(pem))
        .map_err(|_| "not a PEM RSA, EC (P-256/P-384) or Ed25519 public key".to_string())
}

/// Parses a JWKS document. Encryption keys and key types we cannot verify with are skipped;
/// a document with no usable key is an error.
pub fn parse_jwks(bytes: &[u8]) -> Result<KeySet, String> {
    let set: JwkSet =
        serde_json::from_slice(bytes).map_err(|e| format!("not a JWKS document: {e}"))?;
    let keys: Vec<Key> = set.keys.iter().filter_map(usable_key).collect();
    if keys.is_empty() {
        return Err("the JWKS has no usable signature verification key".into());
    }
    Ok(KeySet::new(keys))
}

fn usable_key(jwk: &Jwk) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let alg = match &jwk.common.key_algorithm {
        None => None,
        Some(a) => Some(Algorithm::from_str(&a.to_string()).ok()?),
    };
    Some(Key {
        kid: jwk.common.key_id.clone(),
        alg,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

/// A JWKS kept fresh: the current set is swapped atomically, so verification never waits on I/O.
pub struct Jwks {
    location: KeySource,
    loader: Arc<dyn KeyLoader>,
    current: ArcSwap<KeySet>,
    refresh_every: Duration,
    refetch_min_interval: Duration,
    last_fetch: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("location", &self.location)
            .field("keys", &self.current.load().len())
            .finish()
    }
}

impl Jwks {
    /// Loads the set once. When that fails and `previous` (the same source from before a
    /// reload) has keys, those are kept; otherwise the error is returned.
    pub fn open(
        location: KeySource,
        loader: Arc<dyn KeyLoader>,
        refresh_every: Duration,
        refetch_min_interval: Duration,
        previous: Option<&Jwks>,
    ) -> Result<Arc<Self>, String> {
        let jwks = Jwks {
            location,
            loader,
            current: ArcSwap::from_pointee(KeySet::default()),
            refresh_every,
            refetch_min_interval,
            last_fetch: Mutex::new(None),
        };
        if let Err(e) = jwks.refresh() {
            match previous.filter(|p| p.location == jwks.location && !p.keys().is_empty()) {
                Some(p) => {
                    tracing::warn!(source = %jwks.describe(), error = %e, "JWKS fetch failed; keeping the previous key set");
                    jwks.current.store(p.current.load_full());
                }
                None => return Err(format!("{}: {e}", jwks.describe())),
            }
        }
        Ok(Arc::new(jwks))
    }

    pub fn source(&self) -> &KeySource {
        &self.location
    }

    pub fn keys(&self) -> Arc<KeySet> {
        self.current.load_full()
    }

    pub fn describe(&self) -> String {
        match &self.location {
            KeySource::JwksUrl(u) => u.clone(),
            KeySource::JwksFile(p) => p.display().to_string(),
            _ => "(not a JWKS)".into(),
        }
    }

    /// Fetches and swaps in a new set; on failure the last good set stays. Returns how long
    /// the server said the set stays fresh (`Cache-Control: max-age`), if it said.
    pub fn refresh(&self) -> Result<Option<Duration>, String> {
        if let Ok(mut last) = self.last_fetch.lock() {
            *last = Some(Instant::now());
        }
        let (bytes, max_age) = match &self.location {
            source @ (KeySource::JwksFile(_) | KeySource::JwksUrl(_)) => {
                self.loader.load(source)?
            }
            other => return Err(format!("{other:?} is not a JWKS")),
        };
        let set = parse_jwks(&bytes)?;
        self.current.store(Arc::new(set));
        GENERATION.fetch_add(1, Ordering::AcqRel);
        Ok(max_age)
    }

    /// A token named a `kid` we do not know: refetch, unless we fetched too recently (an
    /// attacker sending random `kid`s must not turn us into a load generator). Blocking.
    /// Returns whether a new set was loaded.
    pub fn refetch_for_unknown_kid(&self) -> bool {
        let recent = self
            .last_fetch
            .lock()
            .ok()
            .and_then(|last| *last)
            .is_some_and(|t| t.elapsed() < self.refetch_min_interval);
        if recent {
            return false;
        }
        match self.refresh() {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(source = %self.describe(), error = %e, "JWKS refetch failed; keeping the last good key set");
                false
            }
        }
    }

    /// The first wait before a background refresh.
    pub fn refresh_every(&self) -> Duration {
        self.refresh_every
    }

    /// One background refresh; returns how long to wait before the next.
    pub fn refresh_and_schedule(&self) -> Duration {
        match self.refresh() {
            Ok(max_age) => self.next_refresh(max_age),
            Err(e) => {
                tracing::warn!(source = %self.describe(), error = %e, "JWKS refresh failed; keeping the last good key set");
                self.refetch_min_interval.max(MIN_REFRESH)
            }
        }
    }

    fn next_refresh(&self, max_age: Option<Duration>) -> Duration {
        max_age
            .map(|m| {
                m.clamp(
                    MIN_REFRESH.max(self.refetch_min_interval),
                    self.refresh_every,
                )
            })
            .unwrap_or(self.refresh_every)
    }
}

/// `max-age` from a Cache-Control value (RFC 9111 §5.2.2.1); `no-store`/`no-cache` mean zero.
pub fn max_age(value: &str) -> Option<Duration> {
    value.split(',').map(str::trim).find_map(|d| {
        if d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        let (k, v) = d.split_once('=')?;
        k.trim().eq_ignore_ascii_case("max-age").then(|| {
            v.trim()
                .trim_matches('"')
                .parse()
                .ok()
                .map(Duration::from_secs)
        })?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_max_age() {
        assert_eq!(
            max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }

    #[test]
    fn jwks_without_usable_keys_is_an_error() {
        assert!(parse_jwks(br#"{"keys":[]}"#).is_err());
        assert!(parse_jwks(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0","use":"enc"}]}"#).is_err());
        assert!(parse_jwks(b"not json").is_err());
    }
}
