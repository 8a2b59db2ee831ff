//! The Researcher's redactor from the shipped policy, built once per fuzzing process (shared
//! by the redaction targets).

use std::sync::{Arc, OnceLock};

use mcp_gatekeeper::auth::identity_from_claims;

use mcp_gatekeeper::redact::Redactor;

pub fn redactor() -> Arc<Redactor> {
    static R: OnceLock<Arc<Redactor>> = OnceLock::new();
    R.get_or_init(|| {
        let policy = mcp_gatekeeper::policy_file::parse(include_str!("../../policy/hospital.yaml")).expect("policy");
        let claims = serde_json::json!({"sub": "fuzz", "role": "Researcher"});
        let researcher = identity_from_claims(claims.as_object().cloned().unwrap_or_default())
            .expect("identity");
        policy
            .redactor_for(&researcher)
            .expect("Researcher redacts")
    })
    .clone()
}
