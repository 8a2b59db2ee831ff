//! Public-key issuers from outside: a JWKS served over HTTP, key rotation picked up through an
//! unknown `kid`, random `kid`s that must not make the gatekeeper hammer the identity provider,
//! and the last good key set kept while the provider is down.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const ISSUER: &str = "https://idp.hospital.test";

/// A JWKS endpoint whose answer the test changes, counting the fetches it serves.
struct Idp {
    url: String,
    answer: Arc<Mutex<(u16, String)>>,
    fetches: Arc<AtomicU64>,
}

impl Idp {
    fn start(jwks: &Value) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new((200, jwks.to_string())));
        let fetches = Arc::new(AtomicU64::new(0));
        let (a, f) = (answer.clone(), fetches.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                f.fetch_add(1, Ordering::SeqCst);
                let (status, body) = a.lock().unwrap().clone();
                let _ = write!(
                    &stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Idp {
            url,
            answer,
            fetches,
        }
    }

    fn serve(&self, status: u16, body: &Value) {
        *self.answer.lock().unwrap() = (status, body.to_string());
    }

    fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }
}

fn full_jwks() -> Value {
    let path = repo_root().join("tests/keys/jwks.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn only(kid: &str) -> Value {
    let mut jwks = full_jwks();
    jwks["keys"]
        .as_array_mut()
        .unwrap()
        .retain(|k| k["kid"] == kid);
    jwks
}

fn idp_token(alg: Algorithm, kid: &str, role: &str) -> String {
    let (file, key): (&str, fn(&[u8]) -> _) = match alg {
        Algorithm::ES256 => ("ec256.key", EncodingKey::from_ec_pem),
        _ => ("rsa.key", EncodingKey::from_rsa_pem),
    };
    let pem = std::fs::read(repo_root().join("tests/keys").join(file)).unwrap();
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    let claims = json!({"sub":"dr-house","role":role,"iss":ISSUER,"aud":"https://mcp.hospital.test","exp": now() + 300});
    encode(&header, &claims, &key(&pem).unwrap()).unwrap()
}

fn gatekeeper(stack_mock: &Proc, idp: &Idp, refetch_seconds: u64) -> Proc {
    gatekeeper_refreshing(stack_mock, idp, refetch_seconds, 3600)
}

fn gatekeeper_refreshing(stack_mock: &Proc, idp: &Idp, refetch_seconds: u64, refresh: u64) -> Proc {
    let mut opts = GateOptions::new(stack_mock.addr);
    opts.config_yaml = format!(
        "jwt:\n  providers:\n    - issuer: {ISSUER}\n      algorithms: [RS256, ES256]\n      jwks_url: {}\n      audiences: [https://mcp.hospital.test]\n      refresh_seconds: {refresh}\n      refetch_min_interval_seconds: {refetch_seconds}\n",
        idp.url
    );
    start_gatekeeper(opts)
}

fn call(gate: &Proc, token: &str) -> u16 {
    let body = tools_call("get_patient", json!({"patient_id":"NUGWI"}));
    post(&format!("http://{}/mcp", gate.addr), Some(token), &body).0
}

#[test]
fn jwks_tokens_are_verified_and_rotation_is_picked_up_by_kid() {
    let mock = start_mock(false);
    let idp = Idp::start(&only("rsa-1"));
    let gate = gatekeeper(&mock, &idp, 0);
    assert_eq!(
        call(&gate, &idp_token(Algorithm::RS256, "rsa-1", "Doctor")),
        200
    );
    // The web app's HS256 tokens still work beside the identity provider's.
    assert_eq!(call(&gate, &token("Doctor")), 200);

    // The provider rotates in an EC key; the first token naming it triggers a refetch.
    idp.serve(200, &full_jwks());
    let before = idp.fetches();
    assert_eq!(
        call(&gate, &idp_token(Algorithm::ES256, "ec-1", "Doctor")),
        200
    );
    assert_eq!(idp.fetches(), before + 1);

    // A token whose key the provider never published is refused, and never reaches the server.
    let stats_before = tool_count(&mock);
    let (status, headers, body) = post(
        &format!("http://{}/mcp", gate.addr),
        Some(&idp_token(Algorithm::RS256, "rsa-unpublished", "Doctor")),
        &tools_call("get_patient", json!({"patient_id":"NUGWI"})),
    );
    assert_eq!(status, 401);
    assert!(header(&headers, "www-authenticate").is_some());
    assert!(String::from_utf8_lossy(&body).contains("unknown kid"));
    assert_eq!(tool_count(&mock), stats_before);
}

#[test]
fn random_kids_do_not_turn_the_gatekeeper_into_a_load_generator() {
    let mock = start_mock(false);
    let idp = Idp::start(&full_jwks());
    let gate = gatekeeper(&mock, &idp, 60);
    let before = idp.fetches();
    for i in 0..25 {
        assert_eq!(
            call(
                &gate,
                &idp_token(Algorithm::RS256, &format!("kid-{i}"), "Doctor")
            ),
            401
        );
    }
    // At most one refetch per interval, however many unknown kids arrive.
    assert!(
        idp.fetches() - before <= 1,
        "{} fetches",
        idp.fetches() - before
    );
}

#[test]
fn the_last_good_key_set_survives_a_provider_outage() {
    let mock = start_mock(false);
    let idp = Idp::start(&only("rsa-1"));
    let gate = gatekeeper(&mock, &idp, 0);
    idp.serve(500, &json!({"error":"down"}));
    // An unknown kid makes the gatekeeper refetch; the provider fails.
    let before = idp.fetches();
    assert_eq!(
        call(&gate, &idp_token(Algorithm::RS256, "rsa-2", "Doctor")),
        401
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while idp.fetches() == before && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert!(
        idp.fetches() > before,
        "the gatekeeper did not try to refetch"
    );
    // The keys it had still verify.
    assert_eq!(
        call(&gate, &idp_token(Algorithm::RS256, "rsa-1", "Doctor")),
        200
    );
    // A garbage answer is not swapped in either.
    idp.serve(200, &json!({"keys": []}));
    assert_eq!(
        call(&gate, &idp_token(Algorithm::RS256, "rsa-3", "Doctor")),
        401
    );
    assert_eq!(
        call(&gate, &idp_token(Algorithm::RS256, "rsa-1", "Doctor")),
        200
    );
}

#[test]
fn the_periodic_refresh_adds_new_keys_and_withdraws_old_ones_even_for_cached_tokens() {
    let mock = start_mock(false);
    let idp = Idp::start(&only("rsa-1"));
    // Refetch on unknown kid effectively off: only the 1 s refresh can bring changes in.
    let gate = gatekeeper_refreshing(&mock, &idp, 3600, 1);
    let rsa = idp_token(Algorithm::RS256, "rsa-1", "Doctor");
    assert_eq!(call(&gate, &rsa), 200, "verified, and now cached");
    idp.serve(200, &only("ec-1"));
    let ec = idp_token(Algorithm::ES256, "ec-1", "Doctor");
    let deadline = Instant::now() + Duration::from_secs(15);
    while call(&gate, &ec) != 200 {
        assert!(
            Instant::now() < deadline,
            "the refresh never brought ec-1 in"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // rsa-1 was withdrawn: the same token, verified a moment ago, is refused now.
    assert_eq!(call(&gate, &rsa), 401);
}

#[test]
fn an_issuers_token_for_another_audience_is_refused() {
    let mock = start_mock(false);
    let idp = Idp::start(&full_jwks());
    let gate = gatekeeper(&mock, &idp, 60);
    let pem = std::fs::read(repo_root().join("tests/keys/rsa.key")).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa-1".into());
    let claims = json!({"sub":"x","role":"Doctor","iss":ISSUER,"aud":"https://billing.hospital.test","exp": now() + 300});
    let token = encode(&header, &claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap();
    assert_eq!(call(&gate, &token), 401);
}

fn tool_count(mock: &Proc) -> u64 {
    let (_, _, body) = get(&format!("http://{}/stats", mock.addr), &[]);
    let stats: Value = serde_json::from_slice(&body).unwrap();
    stats["total_requests"].as_u64().unwrap_or(0)
}
