#!/usr/bin/env bash
# `make bench-instructions`: user-space instructions per request, counted by valgrind's
# callgrind — the same count whatever else the host is doing, so changes smaller than the
# load benchmark's run-to-run noise can be measured. Writes benches/INSTRUCTIONS.md.
#
# Each scenario is one process under callgrind served twice over one keep-alive connection:
# WARM requests, then WARM+REQS in a second process; the difference over REQS requests is the
# per-request cost (start-up, policy compilation and the detectors' first lazy-DFA states
# cancel out). Kernel work (sockets, scheduling) is not counted: `make bench` measures it.
#
#   REQS=500 WARM=50 scripts/bench-instructions.sh      (SKIP_BUILD=1: use the release build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
REQS=${REQS:-500}
WARM=${WARM:-50}
OUT=${OUT:-benches/INSTRUCTIONS.md}
[[ $REQS =~ ^[1-9][0-9]*$ && $WARM =~ ^[0-9]+$ ]] || { echo "REQS and WARM must be integers" >&2; exit 1; }

if ! command -v valgrind >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
  else
    echo "valgrind is missing: run  sudo apt-get install -y valgrind" >&2
    exit 1
  fi
fi
if [ "${SKIP_BUILD:-}" != 1 ]; then
  scripts/ensure-deps.sh
  cargo build --release --workspace --quiet
  cargo build --release --example pingora_floor --quiet
fi
BIN=$ROOT/target/release

WORK=$(mktemp -d)
. scripts/processes.sh
. scripts/ports.sh
export JWT_SECRET=${JWT_SECRET:-bench-secret-0123456789abcdef0123456789}

UPSTREAM=$(free_port)
"$BIN/mock-mcp" --listen "127.0.0.1:$UPSTREAM" >/dev/null 2>&1 &
pids+=($!)
wait_port "$UPSTREAM"

call() { # tool
  printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{"patient_id":"NUGWI"}}}' "$1"
}

# Sends $3 requests one after another on one connection, each answered before the next; fails
# unless every answer is a 200.
drive() { # port token count body
  python3 - "$@" <<'PY'
import socket, sys
port, token, count, body = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
head = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\nContent-Length: {len(body)}\r\n")
if token:
    head += f"Authorization: Bearer {token}\r\n"
request = head.encode() + b"\r\n" + body
sock = socket.create_connection(("127.0.0.1", port))
pending = b""
def answer():
    global pending
    while b"\r\n\r\n" not in pending:
        pending += sock.recv(65536)
    header, _, pending = pending.partition(b"\r\n\r\n")
    lines = header.split(b"\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (l.partition(b":") for l in lines[1:])}
    if b"content-length" in fields:
        size = int(fields[b"content-length"])
        while len(pending) < size:
            pending += sock.recv(65536)
        pending = pending[size:]
    else:  # chunked
        while True:
            while b"\r\n" not in pending:
                pending += sock.recv(65536)
            size_line, _, pending = pending.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(pending) < size + 2:
                pending += sock.recv(65536)
            pending = pending[size + 2:]
            if size == 0:
                break
    return lines[0]
for _ in range(count):
    sock.sendall(request)
    status = answer()
    if b" 200 " not in status + b" ":
        sys.exit(f"answer {status!r}")
PY
}

# Total instructions of one process under callgrind (the floor or the gatekeeper) that served
# $count requests, then stopped.
count_run() { # kind count token body
  local kind=$1 count=$2 tok=$3 body=$4 port pid
  port=$(free_port)
  local out=$WORK/$kind-$count.out cmd
  if [ "$kind" = floor ]; then
    cmd=("$BIN/examples/pingora_floor" "127.0.0.1:$port" "127.0.0.1:$UPSTREAM" 2)
  else
    cmd=("$BIN/mcp-gatekeeper" serve -c "$WORK/gatekeeper.yaml")
  fi
  GATEKEEPER_LISTEN="127.0.0.1:$port" GATEKEEPER_UPSTREAM="http://127.0.0.1:$UPSTREAM" \
    GATEKEEPER_POLICY="${POLICY:-$ROOT/policy/hospital.yaml}" GATEKEEPER_METRICS_LISTEN=off \
    GATEKEEPER_AUDIT_LOG="$WORK/audit-$port.log" RUST_LOG=warn \
    valgrind --tool=callgrind --callgrind-out-file="$out" "${cmd[@]}" >/dev/null 2>"$out.err" &
  pid=$!
  pids+=($pid)
  wait_port "$port" >/dev/null || { tail -5 "$out.err" >&2; exit 1; }
  drive "$port" "$tok" "$count" "$body" || { echo "$kind: the requests failed" >&2; exit 1; }
  kill -INT "$pid"
  wait "$pid" 2>/dev/null || true
  forget "$pid"
  # The total, and what SHA-256 took of it (in software under valgrind: see the notes).
  printf '%s %s\n' "$(awk '/^summary:/ {print $2}' "$out")" \
    "$(callgrind_annotate --auto=no --threshold=100 "$out" 2>/dev/null |
      awk '/sha2::sha256::/ {gsub(",", "", $1); s += $1} END {print s + 0}')"
}

