//! TLS through the real binaries, with certificates made here (rcgen): HTTPS in and out, plain
//! HTTP refused, upstream certificates that must not verify, mutual TLS (and a role that needs
//! a client certificate), certificates rotated under load, expiry reported.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Datelike;
use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use serde_json::{json, Value};

/// A certificate authority that signs what the tests need.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A leaf for these names (DNS names or IP addresses), as (chain PEM, key PEM).
    fn issue(
        &self,
        cn: &str,
        names: &[&str],
        client: bool,
        not_after: Option<(i32, u8, u8)>,
    ) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        if let Some((y, m, d)) = not_after {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(y, m, d);
        }
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// A self-signed leaf no CA vouches for.
fn self_signed(names: &[&str]) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn write_pair(dir: &Path, name: &str, pair: &(String, String)) -> (PathBuf, PathBuf) {
    (
        write(dir, &format!("{name}.crt"), &pair.0),
        write(dir, &format!("{name}.key"), &pair.1),
    )
}

fn start_tls_mock(files: &(PathBuf, PathBuf)) -> Proc {
    start_mock_with(&[
        "--tls-cert",
        files.0.to_str().unwrap(),
        "--tls-key",
        files.1.to_str().unwrap(),
    ])
}

/// An HTTPS agent trusting `ca` (and showing `client`, when given).
fn agent(ca: Option<&str>, client: Option<&(String, String)>) -> ureq::Agent {
    use ureq::tls::{ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
    let mut tls = TlsConfig::builder();
    match ca {
        Some(pem) => {
            let certs: Vec<_> = ureq::tls::parse_pem(pem.as_bytes())
                .filter_map(|i| match i {
                    Ok(PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        None => tls = tls.disable_verification(true),
    }
    if let Some((cert, key)) = client {
        let chain: Vec<_> = ureq::tls::parse_pem(cert.as_bytes())
            .filter_map(|i| match i {
                Ok(PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        let key = PrivateKey::from_pem(key.as_bytes()).unwrap();
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .tls_config(tls.build())
        .build()
        .into()
}

fn call(agent: &ureq::Agent, url: &str, role: &str) -> Result<(u16, Value), String> {
    let body = tools_call("get_patient", json!({"patient_id": "NUGWI"}));
    let response = agent
        .post(url)
        .header("authorization", &format!("Bearer {}", token(role)))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .send(body.to_string())
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .into_body()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((
        status,
        messages(text.as_bytes()).pop().unwrap_or(Value::Null),
    ))
}

/// What reached a TLS mock (read over TLS without verifying it: it is ours).
fn mock_total(mock: &Proc) -> u64 {
    let url = format!("https://{}/stats", mock.addr);
    let text = agent(None, None)
        .get(&url)
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["total_requests"]
        .as_u64()
        .unwrap()
}

fn gate_with(upstream: String, yaml: &str) -> Proc {
    let mut opts = GateOptions::new("127.0.0.1:1".parse().unwrap());
    opts.upstream = upstream;
    opts.config_yaml = yaml.to_string();
    start_gatekeeper(opts)
}

fn tls_yaml(cert: &(PathBuf, PathBuf), extra: &str) -> String {
    format!(
        "tls:\n  cert_file: {}\n  key_file: {}\n{extra}",
        cert.0.display(),
        cert.1.display()
    )
}

#[test]
fn the_whole_flow_runs_over_https_in_and_out() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Hospital Test CA");
    let ca_file = write(dir.path(), "ca.pem", &ca.pem());
    let mock_cert = write_pair(
        dir.path(),
        "mock",
        &ca.issue("mock", &["127.0.0.1", "localhost"], false, None),
    );
    let gate_cert = write_pair(
        dir.path(),
        "gate",
        &ca.issue("gate", &["127.0.0.1", "localhost"], false, None),
    );
    let mock = start_tls_mock(&mock_cert);
    let yaml = tls_yaml(
        &gate_cert,
        &format!("upstream_tls:\n  ca_file: {}\n", ca_file.display()),
    );
    let gate = gate_with(format!("https://{}", mock.addr), &yaml);
    let url = format!("https://{}/mcp", gate.addr);
    let client = agent(Some(&ca.pem()), None);
    let (status, doctor) = call(&client, &url, "Doctor").unwrap();
    assert_eq!(status, 200, "{doctor}");
    assert!(doctor.to_string().contains("733-55-6995"), "{doctor}");
    let (status, billing) = call(&client, &url, "Billing").unwrap();
    assert_eq!(status, 200);
    assert!(!billing.to_string().contains("733-55-6995"), "{billing}");
    // A redacted answer is held until its last chunk and sent at once (`proxy/coalesce.rs`);
    // over TLS too, and the kept-alive connection then serves the next answer.
    let (status, again) = call(&client, &url, "Billing").unwrap();
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, billing);
    assert_eq!(mock_total(&mock), 3);

    // The call client speaks it too.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-gatekeeper"))
        .args([
            "call",
            "--user-id",
            "1",
            "--role",
            "Doctor",
            "--url",
            &url,
            "--cacert",
        ])
        .arg(&ca_file)
        .args(["get_patient", "--arg", "patient_id=NUGWI"])
        .env("JWT_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Plain HTTP to the TLS listener gets no HTTP answer at all.
    let mut raw = TcpStream::connect(gate.addr).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    raw.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}")
        .unwrap();
    let mut answer = Vec::new();
    let _ = raw.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(
        mock_total(&mock),
        4,
        "the call client's request, and nothing of the plain one"
    );
}

#[test]
fn an_upstream_certificate_that_does_not_verify_is_502_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Hospital Test CA");
    let other = Ca::new("Another CA");
    let ca_file = write(dir.path(), "ca.pem", &ca.pem());
    let cases = [
        (
            "expired",
            ca.issue("mock", &["127.0.0.1"], false, Some((2020, 1, 1))),
        ),
        ("self-signed", self_signed(&["127.0.0.1"])),
        (
            "for another host",
            ca.issue("mock", &["records.other.example"], false, None),
        ),
        (
            "from another CA",
            other.issue("mock", &["127.0.0.1"], false, None),
        ),
    ];
    for (why, pair) in cases {
        let files = write_pair(dir.path(), why, &pair);
        let mock = start_tls_mock(&files);
        let yaml = format!("upstream_tls:\n  ca_file: {}\n", ca_file.display());
        let gate = gate_with(format!("https://{}", mock.addr), &yaml);
        let url = format!("http://{}/mcp", gate.addr);
        let (status, _, body) = post(
            &url,
            Some(&token("Doctor")),
            &tools_call("get_patient", json!({"patient_id": "NUGWI"})),
        );
        let text = String::from_utf8_lossy(&body).to_string();
        assert_eq!(status, 502, "{why}: {text}");
        assert!(text.contains("TLS to the upstream failed"), "{why}: {text}");
        assert_eq!(mock_total(&mock), 0, "{why}: nothing reached the upstream");
    }
}

/// The gatekeeper's server certificate and the client CA file, both from `ca`.
fn mtls_files(dir: &Path, ca: &Ca) -> ((PathBuf, PathBuf), PathBuf) {
    let gate_cert = write_pair(dir, "gate", &ca.issue("gate", &["127.0.0.1"], false, None));
    (gate_cert, write(dir, "clients.pem", &ca.pem()))
}

#[test]
fn mutual_tls_admits_only_certificates_from_the_client_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Hospital Test CA");
    let other = Ca::new("Another CA");
    let (gate_cert, client_ca) = mtls_files(dir.path(), &ca);
    let webapp = ca.issue("webapp", &["webapp.hospital.internal"], true, None);
    let stranger = other.issue("webapp", &["webapp.hospital.internal"], true, None);
    let mock = start_mock(false);
    let yaml = tls_yaml(
        &gate_cert,
        &format!("  client_ca_file: {}\n", client_ca.display()),
    );
    let gate = gate_with(format!("http://{}", mock.addr), &yaml);
    let url = format!("https://{}/mcp", gate.addr);

    assert!(
        call(&agent(Some(&ca.pem()), None), &url, "Doctor").is_err(),
        "no certificate"
    );
    assert!(
        call(&agent(Some(&ca.pem()), Some(&stranger)), &url, "Doctor").is_err(),
        "a certificate from another CA"
    );
    let (status, msg) = call(&agent(Some(&ca.pem()), Some(&webapp)), &url, "Doctor").unwrap();
    assert_eq!(status, 200, "{msg}");
    let total = get(&format!("http://{}/stats", mock.addr), &[]).2;
    let total: Value = serde_json::from_slice(&total).unwrap();
    assert_eq!(
        total["total_requests"], 1,
        "only the one with a good certificate got through"
    );
    let audit = wait_for_audit(&gate, 1);
    assert_eq!(audit[0]["client_cert"], "CN=webapp", "{:?}", audit[0]);
}

#[test]
fn a_role_can_require_a_client_certificate_from_the_web_app() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Hospital Test CA");
    let (gate_cert, client_ca) = mtls_files(dir.path(), &ca);
    let webapp = ca.issue("webapp", &["webapp.hospital.internal"], true, None);
    let kiosk = ca.issue("kiosk", &["kiosk.hospital.internal"], true, None);
    let policy = std::fs::read_to_string(repo_root().join("policy/hospital.yaml"))
        .unwrap()
        .replace(
            "  Doctor:\n",
            "  Doctor:\n    client_certificate: { san: webapp.hospital.internal }\n",
        );
    let policy_file = write(dir.path(), "policy.yaml", &policy);
    let mock = start_mock(false);
    let mut opts = GateOptions::new(mock.addr);
    opts.policy = policy_file;
    opts.config_yaml = tls_yaml(
        &gate_cert,
        &format!(
            "  client_ca_file: {}\n  client_auth: optional\n",
            client_ca.display()
        ),
    );
    let gate = start_gatekeeper(opts);
    let url = format!("https://{}/mcp", gate.addr);
    let status = |client: Option<&(String, String)>| {
        call(&agent(Some(&ca.pem()), client), &url, "Doctor")
            .unwrap()
            .0
    };
    assert_eq!(
        status(None),
        403,
        "no certificate: the Doctor's grants do not apply"
    );
    assert_eq!(status(Some(&kiosk)), 403, "another device's certificate");
    assert_eq!(status(Some(&webapp)), 200);
    let (s, _) = call(&agent(Some(&ca.pem()), None), &url, "Nurse").unwrap();
    assert_eq!(s, 200, "roles without the requirement need no certificate");
}

fn wait_for_audit(gate: &Proc, lines: usize) -> Vec<Value> {
    let path = gate.audit_log.clone().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let records: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if records.len() >= lines || Instant::now() > deadline {
            return records;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The common name of the certificate a fresh handshake with `addr` gets.
fn served_name(addr: SocketAddr, ca_pem: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tcp = TcpStream::connect(addr).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).unwrap();
    }
    let leaf = conn.peer_certificates().unwrap()[0].clone();
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref()).unwrap();
    let cn = parsed
        .subject()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .unwrap_or("")
        .to_string();
    cn
}

#[test]
fn certificates_rotate_under_load_without_a_failed_request() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Hospital Test CA");
    let first = ca.issue("gate-first", &["127.0.0.1"], false, None);
    let second = ca.issue("gate-second", &["127.0.0.1"], false, None);
    // The Kubernetes layout: the files are symlinks into a directory that is swapped whole.
    for (name, pair) in [("v1", &first), ("v2", &second)] {
        std::fs::create_dir(dir.path().join(name)).unwrap();
        write_pair(&dir.path().join(name), "tls", pair);
    }
    std::os::unix::fs::symlink("v1", dir.path().join("data")).unwrap();
    let live = (
        dir.path().join("data/tls.crt"),
        dir.path().join("data/tls.key"),
    );
    let mock = start_mock(false);
    let gate = gate_with(format!("http://{}", mock.addr), &tls_yaml(&live, ""));
    let url = format!("https://{}/mcp", gate.addr);
    assert_eq!(served_name(gate.addr, &ca.pem()), "gate-first");

    let stop = Arc::new(AtomicBool::new(false));
    let (done, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load: Vec<_> = (0..2)
        .map(|_| {
            let (stop, done, failed) = (stop.clone(), done.clone(), failed.clone());
            let (url, ca) = (url.clone(), ca.pem());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // A new agent each time: new connections, new handshakes.
                    match call(&agent(Some(&ca), None), &url, "Doctor") {
                        Ok((200, _)) => done.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Swap the directory the way kubelet does: a new symlink renamed over the old one.
    std::os::unix::fs::symlink("v2", dir.path().join("data.new")).unwrap();
    std::fs::rename(dir.path().join("data.new"), dir.path().join("data")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while served_name(gate.addr, &ca.pem()) != "gate-second" {
        assert!(
            Instant::now() < deadline,
            "the new certificate was not picked up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A broken pair (the new certificate with another key) is refused; the last good stays.
    std::fs::write(dir.path().join("v2/tls.key"), &first.1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gate.stderr_so_far().contains("could not be loaded") {
        assert!(Instant::now() < deadline, "the bad pair was not reported");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(served_name(gate.addr, &ca.pem()), "gate-second");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    assert!(done.load(Ordering::Relaxed) > 10, "the load ran");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request failed");
}

#[test]
fn an_expiring_certificate_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Hospital Test CA");
    let soon = chrono::Utc::now().date_naive() + chrono::Duration::days(5);
    let expiry = (soon.year(), soon.month() as u8, soon.day() as u8);
    let cert = write_pair(
        dir.path(),
        "gate",
        &ca.issue("gate", &["127.0.0.1"], false, Some(expiry)),
    );
    let mock = start_mock(false);
    let gate = gate_with(format!("http://{}", mock.addr), &tls_yaml(&cert, ""));
    let admin = gate.metrics_addr.unwrap();
    let (status, _, body) = get(&format!("http://{admin}/readyz"), &[]);
    let ready: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "soon is still ready: {ready}");
    assert!(ready["tls"]["warning"].is_string(), "{ready}");
    assert!(
        ready["tls"]["expires_in_days"].as_i64().unwrap() <= 5,
        "{ready}"
    );
    let (_, _, metrics) = get(&format!("http://{admin}/metrics"), &[]);
    let metrics = String::from_utf8_lossy(&metrics);
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with(
                "gatekeeper_tls_certificate_expiry_timestamp_seconds{listener=\"listener\"}",
            )
        })
        .unwrap_or_else(|| panic!("{metrics}"));
    let value: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    let left = value - chrono::Utc::now().timestamp();
    assert!((0..=6 * 86_400).contains(&left), "{line}");
}
