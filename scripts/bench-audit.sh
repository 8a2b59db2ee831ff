#!/usr/bin/env bash
# The audit writer's cost under load: the same Doctor tools/call driven with wrk directly at
# mock-mcp, through the gatekeeper with the audit trail in a file, and with it sent to
# /dev/null (formatting, hashing and queueing still happen; only the disk write is gone).
# Prints requests/s and latency for each. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --workspace --quiet
BIN=target/release
export JWT_SECRET=${JWT_SECRET:-bench-secret-0123456789abcdef0123456789}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
WORK=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

. scripts/ports.sh

MOCK=$(free_port)
"$BIN/mock-mcp" --listen "127.0.0.1:$MOCK" >/dev/null &
pids+=($!)
wait_port "$MOCK" || exit 1
export TOKEN=$("$BIN/mcp-gatekeeper" token --user-id 1 --role Doctor --ttl 3600)

run() {
  local label=$1 port=$2
  local out
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s benches/load/tools_call.lua "http://127.0.0.1:$port/mcp")
  printf '%-28s %10s req/s   p50 %8s   p99 %8s\n' "$label" \
    "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1=="50%" {print $2}')" \
    "$(echo "$out" | awk '$1=="99%" {print $2}')"
}

gatekeeper() {
  local audit=$1 port
  port=$(free_port)
  GATEKEEPER_LISTEN=127.0.0.1:$port GATEKEEPER_UPSTREAM=http://127.0.0.1:$MOCK \
    GATEKEEPER_METRICS_LISTEN=off GATEKEEPER_AUDIT_LOG=$audit RUST_LOG=warn \
    "$BIN/mcp-gatekeeper" serve -c conf/gatekeeper.yaml >/dev/null 2>"$WORK/gk.log" &
  pids+=($!)
  wait_port "$port" || exit 1
  echo "$port"
}

echo "machine: $(nproc) cores, $(uname -m); wrk -t1 -c$CONNECTIONS -d$DURATION (load generator, mock and gatekeeper share the cores)"
run "direct (mock-mcp)" "$MOCK"
GK=$(gatekeeper "$WORK/audit.log")
run "gatekeeper, audit to file" "$GK"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
echo "audit lines written: $(wc -l <"$WORK/audit.log")"
GK=$(gatekeeper /dev/null)
run "gatekeeper, audit to /dev/null" "$GK"
