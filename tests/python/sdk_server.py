"""A small hospital MCP server built on the official MCP Python SDK, for tests/sdk_clients.rs.

Where mock-mcp is our own hand-written server, this is a "third-party" one: everything on the
wire (initialize, session ids, SSE framing, tool schemas, tool errors, resources, prompts) is
what the SDK produces, so the interop test proves the gatekeeper works in front of a server it
was not written alongside.

It offers mock-mcp's six tools under the same names and argument names (mock-mcp/src/tools.rs),
each returning `structuredContent` plus the same JSON as text content, over a small synthetic
data set shaped like mock-mcp/data/hospital.json (every name, number and note is made up). It
also serves what mock-mcp does not, so that resource and prompt grants can be exercised:

- resource `hospital://guidelines/sepsis-bundle` (static, no PHI),
- resource template `hospital://patients/{patient_id}/summary` (JSON with PHI),
- prompt `handover` (argument `patient_id`; its text carries PHI).

Usage: sdk_server.py --port N [--host 127.0.0.1] [--json]
Streamable HTTP on http://HOST:N/mcp; SSE answers unless --json. Prints
`sdk-server listening on http://HOST:N/mcp` once the socket is bound and accepting.
"""

import argparse
import copy
import datetime
import json
import sys
from typing import Any

try:  # SDK 2.x: FastMCP was renamed MCPServer
    from mcp.server.mcpserver import MCPServer as FastMCP
    from mcp.server.mcpserver.exceptions import ToolError

    SDK_MAJOR = 2
except ImportError:  # SDK 1.x
    from mcp.server.fastmcp import FastMCP
    from mcp.server.fastmcp.exceptions import ToolError

    SDK_MAJOR = 1

# ---------------------------------------------------------------------------------------------
# Synthetic data, in mock-mcp's shape. NUGWI and SQHUM exist in mock-mcp's data set too (with
# other people behind them), so the same patient ids drive the tests against both servers.
# SSNs follow the SSA rules the gatekeeper's detector checks (no 000/666/9xx area, no 00 group,
# no 0000 serial), phone numbers are NANP 555-01xx, dates come in the three written forms the
# detectors know, so that the redaction of free text is exercised as well as the field rules.
# ---------------------------------------------------------------------------------------------

