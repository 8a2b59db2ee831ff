//! The real shape through the real binaries: `mock-mcp --fhir` (US Core R4 resources and
//! Bundles) behind the gatekeeper with the shipped policy, each role as it would call.

mod common;

use common::*;
use serde_json::{json, Value};

fn call(stack_url: &str, role: &str, tool: &str) -> (String, Value) {
    let (status, _, body) = post(
        stack_url,
        Some(&token(role)),
        &tools_call(tool, json!({"patient_id":"NUGWI"})),
    );
    assert_eq!(
        status,
        200,
        "{role} {tool}: {}",
        String::from_utf8_lossy(&body)
    );
    let msg = message(&body);
    (msg.to_string(), msg)
}

#[test]
fn each_role_gets_the_fhir_record_its_profile_allows() {
    let mock = start_mock_with(&["--fhir"]);
    let gate = start_gatekeeper(GateOptions::new(mock.addr));
    let url = format!("http://{}/mcp", gate.addr);

    let (doctor, msg) = call(&url, "Doctor", "get_medical_records");
    assert_eq!(
        msg["result"]["structuredContent"]["resourceType"], "Bundle",
        "{doctor}"
    );
    assert!(
        doctor.contains("Ingrid") && doctor.contains("733-55-6995"),
        "{doctor}"
    );

    let (researcher, _) = call(&url, "Researcher", "get_medical_records");
    for phi in [
        "Ingrid",
        "Iwu",
        "733-55-6995",
        "1932-07-08",
        "Granite Way",
        "02932",
        "(401) 555-0191",
    ] {
        assert!(
            !researcher.contains(phi),
            "Researcher saw {phi}: {researcher}"
        );
    }
    for kept in [
        "http://hl7.org/fhir/sid/icd-10-cm",
        "\"state\":\"RI\"",
        "\"postalCode\":\"029\"",
        "us-core-patient",
    ] {
        assert!(
            researcher.contains(kept),
            "Researcher lost {kept}: {researcher}"
        );
    }

    let (nurse, _) = call(&url, "Nurse", "get_patient");
    assert!(
        nurse.contains("***-**-6995") && !nurse.contains("733-55-6995"),
        "{nurse}"
    );
    assert!(nurse.contains("Ingrid"), "a Nurse sees names: {nurse}");

    let (billing, msg) = call(&url, "Billing", "get_patient");
    assert!(!billing.contains("733-55-6995"), "{billing}");
    assert_eq!(
        msg["result"]["structuredContent"]["resourceType"],
        "Patient"
    );
}
