use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::build::{self, base64, EPI_OID, MRN_SYSTEM, SSN_SYSTEM, US_CORE};
use super::*;
use crate::rpc::{self, Flavor, METHOD_NOT_FOUND};

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn fhir(h: &mut Hospital, name: &str, a: Value) -> ToolResult {
    call(h, name, &args(a)).expect("a known tool")
}

fn run(name: &str, a: Value) -> Value {
    fhir(&mut Hospital::builtin().unwrap(), name, a).expect("the tool succeeds")
}

fn resources_of<'a>(bundle: &'a Value, kind: &'a str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

/// Every `Type/id` reference in `v`.
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("reference") {
                out.push(r.clone());
            }
            m.values().for_each(|v| references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

#[test]
fn base64_matches_rfc_4648() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
    }
    assert_eq!(base64(&[0xFB, 0xFF]), "+/8=");
}

#[test]
fn get_patient_is_a_us_core_patient() {
    let h = Hospital::builtin().unwrap();
    let record = h.patient("NUGWI").unwrap();
    let p = run("get_patient", json!({"patient_id": "NUGWI"}));
    assert_eq!(p["resourceType"], "Patient");
    assert_eq!(p["id"], "NUGWI");
    assert_eq!(p["meta"]["profile"][0], format!("{US_CORE}us-core-patient"));
    assert_eq!(p["name"][0]["family"], record["last_name"]);
    assert_eq!(p["name"][0]["given"][0], record["first_name"]);
    assert_eq!(p["birthDate"], record["date_of_birth"]);
    assert_eq!(p["gender"], "female");
    assert_eq!(p["address"][0]["postalCode"], record["address"]["zip"]);
    assert_eq!(p["address"][0]["line"][0], record["address"]["street"]);
    assert_eq!(p["address"][0]["country"], "US");
    let ids = p["identifier"].as_array().unwrap();
    let value_of = |system: &str| {
        ids.iter()
            .find(|i| i["system"] == system)
            .map(|i| i["value"].clone())
    };
    assert_eq!(value_of(SSN_SYSTEM), Some(record["ssn"].clone()));
    assert_eq!(value_of(MRN_SYSTEM), Some(record["mrn"].clone()));
    assert_eq!(value_of(EPI_OID), Some(json!("NUGWI")));
    assert_eq!(ids[0]["type"]["coding"][0]["code"], "MR");
    let telecom = p["telecom"].to_string();
    assert!(telecom.contains(record["phone"].as_str().unwrap()));
    assert!(telecom.contains(record["email"].as_str().unwrap()));
    assert_eq!(
        p["contact"][0]["telecom"][0]["value"],
        record["emergency_contact"]["phone"]
    );
}

#[test]
fn medical_records_are_one_linked_searchset_bundle() {
    let h = Hospital::builtin().unwrap();
    for record in h.patients() {
        let id = record["patient_id"].as_str().unwrap();
        let b = run("get_medical_records", json!({"patient_id": id}));
        assert_eq!(
            (b["resourceType"].as_str(), b["type"].as_str()),
            (Some("Bundle"), Some("searchset"))
        );
        let entries = b["entry"].as_array().unwrap();
        let matches = entries
            .iter()
            .filter(|e| e["search"]["mode"] == "match")
            .count();
        assert_eq!(b["total"], matches);
        let mut present = HashSet::new();
        for e in entries {
            let r = &e["resource"];
            let key = format!(
                "{}/{}",
                r["resourceType"].as_str().unwrap(),
                r["id"].as_str().unwrap()
            );
            assert_eq!(e["fullUrl"], format!("{}/{key}", build::BASE));
            assert!(present.insert(key.clone()), "{key} twice");
            let profile = r["meta"]["profile"][0].as_str().unwrap_or_default();
            assert!(profile.starts_with(US_CORE), "{key}: {profile}");
        }
        let mut refs = Vec::new();
        references(&b, &mut refs);
        for r in refs {
            assert!(
                present.contains(&r),
                "{id}: {r} does not resolve in the bundle"
            );
        }
        let count = |k| resources_of(&b, k).len();
        let len = |k: &str| record[k].as_array().map_or(0, Vec::len);
        assert_eq!(count("Patient"), 1);
        assert_eq!(count("Condition"), len("diagnoses"));
        assert_eq!(count("DocumentReference"), len("clinical_notes"));
        assert_eq!(count("Encounter"), len("clinical_notes"));
        assert!(
            count("Observation") >= 2 && count("MedicationRequest") >= 1,
            "{id}"
        );
        for (doc, note) in resources_of(&b, "DocumentReference")
            .into_iter()
            .zip(record["clinical_notes"].as_array().unwrap())
        {
            let attachment = &doc["content"][0]["attachment"];
            assert_eq!(attachment["contentType"], "text/plain");
            assert_eq!(
                attachment["data"],
                base64(note["text"].as_str().unwrap().as_bytes())
            );
        }
        for (c, d) in resources_of(&b, "Condition")
            .into_iter()
            .zip(record["diagnoses"].as_array().unwrap())
        {
            let coding = &c["code"]["coding"][0];
            assert_eq!(coding["system"], "http://hl7.org/fhir/sid/icd-10-cm");
            assert_eq!(
                (&coding["code"], &coding["display"]),
                (&d["code"], &d["description"])
            );
            assert_eq!(c["onsetDateTime"], d["onset_date"]);
        }
        for o in resources_of(&b, "Observation") {
            assert_eq!(o["valueQuantity"]["system"], "http://unitsofmeasure.org");
            assert!(o["valueQuantity"]["value"].is_number());
            assert_eq!(o["code"]["coding"][0]["system"], "http://loinc.org");
        }
        let diabetic = record["diagnoses"].to_string().contains("\"E11");
        let a1c = resources_of(&b, "Observation")
            .iter()
            .any(|o| o["code"]["coding"][0]["code"] == "4548-4");
        assert_eq!(diabetic, a1c, "{id}: HbA1c exactly for diabetes");
    }
}