PATIENTS: list[dict[str, Any]] = [
    {
        "patient_id": "NUGWI",
        "first_name": "Marguerite",
        "last_name": "Okonkwo",
        "name": "Marguerite Okonkwo",
        "date_of_birth": "1948-03-14",
        "sex": "F",
        "ssn": "512-48-7302",
        "phone": "(617) 555-0142",
        "email": "m.okonkwo48@example.org",
        "address": {"street": "88 Larchmont Terrace", "city": "Somerville", "state": "MA", "zip": "02144"},
        "mrn": "MRN-3318452",
        "insurance": {"payer": "Harborline Mutual", "member_id": "HMQ558120946", "group_number": "GRP-4410"},
        "emergency_contact": {"name": "Chidi Okonkwo", "phone": "(617) 555-0178"},
        "diagnoses": [
            {"code": "E11.9", "description": "Type 2 diabetes mellitus, no complications", "onset_date": "2009-06-02"},
            {"code": "I10", "description": "Essential (primary) hypertension", "onset_date": "2014-01-27"},
        ],
        "clinical_notes": [
            {
                "note_id": "N-NUGWI-1",
                "date": "2025-04-09",
                "author": "Dr. Samuel Achterberg",
                "text": "Spoke with Marguerite Okonkwo at (617) 555-0142 about MRN-3318452; SSN 512-48-7302 "
                "verified for the referral. A1c 7.9%. Review on May 21, 2025.",
            },
            {
                "note_id": "N-NUGWI-2",
                "date": "2025-05-21",
                "author": "Dr. Priya Venkataraman",
                "text": "Patient Marguerite Okonkwo (DOB 1948-03-14) seen 05/21/2025, lives at 88 Larchmont "
                "Terrace, Somerville 02144. Copy of plan e-mailed to m.okonkwo48@example.org.",
            },
        ],
        "appointments": [
            {
                "appointment_id": "A-NUGWI-1",
                "date": "2026-12-03",
                "time": "09:15",
                "department": "Endocrinology",
                "provider": "Dr. Samuel Achterberg",
                "reason": "Diabetes follow-up",
            }
        ],
        "billing": [
            {
                "invoice_id": "INV-604117",
                "date": "2025-04-09",
                "cpt_code": "99214",
                "description": "Office visit, established patient",
                "amount": 142.0,
                "insurance_member_id": "HMQ558120946",
                "status": "paid",
            },
            {
                "invoice_id": "INV-604188",
                "date": "2025-05-21",
                "cpt_code": "83036",
                "description": "Hemoglobin A1c",
                "amount": 28.75,
                "insurance_member_id": "HMQ558120946",
                "status": "pending",
            },
        ],
    },
    {
        "patient_id": "SQHUM",
        "first_name": "Tobias",
        "last_name": "Lindqvist",
        "name": "Tobias Lindqvist",
        "date_of_birth": "1979-11-30",
        "sex": "M",
        "ssn": "287-61-4039",
        "phone": "(503) 555-0117",
        "email": "tobias.lindqvist@example.net",
        "address": {"street": "1420 Alder Crest Road", "city": "Beaverton", "state": "OR", "zip": "97006"},
        "mrn": "MRN-5902716",
        "insurance": {"payer": "Cascade Shield", "member_id": "CSZ903314572", "group_number": "GRP-2087"},
        "emergency_contact": {"name": "Elin Lindqvist", "phone": "(503) 555-0163"},
        "diagnoses": [
            {"code": "J45.40", "description": "Moderate persistent asthma, uncomplicated", "onset_date": "1991-08-19"},
        ],
        "clinical_notes": [
            {
                "note_id": "N-SQHUM-1",
                "date": "2025-09-02",
                "author": "Dr. Priya Venkataraman",
                "text": "Mr. Tobias Lindqvist reports two night-time inhaler uses a week. Spirometry booked for "
                "September 16, 2025; reminder sent to (503) 555-0117.",
            }
        ],
        "appointments": [
            {
                "appointment_id": "A-SQHUM-1",
                "date": "2026-12-03",
                "time": "14:40",
                "department": "Pulmonology",
                "provider": "Dr. Priya Venkataraman",
                "reason": "Spirometry",
            }
        ],
        "billing": [
            {
                "invoice_id": "INV-611902",
                "date": "2025-09-02",
                "cpt_code": "94010",
                "description": "Spirometry",
                "amount": 64.3,
                "insurance_member_id": "CSZ903314572",
                "status": "pending",
            }
        ],
    },
    {
        "patient_id": "KTBZD",
        "first_name": "Rosalind",
        "last_name": "Ferreira-Walsh",
        "name": "Rosalind Ferreira-Walsh",
        "date_of_birth": "1931-02-05",
        "sex": "F",
        "ssn": "401-27-8865",
        "phone": "(401) 555-0129",
        "email": "rfw31@example.com",
        "address": {"street": "7 Quarry Hill Lane", "city": "Cranston", "state": "RI", "zip": "02920"},
        "mrn": "MRN-1187034",
        "insurance": {"payer": "Medicare", "member_id": "1EG4TE5MK73", "group_number": "GRP-0001"},
        "emergency_contact": {"name": "Declan Walsh", "phone": "(401) 555-0186"},
        "diagnoses": [
            {"code": "I48.91", "description": "Unspecified atrial fibrillation", "onset_date": "2016-10-12"},
            {"code": "M81.0", "description": "Age-related osteoporosis", "onset_date": "2019-03-08"},
        ],
        "clinical_notes": [
            {
                "note_id": "N-KTBZD-1",
                "date": "2025-07-15",
                "author": "Dr. Samuel Achterberg",
                "text": "Patient Rosalind Ferreira-Walsh, 94, anticoagulation reviewed. Daughter-in-law asked "
                "for a call back on 07/18/2025.",
            }
        ],
        "appointments": [],
        "billing": [],
    },
]

