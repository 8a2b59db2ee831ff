"""Writes hospital.json: a synthetic hospital for mock-mcp. Deterministic (seeded), stdlib only.

Everything here is fake: names are drawn from common-name lists, SSNs from valid-looking but
unissued ranges, phone numbers from the reserved 555-01xx block, e-mails at example.* domains.
Clinical notes deliberately repeat identifiers in free text (the hard case for redaction) and
carry harmless look-alikes (lab values, order numbers, version strings) as distractors.

    python3 mock-mcp/data/generate.py > mock-mcp/data/hospital.json
"""

import json
import random
import string
import sys
from datetime import date, timedelta

rng = random.Random(20261122)

FIRST = ["Amara", "Liam", "Sofia", "Noah", "Yuki", "Mateo", "Priya", "Elena", "Kwame", "Hana",
         "Oliver", "Fatima", "Lucas", "Ingrid", "Tariq", "Mei", "Diego", "Aisha", "Jonas", "Chloe",
         "Ravi", "Leila", "Samuel", "Nadia", "Felix", "Zara", "Hugo", "Imani", "Oscar", "Lena",
         "Arjun", "Freya"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Kowalski", "Nguyen", "Ferreira",
        "Mensah", "Schultz", "O'Brien", "Castillo", "Petrov", "Abernathy", "Delacroix", "Iwu",
        "Novak", "Rahman", "Bianchi", "Sorensen", "Adeyemi", "Vasquez", "Holm", "Kaur"]
STREETS = ["Maple Ave", "Harbor St", "Elm Court", "Beacon Rd", "Willow Lane", "Granite Way",
           "Orchard Blvd", "Cedar Row", "Lighthouse Dr", "Quarry Path"]
CITIES = [("Boston", "MA", "021"), ("Portland", "ME", "041"), ("Hartford", "CT", "061"),
          ("Albany", "NY", "122"), ("Burlington", "VT", "054"), ("Providence", "RI", "029")]
# 3-digit ZIP prefixes HHS Safe Harbor says to generalise to 000 (population < 20,000).
RESTRICTED = ["036", "059", "102", "203", "556", "692", "790", "821", "823", "830", "831",
              "878", "879", "884", "890", "893"]
PAYERS = ["Blue Harbor Health", "Granite Mutual", "Atlantic Care Plan", "Medicare"]
DIAGNOSES = [("E11.9", "Type 2 diabetes mellitus without complications"),
             ("I10", "Essential (primary) hypertension"),
             ("J45.909", "Unspecified asthma, uncomplicated"),
             ("M54.5", "Low back pain"),
             ("F41.1", "Generalized anxiety disorder"),
             ("E78.5", "Hyperlipidemia, unspecified"),
             ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
             ("N18.3", "Chronic kidney disease, stage 3"),
             ("G43.909", "Migraine, unspecified"),
             ("I48.91", "Unspecified atrial fibrillation"),
             ("C50.911", "Malignant neoplasm of unspecified site of right female breast"),
             ("B20", "Human immunodeficiency virus [HIV] disease")]
DEPARTMENTS = ["Cardiology", "Endocrinology", "Primary Care", "Oncology", "Nephrology",
               "Neurology", "Pulmonology"]
PROVIDERS = ["Dr. Helen Marsh", "Dr. Kofi Boateng", "Dr. Ana Ruiz", "Dr. Peter Lang",
             "Dr. Sunita Rao"]
CPT = [("99213", "Office visit, established patient, low complexity", 118.0),
       ("99214", "Office visit, established patient, moderate complexity", 172.0),
       ("80053", "Comprehensive metabolic panel", 42.5),
       ("83036", "Hemoglobin A1c", 28.75),
       ("93000", "Electrocardiogram, complete", 61.2),
       ("71046", "Chest X-ray, 2 views", 95.0)]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def patient_id(taken):
    while True:
        pid = "".join(rng.choice(string.ascii_uppercase) for _ in range(5))
        if pid not in taken:
            taken.add(pid)
            return pid


def ssn():
    # Valid SSA shape: area not 000/666/9xx, group not 00, serial not 0000.
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def phone():
    area = rng.choice(["617", "207", "860", "518", "802", "401"])
    number = f"555-01{rng.randint(0, 99):02d}"
    return f"({area}) {number}" if rng.random() < 0.5 else f"{area}-{number}"


def day_between(start, end):
    return start + timedelta(days=rng.randint(0, (end - start).days))


