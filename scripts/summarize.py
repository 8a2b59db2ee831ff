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