# The records a session adds with add_clinical_note live in this process only.
HOSPITAL: dict[str, dict[str, Any]] = {p["patient_id"]: copy.deepcopy(p) for p in PATIENTS}

DEFAULT_LIMIT = 10
MAX_LIMIT = 100

mcp = FastMCP(
    "sdk-hospital",
    **({"version": "1.0.0"} if SDK_MAJOR == 2 else {}),
    instructions="A synthetic hospital served by the MCP Python SDK (every name, number and note is "
    "fake). Look patients up with search_patients, then read them with get_patient, "
    "get_medical_records, list_appointments and get_billing; add_clinical_note writes.",
)


def _patient(patient_id: str) -> dict[str, Any]:
    """The patient, or a tool error the client sees as `isError: true` (as mock-mcp answers)."""
    patient = HOSPITAL.get(patient_id)
    if patient is None:
        raise ToolError(f"No patient with id {patient_id}")
    return patient


def _demographics(p: dict[str, Any]) -> dict[str, Any]:
    """A patient without the record lists the other tools serve."""
    records = ("diagnoses", "clinical_notes", "appointments", "billing")
    return {k: copy.deepcopy(v) for k, v in p.items() if k not in records}


# Every tool returns a plain dict: the SDK sends it as `structuredContent` and, as the spec asks,
# repeats it as JSON in a text content block. The output schema stays a free-form object
# (`dict[str, Any]`), so a redacted payload (a member removed, a masked string) still validates
# in the clients; a strict per-field schema would make them reject what the gatekeeper sends.


@mcp.tool(description="Demographics, contact details and insurance of one patient")
def get_patient(patient_id: str) -> dict[str, Any]:
    return _demographics(_patient(patient_id))


@mcp.tool(description="Diagnoses and clinical notes of one patient")
def get_medical_records(patient_id: str) -> dict[str, Any]:
    p = _patient(patient_id)
    return {
        "patient_id": p["patient_id"],
        "name": p["name"],
        "diagnoses": copy.deepcopy(p["diagnoses"]),
        "clinical_notes": copy.deepcopy(p["clinical_notes"]),
    }


