//! Synthetic patients as FHIR R4 / US Core resources: Patient, Encounter, Condition,
//! Observation, MedicationRequest and DocumentReference, in a searchset Bundle, each PHI value
//! recorded in the document's `Truth` as it is written.
//!
//! Everything is fake: names from short lists, SSNs shaped by SSA rules, e-mails at example
//! domains. Some patients are over 89, some live in HHS's restricted ZIP3 areas; MRNs come
//! with and without an `MRN-` prefix, SSNs with and without hyphens.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::rng::Rng;
use super::truth::{Cat, DateStyle, Day, Days, Needle, Origin, Truth, RESTRICTED_ZIP3};
use super::vocab::{
    Place, CONDITIONS, DRUGS, FAMILY, GIVEN_F, GIVEN_M, LABS, PLACES, PROVIDERS, RESTRICTED_PLACES,
    STREET_NAMES, STREET_SUFFIXES, UNITS,
};

pub const US_CORE: &str = "http://hl7.org/fhir/us/core/StructureDefinition/";
pub const SSN_SYSTEM: &str = "http://hl7.org/fhir/sid/us-ssn";
pub const MRN_SYSTEM: &str = "https://fhir.granite-harbor.example.org/identifiers/mrn";
/// The OID, for the hospital's enterprise patient identifier.
pub const EPI_OID: &str = "urn:oid:1.2.36.146.595.217.0.1";
/// Massachusetts driver's licences (HL7's state DL OIDs: 2.16.840.1.113883.4.3.<FIPS>).
pub const DL_OID: &str = "urn:oid:2.16.840.1.113883.4.3.25";
const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
const SNOMED: &str = "http://snomed.info/sct";
const ICD10: &str = "http://hl7.org/fhir/sid/icd-10-cm";
const LOINC: &str = "http://loinc.org";
const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const UCUM: &str = "http://unitsofmeasure.org";
const BASE: &str = "https://fhir.granite-harbor.example.org/r4";

pub struct Person {
    pub id: String,
    pub given: Vec<String>,
    pub family: String,
    pub prefix: &'static str,
    pub female: bool,
    pub birth: Day,
    pub place: &'static Place,
    pub line1: String,
    pub line2: Option<String>,
    pub zip: String,
    pub phone_home: String,
    pub phone_mobile: String,
    /// A number only the notes give ("Reachable at …").
    pub phone_note: String,
    pub email: String,
    pub mrn_digits: String,
    pub mrn_value: String,
    pub ssn: String,
    pub oid_value: String,
    pub licence: Option<String>,
    pub relative: (String, String),
    pub relative_phone: String,
    pub maiden: Option<String>,
    pub provider: (&'static str, &'static str),
}

impl Person {
    pub fn full(&self) -> String {
        format!("{} {}", self.given[0], self.family)
    }
    pub fn age(&self, year: u32) -> u32 {
        year - self.birth.y
    }
    pub fn restricted(&self) -> bool {
        RESTRICTED_ZIP3.contains(&self.place.zip3)
    }
}

/// One patient's document being built: its generator, its unused days, its truth.
pub struct Doc<'r> {
    pub rng: &'r mut Rng,
    pub days: Days,
    pub truth: Truth,
    pub p: Person,
}

/// The year ages are counted from (the corpus's "today").
pub const YEAR: u32 = 2025;

pub fn phone(rng: &mut Rng, area: &str) -> String {
    let exchange = loop {
        let e = rng.range(201, 989).to_string();
        if !RESTRICTED_ZIP3.contains(&e.as_str()) && e != "555" {
            break e;
        }
    };
    let line = rng.digits(4);
    match rng.below(6) {
        0 => format!("({area}) {exchange}-{line}"),
        1 | 2 => format!("{area}-{exchange}-{line}"),
        3 => format!("{area}.{exchange}.{line}"),
        4 => format!("+1 {area} {exchange} {line}"),
        _ => format!("{area}{exchange}{line}"),
    }
}

