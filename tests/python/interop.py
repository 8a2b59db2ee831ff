"""Interop check: the official MCP Python SDK client (and PyJWT tokens) through a live gatekeeper.

For each role of the reference policy (tests/sdk_matrix.json says what each must get), with a
token minted by PyJWT in the web app's format, the SDK client runs:

  initialize        the result must be the server's own (protocolVersion, serverInfo,
                    capabilities), whatever the role's redaction profile
  tools/list        exactly the tools the policy grants the role
  tools/call        each granted call succeeds and shows the role what it may see, no more
                    (compared with what the server itself answers: the baseline)
  denied tools/call the client gets a JSON-RPC error (-32003), not a crash, and the session
                    still answers a ping afterwards
  resources/*       resources/list, resources/templates/list, resources/read and
  prompts/*         prompts/list, prompts/get: granted ones answered as for tools/call,
                    the others refused like a denied tool

--legacy adds the web app's legacy call form (mock-mcp only): a PyJWT token is accepted and
the policy applied to `{"method":"get_medical_records",...}`.

Usage: interop.py URL [--upstream URL] [--roles Doctor,Nurse] [--grants reference|resource_grants]
                      [--sections tools,resources,prompts] [--legacy] [--matrix FILE]
JWT_SECRET in the environment. --upstream is the MCP server behind the gatekeeper, read
directly (no token) for the baseline; without it the Doctor's view through the gatekeeper is
the baseline. Prints one line per check, `ok NAME` or `FAIL NAME: why`, then `interop done: …`; exits
0 only if every check passed.
"""

import argparse
import asyncio
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Awaitable, Callable

import jwt
from mcp import ClientSession

try:  # SDK 2.x: headers travel on an HTTP client the caller provides
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    def connect(url: str, headers: dict[str, str]):
        return streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))

except ImportError:  # SDK 1.x
    from mcp.client.streamable_http import streamablehttp_client

    def connect(url: str, headers: dict[str, str]):
        return streamablehttp_client(url, headers=headers)


try:  # the exception a JSON-RPC error answer raises
    from mcp.shared.exceptions import MCPError as RpcError  # SDK 2.x
except ImportError:
    from mcp.shared.exceptions import McpError as RpcError  # SDK 1.x

FORBIDDEN = -32003  # the gatekeeper's JSON-RPC code for a policy refusal (README, Errors)
CALL_TIMEOUT = 30.0
SECRET = os.environ["JWT_SECRET"]


# --- Tokens and raw HTTP ----------------------------------------------------------------------


def web_app_token(role: str, claims: dict[str, Any]) -> str:
    """The web app's handler: PyJWT, HS256, these claims, a short expiry."""
    payload = {"user_id": "1", "role": role, "username": "yenji100", "exp": int(time.time()) + 300, **claims}
    return jwt.encode(payload, SECRET, algorithm="HS256")


def post(url: str, token: str | None, body: dict) -> tuple[int, str]:
    """One raw JSON-RPC POST (the legacy check, and diagnosing an initialize the SDK refused)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=CALL_TIMEOUT) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def first_message(body: str) -> Any:
    """The JSON-RPC message of a JSON body or of the first SSE `data:` event."""
    try:
        return json.loads(body)
    except ValueError:
        for event in body.replace("\r\n", "\n").split("\n\n"):
            data = [line[5:].lstrip(" ") for line in event.split("\n") if line.startswith("data:")]
            if data:
                try:
                    return json.loads("\n".join(data))
                except ValueError:
                    continue
    return None


def raw_initialize(url: str, token: str | None) -> tuple[dict | None, str]:
    """An initialize by hand: (its result, "") or (None, what came back instead)."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "gatekeeper-interop-raw", "version": "1.0.0"},
        },
    }
    status, text = post(url, token, body)
    result = (first_message(text) or {}).get("result") if status == 200 else None
    return (result, "") if isinstance(result, dict) else (None, f"HTTP {status}: {text[:300]}")