@mcp.tool(description="Find patients by name or diagnosis (case-insensitive substring) and/or ZIP code")
def search_patients(query: str | None = None, zip: str | None = None, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ToolError(f"Argument limit must be an integer from 1 to {MAX_LIMIT}")
    q = query.lower() if query else None

    def matches(p: dict[str, Any]) -> bool:
        if q is not None:
            texts = [p["name"]] + [d["description"] for d in p["diagnoses"]] + [d["code"] for d in p["diagnoses"]]
            if not any(q in t.lower() for t in texts):
                return False
        return zip is None or p["address"]["zip"] == zip

    found = [
        {
            "patient_id": p["patient_id"],
            "name": p["name"],
            "date_of_birth": p["date_of_birth"],
            "sex": p["sex"],
            "zip": p["address"]["zip"],
            "diagnoses": copy.deepcopy(p["diagnoses"]),
        }
        for p in HOSPITAL.values()
        if matches(p)
    ][:limit]
    return {"count": len(found), "patients": found}


@mcp.tool(description="Upcoming appointments, for one patient and/or one day")
def list_appointments(patient_id: str | None = None, date: str | None = None) -> dict[str, Any]:
    if date is not None:
        try:
            datetime.date.fromisoformat(date)
        except ValueError:
            raise ToolError(f"Argument date must be YYYY-MM-DD, got {date!r}") from None
    patients = [_patient(patient_id)] if patient_id is not None else list(HOSPITAL.values())
    found = [
        {**a, "patient_id": p["patient_id"], "patient_name": p["name"]}
        for p in patients
        for a in p["appointments"]
        if date is None or a["date"] == date
    ]
    return {"count": len(found), "appointments": found}


@mcp.tool(description="Invoices and insurance billing lines of one patient")
def get_billing(patient_id: str) -> dict[str, Any]:
    p = _patient(patient_id)
    return {
        "patient_id": p["patient_id"],
        "name": p["name"],
        "ssn": p["ssn"],
        "insurance": copy.deepcopy(p["insurance"]),
        "billing": copy.deepcopy(p["billing"]),
        # Unlike mock-mcp, claims here carry the diagnoses billed (as real claims carry ICD-10
        # codes): the billing profile's `diagnoses: remove` rule has something to remove.
        "diagnoses": copy.deepcopy(p["diagnoses"]),
    }


@mcp.tool(description="Append a clinical note to a patient's record")
def add_clinical_note(patient_id: str, note: str, author: str | None = None) -> dict[str, Any]:
    p = _patient(patient_id)
    if not note.strip():
        raise ToolError("Argument note must not be empty")
    note_id = f"N-{patient_id}-{len(p['clinical_notes']) + 1}"
    p["clinical_notes"].append(
        {
            "note_id": note_id,
            "date": datetime.date.today().isoformat(),
            "author": author or "Dr. Unknown",
            "text": note,
        }
    )
    return {"note_id": note_id, "patient_id": patient_id, "status": "saved"}


# Resources: one static document without PHI, one template that returns a patient's chart.


@mcp.resource(
    "hospital://guidelines/sepsis-bundle",
    name="sepsis-bundle",
    description="The ward's sepsis hour-1 bundle (no patient data)",
    mime_type="text/markdown",
)
def sepsis_bundle() -> str:
    return (
        "# Sepsis hour-1 bundle\n\n"
        "1. Measure lactate; remeasure if initial lactate is elevated.\n"
        "2. Obtain blood cultures before administering antibiotics.\n"
        "3. Administer broad-spectrum antibiotics.\n"
        "4. Give 30 mL/kg crystalloid for hypotension or lactate of 4 mmol/L or more.\n"
        "5. Apply vasopressors if hypotensive during or after fluid resuscitation.\n"
    )


@mcp.resource(
    "hospital://patients/{patient_id}/summary",
    name="patient-summary",
    description="One patient's chart summary (JSON, with PHI)",
    mime_type="application/json",
)
def patient_summary(patient_id: str) -> str:
    p = HOSPITAL.get(patient_id)
    if p is None:
        raise ValueError(f"No patient with id {patient_id}")
    summary = {
        "patient_id": p["patient_id"],
        "name": p["name"],
        "date_of_birth": p["date_of_birth"],
        "ssn": p["ssn"],
        "mrn": p["mrn"],
        "phone": p["phone"],
        "diagnoses": p["diagnoses"],
    }
    return json.dumps(summary)


# A prompt whose text carries PHI: prompts/get answers are redacted like tool results.


@mcp.prompt(name="handover", description="A shift handover brief for one patient")
def handover(patient_id: str) -> str:
    p = HOSPITAL.get(patient_id)
    if p is None:
        raise ValueError(f"No patient with id {patient_id}")
    problems = "; ".join(f"{d['code']} {d['description']}" for d in p["diagnoses"])
    return (
        f"Prepare a shift handover for Patient {p['name']} ({p['mrn']}, DOB {p['date_of_birth']}, "
        f"SSN {p['ssn']}, phone {p['phone']}). Active problems: {problems}. "
        "Summarise the last clinical note and the next appointment."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--json", action="store_true", help="answer POSTs with JSON instead of SSE")
    args = parser.parse_args()

    import anyio
    import uvicorn

    # The same Starlette app `mcp.run("streamable-http")` builds, served by our own uvicorn
    # instance so that we can announce readiness once the socket is really accepting.
    if SDK_MAJOR == 2:
        app = mcp.streamable_http_app(json_response=args.json, host=args.host)
    else:
        mcp.settings.json_response = args.json
        app = mcp.streamable_http_app()
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning"))

    async def serve() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve)
            while not server.started:
                if server.should_exit:
                    return
                await anyio.sleep(0.02)
            print(f"sdk-server listening on http://{args.host}:{args.port}/mcp", flush=True)

    anyio.run(serve)
    # uvicorn returns (rather than raising) when it could not bind: report that as a failure.
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
