#!/usr/bin/env bash
# The load harness behind `make bench`: the same MCP requests driven with wrk directly at
# mock-mcp, through nginx as a plain reverse proxy (the floor any proxy pays) and through the
# gatekeeper, in one run, on this machine. Writes benches/RESULTS.md.
#
# Scenarios: doctor (tools/call allowed, no redaction), researcher (allowed, Safe Harbor
# redaction), denied (403, never reaches the upstream), unauthenticated (401), sse (the answer
# as an SSE stream). Then the added latency at about half of peak load, and the gatekeeper's
# peak RSS (VmHWM) over the whole run.
#
# Knobs (environment): DURATION (10s), CONNECTIONS (32), WRK_THREADS (1), WORKERS (2: gatekeeper
# threads and nginx worker processes alike).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-1}
WORKERS=${WORKERS:-2}
OUT=${OUT:-benches/RESULTS.md}

need() {
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "$1 is missing: run  sudo apt-get install -y $2" >&2
    exit 1
  fi
}
need wrk wrk
need nginx nginx
scripts/ensure-deps.sh
cargo build --release --workspace --quiet
cargo build --release --example pingora_floor --quiet
BIN=$ROOT/target/release

WORK=$(mktemp -d)
mkdir -p "$WORK/audit" # not beside the config: the reload watcher would wake on every audit write
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

. scripts/ports.sh

export JWT_SECRET=${JWT_SECRET:-bench-secret-0123456789abcdef0123456789}

# The start_* functions set a variable instead of echoing: in a $(...) subshell the pid they
# record for cleanup would be lost, and the process would outlive the run.
start_mock() { # $1: variable to set to the port; $2: extra flag
  local port
  port=$(free_port)
  "$BIN/mock-mcp" --listen "127.0.0.1:$port" $2 >/dev/null 2>&1 &
  pids+=($!)
  wait_port "$port" || exit 1
  printf -v "$1" %s "$port"
}

GK_PID=
start_gatekeeper() { # $1: upstream port; sets GK_PORT and GK_PID
  GK_PORT=$(free_port)
  sed "s/^threads: .*/threads: $WORKERS/" conf/gatekeeper.yaml >"$WORK/gatekeeper-$1.yaml"
  GATEKEEPER_LISTEN=127.0.0.1:$GK_PORT GATEKEEPER_UPSTREAM=http://127.0.0.1:$1 \
    GATEKEEPER_POLICY=$ROOT/policy/hospital.yaml GATEKEEPER_METRICS_LISTEN=off \
    GATEKEEPER_AUDIT_LOG=$WORK/audit/audit-$1.log RUST_LOG=warn \
    "$BIN/mcp-gatekeeper" serve -c "$WORK/gatekeeper-$1.yaml" >/dev/null 2>"$WORK/gatekeeper-$1.err" &
  GK_PID=$!
  pids+=($GK_PID)
  wait_port "$GK_PORT" || exit 1
}

start_nginx() { # $1: upstream port; sets NGINX to its port
  local port
  port=$(free_port)
  mkdir -p "$WORK/nginx"
  cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes $WORKERS;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  upstream mcp { server 127.0.0.1:$1; keepalive 64; }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
  nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >/dev/null 2>&1 &
  NGINX_PID=$!
  pids+=($NGINX_PID)
  wait_port "$port" || exit 1
  NGINX=$port
}

token() { "$BIN/mcp-gatekeeper" token --user-id 1 --role "$1" --ttl 3600; }
call_body() { printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{"patient_id":"NUGWI"}}}' "$1"; }

# One curl first: the scenario must answer what it claims before it is measured.
expect_status() { # port token body want
  local got
  got=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$1/mcp" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    ${2:+-H "Authorization: Bearer $2"} --data "$3")
  [ "$got" = "$4" ] || { echo "expected $4 from port $1, got $got" >&2; exit 1; }
}

