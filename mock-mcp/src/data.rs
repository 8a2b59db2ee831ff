//! The synthetic hospital: patients with demographics, records, appointments and billing,
//! loaded from `data/hospital.json` (embedded in the binary) or from a file.

use std::path::Path;

use serde_json::Value;

const BUILTIN: &str = include_str!("../data/hospital.json");

/// Every patient, as JSON objects keyed by `patient_id`.
pub struct Hospital {
    patients: Vec<Value>,
    next_note: u64,
}

impl Hospital {
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
        let patients = match root.get_mut("patients").map(Value::take) {
            Some(Value::Array(p)) if p.iter().all(|x| x["patient_id"].is_string()) => p,
            _ => return Err("hospital data needs a 'patients' array with patient_id".into()),
        };
        Ok(Hospital {
            patients,
            next_note: 1,
        })
    }

    pub fn patients(&self) -> &[Value] {
        &self.patients
    }

    pub fn patient(&self, id: &str) -> Option<&Value> {
        self.patients.iter().find(|p| p["patient_id"] == id)
    }

    /// Appends a clinical note; returns its id, or `None` for an unknown patient.
    pub fn add_note(&mut self, id: &str, date: &str, author: &str, text: &str) -> Option<String> {
        let note_id = format!("N-{id}-new-{}", self.next_note);
        let patient = self.patients.iter_mut().find(|p| p["patient_id"] == id)?;
        let notes = patient.get_mut("clinical_notes")?.as_array_mut()?;
        notes.push(serde_json::json!({
            "note_id": note_id, "date": date, "author": author, "text": text
        }));
        self.next_note += 1;
        Some(note_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_data_has_the_reference_patient_and_enough_others() {
        let h = Hospital::builtin().unwrap();
        assert!(h.patients().len() >= 25);
        let nugwi = h.patient("NUGWI").expect("NUGWI");
        for field in [
            "name",
            "date_of_birth",
            "ssn",
            "phone",
            "email",
            "mrn",
            "address",
        ] {
            assert!(!nugwi[field].is_null(), "{field}");
        }
    }
}
