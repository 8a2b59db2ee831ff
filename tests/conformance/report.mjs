#!/usr/bin/env node
// Reads the conformance suite's results and compares runs (used by scripts/conformance.sh).
//
//   node report.mjs collect RUN RAW_DIR OUT.json [REVISION]
//       RAW_DIR is the suite's `-o` directory: one `server-<scenario>-<timestamp>/checks.json`
//       per scenario. Writes OUT.json: every check of the run with its status (and the
//       protocol revision the suite ran at, when given).
//   node report.mjs compare [--allow FILE --allow-in RUN[,RUN…]] [--label TEXT] BASELINE.json OTHER.json…
//       Prints a table of every verdict (non-INFO) check per run and the differences from the
//       baseline; exits 1 if the baseline has a FAILURE or any run's status differs from it —
//       except, in the runs named by --allow-in, for the checks FILE allows (see below).
//       Ends with `conformance[ TEXT]: N passed, M failed[, K allowed]` (N: run × check pairs
//       whose status equals the baseline's; M: those that differ, plus the baseline's own
//       failures; K: differences FILE allows, counted in neither).
//   node report.mjs tracediff BASE.jsonl OTHER.jsonl
//       Compares two forwarder traces (FORWARDER_TRACE) of the same suite run: for each kind of
//       request (HTTP method, JSON-RPC method, target, arguments, and for a 2026-07-28 retry
//       the inputResponses keys it carries), the answers OTHER got that BASE never did
//       (status and JSON-RPC messages).
//       Shows what the gatekeeper changed even where no check's status did. Prints nothing
//       when they agree; always exits 0.
//
// A check is keyed `<scenario> › <check id>`, or just `<scenario>` when the id is the
// scenario's name (`#2`, `#3` follow an id repeated within a scenario).
// INFO checks are the suite's log lines (requests sent, events seen): they are kept in the
// JSON but not compared. A verdict check a run lacks (its scenario stopped early) is MISSING.
//
// The allow-list (--allow FILE) names the checks where the gatekeeper deliberately differs
// from the bare server (it enforces something more strictly), one per line, with the reason:
//     [REVISION ]SCENARIO[:CHECK-ID]  REASON
// e.g. `2026-07-28 server-stateless:sep-2575-http-server-method-not-found-404  the policy …`.
// Without REVISION the entry holds at every revision; without CHECK-ID, for every check of
// the scenario (the suite's own --expected-failures spelling). `#` starts a comment. An
// allowed difference is still shown, with its reason; an entry that matched nothing is noted.

import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

/** `server-<scenario>-2026-12-01T09-54-22-370Z` → `<scenario>` (the suite's createResultDir). */
function scenarioOf(dir) {
  return /^server-(.+)-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/.exec(dir)?.[1];
}

function collect(run, rawDir, outFile, revision) {
  const checks = [];
  const dirs = existsSync(rawDir) ? readdirSync(rawDir).sort() : [];
  for (const dir of dirs) {
    const scenario = scenarioOf(dir);
    const file = path.join(rawDir, dir, 'checks.json');
    if (!scenario || !existsSync(file)) continue;
    const seen = new Map();
    for (const c of JSON.parse(readFileSync(file, 'utf8'))) {
      const n = (seen.get(c.id) ?? 0) + 1;
      seen.set(c.id, n);
      checks.push({
        scenario,
        id: c.id,
        key: `${c.id === scenario ? scenario : `${scenario} › ${c.id}`}${n > 1 ? `#${n}` : ''}`,
        status: c.status,
        description: c.description,
        ...(c.errorMessage && { errorMessage: c.errorMessage }),
        ...(c.details && { details: c.details }),
      });
    }
  }
  const summary = { SUCCESS: 0, FAILURE: 0, WARNING: 0, SKIPPED: 0, INFO: 0 };
  for (const c of checks) summary[c.status] = (summary[c.status] ?? 0) + 1;
  const scenarios = [...new Set(checks.map((c) => c.scenario))];
  const record = { run, ...(revision && { revision }), scenarios: scenarios.length, summary, checks };
  writeFileSync(outFile, JSON.stringify(record, null, 2) + '\n');
  console.log(`${run}: ${scenarios.length} scenarios, ${fmtCounts(summary)} → ${outFile}`);
}

function fmtCounts(s) {
  return `${s.SUCCESS} passed, ${s.FAILURE} failed, ${s.WARNING} warnings, ${s.SKIPPED ?? 0} skipped`;
}