#[test]
fn every_run_serves_the_same_resources() {
    let a = run("get_medical_records", json!({"patient_id": "NUGWI"}));
    let b = run("get_medical_records", json!({"patient_id": "NUGWI"}));
    assert_eq!(a, b);
}

#[test]
fn tools_keep_their_arguments_and_their_errors() {
    for (name, bad) in [
        ("get_patient", json!({"patient_id": "ZZZZZ"})),
        ("get_medical_records", json!({})),
        ("get_billing", json!({"patient_id": 7})),
        ("search_patients", json!({"limit": "3"})),
        ("list_appointments", json!({"date": "03/04/2027"})),
        (
            "add_clinical_note",
            json!({"patient_id": "NUGWI", "note": " "}),
        ),
    ] {
        let plain = tools::call(&mut Hospital::builtin().unwrap(), name, &args(bad.clone()));
        let shaped = call(&mut Hospital::builtin().unwrap(), name, &args(bad));
        assert!(matches!(plain, Some(Err(_))), "{name}");
        assert_eq!(plain, shaped, "{name}");
    }
    assert!(call(
        &mut Hospital::builtin().unwrap(),
        "drop_tables",
        &Map::new()
    )
    .is_none());
}

#[test]
fn search_appointments_and_billing_are_bundles_of_their_resources() {
    let mut h = Hospital::builtin().unwrap();
    let plain = tools::call(
        &mut h,
        "search_patients",
        &args(json!({"query": "hypertension", "limit": 100})),
    )
    .unwrap()
    .unwrap();
    let found = run(
        "search_patients",
        json!({"query": "hypertension", "limit": 100}),
    );
    assert_eq!(found["total"], plain["count"]);
    assert_eq!(
        resources_of(&found, "Patient").len() as u64,
        plain["count"].as_u64().unwrap()
    );

    let record = h.patient("NUGWI").unwrap().clone();
    let appts = run("list_appointments", json!({"patient_id": "NUGWI"}));
    let booked = resources_of(&appts, "Appointment");
    assert_eq!(
        booked.len(),
        record["appointments"].as_array().unwrap().len()
    );
    assert_eq!(
        booked[0]["participant"][0]["actor"]["reference"],
        "Patient/NUGWI"
    );
    assert_eq!(booked[0]["status"], "booked");

    let bill = run("get_billing", json!({"patient_id": "NUGWI"}));
    let coverage = resources_of(&bill, "Coverage");
    assert_eq!(
        coverage[0]["subscriberId"],
        record["insurance"]["member_id"]
    );
    let invoices = resources_of(&bill, "Invoice");
    assert_eq!(invoices.len(), record["billing"].as_array().unwrap().len());
    assert_eq!(
        invoices[0]["lineItem"][0]["chargeItemCodeableConcept"]["coding"][0]["code"],
        record["billing"][0]["cpt_code"]
    );
    assert_eq!(resources_of(&bill, "Patient").len(), 1);
    assert_eq!(bill["total"], 1 + invoices.len());
}

#[test]
fn a_new_note_is_a_document_reference_and_joins_the_records() {
    let mut h = Hospital::builtin().unwrap();
    let note = json!({"patient_id": "NUGWI", "note": "Seen today.", "author": "Dr. Who"});
    let doc = fhir(&mut h, "add_clinical_note", note).unwrap();
    assert_eq!(doc["resourceType"], "DocumentReference");
    assert_eq!(doc["subject"]["reference"], "Patient/NUGWI");
    assert_eq!(
        doc["content"][0]["attachment"]["data"],
        base64(b"Seen today.")
    );
    let records = fhir(
        &mut h,
        "get_medical_records",
        json!({"patient_id": "NUGWI"}),
    )
    .unwrap();
    assert!(resources_of(&records, "DocumentReference").contains(&&doc));
}

