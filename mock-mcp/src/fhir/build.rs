//! One hospital record (`data/hospital.json`'s shape) as FHIR R4 / US Core resources.
//!
//! The record's own facts map one to one: demographics → Patient, diagnoses → Condition
//! (ICD-10-CM), clinical notes → DocumentReference (the text as a base64 `text/plain`
//! attachment) and the finished Encounter it was written in, appointments → Appointment,
//! insurance → Coverage, billing lines → Invoice (CPT). What the record does not hold is
//! derived from it deterministically, so every run serves the same resources: vital signs
//! seeded by the patient id, an HbA1c for diabetes and an LDL for hyperlipidemia, and one
//! prescription (RxNorm) per diagnosis that has a usual first-line drug.

use serde_json::{json, Value};

pub const BASE: &str = "https://mock-hospital.example.org/fhir";
pub const US_CORE: &str = "http://hl7.org/fhir/us/core/StructureDefinition/";
pub const SSN_SYSTEM: &str = "http://hl7.org/fhir/sid/us-ssn";
pub const MRN_SYSTEM: &str = "https://mock-hospital.example.org/fhir/sid/mrn";
pub const MEMBER_SYSTEM: &str = "https://mock-hospital.example.org/fhir/sid/member-id";
/// The hospital's enterprise patient identifier (an OID system).
pub const EPI_OID: &str = "urn:oid:1.2.36.146.595.217.0.1";
const ICD10: &str = "http://hl7.org/fhir/sid/icd-10-cm";
const LOINC: &str = "http://loinc.org";
const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const UCUM: &str = "http://unitsofmeasure.org";
const CPT: &str = "http://www.ama-assn.org/go/cpt";
const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";

/// ICD-10-CM code prefix → (RxNorm code, display, dosage instruction).
const DRUGS: [(&str, &str, &str, &str); 11] = [
    (
        "E11",
        "860975",
        "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
        "Take 1 tablet by mouth once daily with the evening meal",
    ),
    (
        "I10",
        "314076",
        "lisinopril 10 MG Oral Tablet",
        "Take 1 tablet by mouth once daily",
    ),
    (
        "J45",
        "745679",
        "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
        "Inhale 2 puffs every 4 to 6 hours as needed for wheezing",
    ),
    (
        "E78",
        "617312",
        "atorvastatin 10 MG Oral Tablet",
        "Take 1 tablet by mouth at bedtime",
    ),
    (
        "I48",
        "855332",
        "warfarin sodium 5 MG Oral Tablet",
        "Take 1 tablet by mouth daily; INR check in 2 weeks",
    ),
    (
        "E03",
        "966222",
        "levothyroxine sodium 0.05 MG Oral Tablet",
        "Take 1 tablet by mouth every morning before breakfast",
    ),
    (
        "F32",
        "312940",
        "sertraline 50 MG Oral Tablet",
        "Take 1 tablet by mouth once daily",
    ),
    (
        "F41",
        "312940",
        "sertraline 50 MG Oral Tablet",
        "Take 1 tablet by mouth once daily",
    ),
    (
        "K21",
        "198053",
        "omeprazole 20 MG Delayed Release Oral Capsule",
        "Take 1 capsule by mouth before breakfast",
    ),
    (
        "G43",
        "310965",
        "ibuprofen 200 MG Oral Tablet",
        "Take 1 to 2 tablets by mouth every 6 hours as needed",
    ),
    (
        "M54",
        "310965",
        "ibuprofen 200 MG Oral Tablet",
        "Take 1 to 2 tablets by mouth every 6 hours as needed",
    ),
];

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({"system": system, "code": code, "display": display})
}

fn concept(system: &str, code: &str, display: &str) -> Value {
    json!({"coding": [coding(system, code, display)]})
}

