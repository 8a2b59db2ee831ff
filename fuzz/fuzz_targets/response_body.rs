//! The response path as a hostile upstream meets it: arbitrary bytes under an arbitrary label,
//! answering an arbitrary method, cut at arbitrary places, through `response::Rewrite` as the
//! Researcher receives them. Whatever comes in, an SSN never comes out, and the output does not
//! depend on how the body was split (a cut for size may come at another chunk).
#![no_main]

mod researcher;

use libfuzzer_sys::fuzz_target;
use mcp_gatekeeper::redact::Asked;
use mcp_gatekeeper::response::{Head, Plan, Rewrite};
use researcher::redactor;
use serde_json::json;

const CAP: usize = 64 * 1024;
const LABELS: [&[&str]; 5] = [
    &["application/json"],
    &["text/event-stream"],
    &["text/plain"],
    &[],
    &["text/event-stream", "application/json"],
];
const METHODS: [&str; 6] = [
    "tools/call",
    "tools/list",
    "initialize",
    "resources/read",
    "prompts/get",
    "get_medical_records",
];

fn run(labels: &[&str], method: &str, chunks: &[&[u8]]) -> Vec<u8> {
    let id = json!(1);
    let plan = Plan {
        list: None,
        redactor: Some(redactor()),
        asked: Asked::new([(Some(&id), method, Some("file:///x"))]),
        id: id.clone(),
        cap: CAP,
        observe: true,
        watch: Default::default(),
        private_cache: false,
        read_passed_body: false,
    };
    let mut rewrite = Rewrite::new(plan);
    rewrite.start(&Head {
        content_types: labels.to_vec(),
        content_encodings: vec![],
    });
    let mut out = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        out.extend(rewrite.push(chunk, i + 1 == chunks.len()));
    }
    if chunks.is_empty() {
        out.extend(rewrite.push(&[], true));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let labels = LABELS[usize::from(seed) % LABELS.len()];
    let method = METHODS[usize::from(seed / 8) % METHODS.len()];
    let whole = run(labels, method, &[body]);
    let step = usize::from(seed % 5) + 1;
    let pieces: Vec<&[u8]> = body.chunks(step).collect();
    let split = run(labels, method, &pieces);
    researcher::check(&whole, &split);
});