def long_date(d):
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def note_text(p, when):
    name = p["name"]
    templates = [
        f"Spoke with {name} at {p['phone']} re: {p['mrn']}; SSN on file {p['ssn']} confirmed. "
        f"HbA1c 7.2%, LDL 130 mg/dL. Follow-up scheduled {long_date(when + timedelta(days=30))}.",
        f"Patient {name} (DOB {p['date_of_birth']}) seen {when.strftime('%m/%d/%Y')}. "
        f"Reports improved sleep. BP 128/82. Lab order ORD-{when.year}-{rng.randint(100, 99999):05d} placed.",
        f"Results e-mailed to {p['email']} per patient request. Portal app v2.3.1 issue noted. "
        f"Lives at {p['address']['street']}, {p['address']['zip']}; insurance {p['insurance']['member_id']}.",
        f"Discussed medication adherence with {p['first_name']}. Emergency contact "
        f"{p['emergency_contact']['name']} reachable at {p['emergency_contact']['phone']}. "
        f"Creatinine 1.1 mg/dL, eGFR 68.",
    ]
    return rng.choice(templates)


def make_patient(pid, index):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if index < 2:  # two patients older than 89: ages are identifiers past 89 (Safe Harbor)
        dob = day_between(date(1929, 1, 1), date(1934, 12, 31))
    else:
        dob = day_between(date(1940, 1, 1), date(2008, 12, 31))
    city, state, prefix = rng.choice(CITIES)
    if index % 7 == 3:
        prefix = RESTRICTED[index % len(RESTRICTED)]
    zip_code = f"{prefix}{rng.randint(0, 99):02d}"
    p = {
        "patient_id": pid,
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "date_of_birth": dob.isoformat(),
        "sex": rng.choice(["F", "M"]),
        "ssn": ssn(),
        "phone": phone(),
        "email": f"{first.lower()}.{last.lower().replace(chr(39), '')}{rng.randint(1, 99)}@"
                 + rng.choice(["example.com", "example.org", "example.net"]),
        "address": {"street": f"{rng.randint(1, 999)} {rng.choice(STREETS)}", "city": city,
                    "state": state, "zip": zip_code},
        "mrn": f"MRN-{rng.randint(0, 9999999):07d}",
        "insurance": {"payer": rng.choice(PAYERS),
                      "member_id": f"XKH{rng.randint(0, 999999999):09d}",
                      "group_number": f"GRP-{rng.randint(1000, 9999)}"},
        "emergency_contact": {"name": f"{rng.choice(FIRST)} {last}", "phone": phone()},
    }
    p["diagnoses"] = [
        {"code": code, "description": desc,
         "onset_date": day_between(max(dob, date(2005, 1, 1)), date(2025, 12, 31)).isoformat()}
        for code, desc in rng.sample(DIAGNOSES, rng.randint(2, 4))
    ]
    notes = []
    for n in range(rng.randint(1, 3)):
        when = day_between(date(2024, 1, 1), date(2026, 10, 31))
        notes.append({"note_id": f"N-{pid}-{n + 1}", "date": when.isoformat(),
                      "author": rng.choice(PROVIDERS), "text": note_text(p, when)})
    p["clinical_notes"] = notes
    p["appointments"] = [
        {"appointment_id": f"A-{pid}-{n + 1}",
         "date": day_between(date(2026, 11, 1), date(2027, 3, 31)).isoformat(),
         "time": f"{rng.randint(8, 16):02d}:{rng.choice(['00', '15', '30', '45'])}",
         "department": rng.choice(DEPARTMENTS), "provider": rng.choice(PROVIDERS),
         "reason": rng.choice(["Follow-up", "Annual physical", "Lab review", "Medication check"])}
        for n in range(rng.randint(1, 3))
    ]
    p["billing"] = []
    for n in range(rng.randint(2, 4)):
        code, desc, amount = rng.choice(CPT)
        p["billing"].append({
            "invoice_id": f"INV-{rng.randint(100000, 999999)}",
            "date": day_between(date(2025, 1, 1), date(2026, 10, 31)).isoformat(),
            "cpt_code": code, "description": desc, "amount": amount,
            "insurance_member_id": p["insurance"]["member_id"],
            "status": rng.choice(["paid", "pending", "denied"])})
    return p


def main():
    taken = {"NUGWI"}
    ids = ["NUGWI"] + [patient_id(taken) for _ in range(31)]
    patients = [make_patient(pid, i) for i, pid in enumerate(ids)]
    json.dump({"hospital": "St. Example General (synthetic)", "patients": patients},
              sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