/** The allow-list FILE: [{ revision?, scenario, id?, reason, line, used }]. */
function readAllowList(file) {
  const entries = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const words = line.split(/\s+/);
      const revision = /^\d{4}-\d\d-\d\d$/.test(words[0]) ? words.shift() : undefined;
      const [target, ...reason] = words;
      const [scenario, id] = target.split(':');
      if (!scenario || reason.length === 0) {
        throw new Error(`${file}:${i + 1}: expected '[REVISION ]SCENARIO[:CHECK-ID] REASON', got '${raw.trim()}'`);
      }
      entries.push({ revision, scenario, id, reason: reason.join(' '), line: i + 1, used: false });
    });
  return entries;
}

function compare(baselineFile, otherFiles, { allowFile, allowIn = [], label } = {}) {
  const runs = [baselineFile, ...otherFiles].map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const byKey = runs.map((r) => new Map(r.checks.map((c) => [c.key, c])));
  const revision = runs[0].revision;
  const allowList = allowFile ? readAllowList(allowFile).filter((e) => !e.revision || e.revision === revision) : [];
  /** The allow-list entry covering `key` in run `i`, if that run may differ there. */
  const allowance = (i, key) => {
    if (!allowIn.includes(runs[i].run)) return undefined;
    const c = byKey[i].get(key) ?? byKey[0].get(key);
    return c && allowList.find((e) => e.scenario === c.scenario && (e.id === undefined || e.id === c.id));
  };

  // Verdict checks, in the baseline's order, then any only other runs have.
  const keys = [];
  for (const r of runs) {
    for (const c of r.checks) if (c.status !== 'INFO' && !keys.includes(c.key)) keys.push(c.key);
  }
  const status = (i, key) => byKey[i].get(key)?.status ?? 'MISSING';

  const names = runs.map((r) => r.run);
  const keyWidth = Math.max(5, ...keys.map((k) => k.length));
  const colWidth = Math.max(8, ...names.map((n) => n.length));
  const line = (cells, mark) =>
    `${mark} ${cells[0].padEnd(keyWidth)}  ${cells.slice(1).map((c) => c.padEnd(colWidth)).join('  ')}`;

  console.log(line(['check', ...names], ' '));
  const differences = []; // keys where some run differs and the allow-list does not cover it
  const allowed = []; // keys where every differing run is covered by the allow-list
  for (const key of keys) {
    const statuses = runs.map((_, i) => status(i, key));
    const differing = runs.map((_, i) => i).filter((i) => i > 0 && statuses[i] !== statuses[0]);
    const uncovered = differing.filter((i) => !allowance(i, key));
    if (uncovered.length > 0) differences.push(key);
    else if (differing.length > 0) allowed.push(key);
    console.log(line([key, ...statuses], uncovered.length > 0 ? '≠' : differing.length > 0 ? '~' : ' '));
  }

  console.log('');
  for (const r of runs) console.log(`${r.run.padEnd(colWidth)}  ${fmtCounts(r.summary)}`);

  let failed = false;
  if (runs[0].summary.FAILURE > 0 || runs[0].checks.length === 0) {
    console.log(`\n${runs[0].run} itself has failures (or no checks): the fixture server must pass everything.`);
    failed = true;
  }
  const explain = (key, withReason) => {
    console.log(`  ${key}`);
    runs.forEach((r, i) => {
      const c = byKey[i].get(key);
      const why = c?.errorMessage ? ` — ${c.errorMessage}` : '';
      const entry = withReason && status(i, key) !== status(0, key) ? allowance(i, key) : undefined;
      const allowedBy = entry ? `  [allowed: ${entry.reason}]` : '';
      console.log(`    ${r.run.padEnd(colWidth)} ${status(i, key)}${why}${allowedBy}`);
    });
  };
  if (allowed.length > 0) {
    console.log(`\n${allowed.length} check(s) differ from ${runs[0].run} as the allow-list (${allowFile}) allows:`);
    for (const key of allowed) explain(key, true);
  }
  if (differences.length > 0) {
    console.log(`\n${differences.length} check(s) differ from ${runs[0].run}:`);
    for (const key of differences) explain(key, true);
    failed = true;
  } else {
    console.log(`\nEvery check has the same status in every run${allowed.length ? ', but for the allowed differences' : ''}.`);
  }
  // Entries that allowed nothing: the gatekeeper no longer differs there (or the id is wrong).
  for (const key of [...differences, ...allowed]) {
    runs.forEach((_, i) => {
      if (i > 0 && status(i, key) !== status(0, key)) {
        const entry = allowance(i, key);
        if (entry) entry.used = true;
      }
    });
  }
  const unused = allowList.filter((e) => !e.used);
  if (unused.length > 0) {
    console.log(`\nallow-list entries that matched no difference (stale?):`);
    for (const e of unused) console.log(`  ${allowFile}:${e.line}: ${e.scenario}${e.id ? `:${e.id}` : ''}`);
  }
  // One plain closing line: each (run, check) whose status equals the baseline's passed; the
  // baseline's own failures count as failed too; allowed differences count in neither.
  let same = 0;
  let fails = 0;
  let allowedPairs = 0;
  for (const key of keys) {
    for (let i = 1; i < runs.length; i++) {
      if (status(i, key) === status(0, key)) same++;
      else if (allowance(i, key)) allowedPairs++;
      else fails++;
    }
  }
  const extra = allowedPairs > 0 ? `, ${allowedPairs} allowed` : '';
  console.log(`\nconformance${label ? ` ${label}` : ''}: ${same} passed, ${fails + runs[0].summary.FAILURE} failed${extra}`);
  return failed ? 1 : 0;
}

