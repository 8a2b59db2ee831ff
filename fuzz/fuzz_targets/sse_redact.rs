//! The response path (`response::Rewrite`) on an arbitrary SSE stream cut at arbitrary places,
//! as the Researcher receives it: the output is the same however the stream is split (the first
//! byte of the input chooses the cut points), and an SSN never comes out.
#![no_main]

mod researcher;

use libfuzzer_sys::fuzz_target;
use mcp_gatekeeper::response::{Head, Plan, Rewrite};
use researcher::redactor;

const CAP: usize = 64 * 1024;

fn run(chunks: &[&[u8]]) -> Vec<u8> {
    let plan = Plan {
        list: None,
        redactor: Some(redactor()),
        asked: Default::default(),
        observe: false,
        watch: Default::default(),
        private_cache: false,
        read_passed_body: false,
        id: serde_json::Value::Null,
        cap: CAP,
    };
    let mut rewrite = Rewrite::new(plan);
    rewrite.start(&Head {
        content_types: vec!["text/event-stream"],
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
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = run(&[stream]);
    let step = usize::from(seed % 7) + 1;
    let pieces: Vec<&[u8]> = stream.chunks(step).collect();
    let split = run(&pieces);
    researcher::check(&whole, &split);
});
