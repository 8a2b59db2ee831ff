//! The shell's side of verification keys: reading PEM and JWKS files, fetching a JWKS over
//! HTTP(S) (size-capped, with a timeout), and refreshing each JWKS in a background thread until
//! the verifier that holds it is replaced. The core (`auth`) only parses what this brings.

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::auth::{max_age, Jwks, KeyLoader, KeySource, Verifier, MAX_JWKS_BYTES};

/// Files from the disk, URLs over HTTP(S).
pub struct FilesAndHttp;

impl FilesAndHttp {
    pub fn shared() -> Arc<dyn KeyLoader> {
        Arc::new(FilesAndHttp)
    }
}

impl KeyLoader for FilesAndHttp {
    fn load(&self, source: &KeySource) -> Result<(Vec<u8>, Option<Duration>), String> {
        match source {
            KeySource::PemFile(path) | KeySource::JwksFile(path) => std::fs::read(path)
                .map(|bytes| (bytes, None))
                .map_err(|e| format!("cannot read: {e}")),
            KeySource::JwksUrl(url) => fetch(url),
            KeySource::Secret(_) => Err("a secret is not loaded from anywhere".into()),
        }
    }
}

fn fetch(url: &str) -> Result<(Vec<u8>, Option<Duration>), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let fresh_for = response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_JWKS_BYTES)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    Ok((bytes, fresh_for))
}

/// Starts a refresher for every JWKS of `verifier`; each ends when its key set is dropped.
pub fn refresh_in_background(verifier: &Verifier) {
    for jwks in verifier.key_sets() {
        let first = jwks.refresh_every();
        spawn_refresher(Arc::downgrade(&jwks), first);
    }
}

fn spawn_refresher(jwks: Weak<Jwks>, first: Duration) {
    let spawned = std::thread::Builder::new()
        .name("jwks-refresh".into())
        .spawn(move || {
            let mut wait = first;
            loop {
                std::thread::sleep(wait);
                let Some(jwks) = jwks.upgrade() else { return };
                wait = jwks.refresh_and_schedule();
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the JWKS refresh thread");
    }
}
