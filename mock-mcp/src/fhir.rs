//! `--fhir`: the same hospital served as FHIR R4 / US Core resources, as hospital MCP servers
//! in front of an EHR's FHIR API do. The tools keep their names and arguments and run as
//! they do without `--fhir` (same validation, same errors); only what a success returns is
//! shaped as FHIR:
//!
//! | tool | result |
//! |---|---|
//! | `get_patient` | a Patient |
//! | `get_medical_records` | a searchset Bundle: the Patient (`include`), Encounters, Conditions, Observations, MedicationRequests, DocumentReferences (notes in base64) |
//! | `search_patients` | a searchset Bundle of Patients |
//! | `list_appointments` | a searchset Bundle of Appointments |
//! | `get_billing` | a searchset Bundle: the Patient (`include`), its Coverage and Invoices |
//! | `add_clinical_note` | the DocumentReference created |
//!
//! Resources: `resources/list` names `fhir://Patient/<id>` and `fhir://Bundle/<id>` (the
//! medical records) for every patient, `resources/read` returns them as `application/fhir+json`
//! text. List entries carry ids only, never names: lists are filtered, not redacted.

mod build;

use serde_json::{json, Map, Value};

use crate::data::Hospital;
use crate::rpc::INVALID_PARAMS;
use crate::tools::{self, ToolResult};

/// MCP's "resource not found".
pub const RESOURCE_NOT_FOUND: i64 = -32002;
pub const MIME: &str = "application/fhir+json";

/// Runs tool `name` and shapes its success as FHIR; `None` when there is no such tool.
pub fn call(h: &mut Hospital, name: &str, args: &Map<String, Value>) -> Option<ToolResult> {
    let plain = tools::call(h, name, args)?;
    Some(plain.map(|result| shape(h, name, result)))
}

/// The plain result `result` of tool `name`, as FHIR.
fn shape(h: &Hospital, name: &str, result: Value) -> Value {
    let record = |id: &Value| id.as_str().and_then(|id| h.patient(id));
    match name {
        "get_patient" => build::patient(&result),
        "get_medical_records" => record(&result["patient_id"]).map_or(Value::Null, records),
        "search_patients" => {
            let patients = result["patients"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| record(&p["patient_id"]))
                .map(|p| (build::patient(p), "match"))
                .collect();
            build::searchset(
                "search-patients",
                &format!("{}/Patient", build::BASE),
                patients,
            )
        }
        "list_appointments" => {
            let appointments = result["appointments"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| (build::appointment(a), "match"))
                .collect();
            build::searchset(
                "appointments",
                &format!("{}/Appointment", build::BASE),
                appointments,
            )
        }
        "get_billing" => record(&result["patient_id"]).map_or(Value::Null, |p| {
            let mut entries = vec![(build::patient(p), "include")];
            entries.push((build::coverage(p), "match"));
            entries.extend(build::invoices(p).into_iter().map(|i| (i, "match")));
            let id = result["patient_id"].as_str().unwrap_or_default();
            let url = format!("{}/Invoice?subject=Patient/{id}", build::BASE);
            build::searchset(&format!("{id}-billing"), &url, entries)
        }),
        "add_clinical_note" => {
            let note_id = &result["note_id"];
            record(&result["patient_id"])
                .and_then(|p| {
                    let notes = p["clinical_notes"].as_array()?;
                    let note = notes.iter().find(|n| &n["note_id"] == note_id)?;
                    Some(build::document_reference(p, note))
                })
                .unwrap_or(result)
        }
        _ => result,
    }
}

/// A patient's medical records: the searchset Bundle `get_medical_records` and
/// `fhir://Bundle/<id>` return.
pub fn records(p: &Value) -> Value {
    let id = p["patient_id"].as_str().unwrap_or_default();
    let mut entries = vec![(build::patient(p), "include")];
    let matches = [
        build::encounters(p),
        build::conditions(p),
        build::observations(p),
        build::medication_requests(p),
        build::document_references(p),
    ];
    entries.extend(matches.into_iter().flatten().map(|r| (r, "match")));
    let url = format!("{}/Patient/{id}/$everything", build::BASE);
    build::searchset(&format!("{id}-records"), &url, entries)
}

/// The legacy form's `result.data`: a Bundle's resources, or the one resource.
pub fn legacy_data(result: Value) -> Value {
    match result["resourceType"].as_str() {
        Some("Bundle") => Value::Array(
            result["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["resource"].clone())
                .collect(),
        ),
        _ => Value::Array(vec![result]),
    }
}

/// `resources/list`, `resources/templates/list` and `resources/read`; `None` for any other
/// method.
pub fn resources(
    h: &Hospital,
    method: &str,
    params: &Map<String, Value>,
) -> Option<Result<Value, (i64, String)>> {
    Some(match method {
        "resources/list" => Ok(list(h)),
        "resources/templates/list" => Ok(templates()),
        "resources/read" => read(h, params),
        _ => return None,
    })
}

fn list(h: &Hospital) -> Value {
    let resources: Vec<Value> = h
        .patients()
        .iter()
        .filter_map(|p| p["patient_id"].as_str())
        .flat_map(|id| {
            [
                json!({"uri": format!("fhir://Patient/{id}"), "name": format!("Patient/{id}"),
                       "title": format!("Patient {id}"), "mimeType": MIME,
                       "description": "US Core Patient: demographics, identifiers, contacts"}),
                json!({"uri": format!("fhir://Bundle/{id}"), "name": format!("Bundle/{id}"),
                       "title": format!("Records of patient {id}"), "mimeType": MIME,
                       "description": "searchset Bundle: encounters, conditions, observations, \
                                       prescriptions and notes"}),
            ]
        })
        .collect();
    json!({"resources": resources})
}

fn templates() -> Value {
    json!({"resourceTemplates": [
        {"uriTemplate": "fhir://Patient/{patient_id}", "name": "Patient", "mimeType": MIME,
         "description": "A US Core Patient by its five-letter id"},
        {"uriTemplate": "fhir://Bundle/{patient_id}", "name": "Bundle", "mimeType": MIME,
         "description": "A patient's medical records as a searchset Bundle"},
    ]})
}

fn read(h: &Hospital, params: &Map<String, Value>) -> Result<Value, (i64, String)> {
    let Some(uri) = params.get("uri").and_then(Value::as_str) else {
        return Err((INVALID_PARAMS, "Invalid params: missing uri".into()));
    };
    let not_found = || (RESOURCE_NOT_FOUND, format!("Resource not found: {uri}"));
    let (kind, id) = uri
        .strip_prefix("fhir://")
        .and_then(|rest| rest.split_once('/'))
        .ok_or_else(not_found)?;
    let p = h.patient(id).ok_or_else(not_found)?;
    let resource = match kind {
        "Patient" => build::patient(p),
        "Bundle" => records(p),
        _ => return Err(not_found()),
    };
    let text = serde_json::to_string_pretty(&resource).unwrap_or_default();
    Ok(json!({"contents": [{"uri": uri, "mimeType": MIME, "text": text}]}))
}

#[cfg(test)]
mod tests;
