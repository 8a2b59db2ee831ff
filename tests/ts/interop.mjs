// Interop check: the official MCP TypeScript SDK client through a live gatekeeper.
//
// The same role matrix and the same checks as tests/python/interop.py (read that file's
// docstring for what each check means), driven by tests/sdk_matrix.json, with the SDK's
// `Client` over `StreamableHTTPClientTransport`; the Bearer token travels in `requestInit`
// headers, as an application embedding the SDK sends it. Tokens are HS256 JWTs in the web
// app's claim format, signed here with node:crypto (no JWT library needed for one algorithm).
//
// Usage: node interop.mjs URL [--upstream URL] [--roles Doctor,Nurse]
//                             [--grants reference|resource_grants]
//                             [--sections tools,resources,prompts] [--matrix FILE]
// JWT_SECRET in the environment. Prints `ok NAME` / `FAIL NAME: why` per check, then
// `interop done: …`; exits 0 only if every check passed. Run by tests/sdk_clients.rs.

import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const FORBIDDEN = -32003; // the gatekeeper's JSON-RPC code for a policy refusal (README, Errors)
const CALL_TIMEOUT_MS = 30_000;
const SECRET = process.env.JWT_SECRET;
const HERE = dirname(fileURLToPath(import.meta.url));
const REQUEST_OPTIONS = { timeout: CALL_TIMEOUT_MS };

// --- Tokens and raw HTTP --------------------------------------------------------------------

const b64url = (data) => Buffer.from(data).toString("base64url");

/** The web app's token: HS256, these claims, a short expiry. */
function webAppToken(role, claims = {}) {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(
    JSON.stringify({
      user_id: "1",
      role,
      username: "yenji100",
      exp: Math.floor(Date.now() / 1000) + 300,
      ...claims,
    }),
  );
  const signature = createHmac("sha256", SECRET).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

/** The JSON-RPC message of a JSON body or of the first SSE `data:` event. */
function firstMessage(body) {
  try {
    return JSON.parse(body);
  } catch {
    for (const event of body.replace(/\r\n/g, "\n").split("\n\n")) {
      const data = event
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""));
      if (data.length) {
        try {
          return JSON.parse(data.join("\n"));
        } catch {
          /* next event */
        }
      }
    }
  }
  return null;
}

/** An initialize by hand, to show what the gatekeeper sent when the SDK refused it:
 *  `{ result }`, or `{ instead }` saying what came back instead of a result. */
async function rawInitialize(url, token) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "gatekeeper-interop-raw", version: "1.0.0" },
      },
    }),
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await response.text();
  const result = response.ok ? firstMessage(text)?.result : undefined;
  return isObject(result) ? { result } : { instead: `HTTP ${response.status}: ${text.slice(0, 300)}` };
}

// --- Comparing answers (as interop.py does) -------------------------------------------------

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const short = (v) => {
  const s = JSON.stringify(v) ?? "undefined";
  return s.length <= 90 ? s : `${s.slice(0, 87)}...`;
};
const sorted = (xs) => [...xs].sort();
const sameList = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

/** Text content that carries JSON (MCP repeats structuredContent there) as its value. */
function parseText(text) {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === "object" ? v : text;
  } catch {
    return text;
  }
}

/** What an answer carries for the caller, each with where it was. */
function payloads(kind, result) {
  let out = [];
  let items;
  let where;
  if (kind === "tool") {
    if ("structuredContent" in result) out.push(["structuredContent", result.structuredContent]);
    [items, where] = [result.content ?? [], "content"];
  } else if (kind === "resource") {
    [items, where] = [result.contents ?? [], "contents"];
  } else if (kind === "prompt") {
    [items, where] = [(result.messages ?? []).map((m) => m.content), "messages"];
  } else {
    throw new Error(kind);
  }
  items.forEach((c, i) => {
    if (typeof c.text === "string") out.push([`${where}[${i}].text`, parseText(c.text)]);
  });
  return out;
}