pub fn ssn(rng: &mut Rng, hyphens: bool) -> String {
    let area = loop {
        let a = rng.range(100, 899);
        let s = format!("{a:03}");
        if a != 666 && !RESTRICTED_ZIP3.contains(&s.as_str()) {
            break s;
        }
    };
    let group = format!("{:02}", rng.range(1, 99));
    let serial = format!("{:04}", rng.range(1, 9999));
    if hyphens {
        format!("{area}-{group}-{serial}")
    } else {
        format!("{area}{group}{serial}")
    }
}

pub fn street(rng: &mut Rng) -> String {
    if rng.chance(6) {
        return format!("PO Box {}", rng.range(100, 9999));
    }
    format!(
        "{} {} {}",
        rng.range(2, 9899),
        rng.pick(&STREET_NAMES),
        rng.pick(&STREET_SUFFIXES)
    )
}

fn person(rng: &mut Rng, days: &mut Days, n: usize) -> Person {
    let female = n % 2 == 0;
    let given_pool: &[&str] = if female { &GIVEN_F } else { &GIVEN_M };
    let mut given = vec![given_pool[(n * 7 + 3) % given_pool.len()].to_string()];
    if rng.chance(40) {
        given.push(rng.pick(given_pool).to_string());
        given.dedup();
    }
    let family = FAMILY[(n * 5 + 1) % FAMILY.len()].to_string();
    let birth_year = if n % 5 == 0 {
        rng.range(1918, 1929) as u32
    } else {
        rng.range(1940, 2004) as u32
    };
    let birth = days.draw(rng, birth_year);
    let place = if n % 3 == 0 {
        &RESTRICTED_PLACES[(n / 3) % RESTRICTED_PLACES.len()]
    } else {
        rng.pick(&PLACES)
    };
    let zip = format!("{}{}", place.zip3, rng.digits(2));
    let mrn_digits = rng.range(1_000_000, 9_999_999).to_string();
    let mrn_value = if n % 2 == 0 {
        format!("MRN-{mrn_digits}")
    } else {
        mrn_digits.clone()
    };
    let email = format!(
        "{}.{}{}@{}",
        given[0].to_ascii_lowercase(),
        family.to_ascii_lowercase().replace('\'', ""),
        rng.range(10, 99),
        rng.pick(&["example.com", "example.org", "mail.example.net"])
    );
    let relative_given = if female {
        rng.pick(&GIVEN_M)
    } else {
        rng.pick(&GIVEN_F)
    };
    Person {
        id: format!("pt-{}", rng.hex(10)),
        given,
        family: family.clone(),
        prefix: if female {
            if n % 4 == 0 {
                "Mrs."
            } else {
                "Ms."
            }
        } else {
            "Mr."
        },
        female,
        birth,
        place,
        line1: street(rng),
        line2: rng.chance(35).then(|| rng.pick(&UNITS).to_string()),
        zip,
        phone_home: phone(rng, place.area),
        phone_mobile: phone(rng, place.area),
        phone_note: phone(rng, place.area),
        email,
        mrn_digits,
        mrn_value,
        ssn: ssn(rng, n % 4 != 3),
        oid_value: rng.range(10_000_000, 99_999_999).to_string(),
        licence: (n % 3 != 1).then(|| format!("S{}", rng.digits(8))),
        relative: (relative_given.to_string(), family),
        relative_phone: phone(rng, place.area),
        maiden: (female && n % 4 == 0).then(|| FAMILY[(n * 3 + 11) % FAMILY.len()].to_string()),
        provider: PROVIDERS[n % PROVIDERS.len()],
    }
}

