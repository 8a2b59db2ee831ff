//! The hospital's six MCP tools: their `tools/list` definitions (JSON Schema inputs) and their
//! implementations. A tool returns a JSON object on success, or a message that becomes an MCP
//! tool error (`isError: true`); `legacy_data` reshapes a result for the web app's legacy form.

use std::time::{SystemTime, UNIX_EPOCH};

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

/// A tool's output: structured JSON, or the text of a tool error.
pub type ToolResult = Result<Value, String>;

type Args = Map<String, Value>;

const DEFAULT_LIMIT: u64 = 10;
const MAX_LIMIT: u64 = 100;

/// `tools/list` entries, in `NAMES` order.
pub fn definitions() -> Vec<Value> {
    let patient_id = json!({"type": "string", "pattern": "^[A-Z]{5}$",
        "description": "Five-letter patient id, e.g. NUGWI"});
    let by_patient = json!({"type": "object", "properties": {"patient_id": patient_id},
        "required": ["patient_id"]});
    vec![
        tool(
            "get_patient",
            "Demographics, contact details and insurance of one patient",
            by_patient.clone(),
            true,
        ),
        tool(
            "get_medical_records",
            "Diagnoses and clinical notes of one patient",
            by_patient.clone(),
            true,
        ),
        tool(
            "search_patients",
            "Find patients by name or diagnosis (case-insensitive substring) and/or ZIP code",
            json!({"type": "object", "properties": {
                "query": {"type": "string", "description": "Matched against name and diagnoses"},
                "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                          "default": DEFAULT_LIMIT}},
                "required": []}),
            true,
        ),
        tool(
            "list_appointments",
            "Upcoming appointments, for one patient and/or one day",
            json!({"type": "object", "properties": {
                "patient_id": patient_id,
                "date": {"type": "string", "format": "date", "description": "YYYY-MM-DD"}},
                "required": []}),
            true,
        ),
        tool(
            "get_billing",
            "Invoices and insurance billing lines of one patient",
            by_patient,
            true,
        ),
        tool(
            "add_clinical_note",
            "Append a clinical note to a patient's record",
            json!({"type": "object", "properties": {
                "patient_id": patient_id,
                "note": {"type": "string", "minLength": 1},
                "author": {"type": "string", "description": "e.g. Dr. Helen Marsh"}},
                "required": ["patient_id", "note"]}),
            false,
        ),
    ]
}

fn tool(name: &str, description: &str, input_schema: Value, read_only: bool) -> Value {
    json!({
        "name": name,
        "description": description,
        "inputSchema": input_schema,
        "annotations": {"readOnlyHint": read_only, "destructiveHint": false},
    })
}

/// Runs tool `name`; `None` when there is no such tool.
pub fn call(h: &mut Hospital, name: &str, args: &Args) -> Option<ToolResult> {
    let result = match name {
        "get_patient" => patient_of(h, args).map(demographics),
        "get_medical_records" => patient_of(h, args).map(|p| {
            json!({"patient_id": p["patient_id"], "name": p["name"],
                   "diagnoses": p["diagnoses"], "clinical_notes": p["clinical_notes"]})
        }),
        "search_patients" => search(h, args),
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

/// The legacy form's `result.data`, always an array: the records, patients, appointments or
/// billing lines of a result, or the result itself as the only element.
pub fn legacy_data(name: &str, mut result: Value) -> Value {
    let list = match name {
        "get_medical_records" => {
            let patient_id = result["patient_id"].take();
            let tagged = |kind: &str, items: Value| {
                let patient_id = patient_id.clone();
                let kind = kind.to_string();
                into_items(items).into_iter().map(move |mut item| {
                    if let Some(obj) = item.as_object_mut() {
                        obj.insert("record_type".into(), Value::String(kind.clone()));
                        obj.insert("patient_id".into(), patient_id.clone());
                    }
                    item
                })
            };
            let diagnoses = tagged("diagnosis", result["diagnoses"].take());
            let notes = tagged("clinical_note", result["clinical_notes"].take());
            Some(diagnoses.chain(notes).collect())
        }
        "search_patients" => Some(into_items(result["patients"].take())),
        "list_appointments" => Some(into_items(result["appointments"].take())),
        "get_billing" => Some(into_items(result["billing"].take())),
        _ => None,
    };
    Value::Array(list.unwrap_or_else(|| vec![result]))
}

fn into_items(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// A string argument that must be present.
fn required_str<'a>(args: &'a Args, key: &str) -> Result<&'a str, String> {
    optional_str(args, key)?.ok_or_else(|| format!("Missing required argument: {key}"))
}

/// A string argument that may be absent or null, but is a string when given.
fn optional_str<'a>(args: &'a Args, key: &str) -> Result<Option<&'a str>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("Argument {key} must be a string")),
    }
}

