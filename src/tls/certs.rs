//! Certificates from PEM files: loaded and checked as a pair, served through a resolver that
//! can be swapped live (each handshake takes the pair current at that moment; a connection
//! keeps the one it was made with), and read for what the operators need (`notAfter`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// A chain and its key, as files and as loaded.
pub struct Pair {
    pub key: Arc<CertifiedKey>,
    /// The leaf's `notAfter`, seconds since the epoch.
    pub not_after: i64,
    /// The files' bytes, to tell a change from a rewrite of the same content.
    fingerprint: Vec<u8>,
}

/// Reads a PEM chain (leaf first) and its private key, and checks that they belong together:
/// a new pair that fails here never replaces the one in use.
pub fn load_pair(cert: &Path, key: &Path) -> Result<Pair, String> {
    let cert_pem = std::fs::read(cert).map_err(|e| format!("{}: {e}", cert.display()))?;
    let key_pem = std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let chain = certificates(&cert_pem).map_err(|e| format!("{}: {e}", cert.display()))?;
    let private = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| format!("{}: {e}", key.display()))?
        .ok_or_else(|| format!("{}: no private key in it", key.display()))?;
    let not_after = not_after(&chain[0])?;
    let signer = signing_key(private)?;
    let certified = CertifiedKey::new(chain, signer);
    certified.keys_match().map_err(|e| {
        format!(
            "{} and {} are not a pair: {e}",
            cert.display(),
            key.display()
        )
    })?;
    let mut fingerprint = cert_pem;
    fingerprint.extend_from_slice(&key_pem);
    Ok(Pair {
        key: Arc::new(certified),
        not_after,
        fingerprint,
    })
}

/// Every certificate in a PEM file; none is an error.
pub fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if chain.is_empty() {
        return Err("no certificate in it".into());
    }
    Ok(chain)
}

fn signing_key(key: PrivateKeyDer<'static>) -> Result<Arc<dyn rustls::sign::SigningKey>, String> {
    rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| format!("unsupported private key: {e}"))
}

/// The certificate's `notAfter`, seconds since the epoch.
pub fn not_after(cert: &CertificateDer) -> Result<i64, String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    Ok(parsed.validity().not_after.timestamp())
}

/// The listener's certificate, replaceable while it serves.
pub struct LiveCert {
    current: ArcSwap<Pair>,
    files: (PathBuf, PathBuf),
}

impl std::fmt::Debug for LiveCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCert")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl LiveCert {
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Self>, String> {
        let pair = load_pair(cert, key)?;
        Ok(Arc::new(LiveCert {
            current: ArcSwap::from_pointee(pair),
            files: (cert.to_path_buf(), key.to_path_buf()),
        }))
    }

    pub fn not_after(&self) -> i64 {
        self.current.load().not_after
    }

    /// Reads the files again: a changed, valid pair replaces the current one (`Ok(true)`); an
    /// unchanged one is left alone; an invalid one is reported and the last good pair kept.
    pub fn reload(&self) -> Result<bool, String> {
        let (cert, key) = &self.files;
        let unchanged = match (std::fs::read(cert), std::fs::read(key)) {
            (Ok(mut c), Ok(k)) => {
                c.extend_from_slice(&k);
                c == self.current.load().fingerprint
            }
            _ => false,
        };
        if unchanged {
            return Ok(false);
        }
        let pair = load_pair(cert, key)?;
        self.current.store(Arc::new(pair));
        Ok(true)
    }

    /// Polls the files every `every` on a thread of its own (cert-manager and Kubernetes
    /// replace them by symlink swap, so their content is compared, not their inode).
    pub fn watch(self: &Arc<Self>, every: Duration, on_change: impl Fn(i64) + Send + 'static) {
        let cert = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("tls-reload".into())
            .spawn(move || loop {
                std::thread::sleep(every);
                match cert.reload() {
                    Ok(true) => {
                        tracing::info!(cert = %cert.files.0.display(), "TLS certificate reloaded");
                        on_change(cert.not_after());
                    }
                    Ok(false) => {}
                    Err(e) => tracing::error!(
                        error = %e,
                        "the new TLS certificate could not be loaded; the last good one stays in use"
                    ),
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot watch the TLS certificate files");
        }
    }
}

impl ResolvesServerCert for LiveCert {
    fn resolve(&self, _hello: ClientHello) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.current.load().key))
    }
}
