//! The generic corpus: JSON that is not FHIR — the records hospital systems and their MCP
//! servers actually return — with names, addresses, phones, dates of birth and ZIPs under the
//! many spellings their keys come in, flat, nested and in arrays.

use serde_json::{json, Map, Value};

use super::patients::{phone, street};
use super::rng::Rng;
use super::truth::{Cat, DateStyle, Days, Origin, Truth};
use super::vocab::{Place, FAMILY, GIVEN_F, GIVEN_M, PLACES, RESTRICTED_PLACES};

const STREET_KEYS: [&str; 15] = [
    "address",
    "addr",
    "home_address",
    "street_address",
    "address1",
    "address_line_1",
    "streetAddress",
    "Address",
    "street",
    "line1",
    "addressLine1",
    "mailing_address",
    "StreetAddress",
    "residence",
    "Street",
];
const LINE2_KEYS: [&str; 6] = [
    "address2",
    "address_line_2",
    "line2",
    "addressLine2",
    "apt",
    "unit",
];
const CITY_KEYS: [&str; 6] = [
    "city",
    "City",
    "town",
    "cityName",
    "municipality",
    "locality",
];
const ZIP_KEYS: [&str; 10] = [
    "postalCode",
    "postal_code",
    "PostalCode",
    "zip-code",
    "zipCode",
    "zip",
    "ZIP",
    "postcode",
    "zip_code",
    "Zip",
];
const STATE_KEYS: [&str; 3] = ["state", "State", "region"];
const ADDRESS_OBJECT_KEYS: [&str; 7] = [
    "address",
    "Address",
    "addr",
    "home_address",
    "mailingAddress",
    "residence",
    "location",
];
const DOB_KEYS: [&str; 9] = [
    "birthDate",
    "dateOfBirth",
    "dob",
    "DOB",
    "date_of_birth",
    "birth_date",
    "BirthDate",
    "birthday",
    "born",
];
const PHONE_KEYS: [&str; 11] = [
    "mobile",
    "cell",
    "phoneNumber",
    "phone",
    "Phone",
    "telephone",
    "tel",
    "home_phone",
    "cellPhone",
    "contact_number",
    "mobileNumber",
];
const FIRST_KEYS: [&str; 8] = [
    "firstName",
    "first_name",
    "FirstName",
    "given_name",
    "givenName",
    "fname",
    "first",
    "forename",
];
const LAST_KEYS: [&str; 8] = [
    "last_name",
    "lastName",
    "LastName",
    "surname",
    "family_name",
    "familyName",
    "lname",
    "last",
];
const FULL_KEYS: [&str; 8] = [
    "FullName",
    "full_name",
    "fullName",
    "name",
    "patientName",
    "patient_name",
    "displayName",
    "Name",
];
const EMAIL_KEYS: [&str; 5] = ["email", "Email", "emailAddress", "e_mail", "mail"];
const UNITS: [&str; 4] = ["Apt 7", "Unit 3C", "Suite 210", "Apt 11D"];

struct Gen<'r> {
    rng: &'r mut Rng,
    days: Days,
    truth: Truth,
}

/// Generic document `n` and its truth.
pub fn document(rng: &mut Rng, n: usize) -> (Value, Truth) {
    let mut g = Gen {
        rng,
        days: Days::default(),
        truth: Truth::default(),
    };
    let doc = match n % 6 {
        0 => json!({"patient": g.person(n)}),
        1 => {
            let people: Vec<Value> = (0..2 + g.rng.below(3)).map(|_| g.person(n)).collect();
            json!({"count": people.len(), "results": people})
        }
        2 => json!({"data": {"members": [{"profile": g.person(n), "status": "active"}]}}),
        3 => json!({"household": {"primary": g.person(n), "dependents": [g.person(n)]}}),
        4 => json!({"contacts": {"emergency": g.person(n), "relationship": "spouse"}}),
        _ => {
            let summary = g.summary(n);
            json!({"summary": summary, "person": g.person(n)})
        }
    };
    (doc, g.truth)
}