fn patient_of<'h>(h: &'h Hospital, args: &Args) -> Result<&'h Value, String> {
    let id = required_str(args, "patient_id")?;
    h.patient(id)
        .ok_or_else(|| format!("No patient with id {id}"))
}

/// A patient without the record lists other tools serve.
fn demographics(p: &Value) -> Value {
    let mut out = p.clone();
    if let Some(obj) = out.as_object_mut() {
        for key in ["diagnoses", "clinical_notes", "appointments", "billing"] {
            obj.remove(key);
        }
    }
    out
}

fn search(h: &Hospital, args: &Args) -> ToolResult {
    let query = optional_str(args, "query")?.map(str::to_lowercase);
    let zip = optional_str(args, "zip")?;
    let limit = match args.get("limit") {
        None | Some(Value::Null) => DEFAULT_LIMIT,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| format!("Argument limit must be an integer from 1 to {MAX_LIMIT}"))?,
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let patients: Vec<Value> = h
        .patients()
        .iter()
        .filter(|p| query.as_deref().is_none_or(|q| matches_query(p, q)))
        .filter(|p| zip.is_none_or(|z| p["address"]["zip"] == z))
        .take(limit)
        .map(|p| {
            json!({"patient_id": p["patient_id"], "name": p["name"],
                   "date_of_birth": p["date_of_birth"], "sex": p["sex"],
                   "zip": p["address"]["zip"], "diagnoses": p["diagnoses"]})
        })
        .collect();
    Ok(json!({"count": patients.len(), "patients": patients}))
}

/// Case-insensitive substring match on the name and on each diagnosis' code and description.
fn matches_query(p: &Value, lowercase_query: &str) -> bool {
    let hit = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.to_lowercase().contains(lowercase_query))
    };
    hit(&p["name"])
        || p["diagnoses"]
            .as_array()
            .is_some_and(|ds| ds.iter().any(|d| hit(&d["description"]) || hit(&d["code"])))
}

