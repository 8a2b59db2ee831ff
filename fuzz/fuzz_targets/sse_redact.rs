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
    // A cut (an oversized event) may come at another chunk; everything before it is equal.
    let cut = |o: &[u8]| o.windows(8).any(|w| w == b"\"error\":");
    if !cut(&whole) && !cut(&split) {
        assert_eq!(whole, split, "output depends on how the stream was split");
    }
    for out in [&whole, &split] {
        assert!(!has_ssn(out), "an SSN came out: {}", String::from_utf8_lossy(out));
    }
});

/// "123-45-6789" standing alone (no digit or hyphen continuing it), as the detector defines an
/// SSN; inside "2123-45-6789" it is part of another number.
fn has_ssn(out: &[u8]) -> bool {
    const SSN: &[u8] = b"123-45-6789";
    let joins = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_digit() || *b == b'-');
    out.windows(SSN.len()).enumerate().any(|(i, w)| {
        w == SSN
            && !joins(i.checked_sub(1).and_then(|j| out.get(j)))
            && !joins(out.get(i + SSN.len()))
    })
}
