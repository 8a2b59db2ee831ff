//! The per-request decision path without the network: Bearer extraction + HS256 verification,
//! JSON-RPC classification, policy decision, all of them together (one request's cost), and
//! the audit writer's per-record work.
//!
//!     cargo bench --bench core

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use mcp_gatekeeper::audit::{AuditRecord, Chain};
use mcp_gatekeeper::auth::{bearer_token, JwtRules, Verifier};
use mcp_gatekeeper::jsonrpc;
use mcp_gatekeeper::policy::Policy;

const SECRET: &[u8] = b"bench-secret-0123456789abcdef0123456789";

fn token() -> String {
    let exp = jsonwebtoken::get_current_timestamp() + 3600;
    let claims = json!({"user_id":"1","role":"Nurse","username":"yenji100","exp":exp});
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .expect("signing")
}

fn verifier() -> Verifier {
    let rules = JwtRules {
        algorithm: Algorithm::HS256,
        require_exp: true,
        leeway_seconds: 30,
        issuers: vec![],
        audiences: vec![],
    };
    Verifier::hmac(SECRET, &rules).expect("verifier")
}

fn bench(c: &mut Criterion) {
    let header = format!("Bearer {}", token());
    let verifier = verifier();
    let policy = Policy::from_yaml(include_str!("../policy/hospital.yaml")).expect("policy");
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"get_medical_records","arguments":{"patient_id":"NUGWI"}}})
    .to_string();
    let identity = verifier
        .verify(bearer_token(&[header.as_bytes()]).expect("bearer"))
        .expect("identity");
    let request = jsonrpc::parse(body.as_bytes()).expect("request");

    c.bench_function("auth/bearer+hs256", |b| {
        b.iter(|| verifier.verify(bearer_token(&[black_box(header.as_bytes())]).unwrap()))
    });
    c.bench_function("jsonrpc/classify tools/call", |b| {
        b.iter(|| jsonrpc::parse(black_box(body.as_bytes())))
    });
    c.bench_function("policy/decide hospital", |b| {
        b.iter(|| {
            policy
                .decide_request(black_box(&identity), black_box(&request))
                .is_ok()
        })
    });
    c.bench_function("request/auth+classify+decide", |b| {
        b.iter(|| {
            let token = bearer_token(&[black_box(header.as_bytes())]).unwrap();
            let who = verifier.verify(token).unwrap();
            let req = jsonrpc::parse(black_box(body.as_bytes())).unwrap();
            policy.decide_request(&who, &req).is_ok()
        })
    });
}

/// The audit writer's work per record: serialise, chain, seal (the disk write is not included).
fn audit(c: &mut Criterion) {
    let chain = Chain::new(None);
    let record = AuditRecord {
        ts: "2026-11-23T00:41:07.311530Z".into(),
        request_id: "6f0c2f1e-8d7c-4a0e-9a3c-1f2e3d4c5b6a".into(),
        session_id: None,
        user_id: Some("1".into()),
        username: Some("yenji100".into()),
        roles: vec!["Nurse".into()],
        method: "tools/call".into(),
        tool: Some("get_medical_records".into()),
        calls: 1,
        decision: "allow",
        rule: "roles.Nurse.tools.get_medical_records".into(),
        reason: None,
        policy_version: "hospital-1@eaa8f6802ef1".into(),
        status: 200,
        upstream_status: Some(200),
        redactions: Default::default(),
        latency_us: 412,
        args_hmac: None,
    };
    let prev = "0".repeat(64);
    c.bench_function("audit/serialise+seal one record", |b| {
        b.iter(|| {
            let body = serde_json::to_string(black_box(&record)).unwrap();
            let open = body.strip_suffix('}').unwrap_or(&body);
            chain.seal(&format!("{open},\"prev\":\"{prev}\"}}"))
        })
    });
}

criterion_group!(benches, bench, audit);
criterion_main!(benches);