fn profile(name: &str) -> Value {
    json!({"profile": [format!("{US_CORE}{name}")]})
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

fn id_of(p: &Value) -> &str {
    text(p, "patient_id")
}

/// `{"reference": "Patient/ID", "display": name}`.
pub fn subject(p: &Value) -> Value {
    json!({"reference": format!("Patient/{}", id_of(p)), "display": p["name"]})
}

/// A searchset Bundle of `(resource, search mode)` entries, `total` counting the matches.
pub fn searchset(id: &str, self_url: &str, entries: Vec<(Value, &str)>) -> Value {
    let total = entries.iter().filter(|(_, mode)| *mode == "match").count();
    let entry: Vec<Value> = entries
        .into_iter()
        .map(|(r, mode)| {
            let url = format!("{BASE}/{}/{}", text(&r, "resourceType"), text(&r, "id"));
            json!({"fullUrl": url, "resource": r, "search": {"mode": mode}})
        })
        .collect();
    json!({"resourceType": "Bundle", "id": id, "type": "searchset", "total": total,
           "link": [{"relation": "self", "url": self_url}], "entry": entry})
}

pub fn patient(p: &Value) -> Value {
    let sex = text(p, "sex");
    let gender = match sex {
        "F" => "female",
        "M" => "male",
        _ => "unknown",
    };
    let mut identifier = vec![json!({"use": "usual",
        "type": {"coding": [coding(V2_0203, "MR", "Medical Record Number")],
                 "text": "Medical Record Number"},
        "system": MRN_SYSTEM, "value": p["mrn"]})];
    if p["ssn"].is_string() {
        identifier.push(
            json!({"type": concept(V2_0203, "SS", "Social Security number"),
                               "system": SSN_SYSTEM, "value": p["ssn"]}),
        );
    }
    identifier.push(json!({"use": "official", "system": EPI_OID, "value": id_of(p)}));
    let a = &p["address"];
    let mut out = json!({
        "resourceType": "Patient",
        "id": id_of(p),
        "meta": profile("us-core-patient"),
        "extension": [{"url": format!("{US_CORE}us-core-birthsex"), "valueCode": sex}],
        "identifier": identifier,
        "active": true,
        "name": [{"use": "official", "family": p["last_name"], "given": [p["first_name"]],
                  "text": p["name"]}],
        "telecom": [{"system": "phone", "value": p["phone"], "use": "home"},
                    {"system": "email", "value": p["email"]}],
        "gender": gender,
        "birthDate": p["date_of_birth"],
        "address": [{"use": "home", "line": [a["street"]], "city": a["city"],
                     "state": a["state"], "postalCode": a["zip"], "country": "US"}],
        "communication": [{"language": concept("urn:ietf:bcp:47", "en-US", "English (United States)")}],
    });
    let contact = &p["emergency_contact"];
    if contact.is_object() {
        out["contact"] = json!([{
            "relationship": [concept("http://terminology.hl7.org/CodeSystem/v2-0131", "C",
                                     "Emergency Contact")],
            "name": {"text": contact["name"]},
            "telecom": [{"system": "phone", "value": contact["phone"]}],
        }]);
    }
    out
}

fn items<'a>(p: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    p[key].as_array().into_iter().flatten().enumerate()
}

pub fn conditions(p: &Value) -> Vec<Value> {
    items(p, "diagnoses")
        .map(|(i, d)| {
            let mut c = json!({
                "resourceType": "Condition",
                "id": format!("{}-dx-{}", id_of(p), i + 1),
                "meta": profile("us-core-condition-problems-health-concerns"),
                "clinicalStatus": concept(
                    "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
                "verificationStatus": concept(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed",
                    "Confirmed"),
                "category": [concept("http://terminology.hl7.org/CodeSystem/condition-category",
                                     "problem-list-item", "Problem List Item")],
                "code": {"coding": [coding(ICD10, text(d, "code"), text(d, "description"))],
                         "text": d["description"]},
                "subject": subject(p),
            });
            if d["onset_date"].is_string() {
                c["onsetDateTime"] = d["onset_date"].clone();
            }
            c
        })
        .collect()
}

/// The finished visit a clinical note was written in.
pub fn encounter_id(note: &Value) -> String {
    format!("{}-enc", text(note, "note_id"))
}

pub fn encounters(p: &Value) -> Vec<Value> {
    items(p, "clinical_notes")
        .map(|(_, n)| {
            json!({
                "resourceType": "Encounter",
                "id": encounter_id(n),
                "meta": profile("us-core-encounter"),
                "status": "finished",
                "class": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB",
                                "ambulatory"),
                "type": [concept("http://snomed.info/sct", "185349003",
                                 "Encounter for check up (procedure)")],
                "subject": subject(p),
                "participant": [{"individual": {"display": n["author"]}}],
                "period": {"start": n["date"], "end": n["date"]},
            })
        })
        .collect()
}