// ---- traces ------------------------------------------------------------------------------------

const readTrace = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

/** What a request asked, without its ids: `POST tools/call test_sampling {"prompt":…}`. */
function requestKind({ request }) {
  let body;
  try {
    body = JSON.parse(request.body);
  } catch {
    body = undefined;
  }
  if (body === undefined) return `${request.method}${request.headers['last-event-id'] ? ' (resume)' : ''}`;
  if (!body.method) return `${request.method} (a JSON-RPC ${'error' in body ? 'error' : 'result'} from the client)`;
  const p = body.params ?? {};
  // subscriptions/listen (2026-07-28) is told which notifications it wants.
  const target = p.name ?? p.uri ?? (p.notifications ? JSON.stringify(sortKeys(p.notifications)) : '');
  // A 2026-07-28 multi-round-trip retry is a request of its own kind: what it answers.
  const retry = [
    p.inputResponses && `inputResponses:${Object.keys(p.inputResponses).sort().join(',')}`,
    p.requestState !== undefined && 'requestState',
  ].filter(Boolean);
  const args = p.arguments ? JSON.stringify(p.arguments) : '';
  return `${request.method} ${body.method} ${target} ${args} ${retry.length ? `(${retry.join(' ')})` : ''}`.replace(/ +/g, ' ').trim();
}

/**
 * An answer as { status, messages }, comparable across runs: JSON bodies and SSE `data:` are
 * parsed (so framing, whitespace and member order do not count), SSE comments (keep-alives)
 * dropped, an event without data noted as a priming event, session/event ids (UUIDs) replaced.
 */
function answerOf({ request, response }) {
  if (!response) return { status: 'no response', messages: [] };
  const requestId = jsonOrUndefined(request.body)?.id;
  const sse = (response.headers['content-type'] ?? '').includes('text/event-stream');
  const events = sse ? response.body.replace(/\r\n?/g, '\n').split('\n\n') : [`data:${response.body}`];
  const messages = [];
  for (const event of events) {
    const data = event
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n')
      .replace(UUID, '<uuid>');
    if (data.trim() === '') {
      if (/^(id|retry):/m.test(event)) messages.push('(priming event)');
      continue;
    }
    try {
      messages.push(sortKeys(sameRequestId(JSON.parse(data), requestId)));
    } catch {
      messages.push(`(not JSON) ${data}`);
    }
  }
  return { status: response.status, messages };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:\d+)?/g;

function jsonOrUndefined(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The request's own id where an answer echoes it — the response `id`, and a 2026-07-28
 * listen stream's `io.modelcontextprotocol/subscriptionId` — as `<request id>`: the suite
 * numbers some requests by the clock (`Date.now()`), so the same answer differs by run.
 */
function sameRequestId(v, requestId, key) {
  if (requestId === undefined || requestId === null) return v;
  if (Array.isArray(v)) return v.map((x) => sameRequestId(x, requestId));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sameRequestId(x, requestId, k)]));
  }
  const echoes = key === 'id' || key === 'io.modelcontextprotocol/subscriptionId';
  return echoes && v === requestId ? '<request id>' : v;
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

