//! The words the generators draw from: names, places (with HHS's restricted ZIP3 areas),
//! streets, and the clinical vocabulary (SNOMED CT / ICD-10-CM problems, RxNorm drugs, LOINC
//! observations with their UCUM units and US Core profiles). All of it is fake or public.

pub const GIVEN_F: [&str; 18] = [
    "Ingrid", "Amara", "Yuki", "Priya", "Elena", "Hana", "Fatima", "Mei", "Aisha", "Chloe",
    "Leila", "Nadia", "Zara", "Imani", "Freya", "Beatrice", "Solveig", "Ottilie",
];
pub const GIVEN_M: [&str; 18] = [
    "Liam", "Mateo", "Kwame", "Oliver", "Tariq", "Diego", "Jonas", "Ravi", "Samuel", "Felix",
    "Hugo", "Oscar", "Arjun", "Walter", "Ezra", "Tomas", "Bernard", "Kenji",
];
pub const FAMILY: [&str; 24] = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Haddad",
    "Kowalski",
    "Nguyen",
    "Ferreira",
    "Mensah",
    "Schultz",
    "O'Brien",
    "Castillo",
    "Petrov",
    "Abernathy",
    "Delacroix",
    "Iwu",
    "Novak",
    "Rahman",
    "Bianchi",
    "Sorensen",
    "Adeyemi",
    "Vasquez",
    "Kaur",
    "Takahashi-Moore",
];
/// Clinicians (not patient identifiers under Safe Harbor; reported, not asserted).
pub const PROVIDERS: [(&str, &str); 6] = [
    ("Ana", "Ruiz"),
    ("Helen", "Marsh"),
    ("Peter", "Lang"),
    ("Omar", "Farouk"),
    ("Grace", "Whitfield"),
    ("Tobias", "Renner"),
];

pub struct Place {
    pub city: &'static str,
    pub county: &'static str,
    pub state: &'static str,
    pub zip3: &'static str,
    pub area: &'static str,
}

const fn place(
    city: &'static str,
    county: &'static str,
    state: &'static str,
    zip3: &'static str,
    area: &'static str,
) -> Place {
    Place {
        city,
        county,
        state,
        zip3,
        area,
    }
}

pub const PLACES: [Place; 8] = [
    place("Boston", "Suffolk County", "MA", "021", "617"),
    place("Portland", "Cumberland County", "ME", "041", "207"),
    place("Hartford", "Hartford County", "CT", "061", "860"),
    place("Albany", "Albany County", "NY", "122", "518"),
    place("Burlington", "Chittenden County", "VT", "054", "802"),
    place("Providence", "Providence County", "RI", "029", "401"),
    place("Worcester", "Worcester County", "MA", "016", "508"),
    place("Manchester", "Hillsborough County", "NH", "031", "603"),
];

/// One plausible place for each of HHS's restricted ZIP3 prefixes.
pub const RESTRICTED_PLACES: [Place; 17] = [
    place("Charlestown", "Sullivan County", "NH", "036", "603"),
    place("Island Pond", "Essex County", "VT", "059", "802"),
    place("New London", "New London County", "CT", "063", "860"),
    place("New York", "New York County", "NY", "102", "212"),
    place("Washington", "District of Columbia", "DC", "203", "202"),
    place("Grand Marais", "Cook County", "MN", "556", "218"),
    place("Valentine", "Cherry County", "NE", "692", "402"),
    place("Amarillo", "Potter County", "TX", "790", "806"),
    place("Yellowstone", "Teton County", "WY", "821", "307"),
    place("Rawlins", "Carbon County", "WY", "823", "307"),
    place("Jackson", "Teton County", "WY", "830", "307"),
    place("Kemmerer", "Lincoln County", "WY", "831", "307"),
    place("Socorro", "Socorro County", "NM", "878", "575"),
    place("Truth or Consequences", "Sierra County", "NM", "879", "575"),
    place("Tucumcari", "Quay County", "NM", "884", "575"),
    place("Las Vegas", "Clark County", "NV", "890", "702"),
    place("Ely", "White Pine County", "NV", "893", "775"),
];

pub const STREET_NAMES: [&str; 14] = [
    "Granite",
    "Maple",
    "Harbor",
    "Beacon",
    "Willow",
    "Orchard",
    "Cedar",
    "Lighthouse",
    "Quarry",
    "Juniper",
    "Foxglove",
    "Heron",
    "Alder",
    "Kestrel",
];
/// Suffixes a street detector knows, and some it may not.
pub const STREET_SUFFIXES: [&str; 24] = [
    "Way", "Ave", "St", "Street", "Rd", "Road", "Lane", "Dr", "Drive", "Court", "Blvd", "Row",
    "Path", "Place", "Terrace", "Circle", "Trail", "Loop", "Crescent", "Square", "Pike", "Landing",
    "Commons", "Walk",
];
pub const UNITS: [&str; 5] = ["Apt 4B", "Unit 12", "Suite 300", "Apt 2", "Floor 3"];