/** Where `got` differs from `want`, as `path: want -> got` lines (at most `limit`). */
function differences(want, got, path = "$", limit = 6) {
  const out = [];
  const walk = (w, g, p) => {
    if (out.length >= limit) return;
    if (isObject(w) && isObject(g)) {
      for (const k of Object.keys(w)) {
        if (!(k in g)) out.push(`${p}.${k}: ${short(w[k])} -> (removed)`);
        else walk(w[k], g[k], `${p}.${k}`);
      }
      for (const k of Object.keys(g)) if (!(k in w)) out.push(`${p}.${k}: (absent) -> ${short(g[k])}`);
    } else if (Array.isArray(w) && Array.isArray(g) && w.length === g.length) {
      w.forEach((x, i) => walk(x, g[i], `${p}[${i}]`));
    } else if (JSON.stringify(w) !== JSON.stringify(g)) {
      out.push(`${p}: ${short(w)} -> ${short(g)}`);
    }
  };
  walk(want, got, path);
  return out.slice(0, limit);
}

/** [member name, string] for every string in a JSON value. */
function* leaves(v, key = "") {
  if (isObject(v)) for (const [k, x] of Object.entries(v)) yield* leaves(x, k);
  else if (Array.isArray(v)) for (const x of v) yield* leaves(x, key);
  else if (typeof v === "string") yield [key, v];
}

const hasMember = (v, names) =>
  isObject(v)
    ? Object.entries(v).some(([k, x]) => names.has(k) || hasMember(x, names))
    : Array.isArray(v) && v.some((x) => hasMember(x, names));

const isAlnum = (ch) => /[\p{L}\p{N}]/u.test(ch);

/** The gatekeeper's `{partial: N}`: letters and digits masked but the last N, separators kept. */
function partial(value, keep) {
  const chars = [...value];
  const alnum = chars.filter(isAlnum).length;
  let seen = 0;
  return chars.map((ch) => (isAlnum(ch) ? (++seen > alnum - keep ? ch : "*") : ch)).join("");
}

const SSN = /\b\d{3}-\d{2}-\d{4}\b/g;
const PHONE = /\(\d{3}\) \d{3}-\d{4}/g;
const EMAIL = /[\w.+-]+@[\w-]+\.[\w.]+/g;
const MRN = /\bMRN-\d+\b/g;
const MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December";
const EXACT_DATE = new RegExp(`\\b\\d{4}-\\d{2}-\\d{2}\\b|\\b\\d{1,2}/\\d{1,2}/\\d{4}\\b|\\b(?:${MONTHS}) \\d{1,2}, \\d{4}\\b`, "g");
// Members whose values identify the patient under HIPAA Safe Harbor (45 CFR 164.514(b)(2)).
const IDENTIFYING = new Set(["name", "first_name", "last_name", "patient_name", "ssn", "mrn", "phone", "email", "street", "city", "zip", "member_id", "insurance_member_id", "date_of_birth"]);

/** Values the baseline holds under matching member names, or in free text matching `pattern`. */
function secretsOf(want, members, pattern) {
  const found = new Set();
  for (const [key, text] of leaves(want)) {
    if (members(key)) found.add(text);
    else if (pattern) for (const m of text.matchAll(pattern)) found.add(m[0]);
  }
  return found;
}

