"""Writes hospital.json: a synthetic hospital for mock-mcp. Deterministic (seeded), stdlib only.

Everything here is fake: names are drawn from common-name lists, SSNs are random but shaped like
real ones (area not 000/666/9xx, group not 00, serial not 0000), phone numbers come from the
fictional 555-01xx block, e-mails are at example.com / example.org. Clinical notes deliberately
repeat identifiers in free text (the hard case for redaction) next to harmless look-alikes (lab
values, order numbers, version strings) as distractors.

    python3 mock-mcp/data/generate.py > mock-mcp/data/hospital.json
"""

import json
import random
import string
import sys
from datetime import date, timedelta

SEED = 20261122
PATIENTS = 32
FIRST_ID = "NUGWI"

rng = random.Random(SEED)

FEMALE = ["Amara", "Sofia", "Yuki", "Priya", "Elena", "Hana", "Fatima", "Ingrid", "Mei", "Aisha",
          "Chloe", "Leila", "Nadia", "Zara", "Imani", "Lena", "Freya", "Margaret", "Rosa", "Beatrice"]
MALE = ["Liam", "Noah", "Mateo", "Kwame", "Oliver", "Lucas", "Tariq", "Diego", "Jonas", "Ravi",
        "Samuel", "Felix", "Hugo", "Oscar", "Arjun", "Walter", "Ezra", "Tomas", "Bernard", "Kenji"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Kowalski", "Nguyen", "Ferreira",
        "Mensah", "Schultz", "O'Brien", "Castillo", "Petrov", "Abernathy", "Delacroix", "Iwu",
        "Novak", "Rahman", "Bianchi", "Sorensen", "Adeyemi", "Vasquez", "Holm", "Kaur"]
STREETS = ["Maple Ave", "Harbor St", "Elm Court", "Beacon Rd", "Willow Lane", "Granite Way",
           "Orchard Blvd", "Cedar Row", "Lighthouse Dr", "Quarry Path"]
# (city, state, 3-digit ZIP prefix, telephone area code)
CITIES = [("Boston", "MA", "021", "617"), ("Portland", "ME", "041", "207"),
          ("Hartford", "CT", "061", "860"), ("Albany", "NY", "122", "518"),
          ("Burlington", "VT", "054", "802"), ("Providence", "RI", "029", "401")]
# 3-digit ZIP prefixes that HIPAA Safe Harbor says to generalise to 000 (population < 20,000),
# each with a plausible place so the address still reads right.
RESTRICTED = [("036", "Charlestown", "NH", "603"), ("059", "Island Pond", "VT", "802"),
              ("102", "New York", "NY", "212"), ("203", "Washington", "DC", "202"),
              ("556", "Grand Marais", "MN", "218"), ("692", "Valentine", "NE", "402"),
              ("790", "Amarillo", "TX", "806"), ("821", "Yellowstone", "WY", "307"),
              ("823", "Rawlins", "WY", "307"), ("830", "Jackson", "WY", "307"),
              ("831", "Kemmerer", "WY", "307"), ("878", "Socorro", "NM", "575"),
              ("879", "Truth or Consequences", "NM", "575"), ("884", "Tucumcari", "NM", "575"),
              ("890", "Las Vegas", "NV", "702"), ("893", "Ely", "NV", "775")]
PAYERS = ["Blue Harbor Health", "Granite Mutual", "Atlantic Care Plan", "Medicare"]
DIAGNOSES = [("E11.9", "Type 2 diabetes mellitus without complications"),
             ("I10", "Essential (primary) hypertension"),
             ("J45.909", "Unspecified asthma, uncomplicated"),
             ("M54.50", "Low back pain, unspecified"),
             ("F41.1", "Generalized anxiety disorder"),
             ("E78.5", "Hyperlipidemia, unspecified"),
             ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
             ("N18.30", "Chronic kidney disease, stage 3 unspecified"),
             ("G43.909", "Migraine, unspecified, not intractable, without status migrainosus"),
             ("I48.91", "Unspecified atrial fibrillation"),
             ("C50.911", "Malignant neoplasm of unspecified site of right female breast"),
             ("B20", "Human immunodeficiency virus [HIV] disease"),
             ("F32.A", "Depression, unspecified"),
             ("E03.9", "Hypothyroidism, unspecified")]
