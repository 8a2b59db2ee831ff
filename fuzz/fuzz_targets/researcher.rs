//! Shared by the redaction targets: the Researcher's redactor from the shipped policy (built
//! once per fuzzing process), and the two properties they check of what comes out.

use std::sync::{Arc, OnceLock};

use mcp_gatekeeper::auth::identity_from_claims;

use mcp_gatekeeper::redact::Redactor;

pub fn redactor() -> Arc<Redactor> {
    static R: OnceLock<Arc<Redactor>> = OnceLock::new();
    R.get_or_init(|| {
        let policy = mcp_gatekeeper::policy_file::parse(include_str!("../../policy/hospital.yaml"))
            .expect("policy");
        let claims = serde_json::json!({"sub": "fuzz", "role": "Researcher"});
        let researcher = identity_from_claims(claims.as_object().cloned().unwrap_or_default())
            .expect("identity");
        policy
            .redactor_for(&researcher)
            .expect("Researcher redacts")
    })
    .clone()
}

/// Whatever the input, an SSN never comes out; and the output does not depend on how the
/// input was split, unless one of the two was cut for size (which may come at another chunk).
#[allow(dead_code)] // json_tree takes only the redactor
pub fn check(whole: &[u8], split: &[u8]) {
    let cut = |o: &[u8]| o.windows(8).any(|w| w == b"\"error\":");
    if !cut(whole) && !cut(split) {
        assert_eq!(whole, split, "output depends on how the input was split");
    }
    for out in [whole, split] {
        assert!(
            !has_ssn(out),
            "an SSN came out: {}",
            String::from_utf8_lossy(out)
        );
    }
}

/// "123-45-6789" standing alone (no digit or hyphen continuing it), as the detector defines an
/// SSN; inside "2123-45-6789" it is part of another number.
#[allow(dead_code)]
fn has_ssn(out: &[u8]) -> bool {
    const SSN: &[u8] = b"123-45-6789";
    let joins = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_digit() || *b == b'-');
    out.windows(SSN.len()).enumerate().any(|(i, w)| {
        w == SSN
            && !joins(i.checked_sub(1).and_then(|j| out.get(j)))
            && !joins(out.get(i + SSN.len()))
    })
}
