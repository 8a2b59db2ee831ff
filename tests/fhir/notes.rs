//! The free text of a patient's resources — Condition notes, dosage instructions, the progress
//! note a DocumentReference carries in base64, the Patient's XHTML narrative — naming the
//! patient and repeating their identifiers as clinicians write them, next to harmless
//! look-alikes (lab values, order numbers, blood pressures). Each PHI value is recorded as
//! free text.

use super::patients::{Doc, YEAR};
use super::truth::{Cat, DateStyle, Origin};

const SYMPTOMS: [&str; 6] = [
    "improved sleep",
    "intermittent dizziness",
    "less shortness of breath on exertion",
    "mild fatigue",
    "no new complaints",
    "better appetite",
];

const LOOK_ALIKES: [&str; 6] = [
    "HbA1c 7.2%, LDL 130 mg/dL.",
    "BP 128/82, pulse 72.",
    "Lab order ORD-2024-06954 placed.",
    "Portal app v2.3.1 issue noted (ticket 4471).",
    "Weight 81.4 kg, BMI 27.9.",
    "eGFR 52 mL/min/1.73m2.",
];

impl Doc<'_> {
    fn ft_name(&mut self, token: &str) -> String {
        self.truth.name(Origin::FreeText, token);
        token.to_string()
    }

    fn ft_phone(&mut self, phone: &str) -> String {
        self.truth.digits(Cat::Phone, Origin::FreeText, phone);
        phone.to_string()
    }

    fn ft_date(&mut self, style: DateStyle) -> String {
        let day = self.fresh_day(2020, 2024);
        let shown = day.render(style);
        self.truth.date(Origin::FreeText, &day, &shown, style);
        shown
    }

    fn ft_birth(&mut self, style: DateStyle) -> String {
        let birth = self.p.birth;
        let shown = birth.render(style);
        self.truth.date(Origin::FreeText, &birth, &shown, style);
        if birth.y < 1930 {
            let year = birth.y.to_string();
            self.truth.digits(Cat::BirthYear90, Origin::FreeText, &year);
        }
        shown
    }

    fn ft_email(&mut self) -> String {
        let email = self.p.email.clone();
        self.truth.email(Origin::FreeText, &email);
        email
    }

    fn ft_address(&mut self) -> String {
        let (line1, zip) = (self.p.line1.clone(), self.p.zip.clone());
        let place = self.p.place;
        self.truth.exact(Cat::Street, Origin::FreeText, &line1);
        self.truth.place(Origin::FreeText, place.city);
        self.truth.zip(Origin::FreeText, &zip, place.state);
        format!("{line1}, {}, {} {zip}", place.city, place.state)
    }

    fn ft_mrn(&mut self) -> String {
        let digits = self.p.mrn_digits.clone();
        let shown = match self.rng.below(3) {
            0 => format!("MRN-{digits}"),
            1 => format!("MRN: {digits}"),
            _ => format!("medical record number {digits}"),
        };
        self.truth.mrn(Origin::FreeText, &shown, &digits);
        shown
    }

    fn ft_ssn(&mut self) -> String {
        let digits: String = self.p.ssn.chars().filter(char::is_ascii_digit).collect();
        let shown = format!("{}-{}-{}", &digits[..3], &digits[3..5], &digits[5..]);
        self.truth.digits(Cat::Ssn, Origin::FreeText, &shown);
        shown
    }

    /// "a 96-year-old woman" (recorded when over 89), "a 54-year-old man" otherwise.
    fn ft_age(&mut self) -> String {
        let age = self.p.age(YEAR);
        let phrase = format!("{age}-year-old");
        if age > 89 {
            self.truth.exact(Cat::Age90, Origin::FreeText, &phrase);
        }
        let who = if self.p.female { "woman" } else { "man" };
        format!("{phrase} {who}")
    }

    fn look_alike(&mut self) -> &'static str {
        let look_alike: &&'static str = self.rng.pick(&LOOK_ALIKES);
        look_alike
    }

    /// A Condition's `note[].text`: two or three sentences.
    pub fn condition_note(&mut self, problem: &str) -> String {
        let mut sentences = Vec::new();
        let count = 2 + self.rng.below(2) as usize;
        let mut kinds: Vec<u64> = (0..7).collect();
        for _ in 0..count {
            let i = self.rng.below(kinds.len() as u64) as usize;
            let kind = kinds.swap_remove(i);
            let (given, family) = (self.p.given[0].clone(), self.p.family.clone());
            let sentence = match kind {
                0 => {
                    let symptom = self.rng.pick(&SYMPTOMS);
                    let phone = self.p.phone_note.clone();
                    format!(
                        "{} {} reports {symptom}. Reachable at {}.",
                        self.ft_name(&given),
                        self.ft_name(&family),
                        self.ft_phone(&phone)
                    )
                }
                1 => {
                    let prefix = self.p.prefix;
                    format!(
                        "Spoke with {prefix} {} on {}; follow-up in 3 months.",
                        self.ft_name(&family),
                        self.ft_date(DateStyle::Long)
                    )
                }
                2 => format!(
                    "Pt {} {} (DOB {}) seen {}.",
                    self.ft_name(&given),
                    self.ft_name(&family),
                    self.ft_birth(DateStyle::Us),
                    self.ft_date(DateStyle::Us)
                ),
                3 => format!(
                    "Results e-mailed to {} on {}.",
                    self.ft_email(),
                    self.ft_date(DateStyle::Iso)
                ),
                4 => format!(
                    "SSN {} verified at registration; {}.",
                    self.ft_ssn(),
                    self.ft_mrn()
                ),
                5 => format!(
                    "{}, {} is a {} followed for {}.",
                    self.ft_name(&family).to_uppercase(),
                    self.ft_name(&given).to_uppercase(),
                    self.ft_age(),
                    problem.to_lowercase()
                ),
                _ => {
                    let (relative, phone) =
                        (self.p.relative.0.clone(), self.p.relative_phone.clone());
                    let relation = if self.p.female { "husband" } else { "wife" };
                    format!(
                        "Lives at {}; {} ({relation}) calls from {}.",
                        self.ft_address(),
                        self.ft_name(&relative),
                        self.ft_phone(&phone)
                    )
                }
            };
            sentences.push(sentence);
            if self.rng.chance(50) {
                sentences.push(self.look_alike().to_string());
            }
        }
        sentences.join(" ")
    }

    /// A dosage instruction that also says whom to call.
    pub fn dosage_note(&mut self, dosage: &str) -> String {
        let given = self.p.given[0].clone();
        let phone = self.p.phone_note.clone();
        format!(
            "{dosage}. {} to call {} with any dizziness.",
            self.ft_name(&given),
            self.ft_phone(&phone)
        )
    }

    /// The progress note a DocumentReference carries (base64, text/plain).
    pub fn progress_note(&mut self, problem: &str) -> String {
        let (given, family) = (self.p.given[0].clone(), self.p.family.clone());
        let (pg, pf) = self.p.provider;
        self.truth.provider(pf);
        let phone = self.p.phone_home.clone();
        let note_phone = self.p.phone_note.clone();
        let header = format!(
            "PROGRESS NOTE - Granite Harbor Hospital\nPatient: {}, {}    {}\nDOB: {}    Phone: {}\n",
            self.ft_name(&family).to_uppercase(),
            self.ft_name(&given),
            self.ft_mrn(),
            self.ft_birth(DateStyle::Us),
            self.ft_phone(&phone)
        );
        let body = format!(
            "Address: {}\nSeen {} by Dr. {pg} {pf}. {} is a {}.\nAssessment: {problem}, stable. {}\nPlan: continue current medication; results to {}. Reachable at {}.\n",
            self.ft_address(),
            self.ft_date(DateStyle::Long),
            self.ft_name(&given),
            self.ft_age(),
            self.look_alike(),
            self.ft_email(),
            self.ft_phone(&note_phone)
        );
        header + &body
    }

    /// The Patient's generated XHTML narrative.
    pub fn narrative(&mut self) -> String {
        let (given, family) = (self.p.given[0].clone(), self.p.family.clone());
        let mrn = self.p.mrn_value.clone();
        self.truth
            .mrn(Origin::FreeText, &mrn, &self.p.mrn_digits.clone());
        format!(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{} {}, DOB {}, {mrn}</p></div>",
            self.ft_name(&given),
            self.ft_name(&family),
            self.ft_birth(DateStyle::Iso)
        )
    }
}