# Instructions per request for one scenario: prints "name<TAB>per-request<TAB>of it SHA-256".
scenario() { # name kind token body
  local name=$1 kind=$2 tok=$3 body=$4 a a_sha b b_sha
  read -r a a_sha <<<"$(count_run "$kind" "$WARM" "$tok" "$body")"
  read -r b b_sha <<<"$(count_run "$kind" "$((WARM + REQS))" "$tok" "$body")"
  # count_run fails in a subshell: a missing count must stop the run, not read as zero.
  [[ ${a:-} =~ ^[0-9]+$ && ${b:-} =~ ^[0-9]+$ ]] || { echo "$name: no instruction count" >&2; exit 1; }
  printf '%s\t%s\t%s\n' "$name" "$(( (b - a) / REQS ))" "$(( (b_sha - a_sha) / REQS ))"
}

sed -e "s/^threads: .*/threads: 2/" conf/gatekeeper.yaml >"$WORK/gatekeeper.yaml"
# The Researcher with a profile whose one field rule matches no key: the answer is still
# parsed, walked and written, but nothing is searched or replaced — the rewrite's own cost.
sed -e 's/^  profiles:$/  profiles:\n    walk_only:\n      fields: [{ key: no_such_key_anywhere, action: remove }]/' \
  -e 's/^    Researcher: safe_harbor/    Researcher: walk_only/' policy/hospital.yaml >"$WORK/walk-only.yaml"
grep -q 'Researcher: walk_only' "$WORK/walk-only.yaml" || { echo "policy/hospital.yaml changed: walk_only not set" >&2; exit 1; }
DOCTOR=$("$BIN/mcp-gatekeeper" token --user-id 1 --role Doctor --ttl 86400)
RESEARCHER=$("$BIN/mcp-gatekeeper" token --user-id 1 --role Researcher --ttl 86400)

echo "counting: $REQS requests per scenario after $WARM, under callgrind (a few minutes)" >&2
{
  scenario floor floor "" "$(call get_patient)"
  scenario doctor gatekeeper "$DOCTOR" "$(call get_patient)"
  scenario doctor_records gatekeeper "$DOCTOR" "$(call get_medical_records)"
  scenario researcher gatekeeper "$RESEARCHER" "$(call get_medical_records)"
  POLICY=$WORK/walk-only.yaml scenario walk_only gatekeeper "$RESEARCHER" "$(call get_medical_records)"
} >"$WORK/counts.tsv"

v() { awk -F'\t' -v k="$1" '$1 == k {print $2}' "$WORK/counts.tsv"; }
sha() { awk -F'\t' -v k="$1" '$1 == k {print $3}' "$WORK/counts.tsv"; }
# Without SHA-256: what the native count is closest to (natively it is a few hundred).
bare() { echo $(( $(v "$1") - $(sha "$1") )); }
row() { # label name
  local of_doctor=
  [ "$2" = floor ] || of_doctor=$(ratio "$(bare "$2")" "$(bare doctor)")
  echo "| $1 | $(v "$2") | $(sha "$2") | $(bare "$2") | $(ratio "$(bare "$2")" "$(bare floor)") | $of_doctor |"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
{
  echo "# Instructions per request"
  echo
  echo "Written by \`make bench-instructions\` (scripts/bench-instructions.sh) on $(date -u +%Y-%m-%dT%H:%MZ)."
  echo
  echo "User-space instructions per request, counted by \`valgrind --tool=callgrind\` ($(valgrind --version)):"
  echo "the same count on a busy host as on an idle one. $REQS requests after $WARM, one keep-alive"
  echo "connection, each answered before the next; every process under callgrind in turn, mock-mcp"
  echo "natively. Kernel work is not counted. valgrind's CPU has no SHA extensions, so SHA-256 runs"
  echo "in software here and is shown apart (natively the sha2 crate uses the SHA instructions)."
  echo
  echo "| scenario | instructions / request | of them SHA-256 | without SHA-256 | / floor | / Doctor |"
  echo "|---|---|---|---|---|---|"
  row "bare Pingora proxy (floor), \`get_patient\`" floor
  row "gatekeeper, Doctor, \`get_patient\`" doctor
  row "gatekeeper, Doctor, \`get_medical_records\` (2.4 KB)" doctor_records
  row "gatekeeper, Researcher (Safe Harbor), \`get_medical_records\`" researcher
  row "gatekeeper, Researcher with a profile that matches nothing (parse, walk, write only)" walk_only
  echo
  echo "Ratios are of the counts without SHA-256: the audit chain's digest of each record and the"
  echo "token cache's key, which natively (SHA-NI) cost well under a microsecond together."
} >"$OUT"
cat "$OUT"