# wrk against a port; prints "rps p50 p99 p999 non2xx errors requests" (latencies in µs).
measure() { # port token body [connections]
  local line
  line=$(TOKEN=$2 BODY=$3 wrk -t"$WRK_THREADS" -c"${4:-$CONNECTIONS}" -d"$DURATION" \
    -s benches/load/mcp.lua "http://127.0.0.1:$1/mcp" | grep '^RESULT')
  python3 - "$line" <<'PY'
import sys
kv = dict(p.split("=") for p in sys.argv[1].split()[1:])
rps = int(kv["requests"]) / (int(kv["duration_us"]) / 1e6)
print(f'{rps:.0f} {kv["p50_us"]} {kv["p99_us"]} {kv["p999_us"]} {kv["non2xx"]} {kv["socket_errors"]} {kv["requests"]}')
PY
}

start_mock MOCK ""
start_mock MOCK_SSE --sse
start_nginx "$MOCK"
# A bare Pingora reverse proxy (examples/pingora_floor.rs): what Pingora itself costs here.
FLOOR=$(free_port)
"$ROOT/target/release/examples/pingora_floor" "127.0.0.1:$FLOOR" "127.0.0.1:$MOCK" "$WORKERS" >/dev/null 2>&1 &
FLOOR_PID=$!
pids+=($FLOOR_PID)
wait_port "$FLOOR" || exit 1
start_gatekeeper "$MOCK_SSE"; GK_SSE=$GK_PORT; GK_SSE_PID=$GK_PID
start_gatekeeper "$MOCK"; GK=$GK_PORT

DOCTOR=$(token Doctor)
RESEARCHER=$(token Researcher)
BILLING=$(token Billing)
PATIENT=$(call_body get_patient)
RECORDS=$(call_body get_medical_records)

expect_status "$MOCK" "$DOCTOR" "$PATIENT" 200
expect_status "$NGINX" "$DOCTOR" "$PATIENT" 200
expect_status "$GK" "$DOCTOR" "$PATIENT" 200
expect_status "$GK" "$RESEARCHER" "$RECORDS" 200
expect_status "$GK" "$BILLING" "$RECORDS" 403
expect_status "$GK" "" "$PATIENT" 401
expect_status "$GK_SSE" "$DOCTOR" "$PATIENT" 200

rows=()
row() { # label target "rps p50 p99 p999 non2xx errors" baseline-rps baseline-p50 baseline-p99
  local label=$1 target=$2
  read -r rps p50 p99 p999 non2xx errs _ <<<"$3"
  local ratio
  ratio=$(python3 -c "b=($4,$5,$6); r=($rps,$p50,$p99); print('%.2f | %.2f | %.2f' % (r[0]/b[0], r[1]/b[1], r[2]/b[2]))")
  rows+=("| $label | $target | $rps | $p50 | $p99 | $p999 | $ratio | $non2xx | $errs |")
  echo "$label / $target: $rps req/s, p50 ${p50}µs p99 ${p99}µs p99.9 ${p999}µs (non-2xx $non2xx, socket errors $errs)" >&2
}

