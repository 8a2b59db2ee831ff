//! The hospital's six MCP tools: their schemas for `tools/list` and their implementations.
//! A tool returns JSON on success or a message for an MCP tool error (`isError: true`).

use serde_json::{json, Map, Value};

use crate::data::Hospital;

pub const NAMES: [&str; 6] = [
    "get_patient",
    "get_medical_records",
    "search_patients",
    "list_appointments",
    "get_billing",
    "add_clinical_note",
];

/// `tools/list` entries with JSON Schema input definitions.
pub fn definitions() -> Vec<Value> {
    let patient = json!({"type":"object","properties":{"patient_id":{"type":"string",
        "description":"Five-letter patient id, e.g. NUGWI"}},"required":["patient_id"]});
    vec![
        tool(
            "get_patient",
            "Demographics, contact details and insurance of one patient",
            patient.clone(),
        ),
        tool(
            "get_medical_records",
            "Diagnoses and clinical notes of one patient",
            patient.clone(),
        ),
        tool(
            "search_patients",
            "Find patients by name, diagnosis or ZIP code",
            json!({
            "type":"object","properties":{
                "query":{"type":"string","description":"Matched against name and diagnoses"},
                "zip":{"type":"string"},
                "limit":{"type":"integer","minimum":1,"maximum":100}}}),
        ),
        tool(
            "list_appointments",
            "Upcoming appointments, for one patient or one day",
            json!({
            "type":"object","properties":{"patient_id":{"type":"string"},
                "date":{"type":"string","format":"date"}}}),
        ),
        tool(
            "get_billing",
            "Invoices and insurance billing lines of one patient",
            patient,
        ),
        tool(
            "add_clinical_note",
            "Append a clinical note to a patient's record (write)",
            json!({
            "type":"object","properties":{"patient_id":{"type":"string"},
                "note":{"type":"string"},"author":{"type":"string"}},
            "required":["patient_id","note"]}),
        ),
    ]
}

fn tool(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "description": description, "inputSchema": schema})
}

/// Runs `name`; `None` when there is no such tool.
pub fn call(
    h: &mut Hospital,
    name: &str,
    args: &Map<String, Value>,
) -> Option<Result<Value, String>> {
    let result = match name {
        "get_patient" => patient_of(h, args).map(demographics),
        "get_medical_records" => patient_of(h, args).map(|p| {
            json!({"patient_id": p["patient_id"], "name": p["name"],
                   "diagnoses": p["diagnoses"], "clinical_notes": p["clinical_notes"]})
        }),
        "search_patients" => Ok(search(h, args)),
        "list_appointments" => list_appointments(h, args),
        "get_billing" => patient_of(h, args).map(|p| {
            json!({"patient_id": p["patient_id"], "name": p["name"], "ssn": p["ssn"],
                   "insurance": p["insurance"], "billing": p["billing"]})
        }),
        "add_clinical_note" => add_note(h, args),
        _ => return None,
    };
    Some(result)
}

/// The legacy form's `result.data`: always an array.
pub fn legacy_data(name: &str, value: Value) -> Value {
    let list = match name {
        "get_medical_records" => value["clinical_notes"].as_array().map(|notes| {
            let mut all = vec![
                json!({"patient_id": value["patient_id"], "name": value["name"],
                                          "diagnoses": value["diagnoses"]}),
            ];
            all.extend(notes.iter().cloned());
            all
        }),
        "search_patients" => value["patients"].as_array().cloned(),
        "list_appointments" => value["appointments"].as_array().cloned(),
        "get_billing" => value["billing"].as_array().cloned(),
        _ => None,
    };
    Value::Array(list.unwrap_or_else(|| vec![value]))
}

fn patient_of<'h>(h: &'h Hospital, args: &Map<String, Value>) -> Result<&'h Value, String> {
    let id = args
        .get("patient_id")
        .and_then(Value::as_str)
        .ok_or("patient_id (string) is required")?;
    h.patient(id)
        .ok_or_else(|| format!("No patient with id {id}"))
}

fn demographics(p: &Value) -> Value {
    let mut out = p.clone();
    if let Some(obj) = out.as_object_mut() {
        for key in ["diagnoses", "clinical_notes", "appointments", "billing"] {
            obj.remove(key);
        }
    }
    out
}

fn search(h: &Hospital, args: &Map<String, Value>) -> Value {
    let query = args
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let zip = args.get("zip").and_then(Value::as_str);
    let limit = args
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(10)
        .clamp(1, 100) as usize;
    let matches = h
        .patients()
        .iter()
        .filter(|p| query.is_empty() || p.to_string().to_lowercase().contains(&query))
        .filter(|p| zip.is_none_or(|z| p["address"]["zip"] == z))
        .take(limit)
        .map(|p| {
            json!({"patient_id": p["patient_id"], "name": p["name"],
                   "date_of_birth": p["date_of_birth"], "sex": p["sex"],
                   "zip": p["address"]["zip"], "diagnoses": p["diagnoses"]})
        })
        .collect::<Vec<_>>();
    json!({"count": matches.len(), "patients": matches})
}

fn list_appointments(h: &Hospital, args: &Map<String, Value>) -> Result<Value, String> {
    let date = args.get("date").and_then(Value::as_str);
    let patients: Vec<&Value> = match args.get("patient_id").and_then(Value::as_str) {
        Some(_) => vec![patient_of(h, args)?],
        None => h.patients().iter().collect(),
    };
    let appointments: Vec<Value> = patients
        .iter()
        .flat_map(|p| {
            p["appointments"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |a| {
                    let mut a = a.clone();
                    a["patient_id"] = p["patient_id"].clone();
                    a["patient_name"] = p["name"].clone();
                    a
                })
        })
        .filter(|a| date.is_none_or(|d| a["date"] == d))
        .collect();
    Ok(json!({"count": appointments.len(), "appointments": appointments}))
}

fn add_note(h: &mut Hospital, args: &Map<String, Value>) -> Result<Value, String> {
    let id = patient_of(h, args)?["patient_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let note = args
        .get("note")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or("note (non-empty string) is required")?;
    let author = args
        .get("author")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let note_id = h
        .add_note(&id, "2026-11-22", author, note)
        .ok_or("patient has no notes list")?;
    Ok(json!({"note_id": note_id, "patient_id": id, "status": "saved"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn every_listed_tool_is_callable() {
        let mut h = Hospital::builtin().unwrap();
        let names: Vec<String> = definitions()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, NAMES);
        for name in NAMES {
            let out = call(
                &mut h,
                name,
                &args(json!({"patient_id":"NUGWI","note":"ok"})),
            );
            assert!(matches!(out, Some(Ok(_))), "{name}: {out:?}");
        }
        assert!(call(&mut h, "drop_tables", &Map::new()).is_none());
    }

    #[test]
    fn unknown_patient_is_a_tool_error() {
        let mut h = Hospital::builtin().unwrap();
        let out = call(&mut h, "get_patient", &args(json!({"patient_id":"ZZZZZ"})));
        assert_eq!(out, Some(Err("No patient with id ZZZZZ".into())));
    }

    #[test]
    fn notes_are_written() {
        let mut h = Hospital::builtin().unwrap();
        call(
            &mut h,
            "add_clinical_note",
            &args(json!({"patient_id":"NUGWI","note":"new note"})),
        );
        let records = call(
            &mut h,
            "get_medical_records",
            &args(json!({"patient_id":"NUGWI"})),
        );
        assert!(records.unwrap().unwrap().to_string().contains("new note"));
    }
}
