"""The seed's Django web app, as its agent calls the MCP server: a PyJWT HS256 token with
`user_id`, `role` and `username` (no `exp`), and the legacy JSON-RPC call without an `id`,
POSTed to MCP_SERVER_URL. Prints the JSON answer; exit 1 on an HTTP error, like the app would
fail. Usage: seed_webapp.py ROLE [PATIENT_ID]   (JWT_SECRET, JWT_ALG, MCP_SERVER_URL from the
environment, the names the web app reads).
"""

import json
import os
import sys
import urllib.error
import urllib.request

import jwt

role = sys.argv[1]
patient = sys.argv[2] if len(sys.argv) > 2 else "NUGWI"
token = jwt.encode(
    {"user_id": 1, "role": role, "username": "yenji100"},
    os.environ["JWT_SECRET"],
    algorithm=os.environ.get("JWT_ALG", "HS256"),
)
body = json.dumps(
    {"jsonrpc": "2.0", "method": "get_medical_records", "params": {"arguments": {"patient_id": patient}}}
).encode()
request = urllib.request.Request(
    os.environ["MCP_SERVER_URL"],
    data=body,
    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    method="POST",
)
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
except urllib.error.HTTPError as e:
    print(f"MCP server returned {e.code}: {e.read().decode(errors='replace')[:200]}", file=sys.stderr)
    sys.exit(1)
print(json.dumps(answer))
# The web app reads result.data; no data is a failure for it.
sys.exit(0 if answer.get("result", {}).get("data") else 1)
