//! The synthetic hospital: patients with demographics, records, appointments and billing, as
//! JSON objects loaded from `data/hospital.json` (embedded in the binary) or from a file.

use std::collections::HashSet;
use std::path::Path;

use serde_json::{json, Value};

const BUILTIN: &str = include_str!("../data/hospital.json");

/// Every patient, in file order; each a JSON object with a unique string `patient_id`.
#[derive(Debug)]
pub struct Hospital {
    patients: Vec<Value>,
}

impl Hospital {
    /// The data set compiled into the binary.
    pub fn builtin() -> Result<Self, String> {
        Self::parse(BUILTIN)
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text)
    }

    fn parse(text: &str) -> Result<Self, String> {
        let mut root: Value =
            serde_json::from_str(text).map_err(|e| format!("bad hospital data: {e}"))?;
        let Some(Value::Array(patients)) = root.get_mut("patients").map(Value::take) else {
            return Err("hospital data needs a top-level 'patients' array".into());
        };
        let mut seen = HashSet::new();
        for (i, p) in patients.iter().enumerate() {
            let id = p["patient_id"]
                .as_str()
                .ok_or_else(|| format!("patient #{i} has no string patient_id"))?;
            if !seen.insert(id) {
                return Err(format!("patient_id {id} appears twice"));
            }
        }
        Ok(Hospital { patients })
    }

    pub fn patients(&self) -> &[Value] {
        &self.patients
    }

    pub fn patient(&self, id: &str) -> Option<&Value> {
        self.patients.iter().find(|p| p["patient_id"] == id)
    }

    /// Appends a clinical note to patient `id`; returns the new note's id, or `None` for an
    /// unknown patient.
    pub fn add_note(&mut self, id: &str, date: &str, author: &str, text: &str) -> Option<String> {
        let patient = self
            .patients
            .iter_mut()
            .find(|p| p["patient_id"] == id)?
            .as_object_mut()?;
        let notes = patient.entry("clinical_notes").or_insert_with(|| json!([]));
        if !notes.is_array() {
            *notes = json!([]);
        }
        let list = notes.as_array_mut()?;
        let note_id = format!("N-{id}-{}", list.len() + 1);
        list.push(json!({"note_id": note_id, "date": date, "author": author, "text": text}));
        Some(note_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_data_has_the_reference_patient_and_enough_others() {
        let h = Hospital::builtin().unwrap();
        assert!(h.patients().len() >= 30);
        assert_eq!(h.patients()[0]["patient_id"], "NUGWI");
        for p in h.patients() {
            let id = p["patient_id"].as_str().unwrap();
            assert!(id.len() == 5 && id.bytes().all(|b| b.is_ascii_uppercase()));
        }
        let nugwi = h.patient("NUGWI").expect("NUGWI");
        for field in ["name", "date_of_birth", "ssn", "phone", "email", "mrn"] {
            assert!(nugwi[field].is_string(), "{field}");
        }
    }

    #[test]
    fn bad_data_is_refused() {
        assert!(Hospital::parse("{}").is_err());
        assert!(Hospital::parse(r#"{"patients":[{"name":"x"}]}"#).is_err());
        let dup = r#"{"patients":[{"patient_id":"AAAAA"},{"patient_id":"AAAAA"}]}"#;
        assert!(Hospital::parse(dup).is_err());
    }

    #[test]
    fn notes_are_numbered_per_patient() {
        let mut h = Hospital::builtin().unwrap();
        let before = h.patient("NUGWI").unwrap()["clinical_notes"]
            .as_array()
            .unwrap()
            .len();
        let id = h
            .add_note("NUGWI", "2026-01-02", "Dr. Test", "hello")
            .unwrap();
        assert_eq!(id, format!("N-NUGWI-{}", before + 1));
        assert!(h
            .add_note("ZZZZZ", "2026-01-02", "Dr. Test", "hello")
            .is_none());
    }
}