/// (SNOMED code, SNOMED display, ICD-10-CM code, ICD-10-CM display, a drug for it)
pub const CONDITIONS: [(&str, &str, &str, &str, usize); 12] = [
    (
        "44054006",
        "Diabetes mellitus type 2",
        "E11.9",
        "Type 2 diabetes mellitus without complications",
        0,
    ),
    (
        "38341003",
        "Hypertensive disorder, systemic arterial",
        "I10",
        "Essential (primary) hypertension",
        1,
    ),
    (
        "195967001",
        "Asthma",
        "J45.909",
        "Unspecified asthma, uncomplicated",
        2,
    ),
    (
        "55822004",
        "Hyperlipidemia",
        "E78.5",
        "Hyperlipidemia, unspecified",
        3,
    ),
    (
        "49436004",
        "Atrial fibrillation",
        "I48.91",
        "Unspecified atrial fibrillation",
        4,
    ),
    (
        "40930008",
        "Hypothyroidism",
        "E03.9",
        "Hypothyroidism, unspecified",
        5,
    ),
    (
        "35489007",
        "Depressive disorder",
        "F32.A",
        "Depression, unspecified",
        6,
    ),
    (
        "21897009",
        "Generalized anxiety disorder",
        "F41.1",
        "Generalized anxiety disorder",
        6,
    ),
    (
        "235595009",
        "Gastroesophageal reflux disease",
        "K21.9",
        "Gastro-esophageal reflux disease without esophagitis",
        7,
    ),
    (
        "37796009",
        "Migraine",
        "G43.909",
        "Migraine, unspecified, not intractable, without status migrainosus",
        8,
    ),
    (
        "279039007",
        "Low back pain",
        "M54.50",
        "Low back pain, unspecified",
        8,
    ),
    (
        "433144002",
        "Chronic kidney disease stage 3",
        "N18.30",
        "Chronic kidney disease, stage 3 unspecified",
        1,
    ),
];

/// (RxNorm code, display, dosage text)
pub const DRUGS: [(&str, &str, &str); 9] = [
    (
        "860975",
        "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
        "Take 1 tablet by mouth once daily with the evening meal",
    ),
    (
        "314076",
        "lisinopril 10 MG Oral Tablet",
        "Take 1 tablet by mouth once daily",
    ),
    (
        "745679",
        "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
        "Inhale 2 puffs every 4 to 6 hours as needed for wheezing",
    ),
    (
        "617312",
        "atorvastatin 10 MG Oral Tablet",
        "Take 1 tablet by mouth at bedtime",
    ),
    (
        "855332",
        "warfarin sodium 5 MG Oral Tablet",
        "Take 1 tablet by mouth daily; INR check in 2 weeks",
    ),
    (
        "966222",
        "levothyroxine sodium 0.05 MG Oral Tablet",
        "Take 1 tablet by mouth every morning before breakfast",
    ),
    (
        "312940",
        "sertraline 50 MG Oral Tablet",
        "Take 1 tablet by mouth once daily",
    ),
    (
        "198053",
        "omeprazole 20 MG Delayed Release Oral Capsule",
        "Take 1 capsule by mouth before breakfast",
    ),
    (
        "310965",
        "ibuprofen 200 MG Oral Tablet",
        "Take 1 to 2 tablets by mouth every 6 hours as needed for pain",
    ),
];

/// (LOINC, display, value range (tenths), unit, UCUM code, US Core profile, category)
pub type Lab = (
    &'static str,
    &'static str,
    (u64, u64),
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

pub const LABS: [Lab; 8] = [
    (
        "4548-4",
        "Hemoglobin A1c/Hemoglobin.total in Blood",
        (52, 98),
        "%",
        "%",
        "us-core-observation-lab",
        "laboratory",
    ),
    (
        "2093-3",
        "Cholesterol [Mass/volume] in Serum or Plasma",
        (1500, 2600),
        "mg/dL",
        "mg/dL",
        "us-core-observation-lab",
        "laboratory",
    ),
    (
        "2339-0",
        "Glucose [Mass/volume] in Blood",
        (700, 1900),
        "mg/dL",
        "mg/dL",
        "us-core-observation-lab",
        "laboratory",
    ),
    (
        "8867-4",
        "Heart rate",
        (550, 1100),
        "beats/minute",
        "/min",
        "us-core-heart-rate",
        "vital-signs",
    ),
    (
        "29463-7",
        "Body weight",
        (480, 1200),
        "kg",
        "kg",
        "us-core-body-weight",
        "vital-signs",
    ),
    (
        "8302-2",
        "Body height",
        (1500, 1950),
        "cm",
        "cm",
        "us-core-body-height",
        "vital-signs",
    ),
    (
        "39156-5",
        "Body mass index (BMI) [Ratio]",
        (180, 380),
        "kg/m2",
        "kg/m2",
        "us-core-bmi",
        "vital-signs",
    ),
    (
        "8310-5",
        "Body temperature",
        (361, 384),
        "Cel",
        "Cel",
        "us-core-body-temperature",
        "vital-signs",
    ),
];
