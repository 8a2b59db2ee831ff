//! TLS on both sides, on Pingora's rustls backend: the listener's certificate (reloaded live,
//! `certs`), client certificates verified against a CA and read for the policy and the audit
//! line, and the upstream peer's verification settings. rustls, not OpenSSL: memory-safe,
//! TLS 1.2 and 1.3 only with AEAD suites by construction, nothing to install on the host.

pub mod certs;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use pingora::listeners::tls::TlsSettings;
use pingora::listeners::{TlsAccept, ALPN};
use pingora::protocols::tls::TlsRef;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;

use crate::auth::Certificate;
use crate::config::ListenerTls;
use certs::LiveCert;

/// The listener's TLS settings, and its certificate (to reload and to report on).
pub fn listener(config: &ListenerTls) -> Result<(TlsSettings, Arc<LiveCert>), String> {
    install_crypto();
    let cert = LiveCert::load(&config.cert_file, &config.key_file)?;
    let mut settings =
        TlsSettings::with_callbacks(Box::new(ReadClientCertificate)).map_err(|e| e.to_string())?;
    settings.set_cert_resolver(cert.clone());
    // HTTP/1.1 only: the tests prove the gatekeeper's framing rules on HTTP/1.
    settings.set_alpn(ALPN::H1);
    if let Some(ca) = &config.client_ca_file {
        let roots = Arc::new(roots(ca)?);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = WebPkiClientVerifier::builder_with_provider(roots, provider);
        let builder = if config.client_cert_required {
            builder
        } else {
            builder.allow_unauthenticated()
        };
        let verifier = builder.build().map_err(|e| format!("client CA: {e}"))?;
        settings.set_client_cert_verifier(verifier);
    }
    Ok((settings, cert))
}

/// The CA certificates in a PEM file, as a trust store.
pub fn roots(path: &Path) -> Result<RootCertStore, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut store = RootCertStore::empty();
    for cert in certs::certificates(&pem).map_err(|e| format!("{}: {e}", path.display()))? {
        store
            .add(cert)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(store)
}

/// rustls needs one process-wide provider; Pingora installs the same (`ring`).
fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Reads the verified client certificate once the handshake is done; Pingora keeps it with the
/// connection (`SslDigest::extension`), so every request on it knows who connected.
struct ReadClientCertificate;

#[async_trait]
impl TlsAccept for ReadClientCertificate {
    async fn handshake_complete_callback(
        &self,
        tls: &TlsRef,
    ) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        let der = tls.peer_certificate_der()?;
        let certificate = describe(der)?;
        Some(Arc::new(certificate))
    }
}

/// A certificate's subject (RFC 4514 form) and its DNS, URI and e-mail alternative names.
pub fn describe(der: &[u8]) -> Option<Certificate> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let sans = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(n) | GeneralName::URI(n) | GeneralName::RFC822Name(n) => {
                        Some(n.to_string())
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Certificate {
        subject: cert.subject().to_string(),
        sans,
    })
}

/// What the request phase knows of the connection's client certificate.
pub fn client_certificate(session: &pingora::proxy::Session) -> Option<Certificate> {
    let digest = session.digest()?;
    let ssl = digest.ssl_digest.as_ref()?;
    ssl.extension.get::<Certificate>().cloned()
}
