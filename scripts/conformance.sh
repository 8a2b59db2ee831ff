#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, server scenarios, all
# of them: `--suite all`) run against our fixture MCP server directly, and then through the
# gatekeeper, once per protocol revision ("leg"): 2025-11-25 (sessionful) and 2026-07-28
# (stateless), the fixture serving both on one endpoint. Per leg REV:
#
#   direct-REV           suite ─────────────────────────────────────────▶ fixture
#   forwarder-only-REV   suite ──▶ forwarder (adds the token) ──────────▶ fixture   (control run)
#   gk-ConfNone-REV      suite ──▶ forwarder ──▶ mcp-gatekeeper ────────▶ fixture   (profile none)
#   gk-ConfRedacted-REV  suite ──▶ forwarder ──▶ mcp-gatekeeper ────────▶ fixture   (safe_harbor)
#
# Every check's status goes to target/conformance/<run>.json; a table per leg compares its runs
# (target/conformance/table-REV.txt; table.txt has them all). Exit status 0 only if, in every
# leg, the direct run passes everything and every other run has exactly the same statuses —
# except, in the gatekeeper runs, for the checks tests/conformance/allowed-differences.txt
# allows (where the gatekeeper is deliberately stricter; each listed with its reason). Logs,
# forwarder traces (every request and response, bodies included) and the gatekeepers' audit
# trails stay in target/conformance/<run>/ for diagnosis, and <run>/tracediff.txt lists what
# the gatekeeper changed in the answers, message by message, against the leg's forwarder-only
# run — also where no check's status changed.
#
# CONFORMANCE_POLICY=FILE runs the gatekeeper runs under another policy (to explore; the
# verdict assumes the roles ConfNone and ConfRedacted may do everything the suite does).
# CONFORMANCE_REVISIONS="2026-07-28" runs only the legs named (default: both).
#
# Needs: the built binaries (BIN, default target/debug: `cargo build --workspace`), python3
# (free ports), and npm to bootstrap Node 22 from the npm registry (scripts/ensure-node.sh);
# the suite and the fixture's SDK come from tests/conformance/package-lock.json (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/debug}
GATEKEEPER="$PWD/$BIN/mcp-gatekeeper"
OUT="$PWD/target/conformance"
CONF="$PWD/tests/conformance"
POLICY=$(realpath "${CONFORMANCE_POLICY:-$CONF/policy.yaml}")   # another policy, to explore
ALLOW="$CONF/allowed-differences.txt"   # checks where the gatekeeper may differ, with reasons
read -r -a REVISIONS <<<"${CONFORMANCE_REVISIONS:-2025-11-25 2026-07-28}"
SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}   # seconds for one run of the whole suite (one leg)
READY_TIMEOUT=${READY_TIMEOUT:-30}    # seconds for a process to start listening

. scripts/ports.sh # free_port

[ -x "$GATEKEEPER" ] || { echo "conformance: $GATEKEEPER is missing; run: cargo build --workspace" >&2; exit 1; }

# Node 22 first on PATH, so that npm runs on it too.
NODE=$(scripts/ensure-node.sh)
export PATH="$(dirname "$NODE"):$PATH"

# The suite and the SDK, exactly as locked; reinstalled only when package.json or the lock
# file changed since the last install (npm ci writes node_modules/.package-lock.json).
installed="$CONF/node_modules/.package-lock.json"
if ! [ "$installed" -nt "$CONF/package-lock.json" ] || ! [ "$installed" -nt "$CONF/package.json" ]; then
  (cd "$CONF" && npm ci --no-audit --no-fund --loglevel=error)
fi
SUITE=("$NODE" "$CONF/node_modules/@modelcontextprotocol/conformance/dist/index.js")

# A fresh secret per run: secrets never live in the repository.
JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

rm -rf "$OUT"
mkdir -p "$OUT"

# ---- processes: started in the background, each killed on exit ------------------------------
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# forget PID: a process that has ended leaves the list (its id may be reused).
forget() {
  local pid keep=()
  for pid in "${pids[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
  pids=("${keep[@]}")
}

# stop PID: ends one process this script started.
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget "$1"
}