DEPARTMENTS = ["Cardiology", "Endocrinology", "Primary Care", "Oncology", "Nephrology",
               "Neurology", "Pulmonology"]
PROVIDERS = ["Dr. Helen Marsh", "Dr. Kofi Boateng", "Dr. Ana Ruiz", "Dr. Peter Lang",
             "Dr. Sunita Rao"]
REASONS = ["Follow-up", "Annual physical", "Lab review", "Medication check", "New symptoms"]
CPT = [("99213", "Office visit, established patient, low complexity", 118.00),
       ("99214", "Office visit, established patient, moderate complexity", 172.00),
       ("80053", "Comprehensive metabolic panel", 42.50),
       ("83036", "Hemoglobin A1c", 28.75),
       ("93000", "Electrocardiogram, complete", 61.20),
       ("71046", "Chest X-ray, 2 views", 95.00),
       ("36415", "Routine venipuncture", 12.40)]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def new_patient_id(taken):
    while True:
        pid = "".join(rng.choice(string.ascii_uppercase) for _ in range(5))
        if pid not in taken:
            taken.add(pid)
            return pid


def ssn():
    # Valid SSA shape: area 001-899 except 666, group 01-99, serial 0001-9999.
    area = rng.choice([a for a in range(100, 800) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def phone(area_code):
    number = f"555-01{rng.randint(0, 99):02d}"
    return f"({area_code}) {number}" if rng.random() < 0.5 else f"{area_code}-{number}"


def day_between(start, end):
    return start + timedelta(days=rng.randint(0, (end - start).days))


def long_date(d):
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def slash_date(d):
    return d.strftime("%m/%d/%Y")


def order_number(when):
    return f"ORD-{when.year}-{rng.randint(100, 99999):05d}"


# Each template repeats identifiers in prose and carries look-alikes that are not PHI.
def note_contact(p, when):
    return (f"Spoke with {p['name']} at {p['phone']} re: {p['mrn']}; SSN on file {p['ssn']} "
            f"confirmed. HbA1c 7.2%, LDL 130 mg/dL. Follow-up scheduled "
            f"{long_date(when + timedelta(days=30))}.")


def note_visit(p, when):
    return (f"Patient {p['name']} (DOB {p['date_of_birth']}) seen {slash_date(when)}. "
            f"Reports improved sleep. BP 128/82, pulse 72. Lab order {order_number(when)} placed; "
            f"results expected {long_date(when + timedelta(days=7))}.")


def note_portal(p, when):
    return (f"Results e-mailed to {p['email']} per patient request on {slash_date(when)}. "
            f"Portal app v2.3.1 issue noted (ticket 4471). Lives at {p['address']['street']}, "
            f"{p['address']['city']} {p['address']['zip']}; insurance {p['insurance']['member_id']}.")


def note_family(p, when):
    c = p["emergency_contact"]
    return (f"Discussed medication adherence with {p['first_name']}. Emergency contact "
            f"{c['name']} reachable at {c['phone']}. Creatinine 1.1 mg/dL, eGFR 68. "
            f"Metformin 500 mg BID continued; recheck {long_date(when + timedelta(days=90))}.")


TEMPLATES = [note_contact, note_visit, note_portal, note_family]


def make_patient(pid, index):
    sex = rng.choice(["F", "M"])
    first, last = rng.choice(FEMALE if sex == "F" else MALE), rng.choice(LAST)
    if index < 2:  # two patients older than 89: Safe Harbor treats such ages as identifying
        dob = day_between(date(1929, 1, 1), date(1934, 12, 31))
    else:
        dob = day_between(date(1940, 1, 1), date(2008, 12, 31))
    if index % 5 == 3:  # a handful live in sparsely populated 3-digit ZIP areas
        prefix, city, state, area_code = RESTRICTED[(index * 7) % len(RESTRICTED)]
    else:
        city, state, prefix, area_code = rng.choice(CITIES)
    email_domain = rng.choice(["example.com", "example.org"])
    p = {
        "patient_id": pid,
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "date_of_birth": dob.isoformat(),
        "sex": sex,
        "ssn": ssn(),
        "phone": phone(area_code),
        "email": f"{first.lower()}.{last.lower().replace(chr(39), '')}{rng.randint(1, 99)}@{email_domain}",
        "address": {"street": f"{rng.randint(1, 999)} {rng.choice(STREETS)}", "city": city,
                    "state": state, "zip": f"{prefix}{rng.randint(1, 99):02d}"},
        "mrn": f"MRN-{rng.randint(0, 9999999):07d}",
        "insurance": {"payer": rng.choice(PAYERS),
                      "member_id": f"XKH{rng.randint(0, 999999999):09d}",
                      "group_number": f"GRP-{rng.randint(1000, 9999)}"},
        "emergency_contact": {"name": f"{rng.choice(FEMALE + MALE)} {last}",
                              "phone": phone(area_code)},
    }
    p["diagnoses"] = sorted(
        ({"code": code, "description": desc,
          "onset_date": day_between(max(dob, date(2005, 1, 1)), date(2025, 12, 31)).isoformat()}
         for code, desc in rng.sample(DIAGNOSES, rng.randint(2, 4))),
        key=lambda d: d["onset_date"])

    # The first note always carries name, phone, MRN and SSN; the others add the rest. The
    # reference patient gets the three richest so one record exercises every detector.
    if index == 0:
        kinds = [note_contact, note_visit, note_portal]
    else:
        kinds = [note_contact] + rng.sample(TEMPLATES[1:], rng.randint(0, 2))
    count = len(kinds)
    when = sorted(day_between(date(2024, 1, 1), date(2026, 10, 31)) for _ in range(count))
    p["clinical_notes"] = [
        {"note_id": f"N-{pid}-{n + 1}", "date": w.isoformat(), "author": rng.choice(PROVIDERS),
         "text": kind(p, w)}
        for n, (kind, w) in enumerate(zip(kinds, when))
    ]

    p["appointments"] = sorted(
        ({"appointment_id": f"A-{pid}-{n + 1}",
          "date": day_between(date(2026, 11, 1), date(2027, 3, 31)).isoformat(),
          "time": f"{rng.randint(8, 16):02d}:{rng.choice(['00', '15', '30', '45'])}",
          "department": rng.choice(DEPARTMENTS), "provider": rng.choice(PROVIDERS),
          "reason": rng.choice(REASONS)}
         for n in range(rng.randint(1, 3))),
        key=lambda a: (a["date"], a["time"]))

    p["billing"] = []
    for _ in range(rng.randint(2, 4)):
        code, desc, amount = rng.choice(CPT)
        p["billing"].append({
            "invoice_id": f"INV-{rng.randint(100000, 999999)}",
            "date": day_between(date(2025, 1, 1), date(2026, 10, 31)).isoformat(),
            "cpt_code": code, "description": desc, "amount": amount,
            "insurance_member_id": p["insurance"]["member_id"],
            "status": rng.choice(["paid", "pending", "denied"])})
    p["billing"].sort(key=lambda b: b["date"])
    return p


def main():
    taken = {FIRST_ID}
    ids = [FIRST_ID] + [new_patient_id(taken) for _ in range(PATIENTS - 1)]
    patients = [make_patient(pid, i) for i, pid in enumerate(ids)]
    json.dump({"hospital": "St. Example General (synthetic)", "patients": patients},
              sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
