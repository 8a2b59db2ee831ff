//! The per-request decision path without the network: Bearer extraction + JWT verification
//! (HS256, RS256, ES256), JSON-RPC classification, policy decision (the reference policy and a
//! generated 1,000-rule one), all of them together (one request's cost), and the audit
//! writer's per-record work.
//!
//!     cargo bench --bench core

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use mcp_gatekeeper::audit::{AuditRecord, Chain};
use mcp_gatekeeper::auth::{bearer_token, JwtRules, KeySource, ProviderConfig, Verifier};
use mcp_gatekeeper::jsonrpc;

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

fn verifier(cache_entries: usize) -> Verifier {
    let rules = JwtRules {
        cache_entries,
        ..JwtRules::default()
    };
    Verifier::hmac(SECRET, &rules).expect("verifier")
}

/// A token from an identity provider signed with the test key pair in `tests/keys`, and a
/// verifier that knows the provider's public key.
fn public_key_pair(
    alg: Algorithm,
    private_pem: &str,
    public_pem: &str,
    cache_entries: usize,
) -> (String, Verifier) {
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys");
    let pem = std::fs::read(keys.join(private_pem)).expect("test key");
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
        _ => EncodingKey::from_rsa_pem(&pem),
    }
    .expect("private key");
    let exp = jsonwebtoken::get_current_timestamp() + 3600;
    let claims = json!({"sub":"1","role":"Nurse","iss":"https://idp.bench","exp":exp});
    let token = jsonwebtoken::encode(&Header::new(alg), &claims, &key).expect("signing");
    let provider = ProviderConfig {
        issuer: "https://idp.bench".into(),
        algorithms: vec![alg],
        source: KeySource::PemFile(keys.join(public_pem)),
        audiences: vec![],
        refresh: std::time::Duration::from_secs(300),
        refetch_min_interval: std::time::Duration::from_secs(10),
    };
    let verifier = Verifier::new(
        None,
        &JwtRules {
            cache_entries,
            ..JwtRules::default()
        },
        &[provider],
        None,
        &mcp_gatekeeper::key_loader::FilesAndHttp::shared(),
    )
    .expect("verifier");
    (token, verifier)
}

/// 50 roles with 20 tools each, every tool conditional on a claim: 1,000 rules.
fn thousand_rule_policy() -> String {
    let mut yaml = String::from("version: generated-1000\nroles:\n");
    for role in 0..50 {
        yaml.push_str(&format!("  Role{role}:\n    tools:\n"));
        for tool in 0..20 {
            let n = role * 20 + tool;
            yaml.push_str(&format!(
                "      - {{ name: tool_{n}, when: {{ patient_id: {{ claim: patient_id }} }} }}\n"
            ));
        }
    }
    yaml
}

fn bench(c: &mut Criterion) {
    let header = format!("Bearer {}", token());
    let uncached = verifier(0);
    let cached = verifier(16_384);
    let verifier = uncached;
    let policy = mcp_gatekeeper::policy_file::parse(include_str!("../policy/hospital.yaml"))
        .expect("policy");
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"get_medical_records","arguments":{"patient_id":"NUGWI"}}})
    .to_string();
    let identity = verifier
        .verify(bearer_token(&[header.as_bytes()]).expect("bearer"))
        .expect("identity");
    let request = jsonrpc::parse(body.as_bytes()).expect("request");

    c.bench_function("auth/bearer+HS256 verify", |b| {
        b.iter(|| verifier.verify(bearer_token(&[black_box(header.as_bytes())]).unwrap()))
    });
    c.bench_function("auth/bearer+HS256 cached", |b| {
        b.iter(|| cached.verify(bearer_token(&[black_box(header.as_bytes())]).unwrap()))
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
    let large =
        mcp_gatekeeper::policy_file::parse(&thousand_rule_policy()).expect("generated policy");
    let who = mcp_gatekeeper::auth::identity_from_claims(
        json!({"sub":"1","role":"Role49","patient_id":"NUGWI"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    )
    .expect("identity");
    let last_tool = jsonrpc::parse(
        json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
            "params":{"name":"tool_999","arguments":{"patient_id":"NUGWI"}}})
        .to_string()
        .as_bytes(),
    )
    .expect("request");
    c.bench_function("policy/decide 1000-rule", |b| {
        b.iter(|| {
            large
                .decide_request(black_box(&who), black_box(&last_tool))
                .is_ok()
        })
    });
    for (alg, private_pem, public_pem) in [
        (Algorithm::RS256, "rsa.key", "rsa.pub.pem"),
        (Algorithm::ES256, "ec256.key", "ec256.pub.pem"),
    ] {
        for (cache_entries, mode) in [(0, "verify"), (16_384, "cached")] {
            let (token, verifier) = public_key_pair(alg, private_pem, public_pem, cache_entries);
            assert!(verifier.verify(&token).is_ok());
            c.bench_function(&format!("auth/{alg:?} {mode}"), |b| {
                b.iter(|| verifier.verify(black_box(&token)))
            });
        }
    }
    c.bench_function("request/auth+classify+decide verify", |b| {
        b.iter(|| {
            let token = bearer_token(&[black_box(header.as_bytes())]).unwrap();
            let who = verifier.verify(token).unwrap();
            let req = jsonrpc::parse(black_box(body.as_bytes())).unwrap();
            policy.decide_request(&who, &req).is_ok()
        })
    });
    c.bench_function("request/auth+classify+decide cached", |b| {
        b.iter(|| {
            let token = bearer_token(&[black_box(header.as_bytes())]).unwrap();
            let who = cached.verify(token).unwrap();
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
        client_cert: None,
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