pub fn document_reference(p: &Value, note: &Value) -> Value {
    json!({
        "resourceType": "DocumentReference",
        "id": note["note_id"],
        "meta": profile("us-core-documentreference"),
        "status": "current",
        "type": concept(LOINC, "11506-3", "Progress note"),
        "category": [concept(
            "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
            "clinical-note", "Clinical Note")],
        "subject": subject(p),
        "date": format!("{}T12:00:00Z", text(note, "date")),
        "author": [{"display": note["author"]}],
        "content": [{"attachment": {"contentType": "text/plain", "language": "en-US",
                                    "data": base64(text(note, "text").as_bytes()),
                                    "title": "Clinical note"}}],
        "context": {"encounter": [{"reference": format!("Encounter/{}", encounter_id(note))}]},
    })
}

pub fn document_references(p: &Value) -> Vec<Value> {
    items(p, "clinical_notes")
        .map(|(_, n)| document_reference(p, n))
        .collect()
}

/// FNV-1a: a stable number per patient, to derive values the record does not hold.
fn seed(id: &str, salt: &str) -> u64 {
    id.bytes()
        .chain(salt.bytes())
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

fn between(id: &str, salt: &str, lo: u64, hi: u64) -> u64 {
    lo + seed(id, salt) % (hi - lo + 1)
}

pub fn observations(p: &Value) -> Vec<Value> {
    let id = id_of(p);
    let first_note = p["clinical_notes"].get(0);
    let when = first_note.map_or("2024-01-15", |n| text(n, "date"));
    let mut labs = vec![
        (
            "hr",
            "8867-4",
            "Heart rate",
            json!(between(id, "hr", 58, 96)),
            "beats/minute",
            "/min",
            "us-core-heart-rate",
            "vital-signs",
        ),
        (
            "wt",
            "29463-7",
            "Body weight",
            json!(between(id, "wt", 480, 1150) as f64 / 10.0),
            "kg",
            "kg",
            "us-core-body-weight",
            "vital-signs",
        ),
    ];
    let has =
        |prefix: &str| items(p, "diagnoses").any(|(_, d)| text(d, "code").starts_with(prefix));
    if has("E11") {
        labs.push((
            "a1c",
            "4548-4",
            "Hemoglobin A1c/Hemoglobin.total in Blood",
            json!(between(id, "a1c", 62, 98) as f64 / 10.0),
            "%",
            "%",
            "us-core-observation-lab",
            "laboratory",
        ));
    }
    if has("E78") {
        labs.push((
            "ldl",
            "18262-6",
            "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay",
            json!(between(id, "ldl", 100, 189)),
            "mg/dL",
            "mg/dL",
            "us-core-observation-lab",
            "laboratory",
        ));
    }
    labs.into_iter()
        .map(|(key, loinc, display, value, unit, ucum, prof, category)| {
            let mut o = json!({
                "resourceType": "Observation",
                "id": format!("{id}-obs-{key}"),
                "meta": profile(prof),
                "status": "final",
                "category": [concept(
                    "http://terminology.hl7.org/CodeSystem/observation-category", category,
                    if category == "laboratory" { "Laboratory" } else { "Vital Signs" })],
                "code": {"coding": [coding(LOINC, loinc, display)], "text": display},
                "subject": subject(p),
                "effectiveDateTime": when,
                "issued": format!("{when}T15:00:00Z"),
                "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": ucum},
            });
            if let Some(n) = first_note {
                o["encounter"] = json!({"reference": format!("Encounter/{}", encounter_id(n))});
            }
            o
        })
        .collect()
}

