//! The Authorization header parser and the JWT verifier on arbitrary bytes: never a panic, and
//! nothing that was not signed with the key is ever accepted.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mcp_gatekeeper::auth::{bearer_token, JwtRules, Verifier};

const SECRET: &[u8] = b"fuzzing-secret-0123456789abcdef0123456789";

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let rules = JwtRules {
            cache_entries: 0,
            require_exp: false,
            ..JwtRules::default()
        };
        Verifier::hmac(SECRET, &rules).expect("verifier")
    })
}

fuzz_target!(|data: &[u8]| {
    // One header value, or several separated by a NUL (two Authorization headers).
    let values: Vec<&[u8]> = data.split(|b| *b == 0).collect();
    let Ok(token) = bearer_token(&values) else {
        return;
    };
    // A random token can only verify if the fuzzer forged an HMAC: that would be a finding.
    assert!(
        verifier().verify(token).is_err(),
        "an unsigned token was accepted: {token}"
    );
});
