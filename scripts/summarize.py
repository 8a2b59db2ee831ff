"""One or two lines saying what an MCP response holds, for the demo (reads the body on stdin)."""

import json
import sys

text = sys.stdin.read().strip()
try:
    msg = json.loads(text)
except ValueError:
    data = [l[5:].strip() for l in text.splitlines() if l.startswith("data:")]
    msg = json.loads(data[0]) if data else {}

result = msg.get("result", {})
if "tools" in result:
    print("tools:", ", ".join(t["name"] for t in result["tools"]))
    sys.exit()
value = result.get("structuredContent")
if isinstance(value, dict) and value.get("resourceType"):
    # FHIR: the patient's name, birth date, address and SSN identifier, and what else came.
    resources = [e.get("resource", {}) for e in value.get("entry", [])] or [value]
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), {})
    name = (patient.get("name") or [{}])[0]
    address = (patient.get("address") or [{}])[0]
    ssn = next((i.get("value") for i in patient.get("identifier", []) if "ssn" in i.get("system", "")), "-")
    kinds = sorted({r.get("resourceType", "?") for r in resources})
    print(f"{value['resourceType']}: {', '.join(kinds)}")
    print(f"Patient {' '.join(name.get('given', []))} {name.get('family', '')}; born {patient.get('birthDate')}; "
          f"{', '.join(address.get('line', []))} {address.get('city', '')} {address.get('state', '')} "
          f"{address.get('postalCode', '')}; SSN {ssn}")
    sys.exit()
if value is None and "data" in result:
    value = {"legacy data": result["data"]}
if not isinstance(value, dict):
    print(text[:200])
    sys.exit()


def describe(v):
    if isinstance(v, list):
        return f"{len(v)} item(s)"
    if isinstance(v, dict):
        return "{…}"
    return json.dumps(v)


print("; ".join(f"{k}: {describe(v)}" for k, v in value.items()))
legacy = [r for r in result.get("data") or [] if isinstance(r, dict)]
notes = value.get("clinical_notes") or [r for r in legacy if r.get("record_type") == "clinical_note"]
if notes:
    print("first note:", notes[0]["text"][:110] + "…")