/** Problems with `gotAt` as the role's view of the server's answer `wantAt` (empty: fine). */
function checkView(view, wantAt, gotAt) {
  if (view === "full") {
    const [w, g] = [wantAt.map(([p]) => p), gotAt.map(([p]) => p)];
    if (JSON.stringify(w) !== JSON.stringify(g)) return [`payloads at ${short(g)}, the server sent ${short(w)}`];
    return wantAt.flatMap(([where, want], i) => differences(want, gotAt[i][1], where));
  }
  const want = wantAt.map(([, v]) => v);
  const got = gotAt.map(([, v]) => v);
  const text = JSON.stringify(got);
  const problems = [];
  const isSsn = (k) => k.toLowerCase().includes("ssn"); // the policy's `*ssn*` key glob
  const isMember = (k) => k.toLowerCase().includes("member_id");
  const namesKept = () => {
    for (const name of secretsOf(want, (k) => k === "name" || k === "patient_name", null))
      if (!text.includes(name)) problems.push(`name ${short(name)} removed (this role may see names)`);
  };

  if (view === "nurse") {
    for (const ssn of secretsOf(want, isSsn, SSN)) {
      if (text.includes(ssn)) problems.push(`SSN ${ssn} in clear`);
      else if (!text.includes(partial(ssn, 4))) problems.push(`SSN ${ssn} not shown as ${partial(ssn, 4)}`);
    }
    for (const id of secretsOf(want, isMember, null)) {
      if (text.includes(id)) problems.push(`member id ${id} in clear`);
      else if (!text.includes(partial(id, 4))) problems.push(`member id ${id} not shown as ${partial(id, 4)}`);
    }
    namesKept();
    if (hasMember(want, new Set(["diagnoses"])) && !hasMember(got, new Set(["diagnoses"])))
      problems.push("diagnoses removed (a nurse sees clinical content)");
  } else if (view === "billing") {
    for (const member of ["diagnoses", "clinical_notes"])
      if (hasMember(got, new Set([member]))) problems.push(`member '${member}' present (billing sees no clinical content)`);
    for (const ssn of secretsOf(want, isSsn, SSN)) if (text.includes(ssn)) problems.push(`SSN ${ssn} in clear`);
    if (secretsOf(want, isSsn, null).size && !text.includes("[REDACTED:SSN]")) problems.push("the ssn member is not [REDACTED:SSN]");
    namesKept();
  } else if (view === "safe_harbor") {
    const patterns = [SSN, PHONE, EMAIL, MRN, EXACT_DATE];
    const ids = secretsOf(want, (k) => IDENTIFYING.has(k), null);
    for (const p of patterns) for (const v of secretsOf(want, () => false, p)) ids.add(v);
    for (const v of sorted(ids)) if (v.length >= 3 && text.includes(v)) problems.push(`identifier ${short(v)} present`);
    for (const p of patterns)
      for (const m of new Set([...text.matchAll(p)].map((x) => x[0]))) if (!ids.has(m)) problems.push(`${short(m)} present`);
    for (const code of sorted(secretsOf(want, (k) => k === "code", null)))
      if (!text.includes(code)) problems.push(`diagnosis code ${code} removed (research needs it)`);
  } else {
    problems.push(`unknown view '${view}' in the matrix`);
  }
  return problems.slice(0, 8);
}

// --- The checks -----------------------------------------------------------------------------

const report = { passed: 0, failed: 0 };
const ok = (name) => {
  report.passed += 1;
  console.log(`ok ${name}`);
};
const fail = (name, why) => {
  report.failed += 1;
  console.log(`FAIL ${name}: ${String(why).split(/\s+/).join(" ")}`);
};

/** A check's expectation did not hold. */
class Failed extends Error {}

/** `tool(NUGWI)`: a call's name plus its first string argument. */
function label(item) {
  const first = Object.values(item.arguments ?? {}).find((v) => typeof v === "string");
  return `${item.tool ?? item.name}(${first ?? ""})`;
}

/** A new SDK client, connected (initialize + notifications/initialized) to `url`. */
async function connect(url, token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: "gatekeeper-interop", version: "1.0.0" });
  await client.connect(transport, REQUEST_OPTIONS);
  return { client, transport };
}

/** Ends the session (DELETE) and the transport; a failure there is reported, not thrown. */
async function close({ client, transport }) {
  await transport.terminateSession().catch(() => {});
  await client.close();
}

/** The initialize result as the client saw it, in wire form. */
const initOf = ({ client, transport }) => ({
  protocolVersion: transport.protocolVersion,
  serverInfo: client.getServerVersion(),
  capabilities: client.getServerCapabilities(),
});

/** How an initialize result differs from the server's own, in the members clients act on. */
const initDifferences = (want, got) =>
  ["protocolVersion", "serverInfo", "capabilities"].flatMap((k) => differences(want[k], got[k], `$.${k}`));

/** `request` must be refused by the gatekeeper (403, -32003); the session must live on. */
async function expectRefused(client, request, what) {
  let result;
  try {
    result = await request();
  } catch (e) {
    // The SDK surfaces a non-2xx answer as StreamableHTTPError (code = HTTP status, message
    // with the body); a JSON-RPC error answer as McpError (code = JSON-RPC code).
    const refused = (e.code === 403 || e.code === FORBIDDEN) && /Forbidden/.test(e.message);
    if (!refused) throw new Failed(`${what}: ${e.name} ${e.code} ${short(e.message)}, expected 403 / ${FORBIDDEN} Forbidden`);
    await client.ping(REQUEST_OPTIONS); // not a crash: the session lives on
    return;
  }
  throw new Failed(`${what} was answered: ${short(result)}`);
}