/// Patient `n` (0-based) as a searchset Bundle of its resources, and the truth of it.
pub fn bundle(rng: &mut Rng, n: usize) -> (Value, Truth) {
    let mut days = Days::default();
    let p = person(rng, &mut days, n);
    let mut doc = Doc {
        rng,
        days,
        truth: Truth::default(),
        p,
    };
    let patient = doc.patient(n);
    let mut resources = vec![patient];
    let encounters = 1 + doc.rng.below(2) as usize;
    let mut encounter_ids = Vec::new();
    for _ in 0..encounters {
        let (enc, id) = doc.encounter();
        resources.push(enc);
        encounter_ids.push(id);
    }
    let picked: Vec<usize> = {
        let mut all: Vec<usize> = (0..CONDITIONS.len()).collect();
        let mut out = Vec::new();
        for _ in 0..(2 + doc.rng.below(2)) {
            let i = doc.rng.below(all.len() as u64) as usize;
            out.push(all.swap_remove(i));
        }
        out
    };
    for &c in &picked {
        let enc = doc.rng.pick(&encounter_ids).clone();
        resources.push(doc.condition(c, &enc));
    }
    for _ in 0..(3 + doc.rng.below(3)) {
        let lab = doc.rng.below(LABS.len() as u64) as usize;
        let enc = doc.rng.pick(&encounter_ids).clone();
        resources.push(doc.observation(lab, &enc));
    }
    for &c in picked.iter().take(2) {
        resources.push(doc.medication_request(CONDITIONS[c].4));
    }
    let enc = encounter_ids[0].clone();
    resources.push(doc.document_reference(&enc, CONDITIONS[picked[0]].1));
    let id = doc.p.id.clone();
    let link = format!("{BASE}/Patient/{id}/$everything");
    doc.truth.exact(Cat::Id, Origin::Structured, &id);
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let url = format!(
                "{BASE}/{}/{}",
                r["resourceType"].as_str().unwrap_or(""),
                r["id"].as_str().unwrap_or("")
            );
            json!({"fullUrl": url, "resource": r, "search": {"mode": "match"}})
        })
        .collect();
    let bundle = json!({
        "resourceType": "Bundle",
        "id": format!("bundle-{}", doc.rng.hex(8)),
        "meta": {"lastUpdated": "2025-06-30T12:00:00Z"},
        "type": "searchset",
        "total": entries.len(),
        "link": [{"relation": "self", "url": link}],
        "entry": entries,
    });
    (bundle, doc.truth)
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({"system": system, "code": code, "display": display})
}

fn profile(name: &str) -> Value {
    json!({"profile": [format!("{US_CORE}{name}")]})
}

