//! Redaction throughput (MB/s) for the Researcher (Safe Harbor) profile on MCP responses of
//! about 1 KiB, 64 KiB and 1 MiB — `structuredContent` plus its JSON copy in `content[].text` —
//! beside the floor: parsing and serialising the same body with serde_json; and a 1 MiB FHIR R4
//! searchset Bundle (US Core Patient, Condition, DocumentReference, Observation entries, as
//! `structuredContent` plus its pretty-printed twin), redacted by datatype.
//!
//!     cargo bench --bench redact

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};

use mcp_gatekeeper::auth::Identity;

/// The gatekeeper's allocator, so the bench measures what the proxy runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A `search_patients`-shaped response of about `target` bytes built from the mock data.
fn response(target: usize) -> Vec<u8> {
    let data: Value =
        serde_json::from_str(include_str!("../mock-mcp/data/hospital.json")).expect("data");
    let patients = data["patients"].as_array().expect("patients");
    let summary = |p: &Value| {
        json!({"patient_id": p["patient_id"], "name": p["name"], "date_of_birth": p["date_of_birth"],
            "phone": p["phone"], "address": p["address"], "diagnoses": p["diagnoses"],
            "notes": p["clinical_notes"]})
    };
    let build = |n: usize| {
        let chosen: Vec<Value> = (0..n)
            .map(|i| summary(&patients[i % patients.len()]))
            .collect();
        let payload = json!({"count": n, "patients": chosen});
        json!({"jsonrpc":"2.0","id":1,"result":{
            "content":[{"type":"text","text": payload.to_string()}],
            "structuredContent": payload, "isError": false}})
        .to_string()
        .into_bytes()
    };
    let one = build(1).len();
    build((target / one).max(1))
}

/// A tools/call answer carrying a searchset Bundle of about `target` bytes: the entries of
/// tests/fixtures/fhir_bundle_answer.json repeated under fresh ids, with the pretty twin.
fn fhir_response(target: usize) -> Vec<u8> {
    let fixture: Value =
        serde_json::from_str(include_str!("../tests/fixtures/fhir_bundle_answer.json"))
            .expect("fixture");
    let entries = fixture["result"]["structuredContent"]["entry"]
        .as_array()
        .expect("entries")
        .clone();
    let build = |copies: usize| {
        let mut all = Vec::new();
        for n in 0..copies {
            for e in &entries {
                let text = e
                    .to_string()
                    .replace("p1", &format!("p{n}"))
                    .replace("\"id\":\"", &format!("\"id\":\"{n}-"));
                all.push(serde_json::from_str::<Value>(&text).expect("entry"));
            }
        }
        let bundle =
            json!({"resourceType":"Bundle","type":"searchset","total":all.len(),"entry":all});
        let pretty = serde_json::to_string_pretty(&bundle).expect("pretty");
        json!({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":pretty}],
            "structuredContent":bundle}})
        .to_string()
        .into_bytes()
    };
    let one = build(1).len();
    build((target / one).max(1))
}

fn bench(c: &mut Criterion) {
    let policy = mcp_gatekeeper::policy_file::parse(include_str!("../policy/hospital.yaml"))
        .expect("policy");
    let who = Identity {
        user_id: "r".into(),
        username: None,
        roles: vec!["Researcher".into()],
        claims: Default::default(),
        certificate: None,
    };
    let redactor = policy.redactor_for(&who).expect("redactor");
    let mut group = c.benchmark_group("redact");
    // The answer `make bench` redacts: mock-mcp's get_medical_records for NUGWI, 2.4 KB.
    let body = include_bytes!("../tests/fixtures/medical_records_answer.json").to_vec();
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_with_input(
        BenchmarkId::new("researcher", "medical_records"),
        &body,
        |b, body| b.iter(|| redactor.redact_json(black_box(body)).expect("redacts")),
    );
    for (label, size) in [("1KiB", 1024), ("64KiB", 64 * 1024), ("1MiB", 1024 * 1024)] {
        let body = response(size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("researcher", label), &body, |b, body| {
            b.iter(|| redactor.redact_json(black_box(body)).expect("redacts"))
        });
        group.bench_with_input(
            BenchmarkId::new("parse+serialise floor", label),
            &body,
            |b, body| {
                b.iter(|| {
                    let v: Value = serde_json::from_slice(black_box(body)).expect("json");
                    serde_json::to_vec(&v).expect("serialise")
                })
            },
        );
    }
    let body = fhir_response(1024 * 1024);
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_with_input(
        BenchmarkId::new("researcher", "fhir-1MiB"),
        &body,
        |b, body| b.iter(|| redactor.redact_json(black_box(body)).expect("redacts")),
    );
    group.bench_with_input(
        BenchmarkId::new("parse+serialise floor", "fhir-1MiB"),
        &body,
        |b, body| {
            b.iter(|| {
                let v: Value = serde_json::from_slice(black_box(body)).expect("json");
                serde_json::to_vec(&v).expect("serialise")
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