class RoleRun {
  constructor(role, spec, url, baseline, baselineInit, sections) {
    Object.assign(this, { role, spec, url, baseline, baselineInit, sections });
    this.token = webAppToken(role, spec.claims ?? {});
  }

  /** Every check after initialize, by name, in order. */
  plan() {
    const s = this.spec;
    const checks = [];
    if (this.sections.has("tools")) {
      checks.push(["tools-list", (c) => this.toolsList(c)]);
      for (const item of s.calls) checks.push([`call-${label(item)}`, (c) => this.call(c, item)]);
      for (const item of s.denied)
        checks.push([`deny-${label(item)}`, (c) => expectRefused(c, () => c.callTool({ name: item.tool, arguments: item.arguments ?? {} }, undefined, REQUEST_OPTIONS), `tools/call ${label(item)}`)]);
    }
    if (this.sections.has("resources")) {
      const r = s.resources;
      checks.push(["resources-list", (c) => this.listing(c, "resources", r.list)]);
      checks.push(["resources-templates-list", (c) => this.listing(c, "templates", r.templates)]);
      for (const item of r.read) checks.push([`read-${item.uri}`, (c) => this.read(c, item)]);
      for (const uri of r.read_denied)
        checks.push([`read-denied-${uri}`, (c) => expectRefused(c, () => c.readResource({ uri }, REQUEST_OPTIONS), `resources/read ${uri}`)]);
    }
    if (this.sections.has("prompts")) {
      const p = s.prompts;
      checks.push(["prompts-list", (c) => this.listing(c, "prompts", p.list)]);
      for (const item of p.get) checks.push([`get-${label(item)}`, (c) => this.getPrompt(c, item)]);
      for (const item of p.get_denied)
        checks.push([`get-denied-${label(item)}`, (c) => expectRefused(c, () => c.getPrompt({ name: item.name, arguments: item.arguments }, REQUEST_OPTIONS), `prompts/get ${label(item)}`)]);
    }
    return checks;
  }

  async run() {
    const plan = this.plan();
    const name = `${this.role}/initialize`;
    let conn;
    try {
      conn = await connect(this.url, this.token);
      const diffs = initDifferences(this.baselineInit, initOf(conn));
      if (diffs.length) throw new Failed(`initialize result rewritten: ${diffs.join("; ")}`);
    } catch (e) {
      fail(name, await this.diagnoseInitialize(e));
      for (const [check] of plan) fail(`${this.role}/${check}`, "not run: initialize failed");
      if (conn) await close(conn).catch(() => {});
      return;
    }
    ok(name);
    for (const [check, fn] of plan) {
      try {
        await fn(conn.client);
        ok(`${this.role}/${check}`);
      } catch (e) {
        fail(`${this.role}/${check}`, e instanceof Failed ? e.message : `client threw ${e.name}: ${e.message}`);
      }
    }
    await close(conn).catch((e) => fail(`${this.role}/session-close`, `${e.name}: ${e.message}`));
  }

  /** What the client said, plus what the gatekeeper sent compared with the server's answer. */
  async diagnoseInitialize(e) {
    if (e instanceof Failed) return e.message;
    const said = `client threw ${e.name}: ${e.message}`;
    const { result, instead } = await rawInitialize(this.url, this.token).catch((x) => ({ instead: String(x) }));
    if (!result) return `${said}; a raw initialize through the gatekeeper got ${instead}`;
    return `${said}; the gatekeeper's initialize result vs the server's: ${initDifferences(this.baselineInit, result).join("; ") || "identical"}`;
  }

  async toolsList(client) {
    const got = (await client.listTools(undefined, REQUEST_OPTIONS)).tools.map((t) => t.name);
    if (!sameList(got, this.spec.tools)) throw new Failed(`tools/list gave ${short(sorted(got))}, the policy grants ${short(sorted(this.spec.tools))}`);
  }