echo "measuring: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION, $WORKERS workers each" >&2
D=$(measure "$MOCK" "$DOCTOR" "$PATIENT")
read -r d_rps d_p50 d_p99 _ <<<"$D"
# CPU (user + system) a proxy spent, in µs: throughput on shared cores hides how much of them
# each proxy took, CPU per request does not.
cpu_us() { # pids
  local ticks=0 p
  for p in "$@"; do ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo $((ticks * 1000000 / $(getconf CLK_TCK)))
}
per_request() { # cpu-before cpu-after "measure output"
  python3 -c "import sys; print(round(($2 - $1) / int(sys.argv[1].split()[6]), 1))" "$3"
}
NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
c0=$(cpu_us $NGINX_WORKERS)
N=$(measure "$NGINX" "$DOCTOR" "$PATIENT")
n_cpu=$(per_request "$c0" "$(cpu_us $NGINX_WORKERS)" "$N")
read -r n_rps n_p50 n_p99 _ <<<"$N"
c0=$(cpu_us "$FLOOR_PID")
P=$(measure "$FLOOR" "$DOCTOR" "$PATIENT")
p_cpu=$(per_request "$c0" "$(cpu_us "$FLOOR_PID")" "$P")
read -r p_rps p_p50 p_p99 _ <<<"$P"
c0=$(cpu_us "$GK_PID")
G=$(measure "$GK" "$DOCTOR" "$PATIENT")
g_cpu=$(per_request "$c0" "$(cpu_us "$GK_PID")" "$G")
read -r g_rps g_p50 g_p99 _ <<<"$G"
row doctor "mock-mcp directly" "$D" "$d_rps" "$d_p50" "$d_p99"
row doctor "nginx" "$N" "$d_rps" "$d_p50" "$d_p99"
row doctor "bare Pingora proxy (floor)" "$P" "$d_rps" "$d_p50" "$d_p99"
row doctor "gatekeeper" "$G" "$d_rps" "$d_p50" "$d_p99"

RD=$(measure "$MOCK" "$RESEARCHER" "$RECORDS")
read -r r_rps r_p50 r_p99 _ <<<"$RD"
row researcher "mock-mcp directly" "$RD" "$r_rps" "$r_p50" "$r_p99"
row researcher "gatekeeper (Safe Harbor redaction)" "$(measure "$GK" "$RESEARCHER" "$RECORDS")" "$r_rps" "$r_p50" "$r_p99"
row "denied (403)" "gatekeeper" "$(measure "$GK" "$BILLING" "$RECORDS")" "$d_rps" "$d_p50" "$d_p99"
row "unauthenticated (401)" "gatekeeper" "$(measure "$GK" "" "$PATIENT")" "$d_rps" "$d_p50" "$d_p99"
SD=$(measure "$MOCK_SSE" "$DOCTOR" "$PATIENT")
read -r s_rps s_p50 s_p99 _ <<<"$SD"
row sse "mock-mcp --sse directly" "$SD" "$s_rps" "$s_p50" "$s_p99"
row sse "gatekeeper" "$(measure "$GK_SSE" "$DOCTOR" "$PATIENT")" "$s_rps" "$s_p50" "$s_p99"

# Added latency at about half of the gatekeeper's peak: the most connections whose rate stays
# at or under 55 % of the peak measured above, then the same load directly.
half=""
for c in 1 2 4 8 16; do
  H=$(measure "$GK" "$DOCTOR" "$PATIENT" "$c")
  read -r h_rps _ <<<"$H"
  if python3 -c "import sys; sys.exit(0 if $h_rps <= 0.55 * $g_rps else 1)"; then
    half=$c; HALF_GK=$H
  else
    break
  fi
done
if [ -z "$half" ]; then half=1; HALF_GK=$(measure "$GK" "$DOCTOR" "$PATIENT" 1); fi
HALF_D=$(measure "$MOCK" "$DOCTOR" "$PATIENT" "$half")
HALF_P=$(measure "$FLOOR" "$DOCTOR" "$PATIENT" "$half")
read -r hg_rps hg_p50 hg_p99 _ <<<"$HALF_GK"
read -r hd_rps hd_p50 hd_p99 _ <<<"$HALF_D"
read -r hp_rps hp_p50 hp_p99 _ <<<"$HALF_P"

RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$GK_PID/status")
RSS_SSE_KB=$(awk '/VmHWM/ {print $2}' "/proc/$GK_SSE_PID/status")
AUDIT_LINES=$(wc -l <"$WORK/audit/audit-$MOCK.log")