/** Every place where `b` differs from `a`: [path, a's value, b's value]. */
function differences(a, b, path = '', out = []) {
  if (a === b) return out;
  const bothObjects = a && b && typeof a === 'object' && typeof b === 'object';
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b)) {
    out.push([path || '.', a, b]);
    return out;
  }
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const sub = Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`;
    if (!(k in a) || !(k in b)) out.push([sub, a[k], b[k]]);
    else differences(a[k], b[k], sub, out);
  }
  return out;
}

const show = (v) => (v === undefined ? '(absent)' : JSON.stringify(v)?.slice(0, 300));

/**
 * What exactly a request sent, to find the same request in another run: its body without
 * the JSON-RPC id (and progress token), and the headers the suite varies on purpose —
 * MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Param-*, Last-Event-ID, and the host names
 * of Host and Origin (not their ports: each run has its own).
 */
function requestSignature({ request }) {
  const body = jsonOrUndefined(request.body);
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    delete body.id;
    if (body.params?._meta?.progressToken !== undefined) body.params._meta.progressToken = '<token>';
  }
  const headers = Object.entries(request.headers)
    .filter(([k]) => /^(mcp-protocol-version|mcp-method|mcp-name|mcp-param-.*|last-event-id|host|origin)$/.test(k))
    .map(([k, v]) => [k, k === 'host' || k === 'origin' ? String(v).replace(/:\d+$/, '') : k === 'last-event-id' ? '<id>' : v])
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([request.method, headers, body === undefined ? request.body : sortKeys(body)]);
}

function tracediff(baseFile, otherFile) {
  const answers = (file) => {
    const byKind = new Map(); // kind → Map(answer key → { answer, requests: Set(signature) })
    for (const x of readTrace(file)) {
      // A request the client gave up on before any answer came (the suite closes a client
      // while its GET stream is still opening) is timing, not an answer.
      if (!x.response && x.outcome === 'client closed') continue;
      const kind = requestKind(x);
      const answer = answerOf(x);
      const key = JSON.stringify(answer);
      if (!byKind.has(kind)) byKind.set(kind, new Map());
      const seen = byKind.get(kind);
      if (!seen.has(key)) seen.set(key, { answer, requests: new Set() });
      seen.get(key).requests.add(requestSignature(x));
    }
    return byKind;
  };
  const base = answers(baseFile);
  for (const [kind, got] of answers(otherFile)) {
    const expected = base.get(kind) ?? new Map();
    const lines = new Set(); // the same change in answers to several requests is shown once
    for (const [key, { answer, requests }] of got) {
      if (expected.has(key)) continue;
      // Shown against what the base run answered to the same request (same body and MCP
      // headers), else against its nearest answer of this kind: one with the same HTTP
      // status if there is one, and of those the one with the fewest differing places.
      const all = [...expected.values()];
      const same = all.filter((e) => [...requests].some((r) => e.requests.has(r)));
      const nearest = (same.length ? same : all)
        .map((e) => ({ sameStatus: e.answer.status === answer.status, diff: differences(e.answer, answer) }))
        .sort((x, y) => y.sameStatus - x.sameStatus || x.diff.length - y.diff.length)[0]?.diff;
      if (!nearest) lines.add(`(no such request in the base trace) ${show(answer)}`);
      else for (const [path, was, now] of nearest.slice(0, 20)) lines.add(`${path}: ${show(was)} → ${show(now)}`);
    }
    if (lines.size === 0) continue;
    console.log(kind);
    for (const line of lines) console.log(`  ${line}`);
  }
}

/** `compare`'s arguments: its options, then the run files. */
function compareArgs(args) {
  const options = {};
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--allow') options.allowFile = args[++i];
    else if (args[i] === '--allow-in') options.allowIn = (args[++i] ?? '').split(',').filter(Boolean);
    else if (args[i] === '--label') options.label = args[++i];
    else files.push(args[i]);
  }
  return { options, files };
}

const [command, ...args] = process.argv.slice(2);
const compared = command === 'compare' ? compareArgs(args) : undefined;
if (command === 'collect' && (args.length === 3 || args.length === 4)) collect(...args);
else if (compared && compared.files.length >= 2) {
  try {
    process.exit(compare(compared.files[0], compared.files.slice(1), compared.options));
  } catch (err) {
    console.error(`report.mjs compare: ${err.message}`);
    process.exit(2);
  }
} else if (command === 'tracediff' && args.length === 2) tracediff(...args);
else {
  console.error(
    'usage: report.mjs collect RUN RAW_DIR OUT.json [REVISION] | compare [--allow FILE --allow-in RUN,…] [--label TEXT] BASELINE.json OTHER.json… | tracediff BASE.jsonl OTHER.jsonl',
  );
  process.exit(2);
}