  async call(client, item) {
    const params = { name: item.tool, arguments: item.arguments ?? {} };
    // A write is not replayed on the baseline.
    const want = item.write ? null : await this.baseline.callTool(params, undefined, REQUEST_OPTIONS);
    const got = await client.callTool(params, undefined, REQUEST_OPTIONS);
    if (Boolean(got.isError) !== Boolean(item.tool_error))
      throw new Failed(`isError=${got.isError}, expected ${Boolean(item.tool_error)}: ${short(got.content)}`);
    if (!want) {
      if (!got.content?.length) throw new Failed("empty result");
      return;
    }
    const problems = checkView(item.view ?? this.spec.view, payloads("tool", want), payloads("tool", got));
    if (problems.length) throw new Failed(problems.join("; "));
  }

  async listing(client, kind, want) {
    const [request, names] = {
      resources: [() => client.listResources(undefined, REQUEST_OPTIONS), (r) => r.resources.map((x) => x.uri)],
      templates: [() => client.listResourceTemplates(undefined, REQUEST_OPTIONS), (r) => r.resourceTemplates.map((x) => x.uriTemplate)],
      prompts: [() => client.listPrompts(undefined, REQUEST_OPTIONS), (r) => r.prompts.map((x) => x.name)],
    }[kind];
    if (want === null) return expectRefused(client, request, `${kind} list`); // the method is not granted
    const got = names(await request());
    if (!sameList(got, want)) throw new Failed(`listed ${short(sorted(got))}, expected ${short(sorted(want))}`);
  }

  async read(client, item) {
    const want = await this.baseline.readResource({ uri: item.uri }, REQUEST_OPTIONS);
    const got = await client.readResource({ uri: item.uri }, REQUEST_OPTIONS);
    const problems = checkView(item.view ?? this.spec.view, payloads("resource", want), payloads("resource", got));
    if (problems.length) throw new Failed(problems.join("; "));
  }

  async getPrompt(client, item) {
    const params = { name: item.name, arguments: item.arguments };
    const want = await this.baseline.getPrompt(params, REQUEST_OPTIONS);
    const got = await client.getPrompt(params, REQUEST_OPTIONS);
    const problems = checkView(item.view ?? this.spec.view, payloads("prompt", want), payloads("prompt", got));
    if (problems.length) throw new Failed(problems.join("; "));
  }
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      upstream: { type: "string" },
      roles: { type: "string" },
      grants: { type: "string", default: "reference" },
      sections: { type: "string", default: "tools,resources,prompts" },
      matrix: { type: "string", default: join(HERE, "..", "sdk_matrix.json") },
    },
  });
  const [url] = positionals;
  if (!url || !SECRET || !["reference", "resource_grants"].includes(values.grants)) {
    console.error("usage: JWT_SECRET=… node interop.mjs URL [--upstream URL] [--roles A,B] [--grants reference|resource_grants] [--sections …]");
    return 2;
  }
  const matrix = JSON.parse(readFileSync(values.matrix, "utf8"));
  let roles = matrix.roles;
  if (values.grants === "resource_grants") {
    const grants = matrix.resource_grants.roles;
    roles = Object.fromEntries(Object.entries(roles).map(([r, spec]) => [r, { ...spec, ...(grants[r] ?? {}) }]));
  }
  const chosen = values.roles ? values.roles.split(",") : Object.keys(roles);
  const sections = new Set(values.sections.split(","));

  try {
    // The baseline: the server itself, or (no --upstream) the Doctor through the gatekeeper.
    const baseline = values.upstream ? await connect(values.upstream, null) : await connect(url, webAppToken("Doctor"));
    const baselineInit = initOf(baseline);
    for (const role of chosen) {
      if (!roles[role]) fail(`${role}/initialize`, "no such role in the matrix");
      else await new RoleRun(role, roles[role], url, baseline.client, baselineInit, sections).run();
    }
    await close(baseline);
  } catch (e) {
    fail("interop", `${e.name}: ${e.message}`);
  }
  // Not "N passed, N failed": that is a test runner's closing line to CI's eyes.
  console.log(`interop done: ${report.passed} ok, ${report.failed} FAIL`);
  return report.failed === 0 ? 0 : 1;
}

process.exitCode = await main();