# wait_for_line PID LOG REGEX: until LOG has a line matching REGEX (prints it); fails when the
# process exits first or READY_TIMEOUT passes.
wait_for_line() {
  local pid=$1 log=$2 regex=$3 deadline=$((SECONDS + READY_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if grep -m1 -E "$regex" "$log" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "conformance: process $pid exited; its log ($log):" >&2; tail -n 20 "$log" >&2; return 1; }
    sleep 0.05
  done
  echo "conformance: no '$regex' in $log after ${READY_TIMEOUT}s" >&2
  return 1
}

# wait_for_port PID PORT: until something accepts on 127.0.0.1:PORT while PID lives.
wait_for_port() {
  local pid=$1 port=$2 deadline=$((SECONDS + READY_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# ---- the suite ---------------------------------------------------------------------------------
# run_suite RUN URL REV: the whole suite at protocol revision REV (`--suite all`: pending
# scenarios too) against URL, then its checks collected into $OUT/RUN.json. The suite's own
# exit status is not the verdict: the comparison is.
run_suite() {
  local run=$1 url=$2 rev=$3 started=$SECONDS
  mkdir -p "$OUT/$run"
  echo "── $run: $url (spec version $rev)"
  # In the background, so that a signal to this script is handled at once (bash runs traps
  # only between foreground commands, but interrupts `wait`).
  timeout "$SUITE_TIMEOUT" "${SUITE[@]}" server --url "$url" --spec-version "$rev" --suite all \
    -o "$OUT/$run/results" >"$OUT/$run/suite.log" 2>&1 &
  local suite_pid=$!
  pids+=("$suite_pid")
  wait "$suite_pid" || true
  forget "$suite_pid"
  "$NODE" "$CONF/report.mjs" collect "$run" "$OUT/$run/results" "$OUT/$run.json" "$rev" | sed 's/^/   /'
  echo "   ($((SECONDS - started)) s; suite output: $OUT/$run/suite.log)"
}

# ---- the fixture server ------------------------------------------------------------------------
# One process for every leg and run: it serves 2025-11-25 and 2026-07-28 on the same endpoint.
mkdir -p "$OUT/fixture"
"$NODE" "$CONF/fixture-server.mjs" 0 >"$OUT/fixture/fixture.log" 2>&1 &
FIXTURE_PID=$!
pids+=("$FIXTURE_PID")
FIXTURE_URL=$(wait_for_line "$FIXTURE_PID" "$OUT/fixture/fixture.log" 'listening on' | grep -o 'http://[^ ]*')
FIXTURE_BASE=${FIXTURE_URL%/mcp}

# start_forwarder RUN ROLE TARGET_BASE PORT: sets FWD_PID.
start_forwarder() {
  local run=$1 role=$2 target=$3 port=$4
  FORWARD_TO=$target ROLE=$role JWT_SECRET=$JWT_SECRET FORWARDER_PORT=$port \
    FORWARDER_TRACE="$OUT/$run/trace.jsonl" \
    "$NODE" "$CONF/forwarder.mjs" >"$OUT/$run/forwarder.log" 2>&1 &
  FWD_PID=$!
  pids+=("$FWD_PID")
  wait_for_line "$FWD_PID" "$OUT/$run/forwarder.log" 'listening on' >/dev/null
}

# start_gatekeeper RUN PORT FWD_PORT: sets GK_PID; fails if it does not listen on PORT.
# The shipped defaults decide the suite's DNS-rebinding scenario: a loopback listener accepts
# Host and Origin on loopback names only (Origin http://<the URL it was given> accepted,
# http://evil.example.com refused). The audit trail goes to a directory of its own (not
# beside the config or the policy: those are watched for changes).
start_gatekeeper() {
  local run=$1 port=$2 fwd_port=$3 dir="$OUT/$1"
  mkdir -p "$dir/audit"
  cat >"$dir/gatekeeper.yaml" <<EOF
# Written by scripts/conformance.sh for the $run run.
mcp_paths: [/mcp]
EOF
  (
    cd "$dir" # no .env from the repository's working directory
    exec env -u JWT_ALG -u GATEKEEPER_SHADOW_POLICY -u GATEKEEPER_AUDIT_KEY \
      JWT_SECRET="$JWT_SECRET" \
      GATEKEEPER_LISTEN="127.0.0.1:$port" \
      GATEKEEPER_UPSTREAM="$FIXTURE_BASE" \
      GATEKEEPER_POLICY="$POLICY" \
      GATEKEEPER_METRICS_LISTEN=off \
      GATEKEEPER_AUDIT_LOG="$dir/audit/audit.log" \
      RUST_LOG=${RUST_LOG:-info} \
      "$GATEKEEPER" serve -c "$dir/gatekeeper.yaml"
  ) >"$dir/gatekeeper.log" 2>&1 &
  GK_PID=$!
  pids+=("$GK_PID")
  wait_for_port "$GK_PID" "$port"
}

# through_gatekeeper RUN ROLE REV: gatekeeper + forwarder for ROLE, the suite at REV through
# them, both stopped after. Ports are picked free a moment before use (Pingora binds by
# address), so a start that loses the race is retried with new ones.
through_gatekeeper() {
  local run=$1 role=$2 rev=$3 attempt gk_port fwd_port
  mkdir -p "$OUT/$run"
  for attempt in 1 2 3; do
    gk_port=$(free_port)
    fwd_port=$(free_port)
    if start_gatekeeper "$run" "$gk_port" "$fwd_port"; then
      if start_forwarder "$run" "$role" "http://127.0.0.1:$gk_port" "$fwd_port"; then
        run_suite "$run" "http://127.0.0.1:$fwd_port/mcp" "$rev"
        stop "$FWD_PID"
        stop "$GK_PID"
        return 0
      fi
      stop "$FWD_PID"
    fi
    stop "$GK_PID"
    echo "   start attempt $attempt failed (gatekeeper log: $OUT/$run/gatekeeper.log); retrying" >&2
  done
  echo "conformance: could not start the gatekeeper and forwarder for $run" >&2
  return 1
}

# ---- the legs -------------------------------------------------------------------------------
for rev in "${REVISIONS[@]}"; do
  echo
  echo "════ protocol revision $rev"
  run_suite "direct-$rev" "$FIXTURE_URL" "$rev"

  # Control: the forwarder alone in front of the fixture must change nothing.
  mkdir -p "$OUT/forwarder-only-$rev"
  start_forwarder "forwarder-only-$rev" ConfNone "$FIXTURE_BASE" 0
  FWD_PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$OUT/forwarder-only-$rev/forwarder.log" | grep -o '[0-9]*$')
  run_suite "forwarder-only-$rev" "http://127.0.0.1:$FWD_PORT/mcp" "$rev"
  stop "$FWD_PID"

  through_gatekeeper "gk-ConfNone-$rev" ConfNone "$rev"
  through_gatekeeper "gk-ConfRedacted-$rev" ConfRedacted "$rev"

  # What the gatekeeper changed in the answers, whether or not a check noticed.
  for run in "gk-ConfNone-$rev" "gk-ConfRedacted-$rev"; do
    "$NODE" "$CONF/report.mjs" tracediff "$OUT/forwarder-only-$rev/trace.jsonl" "$OUT/$run/trace.jsonl" \
      >"$OUT/$run/tracediff.txt"
    echo
    echo "── $run: answers that differ from forwarder-only-$rev ($OUT/$run/tracediff.txt)"
    if [ -s "$OUT/$run/tracediff.txt" ]; then sed 's/^/   /' "$OUT/$run/tracediff.txt"; else echo "   none"; fi
  done
done

echo
echo "results: $OUT/<run>.json; tables: $OUT/table-<revision>.txt, $OUT/table.txt;"
echo "per-run logs and traces: $OUT/<run>/ (${SECONDS}s)"
# The verdict last: per leg, the table, the differences and a 'conformance REV: N passed,
# M failed' line; then one 'conformance: N passed, M failed' line for all legs.
status=0
passed=0
failed=0
allowed=0
: >"$OUT/table.txt"
for rev in "${REVISIONS[@]}"; do
  echo
  echo "════ verdict, protocol revision $rev"
  leg=0
  "$NODE" "$CONF/report.mjs" compare --allow "$ALLOW" --allow-in "gk-ConfNone-$rev,gk-ConfRedacted-$rev" \
    --label "$rev" "$OUT/direct-$rev.json" "$OUT/forwarder-only-$rev.json" \
    "$OUT/gk-ConfNone-$rev.json" "$OUT/gk-ConfRedacted-$rev.json" >"$OUT/table-$rev.txt" || leg=$?
  cat "$OUT/table-$rev.txt"
  { echo "════ protocol revision $rev"; cat "$OUT/table-$rev.txt"; echo; } >>"$OUT/table.txt"
  [ "$leg" -eq 0 ] || status=1
  counts=$(grep -E "^conformance $rev: " "$OUT/table-$rev.txt" | tail -n 1) || { status=1; continue; }
  passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$counts")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$counts")))
  allowed=$((allowed + $(grep -oE '[0-9]+ allowed' <<<"$counts" | grep -oE '[0-9]+' || echo 0)))
done
echo
echo "conformance: $passed passed, $failed failed$([ "$allowed" -eq 0 ] || echo ", $allowed allowed")" |
  tee -a "$OUT/table.txt"
exit "$status"
