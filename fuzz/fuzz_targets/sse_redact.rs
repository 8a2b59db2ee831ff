//! The SSE redactor on an arbitrary stream cut at arbitrary places: the output is the same
//! however the stream is split (the first byte of the input chooses the cut points), and a
//! value the field rules redact never comes out.
#![no_main]

mod researcher;

use libfuzzer_sys::fuzz_target;
use mcp_gatekeeper::redact::sse::SseRedactor;
use researcher::redactor;

const CAP: usize = 64 * 1024;

fn run(chunks: &[&[u8]]) -> Result<Vec<u8>, ()> {
    let mut sse = SseRedactor::new(redactor(), CAP);
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend(sse.push(chunk).map_err(|_| ())?);
    }
    out.extend(sse.finish().map_err(|_| ())?);
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = run(&[stream]);
    let step = usize::from(seed % 7) + 1;
    let pieces: Vec<&[u8]> = stream.chunks(step).collect();
    let split = run(&pieces);
    match (&whole, &split) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "output depends on how the stream was split"),
        // A cut (oversized or non-UTF-8 event) may come at another chunk, but must come.
        (Err(()), Err(())) => {}
        _ => panic!("one split was cut and the other was not: {whole:?} vs {split:?}"),
    }
    if let Ok(out) = whole {
        assert!(
            !has_ssn(&out),
            "an SSN came out: {}",
            String::from_utf8_lossy(&out)
        );
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
