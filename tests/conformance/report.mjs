#!/usr/bin/env node
// Reads the conformance suite's results and compares runs (used by scripts/conformance.sh).
//
//   node report.mjs collect RUN RAW_DIR OUT.json
//       RAW_DIR is the suite's `-o` directory: one `server-<scenario>-<timestamp>/checks.json`
//       per scenario. Writes OUT.json: every check of the run with its status.
//   node report.mjs compare BASELINE.json OTHER.json…
//       Prints a table of every verdict (non-INFO) check per run and the differences from the
//       baseline; exits 1 if the baseline has a FAILURE or any run's status differs from it.
//       Ends with `conformance: N passed, M failed` (N: run × check pairs whose status equals
//       the baseline's; M: those that differ, plus the baseline's own failures).
//   node report.mjs tracediff BASE.jsonl OTHER.jsonl
//       Compares two forwarder traces (FORWARDER_TRACE) of the same suite run: for each kind of
//       request, the answers OTHER got that BASE never did (status and JSON-RPC messages).
//       Shows what the gatekeeper changed even where no check's status did. Prints nothing
//       when they agree; always exits 0.
//
// A check is keyed `<scenario> › <check id>`, or just `<scenario>` when the id is the
// scenario's name (`#2`, `#3` follow an id repeated within a scenario).
// INFO checks are the suite's log lines (requests sent, events seen): they are kept in the
// JSON but not compared. A verdict check a run lacks (its scenario stopped early) is MISSING.

import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

/** `server-<scenario>-2026-12-01T09-54-22-370Z` → `<scenario>` (the suite's createResultDir). */
function scenarioOf(dir) {
  return /^server-(.+)-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/.exec(dir)?.[1];
}

function collect(run, rawDir, outFile) {
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
  const summary = { SUCCESS: 0, FAILURE: 0, WARNING: 0, INFO: 0 };
  for (const c of checks) summary[c.status] = (summary[c.status] ?? 0) + 1;
  const scenarios = [...new Set(checks.map((c) => c.scenario))];
  writeFileSync(outFile, JSON.stringify({ run, scenarios: scenarios.length, summary, checks }, null, 2) + '\n');
  console.log(`${run}: ${scenarios.length} scenarios, ${fmtCounts(summary)} → ${outFile}`);
}

function fmtCounts(s) {
  return `${s.SUCCESS} passed, ${s.FAILURE} failed, ${s.WARNING} warnings`;
}

function compare(baselineFile, otherFiles) {
  const runs = [baselineFile, ...otherFiles].map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const byKey = runs.map((r) => new Map(r.checks.map((c) => [c.key, c])));

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
  const differences = [];
  for (const key of keys) {
    const statuses = runs.map((_, i) => status(i, key));
    const differs = statuses.some((s) => s !== statuses[0]);
    if (differs) differences.push(key);
    console.log(line([key, ...statuses], differs ? '≠' : ' '));
  }

  console.log('');
  for (const r of runs) console.log(`${r.run.padEnd(colWidth)}  ${fmtCounts(r.summary)}`);

  let failed = false;
  if (runs[0].summary.FAILURE > 0 || runs[0].checks.length === 0) {
    console.log(`\n${runs[0].run} itself has failures (or no checks): the fixture server must pass everything.`);
    failed = true;
  }
  if (differences.length > 0) {
    console.log(`\n${differences.length} check(s) differ from ${runs[0].run}:`);
    for (const key of differences) {
      console.log(`  ${key}`);
      runs.forEach((r, i) => {
        const c = byKey[i].get(key);
        const why = c?.errorMessage ? ` — ${c.errorMessage}` : '';
        console.log(`    ${r.run.padEnd(colWidth)} ${status(i, key)}${why}`);
      });
    }
    failed = true;
  } else {
    console.log(`\nEvery check has the same status in every run.`);
  }
  // One plain closing line: each (run, check) whose status equals the baseline's passed; the
  // baseline's own failures count as failed too.
  const same = runs.slice(1).reduce((n, _, i) => n + keys.filter((k) => status(i + 1, k) === status(0, k)).length, 0);
  const fails = differences.reduce((n, k) => n + runs.slice(1).filter((_, i) => status(i + 1, k) !== status(0, k)).length, 0);
  console.log(`\nconformance: ${same} passed, ${fails + runs[0].summary.FAILURE} failed`);
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
  const target = p.name ?? p.uri ?? '';
  return `${request.method} ${body.method} ${target} ${p.arguments ? JSON.stringify(p.arguments) : ''}`.trim();
}

/**
 * An answer as { status, messages }, comparable across runs: JSON bodies and SSE `data:` are
 * parsed (so framing, whitespace and member order do not count), SSE comments (keep-alives)
 * dropped, an event without data noted as a priming event, session/event ids (UUIDs) replaced.
 */
function answerOf({ response }) {
  if (!response) return { status: 'no response', messages: [] };
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
      messages.push(sortKeys(JSON.parse(data)));
    } catch {
      messages.push(`(not JSON) ${data}`);
    }
  }
  return { status: response.status, messages };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:\d+)?/g;

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

function tracediff(baseFile, otherFile) {
  const answers = (file) => {
    const byKind = new Map(); // kind → Map(key → answer)
    for (const x of readTrace(file)) {
      // A request the client gave up on before any answer came (the suite closes a client
      // while its GET stream is still opening) is timing, not an answer.
      if (!x.response && x.outcome === 'client closed') continue;
      const kind = requestKind(x);
      const answer = answerOf(x);
      if (!byKind.has(kind)) byKind.set(kind, new Map());
      byKind.get(kind).set(JSON.stringify(answer), answer);
    }
    return byKind;
  };
  const base = answers(baseFile);
  for (const [kind, got] of answers(otherFile)) {
    const expected = base.get(kind) ?? new Map();
    const lines = new Set(); // the same change in answers to several requests is shown once
    for (const [key, answer] of got) {
      if (expected.has(key)) continue;
      // Shown against the base answer it is nearest to (fewest differing places).
      const nearest = [...expected.values()]
        .map((e) => differences(e, answer))
        .sort((x, y) => x.length - y.length)[0];
      if (!nearest) lines.add(`(no such request in the base trace) ${show(answer)}`);
      else for (const [path, was, now] of nearest.slice(0, 20)) lines.add(`${path}: ${show(was)} → ${show(now)}`);
    }
    if (lines.size === 0) continue;
    console.log(kind);
    for (const line of lines) console.log(`  ${line}`);
  }
}

const [command, ...args] = process.argv.slice(2);
if (command === 'collect' && args.length === 3) collect(...args);
else if (command === 'compare' && args.length >= 2) process.exit(compare(args[0], args.slice(1)));
else if (command === 'tracediff' && args.length === 2) tracediff(...args);
else {
  console.error(
    'usage: report.mjs collect RUN RAW_DIR OUT.json | compare BASELINE.json OTHER.json… | tracediff BASE.jsonl OTHER.jsonl',
  );
  process.exit(2);
}