# --- Comparing answers ------------------------------------------------------------------------


def dump(model: Any) -> Any:
    """An SDK result as its wire JSON (camelCase members), for both SDK majors."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def parse_text(text: str) -> Any:
    """Text content that carries JSON (MCP repeats structuredContent there) as its value."""
    try:
        value = json.loads(text)
        return value if isinstance(value, (dict, list)) else text
    except ValueError:
        return text


def payloads(kind: str, result: dict) -> list[tuple[str, Any]]:
    """What an answer carries for the caller, each with where it was: tool payloads (the
    structuredContent and its text copies), resource texts, prompt message texts."""
    if kind == "tool":
        out = [("structuredContent", result["structuredContent"])] if "structuredContent" in result else []
        items, where = result.get("content", []), "content"
    elif kind == "resource":
        out, items, where = [], result.get("contents", []), "contents"
    elif kind == "prompt":
        out, where = [], "messages"
        items = [m["content"] for m in result.get("messages", [])]
    else:
        raise ValueError(kind)
    texts = [(i, c["text"]) for i, c in enumerate(items) if isinstance(c.get("text"), str)]
    return out + [(f"{where}[{i}].text", parse_text(text)) for i, text in texts]


def differences(want: Any, got: Any, path: str = "$", limit: int = 6) -> list[str]:
    """Where `got` differs from `want`, as `path: want -> got` lines (at most `limit`)."""
    out: list[str] = []

    def walk(w: Any, g: Any, p: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(w, dict) and isinstance(g, dict):
            for k in w:
                if k not in g:
                    out.append(f"{p}.{k}: {short(w[k])} -> (removed)")
                else:
                    walk(w[k], g[k], f"{p}.{k}")
            out.extend(f"{p}.{k}: (absent) -> {short(g[k])}" for k in g if k not in w)
        elif isinstance(w, list) and isinstance(g, list) and len(w) == len(g):
            for i, (a, b) in enumerate(zip(w, g)):
                walk(a, b, f"{p}[{i}]")
        elif w != g:
            out.append(f"{p}: {short(w)} -> {short(g)}")

    walk(want, got, path)
    return out[:limit]


INIT_MEMBERS = ("protocolVersion", "serverInfo", "capabilities")


def init_differences(want: dict, got: dict) -> list[str]:
    """How an initialize result differs from the server's own, in the members clients act on."""
    return [d for k in INIT_MEMBERS for d in differences(want.get(k), got.get(k), f"$.{k}")]


def short(v: Any) -> str:
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 90 else s[:87] + "..."


def leaves(v: Any, key: str = ""):
    """(member name, string) for every string in a JSON value; free text as ("", text)."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield from leaves(x, k)
    elif isinstance(v, list):
        for x in v:
            yield from leaves(x, key)
    elif isinstance(v, str):
        yield key, v


def has_member(v: Any, names: set[str]) -> bool:
    if isinstance(v, dict):
        return any(k in names or has_member(x, names) for k, x in v.items())
    if isinstance(v, list):
        return any(has_member(x, names) for x in v)
    return False


def partial(value: str, keep: int) -> str:
    """The gatekeeper's `{partial: N}`: letters and digits masked but the last N, separators kept."""
    alnum = sum(ch.isalnum() for ch in value)
    out, seen = [], 0
    for ch in value:
        if ch.isalnum():
            seen += 1
            out.append(ch if seen > alnum - keep else "*")
        else:
            out.append(ch)
    return "".join(out)


SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
PHONE = re.compile(r"\(\d{3}\) \d{3}-\d{4}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
MRN = re.compile(r"\bMRN-\d+\b")
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
EXACT_DATE = re.compile(
    rf"\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{4}}\b|\b(?:{MONTHS}) \d{{1,2}}, \d{{4}}\b"
)
# Members whose values identify the patient under HIPAA Safe Harbor (45 CFR 164.514(b)(2)).
IDENTIFYING = {
    "name", "first_name", "last_name", "patient_name", "ssn", "mrn", "phone", "email",
    "street", "city", "zip", "member_id", "insurance_member_id", "date_of_birth",
}  # fmt: skip


def secrets_of(want: list[Any], members: Callable[[str], bool], pattern: re.Pattern | None) -> set[str]:
    """Values the baseline holds under matching member names, or in free text matching `pattern`."""
    found = set()
    for key, text in leaves(want):
        if members(key):
            found.add(text)
        elif pattern is not None:
            found.update(pattern.findall(text))
    return found


def check_view(view: str, want_at: list[tuple[str, Any]], got_at: list[tuple[str, Any]]) -> list[str]:
    """Problems with `got_at` as the role's view of the server's answer `want_at` (empty: fine)."""
    if view == "full":
        if [w for w, _ in want_at] != [g for g, _ in got_at]:
            return [f"payloads at {[g for g, _ in got_at]}, the server sent {[w for w, _ in want_at]}"]
        return [d for (where, w), (_, g) in zip(want_at, got_at) for d in differences(w, g, where)]

    want, got = [v for _, v in want_at], [v for _, v in got_at]
    text = json.dumps(got, ensure_ascii=False)
    problems = []
    is_ssn = lambda k: "ssn" in k.lower()  # noqa: E731 - the policy's `*ssn*` key glob
    is_member = lambda k: "member_id" in k.lower()  # noqa: E731

    def names_kept() -> None:
        for name in secrets_of(want, lambda k: k in ("name", "patient_name"), None):
            if name not in text:
                problems.append(f"name {name!r} removed (this role may see names)")

    if view == "nurse":
        for ssn in secrets_of(want, is_ssn, SSN):
            if ssn in text:
                problems.append(f"SSN {ssn} in clear")
            elif partial(ssn, 4) not in text:
                problems.append(f"SSN {ssn} not shown as {partial(ssn, 4)}")
        for member_id in secrets_of(want, is_member, None):
            if member_id in text:
                problems.append(f"member id {member_id} in clear")
            elif partial(member_id, 4) not in text:
                problems.append(f"member id {member_id} not shown as {partial(member_id, 4)}")
        names_kept()
        if has_member(want, {"diagnoses"}) and not has_member(got, {"diagnoses"}):
            problems.append("diagnoses removed (a nurse sees clinical content)")
    elif view == "billing":
        for member in ("diagnoses", "clinical_notes"):
            if has_member(got, {member}):
                problems.append(f"member {member!r} present (billing sees no clinical content)")
        for ssn in secrets_of(want, is_ssn, SSN):
            if ssn in text:
                problems.append(f"SSN {ssn} in clear")
        if secrets_of(want, is_ssn, None) and "[REDACTED:SSN]" not in text:
            problems.append("the ssn member is not [REDACTED:SSN]")
        names_kept()
    elif view == "safe_harbor":
        ids = secrets_of(want, lambda k: k in IDENTIFYING, None)
        for pattern in (SSN, PHONE, EMAIL, MRN, EXACT_DATE):
            ids |= secrets_of(want, lambda k: False, pattern)
        problems += [f"identifier {v!r} present" for v in sorted(ids) if len(v) >= 3 and v in text]
        for pattern in (SSN, PHONE, EMAIL, MRN, EXACT_DATE):
            problems += [f"{m!r} present" for m in sorted(set(pattern.findall(text))) if m not in ids]
        codes = secrets_of(want, lambda k: k == "code", None)
        problems += [f"diagnosis code {c} removed (research needs it)" for c in sorted(codes) if c not in text]
    else:
        problems.append(f"unknown view {view!r} in the matrix")
    return problems[:8]


# --- The checks -------------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def ok(self, name: str) -> None:
        self.passed += 1
        print(f"ok {name}", flush=True)

    def fail(self, name: str, why: str) -> None:
        self.failed += 1
        why = " ".join(str(why).split())  # one line, whatever the exception said
        print(f"FAIL {name}: {why}", flush=True)


class Failed(Exception):
    """A check's expectation did not hold."""


def label(item: dict) -> str:
    """`tool(NUGWI)`: a call's (or prompt's) name plus its first string argument."""
    first = next((v for v in (item.get("arguments") or {}).values() if isinstance(v, str)), "")
    return f"{item.get('tool') or item.get('name')}({first})"


async def expect_refused(session: ClientSession, request: Callable[[], Awaitable[Any]], what: str) -> None:
    """`request` must raise the gatekeeper's -32003; the session must still work afterwards."""
    try:
        result = await asyncio.wait_for(request(), CALL_TIMEOUT)
    except RpcError as e:
        if e.error.code != FORBIDDEN:
            raise Failed(f"{what}: error {e.error.code} {e.error.message!r}, expected {FORBIDDEN} Forbidden") from None
    else:
        raise Failed(f"{what} was answered: {short(dump(result))}")
    await asyncio.wait_for(session.send_ping(), CALL_TIMEOUT)  # not a crash: the session lives on


class RoleRun:
    """The checks of one role, on one SDK session through the gatekeeper."""

    def __init__(
        self, role: str, spec: dict, url: str, baseline: ClientSession, baseline_init: dict, sections: set[str]
    ) -> None:
        self.role, self.spec, self.url = role, spec, url
        self.baseline, self.baseline_init = baseline, baseline_init
        self.sections = sections
        self.token = web_app_token(role, spec.get("claims", {}))

    def plan(self) -> list[tuple[str, Callable[[ClientSession], Awaitable[None]]]]:
        """Every check after initialize, by name, in order."""
        s, checks = self.spec, []
        if "tools" in self.sections:
            checks.append(("tools-list", self.tools_list))
            checks += [(f"call-{label(c)}", lambda ses, c=c: self.call(ses, c)) for c in s["calls"]]
            checks += [(f"deny-{label(c)}", lambda ses, c=c: self.denied_call(ses, c)) for c in s["denied"]]
        if "resources" in self.sections:
            r = s["resources"]
            checks.append(("resources-list", lambda ses: self.listing(ses, "resources", r["list"])))
            checks.append(("resources-templates-list", lambda ses: self.listing(ses, "templates", r["templates"])))
            checks += [(f"read-{i['uri']}", lambda ses, i=i: self.read(ses, i)) for i in r["read"]]
            checks += [(f"read-denied-{u}", lambda ses, u=u: self.read_denied(ses, u)) for u in r["read_denied"]]
        if "prompts" in self.sections:
            p = s["prompts"]
            checks.append(("prompts-list", lambda ses: self.listing(ses, "prompts", p["list"])))
            checks += [(f"get-{label(i)}", lambda ses, i=i: self.get_prompt(ses, i)) for i in p["get"]]
            checks += [(f"get-denied-{label(i)}", lambda ses, i=i: self.get_denied(ses, i)) for i in p["get_denied"]]
        return checks

    async def run(self, report: Report) -> None:
        try:
            await self._run(report)
        except Exception as e:  # noqa: BLE001 - closing the session failed after the checks
            report.fail(f"{self.role}/session-close", f"{type(e).__name__}: {e}")

    async def _run(self, report: Report) -> None:
        plan = self.plan()
        name = f"{self.role}/initialize"
        async with AsyncExitStack() as stack:
            try:
                headers = {"Authorization": f"Bearer {self.token}"}
                read, write = (await stack.enter_async_context(connect(self.url, headers)))[:2]
                session = await stack.enter_async_context(ClientSession(read, write))
                init = dump(await asyncio.wait_for(session.initialize(), CALL_TIMEOUT))
                diffs = init_differences(self.baseline_init, init)
                if diffs:
                    raise Failed("initialize result rewritten: " + "; ".join(diffs))
            except Exception as e:  # noqa: BLE001 - any failure here is this check's verdict
                report.fail(name, self.diagnose_initialize(e))
                for check, _ in plan:
                    report.fail(f"{self.role}/{check}", "not run: initialize failed")
                return
            report.ok(name)
            for check, fn in plan:
                try:
                    await fn(session)
                    report.ok(f"{self.role}/{check}")
                except Failed as e:
                    report.fail(f"{self.role}/{check}", str(e))
                except Exception as e:  # noqa: BLE001 - the SDK raised: report it, go on
                    report.fail(f"{self.role}/{check}", f"client raised {type(e).__name__}: {e}")

    def diagnose_initialize(self, e: Exception) -> str:
        """What the client said, plus what the gatekeeper sent compared with the server's answer."""
        if isinstance(e, Failed):
            return str(e)
        said = f"client raised {type(e).__name__}: {e}"
        result, instead = raw_initialize(self.url, self.token)
        if result is None:
            return f"{said}; a raw initialize through the gatekeeper got {instead}"
        diffs = "; ".join(init_differences(self.baseline_init, result)) or "identical"
        return f"{said}; the gatekeeper's initialize result vs the server's: {diffs}"

    # tools

    async def tools_list(self, session: ClientSession) -> None:
        got = sorted(t.name for t in (await asyncio.wait_for(session.list_tools(), CALL_TIMEOUT)).tools)
        if got != sorted(self.spec["tools"]):
            raise Failed(f"tools/list gave {got}, the policy grants {sorted(self.spec['tools'])}")

    async def call(self, session: ClientSession, item: dict) -> None:
        tool, args = item["tool"], item.get("arguments", {})
        want = None
        if not item.get("write"):  # a write is not replayed on the baseline
            want = dump(await asyncio.wait_for(self.baseline.call_tool(tool, args), CALL_TIMEOUT))
        got = dump(await asyncio.wait_for(session.call_tool(tool, args), CALL_TIMEOUT))
        if bool(got.get("isError")) != bool(item.get("tool_error")):
            expected = bool(item.get("tool_error"))
            raise Failed(f"isError={got.get('isError')}, expected {expected}: {short(got.get('content'))}")
        if want is None:
            if not got.get("content"):
                raise Failed("empty result")
            return
        problems = check_view(item.get("view", self.spec["view"]), payloads("tool", want), payloads("tool", got))
        if problems:
            raise Failed("; ".join(problems))

    async def denied_call(self, session: ClientSession, item: dict) -> None:
        call = lambda: session.call_tool(item["tool"], item.get("arguments", {}))  # noqa: E731
        await expect_refused(session, call, f"tools/call {label(item)}")

    # resources and prompts

    async def listing(self, session: ClientSession, kind: str, want: list[str] | None) -> None:
        request, names = {
            "resources": (session.list_resources, lambda r: [x["uri"] for x in r["resources"]]),
            "templates": (
                session.list_resource_templates,
                lambda r: [x["uriTemplate"] for x in r["resourceTemplates"]],
            ),
            "prompts": (session.list_prompts, lambda r: [x["name"] for x in r["prompts"]]),
        }[kind]
        if want is None:  # the method itself is not granted
            await expect_refused(session, request, f"{kind} list")
            return
        got = sorted(names(dump(await asyncio.wait_for(request(), CALL_TIMEOUT))))
        if got != sorted(want):
            raise Failed(f"listed {got}, expected {sorted(want)}")

    async def read(self, session: ClientSession, item: dict) -> None:
        want = dump(await asyncio.wait_for(self.baseline.read_resource(item["uri"]), CALL_TIMEOUT))
        got = dump(await asyncio.wait_for(session.read_resource(item["uri"]), CALL_TIMEOUT))
        view = item.get("view", self.spec["view"])
        problems = check_view(view, payloads("resource", want), payloads("resource", got))
        if problems:
            raise Failed("; ".join(problems))

    async def read_denied(self, session: ClientSession, uri: str) -> None:
        await expect_refused(session, lambda: session.read_resource(uri), f"resources/read {uri}")

    async def get_prompt(self, session: ClientSession, item: dict) -> None:
        want = dump(await asyncio.wait_for(self.baseline.get_prompt(item["name"], item.get("arguments")), CALL_TIMEOUT))
        got = dump(await asyncio.wait_for(session.get_prompt(item["name"], item.get("arguments")), CALL_TIMEOUT))
        problems = check_view(item.get("view", self.spec["view"]), payloads("prompt", want), payloads("prompt", got))
        if problems:
            raise Failed("; ".join(problems))

    async def get_denied(self, session: ClientSession, item: dict) -> None:
        get = lambda: session.get_prompt(item["name"], item.get("arguments"))  # noqa: E731
        await expect_refused(session, get, f"prompts/get {label(item)}")


def check_pyjwt_legacy(url: str, report: Report) -> None:
    """The web app's legacy form with a PyJWT token: the Doctor gets the record, Billing a 403."""
    name = "pyjwt-token-accepted-and-policy-applied"
    arguments = {"patient_id": "NUGWI"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "get_medical_records", "params": {"arguments": arguments}}
    status, text = post(url, web_app_token("Doctor", {}), body)
    if status != 200 or "NUGWI" not in text:
        return report.fail(name, f"Doctor got {status}: {text[:200]}")
    status, text = post(url, web_app_token("Billing", {}), body)
    if status != 403:
        return report.fail(name, f"Billing got {status}, expected 403: {text[:200]}")
    report.ok(name)


async def run_matrix(args: argparse.Namespace, matrix: dict, report: Report) -> None:
    roles = matrix["roles"]
    chosen = args.roles.split(",") if args.roles else list(roles)
    sections = set(args.sections.split(","))
    if args.grants == "resource_grants":
        grants = matrix["resource_grants"]["roles"]
        roles = {r: {**spec, **grants.get(r, {})} for r, spec in roles.items()}
    # The baseline session: the server itself, or (no --upstream) the Doctor through the gatekeeper.
    base_url = args.upstream or args.url
    base_headers = {} if args.upstream else {"Authorization": f"Bearer {web_app_token('Doctor', {})}"}
    async with connect(base_url, base_headers) as streams:
        async with ClientSession(streams[0], streams[1]) as baseline:
            baseline_init = dump(await asyncio.wait_for(baseline.initialize(), CALL_TIMEOUT))
            for role in chosen:
                if role not in roles:
                    report.fail(f"{role}/initialize", "no such role in the matrix")
                    continue
                await RoleRun(role, roles[role], args.url, baseline, baseline_init, sections).run(report)


def main() -> int:
    parser = argparse.ArgumentParser(description="The official MCP Python SDK client through the gatekeeper, by role.")
    parser.add_argument("url", help="the gatekeeper's MCP endpoint, e.g. http://127.0.0.1:8080/mcp")
    parser.add_argument("--upstream", help="the MCP server's own endpoint, for the baseline")
    parser.add_argument("--roles", help="comma-separated roles of the matrix (default: all)")
    parser.add_argument("--grants", choices=["reference", "resource_grants"], default="reference",
                        help="which resource/prompt expectations apply (resource_grants: the policy has the matrix's grant)")
    parser.add_argument("--sections", default="tools,resources,prompts", help="which checks to run after initialize")
    parser.add_argument("--legacy", action="store_true", help="also check the web app's legacy call form (mock-mcp)")
    parser.add_argument("--matrix", default=str(Path(__file__).resolve().parent.parent / "sdk_matrix.json"))
    args = parser.parse_args()
    matrix = json.loads(Path(args.matrix).read_text())

    report = Report()
    if args.legacy:
        check_pyjwt_legacy(args.url, report)
    try:
        asyncio.run(run_matrix(args, matrix, report))
    except Exception as e:  # noqa: BLE001 - e.g. the baseline server unreachable
        report.fail("interop", f"{type(e).__name__}: {e}")
    # Not "N passed, N failed": that is a test runner's closing line to CI's eyes.
    print(f"interop done: {report.passed} ok, {report.failed} FAIL", flush=True)
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