pub fn medication_requests(p: &Value) -> Vec<Value> {
    let requester = p["clinical_notes"]
        .get(0)
        .map_or(json!("Dr. Unknown"), |n| n["author"].clone());
    let mut seen = Vec::new();
    items(p, "diagnoses")
        .filter_map(|(i, d)| {
            let code = text(d, "code");
            let &(_, rx, display, dosage) = DRUGS.iter().find(|(pre, ..)| code.starts_with(pre))?;
            if seen.contains(&rx) {
                return None;
            }
            seen.push(rx);
            Some(json!({
                "resourceType": "MedicationRequest",
                "id": format!("{}-rx-{}", id_of(p), i + 1),
                "meta": profile("us-core-medicationrequest"),
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": {"coding": [coding(RXNORM, rx, display)],
                                              "text": display},
                "subject": subject(p),
                "authoredOn": d["onset_date"],
                "requester": {"display": requester},
                "reasonReference": [{"reference": format!("Condition/{}-dx-{}", id_of(p), i + 1)}],
                "dosageInstruction": [{"text": dosage,
                    "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet",
                        "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm",
                        "code": "TAB"}}]}],
            }))
        })
        .collect()
}

/// A `list_appointments` item (the record's appointment plus `patient_id`, `patient_name`).
pub fn appointment(a: &Value) -> Value {
    json!({
        "resourceType": "Appointment",
        "id": a["appointment_id"],
        "status": "booked",
        "serviceType": [{"text": a["department"]}],
        "reasonCode": [{"text": a["reason"]}],
        "start": format!("{}T{}:00Z", text(a, "date"), text(a, "time")),
        "participant": [
            {"actor": {"reference": format!("Patient/{}", text(a, "patient_id")),
                       "display": a["patient_name"]}, "status": "accepted"},
            {"actor": {"display": a["provider"]}, "status": "accepted"},
        ],
    })
}

pub fn coverage(p: &Value) -> Value {
    let i = &p["insurance"];
    json!({
        "resourceType": "Coverage",
        "id": format!("{}-coverage", id_of(p)),
        "meta": profile("us-core-coverage"),
        "identifier": [{"type": concept(V2_0203, "MB", "Member Number"),
                        "system": MEMBER_SYSTEM, "value": i["member_id"]}],
        "status": "active",
        "subscriberId": i["member_id"],
        "beneficiary": {"reference": format!("Patient/{}", id_of(p))},
        "payor": [{"display": i["payer"]}],
        "class": [{"type": concept("http://terminology.hl7.org/CodeSystem/coverage-class",
                                   "group", "Group"),
                   "value": i["group_number"]}],
    })
}

pub fn invoices(p: &Value) -> Vec<Value> {
    items(p, "billing")
        .map(|(_, b)| {
            let status = match text(b, "status") {
                "paid" => "balanced",
                "denied" => "cancelled",
                _ => "issued",
            };
            let amount = json!({"value": b["amount"], "currency": "USD"});
            json!({
                "resourceType": "Invoice",
                "id": b["invoice_id"],
                "identifier": [{"system": "https://mock-hospital.example.org/fhir/sid/invoice",
                                "value": b["invoice_id"]}],
                "status": status,
                "subject": {"reference": format!("Patient/{}", id_of(p))},
                "date": b["date"],
                "lineItem": [{"sequence": 1,
                    "chargeItemCodeableConcept": concept(CPT, text(b, "cpt_code"),
                                                         text(b, "description")),
                    "priceComponent": [{"type": "base", "amount": amount}]}],
                "totalGross": amount,
                "note": [{"text": format!("insurance status: {}", text(b, "status"))}],
            })
        })
        .collect()
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