impl Gen<'_> {
    fn key<'k>(&mut self, keys: &[&'k str]) -> &'k str {
        let key: &&'k str = self.rng.pick(keys);
        key
    }

    fn names(&mut self) -> (String, String) {
        let pool: &[&str] = if self.rng.chance(50) {
            &GIVEN_F
        } else {
            &GIVEN_M
        };
        let given = self.rng.pick(pool).to_string();
        let family = self.rng.pick(&FAMILY).to_string();
        self.truth.name(Origin::Structured, &given);
        self.truth.name(Origin::Structured, &family);
        (given, family)
    }

    fn place(&mut self, n: usize) -> &'static Place {
        if n % 4 == 0 {
            self.rng.pick(&RESTRICTED_PLACES)
        } else {
            self.rng.pick(&PLACES)
        }
    }

    fn dob(&mut self, origin: Origin) -> String {
        let year = self.rng.range(1920, 2010) as u32;
        let day = self.days.draw(self.rng, year);
        let style = *self.rng.pick(&[
            DateStyle::Iso,
            DateStyle::Iso,
            DateStyle::Us,
            DateStyle::Long,
        ]);
        let shown = day.render(style);
        self.truth.date(origin, &day, &shown, style);
        shown
    }

    fn person(&mut self, n: usize) -> Value {
        let mut m = Map::new();
        let s = Origin::Structured;
        let (given, family) = self.names();
        match self.rng.below(4) {
            0 => {
                m.insert(self.key(&FIRST_KEYS).into(), json!(given));
                m.insert(self.key(&LAST_KEYS).into(), json!(family));
            }
            1 => {
                m.insert(
                    self.key(&FULL_KEYS).into(),
                    json!(format!("{given} {family}")),
                );
            }
            2 => {
                m.insert("name".into(), json!({"first": given, "last": family}));
            }
            _ => {
                m.insert(
                    self.key(&FULL_KEYS).into(),
                    json!(format!("{family}, {given}")),
                );
            }
        }
        let dob = self.dob(s);
        m.insert(self.key(&DOB_KEYS).into(), json!(dob));
        let place = self.place(n);
        let ph = phone(self.rng, place.area);
        self.truth.digits(Cat::Phone, s, &ph);
        m.insert(self.key(&PHONE_KEYS).into(), json!(ph));
        if self.rng.chance(50) {
            let email = format!(
                "{}.{}@example.org",
                given.to_ascii_lowercase(),
                family.to_ascii_lowercase().replace('\'', "")
            );
            self.truth.email(s, &email);
            m.insert(self.key(&EMAIL_KEYS).into(), json!(email));
        }
        let line1 = street(self.rng);
        let line2 = self
            .rng
            .chance(30)
            .then(|| self.rng.pick(&UNITS).to_string());
        let zip = format!("{}{}", place.zip3, self.rng.digits(2));
        self.truth.exact(Cat::Street, s, &line1);
        if let Some(l2) = &line2 {
            self.truth.exact(Cat::Street, s, l2);
        }
        self.truth.place(s, place.city);
        self.truth.zip(s, &zip, place.state);
        match self.rng.below(4) {
            // One string: "12 Elm Court, Hartford, CT 06103".
            0 => {
                let mut text = line1.clone();
                if let Some(l2) = &line2 {
                    text = format!("{text} {l2}");
                }
                let text = format!("{text}, {}, {} {zip}", place.city, place.state);
                // In one string the ZIP is free text after a state.
                self.truth.zip(Origin::FreeText, &zip, place.state);
                m.insert(self.key(&STREET_KEYS).into(), json!(text));
            }
            // An address object with its own key spellings.
            1 => {
                let mut a = Map::new();
                a.insert(self.key(&STREET_KEYS).into(), json!(line1));
                if let Some(l2) = line2 {
                    a.insert(self.key(&LINE2_KEYS).into(), json!(l2));
                }
                a.insert(self.key(&CITY_KEYS).into(), json!(place.city));
                a.insert(self.key(&STATE_KEYS).into(), json!(place.state));
                a.insert(self.key(&ZIP_KEYS).into(), json!(zip));
                m.insert(self.key(&ADDRESS_OBJECT_KEYS).into(), Value::Object(a));
            }
            // Flat on the person.
            2 => {
                m.insert(self.key(&STREET_KEYS).into(), json!(line1));
                if let Some(l2) = line2 {
                    m.insert(self.key(&LINE2_KEYS).into(), json!(l2));
                }
                m.insert(self.key(&CITY_KEYS).into(), json!(place.city));
                m.insert(self.key(&STATE_KEYS).into(), json!(place.state));
                m.insert(self.key(&ZIP_KEYS).into(), json!(zip));
            }
            // Lines in an array.
            _ => {
                let mut lines = vec![json!(line1)];
                lines.extend(line2.map(|l| json!(l)));
                let mut a = Map::new();
                a.insert("lines".into(), json!(lines));
                a.insert(self.key(&CITY_KEYS).into(), json!(place.city));
                a.insert("state".into(), json!(place.state));
                a.insert(self.key(&ZIP_KEYS).into(), json!(zip));
                m.insert(self.key(&ADDRESS_OBJECT_KEYS).into(), Value::Object(a));
            }
        }
        m.insert("status".into(), json!("active"));
        Value::Object(m)
    }

    /// A one-line summary, as an LLM-facing server prints it.
    fn summary(&mut self, n: usize) -> String {
        let f = Origin::FreeText;
        let pool: &[&str] = if self.rng.chance(50) {
            &GIVEN_F
        } else {
            &GIVEN_M
        };
        let given = self.rng.pick(pool).to_string();
        let family = self.rng.pick(&FAMILY).to_string();
        self.truth.name(f, &given);
        self.truth.name(f, &family);
        let place = self.place(n);
        let line1 = street(self.rng);
        let zip = format!("{}{}", place.zip3, self.rng.digits(2));
        self.truth.exact(Cat::Street, f, &line1);
        self.truth.place(f, place.city);
        self.truth.zip(f, &zip, place.state);
        let dob = self.dob(f);
        let ph = phone(self.rng, place.area);
        self.truth.digits(Cat::Phone, f, &ph);
        format!(
            "{given} {family}, {line1}, {}, {} {zip}. DOB {dob}; cell {ph}.",
            place.city, place.state
        )
    }
}
