"""Interop check run by tests/python_clients.rs against a live gatekeeper.

1. A token minted by PyJWT exactly as the web app does is accepted (legacy form).
2. The official MCP Python SDK, sending the Bearer header, can initialize, list tools (filtered
   to the role) and call a tool through the gatekeeper.

Usage: interop.py URL   (JWT_SECRET in the environment). Prints one line per check; exit 0
only if every check passed.
"""

import asyncio
import json
import os
import sys
import time
import urllib.error
import urllib.request

import jwt
from mcp import ClientSession

try:  # SDK 2.x: headers travel on an HTTP client the caller provides
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    def connect(url, headers):
        return streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))

except ImportError:  # SDK 1.x
    from mcp.client.streamable_http import streamablehttp_client

    def connect(url, headers):
        return streamablehttp_client(url, headers=headers)

URL = sys.argv[1]
SECRET = os.environ["JWT_SECRET"]


def field(obj, new: str, old: str):
    """SDK 2.x names fields in snake_case, 1.x in camelCase."""
    return getattr(obj, new) if hasattr(obj, new) else getattr(obj, old)


def web_app_token(role: str) -> str:
    # The web app's handler: PyJWT, HS256, these claims, a short expiry.
    payload = {"user_id": "1", "role": role, "username": "yenji100", "exp": int(time.time()) + 300}
    return jwt.encode(payload, SECRET, algorithm="HS256")


def post(token: str, body: dict) -> tuple[int, str]:
    req = urllib.request.Request(
        URL,
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def check_pyjwt_legacy() -> None:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "get_medical_records",
        "params": {"arguments": {"patient_id": "NUGWI"}},
    }
    status, text = post(web_app_token("Doctor"), body)
    assert status == 200, (status, text)
    assert "NUGWI" in text, text
    status, text = post(web_app_token("Billing"), body)
    assert status == 403, (status, text)
    print("ok pyjwt-token-accepted-and-policy-applied")


async def check_sdk() -> None:
    headers = {"Authorization": f"Bearer {web_app_token('Nurse')}"}
    async with connect(URL, headers) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert field(init, "server_info", "serverInfo").name, init
            tools = sorted(t.name for t in (await session.list_tools()).tools)
            assert tools == ["get_medical_records", "get_patient", "list_appointments"], tools
            result = await session.call_tool("get_medical_records", {"patient_id": "NUGWI"})
            assert not field(result, "is_error", "isError"), result
            text = "".join(c.text for c in result.content if c.type == "text")
            assert "NUGWI" in text, text
    print("ok mcp-sdk-initialize-list-call")


def main() -> int:
    check_pyjwt_legacy()
    asyncio.run(asyncio.wait_for(check_sdk(), timeout=60))
    print("interop: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