{
  echo "# Load benchmark results"
  echo
  echo "Written by \`make bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%dT%H:%MZ)."
  echo
  echo "## Machine"
  echo
  echo "- $(nproc) cores: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "- $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory, Linux $(uname -r)"
  echo "- $(rustc --version), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d' ' -f3)"
  echo "- wrk, mock-mcp, nginx and the gatekeeper all share these cores: ratios, not absolute numbers, are the result"
  echo
  echo "## Commands"
  echo
  echo "- load: \`wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION -s benches/load/mcp.lua http://127.0.0.1:PORT/mcp\` (TOKEN, BODY in the environment)"
  echo "- gatekeeper: \`mcp-gatekeeper serve -c conf/gatekeeper.yaml\` (release build) with \`threads: $WORKERS\`, metrics off, audit trail to a file outside the watched config directory"
  echo "- bare Pingora: \`target/release/examples/pingora_floor 127.0.0.1:PORT 127.0.0.1:UPSTREAM $WORKERS\` (examples/pingora_floor.rs: the gatekeeper's server settings, no filters)"
  echo "- nginx: \`worker_processes $WORKERS\`, \`proxy_pass\` to an upstream block with \`keepalive 64\`, HTTP/1.1, access log off"
  echo "- body: \`$PATIENT\` (researcher, denied: \`get_medical_records\`)"
  echo
  echo "## Results"
  echo
  echo "Latencies in µs. Ratios are to the scenario's direct run in this same run (for denied and"
  echo "unauthenticated: to the direct Doctor run)."
  echo
  echo "| scenario | target | req/s | p50 | p99 | p99.9 | req/s ratio | p50 ratio | p99 ratio | non-2xx | socket errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Doctor through the gatekeeper against nginx's plain proxying: throughput" \
    "$(python3 -c "print('%.2f' % ($g_rps/$n_rps))")×, p99 $(python3 -c "print('%.2f' % ($g_p99/$n_p99))")×."
  echo
  echo "A bare Pingora proxy against nginx: throughput" \
    "$(python3 -c "print('%.2f' % ($p_rps/$n_rps))")×, p99 $(python3 -c "print('%.2f' % ($p_p99/$n_p99))")×;" \
    "the gatekeeper against the bare Pingora proxy: throughput $(python3 -c "print('%.2f' % ($g_rps/$p_rps))")×."
  echo
  echo "CPU per Doctor request (user + system, from /proc): nginx $n_cpu µs, bare Pingora $p_cpu µs," \
    "gatekeeper $g_cpu µs ($(python3 -c "print('%.1f' % ($g_cpu/$n_cpu))")× nginx," \
    "$(python3 -c "print('%.1f' % ($g_cpu/$p_cpu))")× bare Pingora)."
  echo
  echo "## Added latency at about half of peak"
  echo
  echo "wrk with $half connection(s): the gatekeeper served $hg_rps req/s (its peak above: $g_rps)."
  echo
  echo "| | p50 | p99 |"
  echo "|---|---|---|"
  echo "| mock-mcp directly | $hd_p50 µs | $hd_p99 µs |"
  echo "| through a bare Pingora proxy | $hp_p50 µs | $hp_p99 µs |"
  echo "| through the gatekeeper | $hg_p50 µs | $hg_p99 µs |"
  echo "| added by bare Pingora | $((hp_p50 - hd_p50)) µs | $((hp_p99 - hd_p99)) µs |"
  echo "| added by the gatekeeper | $((hg_p50 - hd_p50)) µs | $((hg_p99 - hd_p99)) µs |"
  echo
  echo "## Memory"
  echo
  echo "Gatekeeper peak RSS (VmHWM) over the whole run: $((RSS_KB / 1024)) MiB (JSON upstream)," \
    "$((RSS_SSE_KB / 1024)) MiB (SSE upstream). Audit lines written: $AUDIT_LINES."
  echo
  echo "## Reproduce"
  echo
  echo "\`make bench\` (DURATION, CONNECTIONS, WRK_THREADS, WORKERS in the environment)."
} >"$OUT"
echo "wrote $OUT" >&2
cat "$OUT"