fn list_appointments(h: &Hospital, args: &Args) -> ToolResult {
    let date = optional_str(args, "date")?;
    if let Some(d) = date.filter(|d| !is_iso_date(d)) {
        return Err(format!("Argument date must be YYYY-MM-DD, got {d:?}"));
    }
    let patients: Vec<&Value> = match optional_str(args, "patient_id")? {
        Some(_) => vec![patient_of(h, args)?],
        None => h.patients().iter().collect(),
    };
    let appointments: Vec<Value> = patients
        .into_iter()
        .flat_map(|p| {
            p["appointments"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(move |a| date.is_none_or(|d| a["date"] == d))
                .map(move |a| {
                    let mut a = a.clone();
                    a["patient_id"] = p["patient_id"].clone();
                    a["patient_name"] = p["name"].clone();
                    a
                })
        })
        .collect();
    Ok(json!({"count": appointments.len(), "appointments": appointments}))
}

fn add_note(h: &mut Hospital, args: &Args) -> ToolResult {
    let id = patient_of(h, args)?["patient_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let note = required_str(args, "note")?;
    if note.trim().is_empty() {
        return Err("Argument note must not be empty".into());
    }
    let author = optional_str(args, "author")?.unwrap_or("Dr. Unknown");
    let note_id = h
        .add_note(&id, &today(), author, note)
        .ok_or_else(|| format!("No patient with id {id}"))?;
    Ok(json!({"note_id": note_id, "patient_id": id, "status": "saved"}))
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 10 && b[4] == b'-' && b[7] == b'-' && digits(0..4) && digits(5..7) && digits(8..10)
}

/// Today's date (UTC) as YYYY-MM-DD.
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); H. Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // In range by construction: month 1..=12, day 1..=31.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> Args {
        v.as_object().cloned().unwrap()
    }

    fn run(name: &str, a: Value) -> ToolResult {
        call(&mut Hospital::builtin().unwrap(), name, &args(a)).expect("known tool")
    }

    #[test]
    fn tools_list_names_match_and_every_tool_is_callable() {
        let mut h = Hospital::builtin().unwrap();
        let defs = definitions();
        let names: Vec<&str> = defs.iter().filter_map(|d| d["name"].as_str()).collect();
        assert_eq!(names, NAMES);
        for d in &defs {
            assert_eq!(d["inputSchema"]["type"], "object");
            assert!(d["inputSchema"]["required"].is_array());
        }
        for name in NAMES {
            let out = call(
                &mut h,
                name,
                &args(json!({"patient_id":"NUGWI","note":"ok"})),
            );
            assert!(matches!(out, Some(Ok(Value::Object(_)))), "{name}: {out:?}");
        }
        assert!(call(&mut h, "drop_tables", &Map::new()).is_none());
    }

    #[test]
    fn bad_arguments_are_tool_errors() {
        assert_eq!(
            run("get_patient", json!({"patient_id":"ZZZZZ"})),
            Err("No patient with id ZZZZZ".into())
        );
        assert!(run("get_patient", json!({})).is_err());
        assert!(run("get_billing", json!({"patient_id": 7})).is_err());
        assert!(run("search_patients", json!({"limit": "3"})).is_err());
        assert!(run("list_appointments", json!({"date": "03/04/2027"})).is_err());
        assert!(run(
            "add_clinical_note",
            json!({"patient_id":"NUGWI","note":" "})
        )
        .is_err());
    }

    #[test]
    fn search_matches_name_and_diagnosis_only() {
        let h = Hospital::builtin().unwrap();
        let nugwi = h.patient("NUGWI").unwrap();
        let last = nugwi["last_name"].as_str().unwrap().to_uppercase();
        let found = run("search_patients", json!({"query": last, "limit": 100})).unwrap();
        assert!(found.to_string().contains("NUGWI"));
        let by_dx = run(
            "search_patients",
            json!({"query": "hypertension", "limit": 100}),
        )
        .unwrap();
        assert!(by_dx["count"].as_u64().unwrap() >= 1);
        let ssn = nugwi["ssn"].as_str().unwrap();
        assert_eq!(
            run("search_patients", json!({"query": ssn})).unwrap()["count"],
            0
        );
        let all = run("search_patients", json!({})).unwrap();
        assert_eq!(all["count"], DEFAULT_LIMIT);
    }

    #[test]
    fn notes_are_written_and_read_back() {
        let mut h = Hospital::builtin().unwrap();
        let note = args(json!({"patient_id":"NUGWI","note":"new note","author":"Dr. Who"}));
        let saved = call(&mut h, "add_clinical_note", &note).unwrap().unwrap();
        assert_eq!(saved["status"], "saved");
        assert_eq!(saved["patient_id"], "NUGWI");
        let records = call(
            &mut h,
            "get_medical_records",
            &args(json!({"patient_id":"NUGWI"})),
        );
        assert!(records.unwrap().unwrap().to_string().contains("new note"));
    }

    #[test]
    fn legacy_data_is_always_an_array() {
        let records = run("get_medical_records", json!({"patient_id":"NUGWI"})).unwrap();
        let data = legacy_data("get_medical_records", records);
        let items = data.as_array().unwrap();
        assert!(items.len() >= 3);
        assert!(items.iter().all(|r| r["patient_id"] == "NUGWI"));
        assert!(items.iter().any(|r| r["record_type"] == "clinical_note"));
        let patient = run("get_patient", json!({"patient_id":"NUGWI"})).unwrap();
        assert_eq!(
            legacy_data("get_patient", patient)
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert!(is_iso_date("2026-11-22"));
        assert!(!is_iso_date("2026-1-22"));
        assert!(!is_iso_date("２０２６-11-22"));
    }
}