#[test]
fn the_legacy_form_gets_the_bundles_resources() {
    let b = run("get_medical_records", json!({"patient_id": "NUGWI"}));
    let data = legacy_data(b.clone());
    assert_eq!(
        data.as_array().unwrap().len(),
        b["entry"].as_array().unwrap().len()
    );
    let p = run("get_patient", json!({"patient_id": "NUGWI"}));
    assert_eq!(legacy_data(p.clone()), json!([p]));
    let mut h = Hospital::builtin().unwrap();
    let o = rpc::handle(
        Flavor::Fhir,
        &mut h,
        &json!({"jsonrpc":"2.0","id":1,"method":"get_medical_records",
                "params":{"arguments":{"patient_id":"NUGWI"}}}),
    );
    let r = o.response.unwrap();
    assert!(r["result"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["resourceType"].is_string()));
}

#[test]
fn resources_are_listed_by_id_and_read_as_fhir_json() {
    let h = Hospital::builtin().unwrap();
    let listed = resources(&h, "resources/list", &Map::new())
        .unwrap()
        .unwrap();
    let items = listed["resources"].as_array().unwrap();
    assert_eq!(items.len(), 2 * h.patients().len());
    assert_eq!(items[0]["uri"], "fhir://Patient/NUGWI");
    assert_eq!(items[1]["uri"], "fhir://Bundle/NUGWI");
    let text = listed.to_string();
    for p in h.patients() {
        assert!(
            !text.contains(p["last_name"].as_str().unwrap()),
            "a name in resources/list"
        );
    }
    let templates = resources(&h, "resources/templates/list", &Map::new())
        .unwrap()
        .unwrap();
    assert_eq!(templates["resourceTemplates"].as_array().unwrap().len(), 2);

    let read = |uri: &str| resources(&h, "resources/read", &args(json!({"uri": uri}))).unwrap();
    let got = read("fhir://Patient/NUGWI").unwrap();
    let content = &got["contents"][0];
    assert_eq!(
        (content["uri"].as_str(), content["mimeType"].as_str()),
        (Some("fhir://Patient/NUGWI"), Some(MIME))
    );
    let patient: Value = serde_json::from_str(content["text"].as_str().unwrap()).unwrap();
    assert_eq!(patient, build::patient(h.patient("NUGWI").unwrap()));
    let bundle: Value = serde_json::from_str(
        read("fhir://Bundle/NUGWI").unwrap()["contents"][0]["text"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(bundle, records(h.patient("NUGWI").unwrap()));
    for bad in [
        "fhir://Patient/ZZZZZ",
        "fhir://Observation/NUGWI",
        "file:///etc/passwd",
        "fhir://Patient",
    ] {
        assert_eq!(read(bad).unwrap_err().0, RESOURCE_NOT_FOUND, "{bad}");
    }
    let missing = resources(&h, "resources/read", &Map::new()).unwrap();
    assert_eq!(missing.unwrap_err().0, INVALID_PARAMS);
    assert!(resources(&h, "resources/subscribe", &Map::new()).is_none());
}

#[test]
fn only_the_fhir_flavour_advertises_and_serves_resources() {
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}});
    let list = json!({"jsonrpc":"2.0","id":2,"method":"resources/list"});
    let mut h = Hospital::builtin().unwrap();
    let fhir_init = rpc::handle(Flavor::Fhir, &mut h, &init).response.unwrap();
    assert_eq!(
        fhir_init["result"]["capabilities"]["resources"]["listChanged"],
        false
    );
    assert_eq!(fhir_init["result"]["protocolVersion"], "2025-06-18");
    let plain_init = rpc::handle(Flavor::Plain, &mut h, &init).response.unwrap();
    assert!(plain_init["result"]["capabilities"]
        .get("resources")
        .is_none());
    let listed = rpc::handle(Flavor::Fhir, &mut h, &list).response.unwrap();
    assert!(listed["result"]["resources"].is_array());
    let plain = rpc::handle(Flavor::Plain, &mut h, &list).response.unwrap();
    assert_eq!(plain["error"]["code"], METHOD_NOT_FOUND);
    let other = json!({"jsonrpc":"2.0","id":3,"method":"resources/subscribe"});
    let r = rpc::handle(Flavor::Fhir, &mut h, &other).response.unwrap();
    assert_eq!(r["error"]["code"], METHOD_NOT_FOUND);
}