impl Doc<'_> {
    pub fn subject(&mut self) -> Value {
        let (id, full) = (self.p.id.clone(), self.p.full());
        self.truth.exact(Cat::Id, Origin::Structured, &id);
        self.names(Origin::Structured, &full);
        json!({"reference": format!("Patient/{id}"), "display": full})
    }

    pub fn names(&mut self, origin: Origin, text: &str) {
        self.truth.name(origin, text);
    }

    fn day(&mut self, from: u64, to: u64) -> Day {
        let y = self.rng.range(from, to) as u32;
        self.days.draw(self.rng, y)
    }

    /// A date-time on a fresh day, recorded.
    pub fn when(&mut self, from: u64, to: u64, zulu: bool) -> String {
        let day = self.day(from, to);
        let at = day.at(self.rng.range(7, 18), self.rng.range(0, 59), zulu);
        self.truth
            .date(Origin::Structured, &day, &at, DateStyle::Iso);
        at
    }

    /// A date on a fresh day, recorded.
    pub fn date(&mut self, from: u64, to: u64) -> String {
        let day = self.day(from, to);
        self.truth
            .date(Origin::Structured, &day, &day.iso(), DateStyle::Iso);
        day.iso()
    }

    pub fn fresh_day(&mut self, from: u64, to: u64) -> Day {
        self.day(from, to)
    }

    fn provider_ref(&mut self) -> Value {
        let (given, family) = self.p.provider;
        self.truth.provider(family);
        let n = PROVIDERS.iter().position(|p| p.1 == family).unwrap_or(0);
        json!({"reference": format!("Practitioner/pr-{n}"),
               "display": format!("Dr. {given} {family}")})
    }

    fn patient(&mut self, n: usize) -> Value {
        let p = &self.p;
        let t = &mut self.truth;
        let s = Origin::Structured;
        t.exact(Cat::Id, s, &p.id);
        t.mrn(s, &p.mrn_value, &p.mrn_digits);
        t.digits(Cat::Ssn, s, &p.ssn);
        t.digits(Cat::Id, s, &p.oid_value);
        let mut identifier = vec![
            json!({"use": "usual",
                   "type": {"coding": [coding(V2_0203, "MR", "Medical Record Number")],
                            "text": "Medical Record Number"},
                   "system": MRN_SYSTEM, "value": p.mrn_value}),
            json!({"type": {"coding": [coding(V2_0203, "SS", "Social Security number")]},
                   "system": SSN_SYSTEM, "value": p.ssn}),
            json!({"use": "official", "system": EPI_OID, "value": p.oid_value}),
        ];
        if let Some(dl) = &p.licence {
            t.exact(Cat::Id, s, dl);
            identifier.push(
                json!({"type": {"coding": [coding(V2_0203, "DL", "Driver's license number")]},
                                   "system": DL_OID, "value": dl}),
            );
        }
        let given = p.given.join(" ");
        let text = format!("{} {} {}", p.prefix, given, p.family);
        for g in &p.given {
            t.name(s, g);
        }
        t.name(s, &p.family);
        let mut names = vec![
            json!({"use": "official", "family": p.family, "given": p.given,
                                    "prefix": [p.prefix], "text": text}),
        ];
        if let Some(maiden) = &p.maiden {
            t.name(s, maiden);
            names.push(json!({"use": "maiden", "family": maiden, "given": [p.given[0]]}));
        }
        for phone in [&p.phone_home, &p.phone_mobile, &p.relative_phone] {
            t.digits(Cat::Phone, s, phone);
        }
        t.email(s, &p.email);
        let mut lines = vec![p.line1.clone()];
        lines.extend(p.line2.clone());
        for l in &lines {
            t.exact(Cat::Street, s, l);
        }
        t.place(s, p.place.city);
        t.place(s, p.place.county);
        t.zip(s, &p.zip, p.place.state);
        t.date(s, &p.birth, &p.birth.iso(), DateStyle::Iso);
        if p.birth.y < 1930 {
            t.digits(Cat::BirthYear90, s, &p.birth.y.to_string());
        }
        t.name(s, &p.relative.0);
        let mut address = json!({"use": "home", "type": "physical", "line": lines,
            "city": p.place.city, "district": p.place.county, "state": p.place.state,
            "postalCode": p.zip, "country": "US"});
        if n % 3 == 2 {
            let full = format!("{}, {}, {} {}", p.line1, p.place.city, p.place.state, p.zip);
            address["text"] = json!(full);
        }
        let photo_bytes = {
            let mut b = vec![
                0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
            ];
            b.extend(self.rng.bytes(90));
            b.extend([0xFF, 0xD9]);
            b
        };
        let photo = STANDARD.encode(photo_bytes);
        let p = &self.p;
        let t = &mut self.truth;
        t.exact(Cat::Photo, s, &photo);
        let (race, race_display) = [
            ("2106-3", "White"),
            ("2054-5", "Black or African American"),
            ("2028-9", "Asian"),
            ("1002-5", "American Indian or Alaska Native"),
            ("2076-8", "Native Hawaiian or Other Pacific Islander"),
        ][n % 5];
        let (eth, eth_display) = if n % 4 == 1 {
            ("2135-2", "Hispanic or Latino")
        } else {
            ("2186-5", "Not Hispanic or Latino")
        };
        let omb = "urn:oid:2.16.840.1.113883.6.238";
        let mut patient = json!({
            "resourceType": "Patient",
            "id": p.id,
            "meta": profile("us-core-patient"),
            "extension": [
                {"url": format!("{US_CORE}us-core-race"), "extension": [
                    {"url": "ombCategory", "valueCoding": coding(omb, race, race_display)},
                    {"url": "text", "valueString": race_display}]},
                {"url": format!("{US_CORE}us-core-ethnicity"), "extension": [
                    {"url": "ombCategory", "valueCoding": coding(omb, eth, eth_display)},
                    {"url": "text", "valueString": eth_display}]},
                {"url": format!("{US_CORE}us-core-birthsex"),
                 "valueCode": if p.female { "F" } else { "M" }}
            ],
            "identifier": identifier,
            "active": true,
            "name": names,
            "telecom": [
                {"system": "phone", "value": p.phone_home, "use": "home"},
                {"system": "phone", "value": p.phone_mobile, "use": "mobile"},
                {"system": "email", "value": p.email}
            ],
            "gender": if p.female { "female" } else { "male" },
            "birthDate": p.birth.iso(),
            "address": [address],
            "maritalStatus": {"coding": [coding(
                "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "M", "Married")]},
            "photo": [{"contentType": "image/jpeg", "data": photo}],
            "contact": [{
                "relationship": [{"coding": [coding(
                    "http://terminology.hl7.org/CodeSystem/v2-0131", "C", "Emergency Contact")]}],
                "name": {"family": p.relative.1, "given": [p.relative.0]},
                "telecom": [{"system": "phone", "value": p.relative_phone}]
            }],
            "communication": [{"language": {"coding": [coding(
                "urn:ietf:bcp:47", "en-US", "English (United States)")]}}],
            "managingOrganization": {"reference": "Organization/org-granite-harbor",
                                     "display": "Granite Harbor Hospital"}
        });
        let since = self.date(2005, 2020);
        patient["address"][0]["period"] = json!({"start": since});
        if n % 3 == 0 {
            let div = self.narrative();
            patient["text"] = json!({"status": "generated", "div": div});
        }
        patient
    }

    fn encounter(&mut self) -> (Value, String) {
        let id = format!("enc-{}", self.rng.hex(10));
        self.truth.exact(Cat::Id, Origin::Structured, &id);
        let day = self.fresh_day(2019, 2024);
        let (h, m) = (self.rng.range(7, 15), self.rng.range(0, 59));
        let start = day.at(h, m, false);
        let end = day.at(h + 1, m, false);
        self.truth
            .date(Origin::Structured, &day, &start, DateStyle::Iso);
        let (given, family) = self.p.provider;
        self.truth.provider(family);
        let subject = self.subject();
        let enc = json!({
            "resourceType": "Encounter",
            "id": id,
            "meta": profile("us-core-encounter"),
            "contained": [{"resourceType": "Practitioner", "id": "pract1",
                "name": [{"family": family, "given": [given], "prefix": ["Dr."]}]}],
            "identifier": [{"system": "https://fhir.granite-harbor.example.org/identifiers/visit",
                            "value": id.clone()}],
            "status": "finished",
            "class": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"),
            "type": [{"coding": [coding(SNOMED, "185349003", "Encounter for check up (procedure)")],
                      "text": "Check up"}],
            "subject": subject,
            "participant": [{
                "type": [{"coding": [coding(
                    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF",
                    "primary performer")]}],
                "individual": {"reference": "#pract1", "display": format!("Dr. {given} {family}")}
            }],
            "period": {"start": start, "end": end},
            "serviceProvider": {"reference": "Organization/org-granite-harbor",
                                "display": "Granite Harbor Hospital"}
        });
        (enc, id)
    }

    fn condition(&mut self, c: usize, encounter: &str) -> Value {
        let (sct, sct_display, icd, icd_display, _) = CONDITIONS[c];
        let onset = if self.rng.chance(50) {
            self.date(1995, 2022)
        } else {
            self.when(1995, 2022, false)
        };
        let recorded = self.date(2023, 2024);
        let subject = self.subject();
        self.truth.exact(Cat::Id, Origin::Structured, encounter);
        let mut cond = json!({
            "resourceType": "Condition",
            "id": format!("cond-{}", self.rng.hex(8)),
            "meta": profile("us-core-condition-problems-health-concerns"),
            "clinicalStatus": {"coding": [coding(
                "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")]},
            "verificationStatus": {"coding": [coding(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")]},
            "category": [{"coding": [coding(
                "http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item",
                "Problem List Item")]}],
            "code": {"coding": [coding(SNOMED, sct, sct_display), coding(ICD10, icd, icd_display)],
                     "text": sct_display},
            "subject": subject,
            "encounter": {"reference": format!("Encounter/{encounter}")},
            "onsetDateTime": onset,
            "recordedDate": recorded,
        });
        if self.rng.chance(75) {
            let note = self.condition_note(sct_display);
            cond["note"] = json!([{"text": note}]);
        }
        cond
    }

    fn observation(&mut self, lab: usize, encounter: &str) -> Value {
        let (loinc, display, (lo, hi), unit, ucum, prof, category) = LABS[lab];
        let tenths = self.rng.range(lo, hi);
        let value = if hi >= 1000 {
            json!(tenths / 10)
        } else {
            json!(tenths as f64 / 10.0)
        };
        let effective = self.when(2019, 2024, false);
        let issued = self.when(2019, 2024, true);
        let subject = self.subject();
        self.truth.exact(Cat::Id, Origin::Structured, encounter);
        json!({
            "resourceType": "Observation",
            "id": format!("obs-{}", self.rng.hex(8)),
            "meta": profile(prof),
            "status": "final",
            "category": [{"coding": [coding(
                "http://terminology.hl7.org/CodeSystem/observation-category", category,
                if category == "laboratory" { "Laboratory" } else { "Vital Signs" })]}],
            "code": {"coding": [coding(LOINC, loinc, display)], "text": display},
            "subject": subject,
            "encounter": {"reference": format!("Encounter/{encounter}")},
            "effectiveDateTime": effective,
            "issued": issued,
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": ucum},
        })
    }

    fn medication_request(&mut self, drug: usize) -> Value {
        let (rx, display, dosage) = DRUGS[drug];
        let authored = self.date(2021, 2024);
        let subject = self.subject();
        let requester = self.provider_ref();
        let text = if self.rng.chance(30) {
            self.dosage_note(dosage)
        } else {
            dosage.to_string()
        };
        json!({
            "resourceType": "MedicationRequest",
            "id": format!("medrx-{}", self.rng.hex(8)),
            "meta": profile("us-core-medicationrequest"),
            "contained": [{"resourceType": "Medication", "id": "med1",
                           "code": {"coding": [coding(RXNORM, rx, display)]}}],
            "status": "active",
            "intent": "order",
            "category": [{"coding": [coding(
                "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "community",
                "Community")]}],
            "medicationReference": {"reference": "#med1", "display": display},
            "subject": subject,
            "authoredOn": authored,
            "requester": requester,
            "dosageInstruction": [{
                "text": text,
                "route": {"coding": [coding(SNOMED, "26643006", "Oral route")]},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet",
                    "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm",
                    "code": "TAB"}}]
            }]
        })
    }

    fn document_reference(&mut self, encounter: &str, problem: &str) -> Value {
        let date = self.when(2023, 2024, true);
        let note = self.progress_note(problem);
        let data = STANDARD.encode(note.as_bytes());
        self.truth.exact(Cat::Attachment, Origin::Structured, &data);
        let subject = self.subject();
        let author = self.provider_ref();
        let number = self.rng.range(100_000, 999_999).to_string();
        let master = format!("{EPI_OID}.{number}");
        self.truth
            .add(Cat::Id, Origin::Structured, &master, Needle::Digits(number));
        self.truth.exact(Cat::Id, Origin::Structured, encounter);
        json!({
            "resourceType": "DocumentReference",
            "id": format!("doc-{}", self.rng.hex(8)),
            "meta": profile("us-core-documentreference"),
            "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": master},
            "status": "current",
            "type": {"coding": [coding(LOINC, "11506-3", "Progress note")]},
            "category": [{"coding": [coding(
                "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                "clinical-note", "Clinical Note")]}],
            "subject": subject,
            "date": date,
            "author": [author],
            "content": [{
                "attachment": {"contentType": "text/plain", "language": "en-US", "data": data,
                               "title": "Progress note"},
                "format": {"system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
                           "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient",
                           "display": "mimeType Sufficient"}
            }],
            "context": {"encounter": [{"reference": format!("Encounter/{encounter}")}]}
        })
    }
}
