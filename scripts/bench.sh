#!/usr/bin/env bash
# The load harness behind `make bench`: the same MCP requests driven with wrk directly at
# mock-mcp, through nginx as a plain reverse proxy (the floor any proxy pays), through a bare
# Pingora proxy (examples/pingora_floor.rs: the floor Pingora itself pays) and through the
# gatekeeper, on this machine. Writes benches/RESULTS.md.
#
# Scenarios:
#   core         doctor (tools/call allowed, no redaction), researcher (allowed, Safe Harbor
#                redaction), denied (403, never reaches the upstream), unauthenticated (401),
#                sse (the answer as an SSE stream; direct, bare Pingora and gatekeeper)
#   pairs        the headline ratios from short measurements taken in turn (floor, Doctor,
#                Researcher, the Doctor's same call), PAIR_ROUNDS (5) rounds of PAIR_DURATION (2s)
#   rs256        Doctor with an RS256 token from a jwt.providers entry and jwt.cache_entries: 0
#                (a signature verified on every request), against the HS256 cached Doctor
#   rate limits  Doctor spending from a budget it never exhausts, buckets in memory and in a
#                redis-server started for the run: what the check costs per request
#   tls          gatekeeper and nginx terminating TLS (one CA and certificate made with openssl
#                for the run): keep-alive req/s, and handshakes/s (Connection: close)
#   audit stall  audit.on_failure: reject with the trail written to a FIFO nobody reads: once
#                the pipe and the queue are full, requests must get 503 promptly while /healthz
#                on the metrics listener keeps answering
#   half peak    the latency added at about half of the gatekeeper's peak
# plus the gatekeeper's peak RSS (VmHWM) over the whole run.
#
# The measurement set runs RUNS times against the same processes; every ratio is computed
# within one run, and RESULTS.md shows the median over runs of every cell.
#
# Knobs (environment): DURATION (10s), CONNECTIONS (32), WRK_THREADS (1), WORKERS (2: gatekeeper
# threads and nginx worker processes alike), RUNS (3), SKIP_BUILD (unset: SKIP_BUILD=1 uses the
# release binaries already in target/release), OUT (benches/RESULTS.md), PAIR_ROUNDS, PAIR_DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-1}
WORKERS=${WORKERS:-2}
RUNS=${RUNS:-3}
OUT=${OUT:-benches/RESULTS.md}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 1; }

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
need redis-server redis-server
need openssl openssl
need curl curl
if [ "${SKIP_BUILD:-}" != 1 ]; then
  scripts/ensure-deps.sh
  cargo build --release --workspace --quiet
  cargo build --release --example pingora_floor --quiet
fi
BIN=$ROOT/target/release
for b in "$BIN/mcp-gatekeeper" "$BIN/mock-mcp" "$BIN/examples/pingora_floor"; do
  [ -x "$b" ] || { echo "$b is missing: run without SKIP_BUILD=1" >&2; exit 1; }
done

WORK=$(mktemp -d)
# Audit trails not beside the configs: the reload watcher would wake on every audit write.
mkdir -p "$WORK/audit" "$WORK/stall" "$WORK/tls" "$WORK/redis"
. scripts/processes.sh
. scripts/ports.sh

export JWT_SECRET=${JWT_SECRET:-bench-secret-0123456789abcdef0123456789}

# ---------------------------------------------------------------------------------------------
# Processes. The start_* functions set variables instead of echoing: in a $(...) subshell the
# pid they record for cleanup would be lost, and the process would outlive the run.

start_mock() { # $1: variable to set to the port; $2: extra flag
  local port
  port=$(free_port)
  "$BIN/mock-mcp" --listen "127.0.0.1:$port" $2 >/dev/null 2>&1 &
  pids+=($!)
  wait_port "$port" || exit 1
  printf -v "$1" %s "$port"
}

start_floor() { # $1: variable to set to the port; $2: upstream port; sets FLOOR_PID
  local port
  port=$(free_port)
  "$BIN/examples/pingora_floor" "127.0.0.1:$port" "127.0.0.1:$2" "$WORKERS" >/dev/null 2>&1 &
  FLOOR_PID=$!
  pids+=($FLOOR_PID)
  wait_port "$port" || exit 1
  printf -v "$1" %s "$port"
}

# A gatekeeper on conf/gatekeeper.yaml with `threads: $WORKERS`, metrics off, its audit trail in
# $WORK/audit. Variations come in the environment of the call:
#   GK_SED      a sed script applied to the shipped config (keys that already exist there:
#               appending them again would be a duplicate key, which is a load error)
#   GK_EXTRA    YAML appended (top-level keys the shipped config does not have: tls, state)
#   GK_POLICY   the policy file (default policy/hospital.yaml)
#   GK_METRICS  the metrics listener (default off)
#   GK_AUDIT    the audit trail (default $WORK/audit/NAME.log)
start_gatekeeper() { # $1: name; $2: upstream port; sets GK_PORT and GK_PID
  local cfg=$WORK/gatekeeper-$1.yaml
  GK_PORT=$(free_port)
  { sed -e "s/^threads: .*/threads: $WORKERS/" -e "${GK_SED:-}" conf/gatekeeper.yaml
    [ -z "${GK_EXTRA:-}" ] || printf '\n%s\n' "$GK_EXTRA"; } >"$cfg"
  GATEKEEPER_LISTEN=127.0.0.1:$GK_PORT GATEKEEPER_UPSTREAM=http://127.0.0.1:$2 \
    GATEKEEPER_POLICY=${GK_POLICY:-$ROOT/policy/hospital.yaml} \
    GATEKEEPER_METRICS_LISTEN=${GK_METRICS:-off} \
    GATEKEEPER_AUDIT_LOG=${GK_AUDIT:-$WORK/audit/$1.log} RUST_LOG=warn \
    "$BIN/mcp-gatekeeper" serve -c "$cfg" >/dev/null 2>"$WORK/gatekeeper-$1.err" &
  GK_PID=$!
  pids+=($GK_PID)
  wait_port "$GK_PORT" || { tail -5 "$WORK/gatekeeper-$1.err" >&2; exit 1; }
}

# Fails when a GK_SED edit did not apply (the shipped config changed under it): the scenario
# would silently measure the defaults.
config_has() { # name fixed-string
  grep -qF -- "$2" "$WORK/gatekeeper-$1.yaml" || { echo "gatekeeper-$1.yaml lacks: $2" >&2; exit 1; }
}

start_nginx() { # $1: name; $2: upstream port; $3 $4: certificate and key (TLS); sets NGINX_PORT, NGINX_PID
  local port dir=$WORK/nginx-$1 listen
  port=$(free_port)
  mkdir -p "$dir"
  listen="listen 127.0.0.1:$port;"
  if [ -n "${3:-}" ]; then
    listen="listen 127.0.0.1:$port ssl;
    ssl_certificate $3;
    ssl_certificate_key $4;
    ssl_protocols TLSv1.2 TLSv1.3;"
  fi
  # keepalive_requests: nginx closes a client connection after 1000 requests by default; the
  # gatekeeper does not, and over TLS each reconnection would be a handshake charged to nginx.
  cat >"$dir/nginx.conf" <<EOF
daemon off;
worker_processes $WORKERS;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  upstream mcp { server 127.0.0.1:$2; keepalive 64; }
  server {
    $listen
    location / {
      proxy_pass http://mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
  nginx -c "$dir/nginx.conf" -p "$dir" >/dev/null 2>&1 &
  NGINX_PID=$!
  pids+=($NGINX_PID)
  wait_port "$port" || { cat "$dir/error.log" >&2; exit 1; }
  NGINX_PORT=$port
}

# nginx's worker pids, once all $WORKERS have forked (the master listens before they exist).
nginx_workers() { # master pid
  local w _
  for _ in $(seq 1 100); do
    w=$(pgrep -P "$1" | tr '\n' ' ')
    [ "$(wc -w <<<"$w")" -ge "$WORKERS" ] && break
    sleep 0.05
  done
  echo "$w"
}

start_redis() { # sets REDIS_PORT
  REDIS_PORT=$(free_port)
  # No persistence, no files: the buckets are all it holds, and only for this run.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$WORK/redis" --logfile "$WORK/redis/redis.log" >/dev/null 2>&1 &
  pids+=($!)
  wait_port "$REDIS_PORT" || exit 1
}

# Keys in the redis-server: proof that the Redis row's buckets really went there.
redis_dbsize() {
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT"
  printf 'DBSIZE\r\n' >&3
  read -r reply <&3
  exec 3<&-
  reply=${reply#:}
  echo "${reply%$'\r'}"
}

# A FIFO nobody reads, for the audit stall: a process holds it open read-write (which does not
# block), so there is always a reader and the gatekeeper's open(O_APPEND) at start-up does not
# block either; it just never drains, and the writer blocks once the pipe buffer (64 KiB) is full.
start_fifo_holder() { # $1: FIFO path; sets HOLDER_PID
  mkfifo "$1"
  sleep 100000 <>"$1" &
  HOLDER_PID=$!
  pids+=($HOLDER_PID)
  local _
  for _ in $(seq 1 200); do
    [ "$(readlink "/proc/$HOLDER_PID/fd/0" 2>/dev/null)" = "$1" ] && return 0
    sleep 0.01
  done
  echo "the FIFO holder did not open $1" >&2
  exit 1
}

# A CA and a server certificate for 127.0.0.1 (P-256, two days), made for this run only.
make_certificates() {
  local d=$WORK/tls
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=bench CA" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -out "$d/server.crt" \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2>/dev/null
  TLS_CERT=$d/server.crt
  TLS_KEY=$d/server.key
}

# ---------------------------------------------------------------------------------------------
# Tokens and requests.

token() { "$BIN/mcp-gatekeeper" token --user-id 1 --role "$1" --ttl 86400; }
b64url() { openssl base64 -A | tr '/+' '_-' | tr -d '='; }
# An RS256 token from the bench-idp provider, signed with the test key (tests/keys/rsa.key).
rs256_token() {
  local header claims sig
  header=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
  claims=$(printf '{"user_id":"1","role":"Doctor","iss":"bench-idp","exp":%d}' \
    $(($(date +%s) + 86400)) | b64url)
  sig=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign tests/keys/rsa.key -binary | b64url)
  echo "$header.$claims.$sig"
}
call_body() { printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{"patient_id":"NUGWI"}}}' "$1"; }
url_of() { case $1 in *://*) echo "$1" ;; *) echo "http://127.0.0.1:$1/mcp" ;; esac; }

# The status one request gets (curl does not verify the run's certificates: -k).
status_of() { # target token body
  curl -sk -o /dev/null -w '%{http_code}' -X POST "$(url_of "$1")" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    ${2:+-H "Authorization: Bearer $2"} --data "$3"
}
# One curl first: the scenario must answer what it claims before it is measured.
expect_status() { # target token body want
  local got
  got=$(status_of "$1" "$2" "$3")
  [ "$got" = "$4" ] || { echo "expected $4 from $(url_of "$1"), got $got" >&2; exit 1; }
}

# ---------------------------------------------------------------------------------------------
# Measuring and recording.

# wrk against a target; prints "rps p50 p99 p999 non2xx errors requests" (latencies in µs).
measure() { # target token body connections [extra wrk args...]
  local target=$1 tok=$2 body=$3 conns=$4 line
  shift 4
  line=$(TOKEN=$tok BODY=$body wrk -t"$WRK_THREADS" -c"$conns" -d"$DURATION" "$@" \
    -s benches/load/mcp.lua "$(url_of "$target")" | grep '^RESULT')
  python3 - "$line" <<'PY'
import sys
kv = dict(p.split("=") for p in sys.argv[1].split()[1:])
rps = int(kv["requests"]) / (int(kv["duration_us"]) / 1e6)
print(f'{rps:.0f} {kv["p50_us"]} {kv["p99_us"]} {kv["p999_us"]} {kv["non2xx"]} {kv["socket_errors"]} {kv["requests"]}')
PY
}

# CPU (user + system) processes spent, in µs: throughput on shared cores hides how much of them
# each proxy took, CPU per request does not.
cpu_us() { # pids
  local ticks=0 p
  for p in "$@"; do ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo $((ticks * 1000000 / $(getconf CLK_TCK)))
}

calc() { awk "BEGIN { printf \"%.6f\", $* }"; }

# Every number of run $RUN goes to R (this run, for ratios computed within it) and to
# $WORK/runs.tsv (all runs, for the medians in the report).
declare -A R
record() { # key value
  R[$1]=$2
  printf '%s\t%s\t%s\n' "$RUN" "$1" "$2" >>"$WORK/runs.tsv"
}

record_measure() { # key "measure output"
  local rps p50 p99 p999 non2xx errs reqs
  read -r rps p50 p99 p999 non2xx errs reqs <<<"$2"
  record "$1.rps" "$rps"; record "$1.p50" "$p50"; record "$1.p99" "$p99"; record "$1.p999" "$p999"
  record "$1.non2xx" "$non2xx"; record "$1.errors" "$errs"; record "$1.requests" "$reqs"
}

# measure + record; with CPU="pids" in the call's environment, also the CPU µs per request.
bench() { # key target token body [connections [extra wrk args...]]
  local key=$1 target=$2 tok=$3 body=$4 conns=${5:-$CONNECTIONS} c0 out
  shift 4; [ $# -gt 0 ] && shift
  [ -z "${CPU:-}" ] || c0=$(cpu_us $CPU)
  out=$(measure "$target" "$tok" "$body" "$conns" "$@")
  record_measure "$key" "$out"
  [ -z "${CPU:-}" ] || record "$key.cpu" "$(calc "($(cpu_us $CPU) - $c0) / ${R[$key.requests]}")"
  echo "  run $RUN $key: ${R[$key.rps]} req/s, p50 ${R[$key.p50]}µs p99 ${R[$key.p99]}µs" \
    "p99.9 ${R[$key.p999]}µs (non-2xx ${R[$key.non2xx]}, socket errors ${R[$key.errors]})" \
    "${CPU:+cpu $(printf '%.1f' "${R[$key.cpu]}")µs/req}" >&2
}

# The table's ratio columns: a row against its baseline, within this run.
ratios() { # key base
  local f
  for f in rps p50 p99 p999; do record "$1.r_$f" "$(calc "${R[$1.$f]} / ${R[$2.$f]}")"; done
}

# ---------------------------------------------------------------------------------------------
# Scenarios: one function each, run once per run.

scenario_core() {
  bench doctor.direct "$MOCK" "$DOCTOR" "$PATIENT"
  CPU="$NGINX_WORKERS" bench doctor.nginx "$NGINX" "$DOCTOR" "$PATIENT"
  CPU="$FLOOR_JSON_PID" bench doctor.floor "$FLOOR" "$DOCTOR" "$PATIENT"
  CPU="$GK_PID_MAIN" bench doctor.gk "$GK" "$DOCTOR" "$PATIENT"
  bench researcher.direct "$MOCK" "$RESEARCHER" "$RECORDS"
  CPU="$GK_PID_MAIN" bench researcher.gk "$GK" "$RESEARCHER" "$RECORDS"
  # The Researcher's own call as a Doctor (nothing redacted): what redaction alone costs.
  CPU="$GK_PID_MAIN" bench records.gk "$GK" "$DOCTOR" "$RECORDS"
  bench denied.gk "$GK" "$BILLING" "$RECORDS"
  bench unauth.gk "$GK" "" "$PATIENT"
  bench sse.direct "$MOCK_SSE" "$DOCTOR" "$PATIENT"
  bench sse.floor "$FLOOR_SSE" "$DOCTOR" "$PATIENT"
  bench sse.gk "$GK_SSE" "$DOCTOR" "$PATIENT"

  local k
  for k in direct nginx floor gk; do ratios "doctor.$k" doctor.direct; done
  ratios researcher.direct researcher.direct; ratios researcher.gk researcher.direct
  ratios records.gk researcher.direct
  ratios denied.gk doctor.direct; ratios unauth.gk doctor.direct
  for k in direct floor gk; do ratios "sse.$k" sse.direct; done

  record cmp.gk_nginx.rps "$(calc "${R[doctor.gk.rps]} / ${R[doctor.nginx.rps]}")"
  record cmp.gk_nginx.p99 "$(calc "${R[doctor.gk.p99]} / ${R[doctor.nginx.p99]}")"
  record cmp.floor_nginx.rps "$(calc "${R[doctor.floor.rps]} / ${R[doctor.nginx.rps]}")"
  record cmp.floor_nginx.p99 "$(calc "${R[doctor.floor.p99]} / ${R[doctor.nginx.p99]}")"
  record cmp.gk_floor.rps "$(calc "${R[doctor.gk.rps]} / ${R[doctor.floor.rps]}")"
  record cmp.gk_nginx.cpu "$(calc "${R[doctor.gk.cpu]} / ${R[doctor.nginx.cpu]}")"
  record cmp.gk_floor.cpu "$(calc "${R[doctor.gk.cpu]} / ${R[doctor.floor.cpu]}")"
  record cmp.researcher_doctor.rps "$(calc "${R[researcher.gk.rps]} / ${R[doctor.gk.rps]}")"
  record cmp.researcher_records.rps "$(calc "${R[researcher.gk.rps]} / ${R[records.gk.rps]}")"
  record cmp.researcher_records.cpu "$(calc "${R[researcher.gk.cpu]} - ${R[records.gk.cpu]}")"
  # The tail against what Pingora alone pays. A denied call never reaches the upstream, so its
  # floor is the floor's Doctor run (the bare proxy has no way to deny).
  record cmp.p999_floor.doctor "$(calc "${R[doctor.gk.p999]} / ${R[doctor.floor.p999]}")"
  record cmp.p999_floor.denied "$(calc "${R[denied.gk.p999]} / ${R[doctor.floor.p999]}")"
  record cmp.p999_floor.sse "$(calc "${R[sse.gk.p999]} / ${R[sse.floor.p999]}")"
}

# The headline ratios again, from short measurements taken in turn. On shared cores the
# weather changes within seconds: rows measured half a minute apart (the 10 s rows above) can
# differ by 20 % for the same work. Each round measures the floor, the Doctor, the Researcher and
# the Doctor's same call back to back; a run's ratio is the median over its rounds.
PAIR_ROUNDS=${PAIR_ROUNDS:-5}
PAIR_DURATION=${PAIR_DURATION:-2s}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
scenario_pairs() {
  local i cpu=() rps=() rd=() rs=()
  for i in $(seq 1 "$PAIR_ROUNDS"); do
    DURATION=$PAIR_DURATION CPU="$FLOOR_JSON_PID" bench pair.floor "$FLOOR" "$DOCTOR" "$PATIENT"
    DURATION=$PAIR_DURATION CPU="$GK_PID_MAIN" bench pair.doctor "$GK" "$DOCTOR" "$PATIENT"
    DURATION=$PAIR_DURATION bench pair.researcher "$GK" "$RESEARCHER" "$RECORDS"
    DURATION=$PAIR_DURATION bench pair.records "$GK" "$DOCTOR" "$RECORDS"
    cpu+=("$(calc "${R[pair.doctor.cpu]} / ${R[pair.floor.cpu]}")")
    rps+=("$(calc "${R[pair.doctor.rps]} / ${R[pair.floor.rps]}")")
    rd+=("$(calc "${R[pair.researcher.rps]} / ${R[pair.doctor.rps]}")")
    rs+=("$(calc "${R[pair.researcher.rps]} / ${R[pair.records.rps]}")")
  done
  record cmp.pair.cpu "$(median "${cpu[@]}")"
  record cmp.pair.rps "$(median "${rps[@]}")"
  record cmp.pair.researcher_doctor "$(median "${rd[@]}")"
  record cmp.pair.researcher_records "$(median "${rs[@]}")"
  echo "  run $RUN pairs ($PAIR_ROUNDS rounds of $PAIR_DURATION): CPU ${R[cmp.pair.cpu]}, req/s ${R[cmp.pair.rps]}," \
    "Researcher/Doctor ${R[cmp.pair.researcher_doctor]}, same call ${R[cmp.pair.researcher_records]}" >&2
}

# Added latency at about half of the gatekeeper's peak: the most connections whose rate stays
# at or under 55 % of this run's peak, then the same load directly and through bare Pingora.
scenario_half_peak() {
  local half="" c out rps chosen=""
  for c in 1 2 4 8 16; do
    out=$(measure "$GK" "$DOCTOR" "$PATIENT" "$c")
    read -r rps _ <<<"$out"
    if awk "BEGIN { exit !($rps <= 0.55 * ${R[doctor.gk.rps]}) }"; then
      half=$c; chosen=$out
    else
      break
    fi
  done
  if [ -z "$half" ]; then half=1; chosen=$(measure "$GK" "$DOCTOR" "$PATIENT" 1); fi
  record half.conns "$half"
  record_measure half.gk "$chosen"
  bench half.direct "$MOCK" "$DOCTOR" "$PATIENT" "$half"
  bench half.floor "$FLOOR" "$DOCTOR" "$PATIENT" "$half"
  local f
  for f in p50 p99; do
    record "half.added_floor.$f" $((${R[half.floor.$f]} - ${R[half.direct.$f]}))
    record "half.added_gk.$f" $((${R[half.gk.$f]} - ${R[half.direct.$f]}))
  done
}

# RS256 through a jwt.providers entry with the token cache off: the signature is verified on
# every request, the worst case of an identity provider's tokens.
scenario_rs256() {
  CPU="$GK_RS256_PID" bench rs256.gk "$GK_RS256" "$RS256" "$PATIENT"
  record cmp.rs256_hs256.rps "$(calc "${R[rs256.gk.rps]} / ${R[doctor.gk.rps]}")"
  record cmp.rs256_hs256.cpu "$(calc "${R[rs256.gk.cpu]} / ${R[doctor.gk.cpu]}")"
}

# A rate limit every Doctor call spends from and never exhausts, buckets in memory and in
# Redis: what the check adds, as CPU per request over the no-limit Doctor of this run. (The
# Redis round trip's wait shows in the latency, not in the gatekeeper's CPU.)
scenario_rate_limits() {
  local k
  CPU="$GK_RL_MEM_PID" bench rl_mem.gk "$GK_RL_MEM" "$DOCTOR" "$PATIENT"
  CPU="$GK_RL_REDIS_PID" bench rl_redis.gk "$GK_RL_REDIS" "$DOCTOR" "$PATIENT"
  record rl_redis.keys "$(redis_dbsize)"
  for k in rl_mem rl_redis; do
    # A refused call would make the row measure 429s, not the check.
    [ "${R[$k.gk.non2xx]}" = 0 ] ||
      echo "  WARNING: the never-exhausted rate limit refused ${R[$k.gk.non2xx]} calls ($k)" >&2
    record "$k.added_cpu" "$(calc "${R[$k.gk.cpu]} - ${R[doctor.gk.cpu]}")"
    record "$k.r_rps" "$(calc "${R[$k.gk.rps]} / ${R[doctor.gk.rps]}")"
  done
}

# TLS termination, gatekeeper against nginx with the same certificate: keep-alive (one
# handshake per connection, then the record layer), and Connection: close (a new connection and
# a full handshake per request — wrk does not resume sessions).
scenario_tls() {
  CPU="$NGINX_TLS_WORKERS" bench tls_ka.nginx "$NGINX_TLS_URL" "$DOCTOR" "$PATIENT"
  CPU="$GK_TLS_PID" bench tls_ka.gk "$GK_TLS_URL" "$DOCTOR" "$PATIENT"
  CPU="$NGINX_TLS_WORKERS" bench tls_hs.nginx "$NGINX_TLS_URL" "$DOCTOR" "$PATIENT" \
    "$CONNECTIONS" -H 'Connection: close'
  CPU="$GK_TLS_PID" bench tls_hs.gk "$GK_TLS_URL" "$DOCTOR" "$PATIENT" \
    "$CONNECTIONS" -H 'Connection: close'
  local k
  for k in tls_ka tls_hs; do
    record "$k.r_rps" "$(calc "${R[$k.gk.rps]} / ${R[$k.nginx.rps]}")"
    record "$k.r_cpu" "$(calc "${R[$k.gk.cpu]} / ${R[$k.nginx.cpu]}")"
  done
}

# The audit trail stops draining (a FIFO nobody reads). A fresh gatekeeper per run, so that
# every run goes through the same transition: served until the pipe buffer and the queue fill,
# then refused. wrk's timeout is raised so that a request held longer than its default 2 s
# shows in the latencies instead of vanishing into the socket-error count.
scenario_audit_stall() {
  local fifo=$WORK/stall/audit-$RUN.fifo metrics stopfile=$WORK/stall/stop-$RUN poller ok total
  start_fifo_holder "$fifo"
  metrics=$(free_port)
  GK_SED="s/^  queue: [0-9]*/  queue: 64/" GK_METRICS=127.0.0.1:$metrics GK_AUDIT=$fifo \
    start_gatekeeper "stall-$RUN" "$MOCK"
  config_has "stall-$RUN" "  queue: 64 "
  wait_port "$metrics" || exit 1
  expect_status "$GK_PORT" "$DOCTOR" "$PATIENT" 200

  # /healthz every 100 ms while wrk runs: the process must keep answering while the trail is
  # stuck (it is liveness; refusing requests is the audit rule doing its job).
  (
    while [ ! -e "$stopfile" ]; do
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 1 "http://127.0.0.1:$metrics/healthz" || true
      sleep 0.1
    done >"$WORK/stall/health-$RUN"
  ) &
  poller=$!
  pids+=($poller)
  bench stall.gk "$GK_PORT" "$DOCTOR" "$PATIENT" "$CONNECTIONS" --timeout 30s
  touch "$stopfile"
  wait "$poller" 2>/dev/null || true
  forget "$poller"
  ok=$(grep -c '^200$' "$WORK/stall/health-$RUN" || true)
  total=$(wc -l <"$WORK/stall/health-$RUN")
  record stall.share_non2xx "$(calc "${R[stall.gk.non2xx]} / ${R[stall.gk.requests]}")"
  record stall.health_ok "$ok"
  record stall.health_total "$total"
  # What the refusals are, and what a keep-alive client sees right after one: a second request
  # on the same connection (curl --next reuses it).
  record stall.after_status "$(status_of "$GK_PORT" "$DOCTOR" "$PATIENT")"
  local fresh reuse
  read -r fresh reuse < <(curl -s -o /dev/null -w '%{time_total} ' --max-time 10 -X POST \
    "$(url_of "$GK_PORT")" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $DOCTOR" --data "$PATIENT" \
    --next -s -o /dev/null -w '%{time_total}\n' --max-time 10 -X POST "$(url_of "$GK_PORT")" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $DOCTOR" --data "$PATIENT")
  record stall.fresh_ms "$(calc "$fresh * 1000")"
  record stall.reuse_ms "$(calc "$reuse * 1000")"
  echo "  run $RUN stall: ${R[stall.after_status]} after the run, health $ok/$total; a refusal took" \
    "$(printf '%.1f' "${R[stall.fresh_ms]}") ms on a new connection, the next request on it" \
    "$(printf '%.1f' "${R[stall.reuse_ms]}") ms" >&2
  stop "$GK_PID"
  stop "$HOLDER_PID"
}

# ---------------------------------------------------------------------------------------------
# Set-up: certificates, configs, every long-lived process, and a check of each target.

make_certificates
start_mock MOCK ""
start_mock MOCK_SSE --sse
start_nginx plain "$MOCK"; NGINX=$NGINX_PORT; NGINX_WORKERS=$(nginx_workers "$NGINX_PID")
start_nginx tls "$MOCK" "$TLS_CERT" "$TLS_KEY"
NGINX_TLS_URL=https://127.0.0.1:$NGINX_PORT/mcp; NGINX_TLS_WORKERS=$(nginx_workers "$NGINX_PID")
# Bare Pingora reverse proxies (examples/pingora_floor.rs): what Pingora itself costs here.
start_floor FLOOR "$MOCK"; FLOOR_JSON_PID=$FLOOR_PID
start_floor FLOOR_SSE "$MOCK_SSE"
start_redis

start_gatekeeper sse "$MOCK_SSE"; GK_SSE=$GK_PORT; GK_SSE_PID=$GK_PID
start_gatekeeper main "$MOCK"; GK=$GK_PORT; GK_PID_MAIN=$GK_PID
GK_SED="s|^  cache_entries: [0-9]*|  cache_entries: 0|
s|^  providers: \[\]|  providers: [{issuer: bench-idp, algorithms: [RS256], public_key_pem: $ROOT/tests/keys/rsa.pub.pem}]|" \
  start_gatekeeper rs256 "$MOCK"; GK_RS256=$GK_PORT; GK_RS256_PID=$GK_PID
config_has rs256 "  cache_entries: 0 "
config_has rs256 "issuer: bench-idp"
# policy/hospital.yaml plus a budget wrk can never exhaust: every Doctor call is counted and
# none is refused. Buckets keep time in whole milliseconds, so a pace above 1000/s is spent as
# one call per millisecond (100000000/s would run dry within a second at this load); the
# headroom is in the burst instead: 10^8 calls ahead of the pace, about 28 hours of it.
RL_SPEC='{ name: bench, roles: [Doctor], per_user: 1000/s, burst: 100000000 }'
RL_POLICY=$WORK/policy-rate-limited.yaml
{ cat policy/hospital.yaml; printf '\nrate_limits:\n  - %s\n' "$RL_SPEC"; } >"$RL_POLICY"
"$BIN/mcp-gatekeeper" policy check "$RL_POLICY" >/dev/null
GK_POLICY=$RL_POLICY start_gatekeeper rl-memory "$MOCK"; GK_RL_MEM=$GK_PORT; GK_RL_MEM_PID=$GK_PID
GK_POLICY=$RL_POLICY GK_EXTRA="state: { store: \"redis://127.0.0.1:$REDIS_PORT\" }" \
  start_gatekeeper rl-redis "$MOCK"; GK_RL_REDIS=$GK_PORT; GK_RL_REDIS_PID=$GK_PID
GK_EXTRA="tls: { cert_file: \"$TLS_CERT\", key_file: \"$TLS_KEY\" }" \
  start_gatekeeper tls "$MOCK"; GK_TLS_URL=https://127.0.0.1:$GK_PORT/mcp; GK_TLS_PID=$GK_PID

DOCTOR=$(token Doctor)
RESEARCHER=$(token Researcher)
BILLING=$(token Billing)
RS256=$(rs256_token)
PATIENT=$(call_body get_patient)
RECORDS=$(call_body get_medical_records)

expect_status "$MOCK" "$DOCTOR" "$PATIENT" 200
expect_status "$NGINX" "$DOCTOR" "$PATIENT" 200
expect_status "$FLOOR" "$DOCTOR" "$PATIENT" 200
expect_status "$FLOOR_SSE" "$DOCTOR" "$PATIENT" 200
expect_status "$GK" "$DOCTOR" "$PATIENT" 200
expect_status "$GK" "$RESEARCHER" "$RECORDS" 200
expect_status "$GK" "$BILLING" "$RECORDS" 403
expect_status "$GK" "" "$PATIENT" 401
expect_status "$GK_SSE" "$DOCTOR" "$PATIENT" 200
expect_status "$GK_RS256" "$RS256" "$PATIENT" 200
expect_status "$GK_RS256" "$DOCTOR" "$PATIENT" 200 # HS256 still verified with JWT_SECRET
expect_status "$GK_RL_MEM" "$DOCTOR" "$PATIENT" 200
expect_status "$GK_RL_REDIS" "$DOCTOR" "$PATIENT" 200
[ "$(redis_dbsize)" -ge 1 ] || { echo "the Redis-backed rate limit wrote nothing to Redis" >&2; exit 1; }
expect_status "$NGINX_TLS_URL" "$DOCTOR" "$PATIENT" 200
expect_status "$GK_TLS_URL" "$DOCTOR" "$PATIENT" 200

# ---------------------------------------------------------------------------------------------
# The runs.

echo "measuring: $RUNS run(s) of wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION, $WORKERS workers each" >&2
for RUN in $(seq 1 "$RUNS"); do
  echo "run $RUN of $RUNS" >&2
  R=()
  scenario_core
  scenario_pairs
  scenario_half_peak
  scenario_rs256
  scenario_rate_limits
  scenario_tls
  scenario_audit_stall
done

RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$GK_PID_MAIN/status")
RSS_SSE_KB=$(awk '/VmHWM/ {print $2}' "/proc/$GK_SSE_PID/status")
AUDIT_LINES=$(wc -l <"$WORK/audit/main.log")

# ---------------------------------------------------------------------------------------------
# The report: the median over runs of every number (ratios taken within each run first).

declare -A M LO HI
while read -r k med lo hi; do M[$k]=$med; LO[$k]=$lo; HI[$k]=$hi; done < <(python3 - "$WORK/runs.tsv" <<'PY'
import statistics, sys
vals = {}
for line in open(sys.argv[1]):
    _, k, v = line.rstrip("\n").split("\t")
    vals.setdefault(k, []).append(float(v))
for k, v in vals.items():
    print(k, statistics.median(v), min(v), max(v))
PY
)
m() { printf "${2:-%.0f}" "${M[$1]}"; }        # key [format]: the median
x() { printf '%.2f' "${M[$1]}"; }              # a ratio
spread() { # key [format]: "min–max" over runs, for the headline ratios (nothing for one run)
  [ "$RUNS" -gt 1 ] || return 0
  printf " (runs: ${2:-%.2f}–${2:-%.2f})" "${LO[$1]}" "${HI[$1]}"
}
trow() { # scenario target key [cpu]
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" \
    "$(m "$3.rps")" "$(m "$3.p50")" "$(m "$3.p99")" "$(m "$3.p999")" \
    "$(x "$3.r_rps")" "$(x "$3.r_p50")" "$(x "$3.r_p99")" "$(x "$3.r_p999")" \
    "$(m "$3.non2xx")" "$(m "$3.errors")"
}
verdict() { awk "BEGIN { exit !($1) }" && echo met || echo "NOT met"; }

{
  echo "# Load benchmark results"
  echo
  echo "Written by \`make bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%dT%H:%MZ)."
  echo
  echo "Every number is the **median over $RUNS run(s)** of the whole measurement set against the same"
  echo "processes; every ratio is computed within one run, and the median of those ratios is shown."
  echo
  echo "## Machine"
  echo
  echo "- $(nproc) cores: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "- $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory, Linux $(uname -r)"
  echo "- $(rustc --version 2>/dev/null || echo rustc unknown), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d' ' -f3), $(redis-server --version | cut -d' ' -f1-3), $(openssl version | cut -d' ' -f1-2)"
  echo "- wrk, mock-mcp, nginx and the gatekeeper all share these cores: ratios, not absolute numbers, are the result"
  echo
  echo "## Commands"
  echo
  echo "- load: \`wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION -s benches/load/mcp.lua http://127.0.0.1:PORT/mcp\` (TOKEN, BODY in the environment), $RUNS run(s)"
  echo "- gatekeeper: \`mcp-gatekeeper serve -c conf/gatekeeper.yaml\` (release build) with \`threads: $WORKERS\`, metrics off, audit trail to a file outside the watched config directory"
  echo "- bare Pingora: \`target/release/examples/pingora_floor 127.0.0.1:PORT 127.0.0.1:UPSTREAM $WORKERS\` (examples/pingora_floor.rs: the gatekeeper's server settings, no filters), one before mock-mcp and one before mock-mcp --sse"
  echo "- nginx: \`worker_processes $WORKERS\`, \`proxy_pass\` to an upstream block with \`keepalive 64\`, HTTP/1.1, access log off, \`keepalive_requests 1000000\`"
  echo "- body: \`$PATIENT\` (researcher, denied: \`get_medical_records\`)"
  echo "- RS256: \`jwt.providers: [{issuer: bench-idp, algorithms: [RS256], public_key_pem: tests/keys/rsa.pub.pem}]\`, \`jwt.cache_entries: 0\`; token signed with \`openssl dgst -sha256 -sign tests/keys/rsa.key\`"
  echo "- rate limits: policy/hospital.yaml plus \`rate_limits: [$RL_SPEC]\` (buckets count whole milliseconds: the headroom is in the burst); \`state.store\` memory, or \`redis://127.0.0.1:PORT\` (\`redis-server --save \"\" --appendonly no\`)"
  echo "- TLS: a P-256 CA and server certificate for IP 127.0.0.1 made with openssl for the run; gatekeeper \`tls: {cert_file, key_file}\`, nginx \`listen … ssl\` with \`ssl_protocols TLSv1.2 TLSv1.3\`; wrk against \`https://127.0.0.1:PORT/mcp\` (no session resumption), handshakes with \`-H 'Connection: close'\`"
  echo "- audit stall: a fresh gatekeeper per run with \`audit.queue: 64\`, \`on_failure: reject\`, the trail to a FIFO held open by \`sleep 100000 <>FIFO\` (never read), a metrics listener polled at \`/healthz\` every 100 ms (\`curl --max-time 1\`); wrk with \`--timeout 30s\`"
  echo
  echo "## Results"
  echo
  echo "Latencies in µs. Ratios are to the scenario's direct run in the same run (for denied and"
  echo "unauthenticated: to the direct Doctor run). Medians over runs."
  echo
  echo "| scenario | target | req/s | p50 | p99 | p99.9 | req/s ratio | p50 ratio | p99 ratio | p99.9 ratio | non-2xx | socket errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  trow doctor "mock-mcp directly" doctor.direct
  trow doctor "nginx" doctor.nginx
  trow doctor "bare Pingora proxy (floor)" doctor.floor
  trow doctor "gatekeeper" doctor.gk
  trow researcher "mock-mcp directly" researcher.direct
  trow researcher "gatekeeper (Safe Harbor redaction)" researcher.gk
  trow researcher "gatekeeper, the same call as a Doctor (nothing redacted)" records.gk
  trow "denied (403)" "gatekeeper" denied.gk
  trow "unauthenticated (401)" "gatekeeper" unauth.gk
  trow sse "mock-mcp --sse directly" sse.direct
  trow sse "bare Pingora proxy (floor)" sse.floor
  trow sse "gatekeeper" sse.gk
  echo
  echo "## Summary"
  echo
  echo "- **gatekeeper / bare Pingora floor, CPU per Doctor request: $(m cmp.gk_floor.cpu %.2f)×**$(spread cmp.gk_floor.cpu)" \
    "($(m doctor.gk.cpu %.1f) µs against $(m doctor.floor.cpu %.1f) µs; nginx $(m doctor.nginx.cpu %.1f) µs, the gatekeeper $(m cmp.gk_nginx.cpu %.2f)× of it)."
  echo "- **gatekeeper / bare Pingora floor, Doctor throughput: $(x cmp.gk_floor.rps)×**$(spread cmp.gk_floor.rps)."
  echo "- **Researcher (Safe Harbor redaction) / Doctor throughput through the gatekeeper: $(x cmp.researcher_doctor.rps)×**$(spread cmp.researcher_doctor.rps) (the Researcher's \`get_medical_records\`, 2.4 KB, against the Doctor's \`get_patient\`, 1.1 KB)."
  echo "- **The same call, Researcher / Doctor: $(x cmp.researcher_records.rps)×**$(spread cmp.researcher_records.rps); redacting it costs the gatekeeper $(m cmp.researcher_records.cpu %.1f) µs of CPU per request ($(m researcher.gk.cpu %.1f) against $(m records.gk.cpu %.1f) µs)."
  echo "- Doctor through the gatekeeper against nginx's plain proxying: throughput $(x cmp.gk_nginx.rps)×$(spread cmp.gk_nginx.rps), p99 $(x cmp.gk_nginx.p99)×."
  echo "- A bare Pingora proxy against nginx: throughput $(x cmp.floor_nginx.rps)×, p99 $(x cmp.floor_nginx.p99)×."
  echo
  echo "The same ratios measured in turn ($PAIR_ROUNDS rounds per run of $PAIR_DURATION each: floor, Doctor,"
  echo "Researcher, the Doctor's same call; the median over a run's rounds, then over runs). Rows"
  echo "measured half a minute apart, as above, see different load on shared cores; these do not:"
  echo
  echo "| ratio | in turn | the 10 s rows above |"
  echo "|---|---|---|"
  echo "| gatekeeper / floor, CPU per Doctor request | **$(x cmp.pair.cpu)×**$(spread cmp.pair.cpu) | $(x cmp.gk_floor.cpu)× |"
  echo "| gatekeeper / floor, Doctor throughput | **$(x cmp.pair.rps)×**$(spread cmp.pair.rps) | $(x cmp.gk_floor.rps)× |"
  echo "| Researcher / Doctor throughput | **$(x cmp.pair.researcher_doctor)×**$(spread cmp.pair.researcher_doctor) | $(x cmp.researcher_doctor.rps)× |"
  echo "| Researcher / Doctor, the same call | **$(x cmp.pair.researcher_records)×**$(spread cmp.pair.researcher_records) | $(x cmp.researcher_records.rps)× |"
  echo
  echo "p99.9 against the bare Pingora floor (for denied: the floor's Doctor run, since the floor"
  echo "cannot deny and the gatekeeper's denial never reaches the upstream):"
  echo
  echo "| scenario | gatekeeper p99.9 | floor p99.9 | ratio |"
  echo "|---|---|---|---|"
  echo "| doctor | $(m doctor.gk.p999) µs | $(m doctor.floor.p999) µs | $(x cmp.p999_floor.doctor)× |"
  echo "| denied (403) | $(m denied.gk.p999) µs | $(m doctor.floor.p999) µs | $(x cmp.p999_floor.denied)× |"
  echo "| sse | $(m sse.gk.p999) µs | $(m sse.floor.p999) µs | $(x cmp.p999_floor.sse)× |"
  echo
  echo "## JWT: RS256, no token cache"
  echo
  echo "| scenario | req/s | p50 | p99 | CPU µs/request | req/s vs HS256 cached | CPU vs HS256 cached |"
  echo "|---|---|---|---|---|---|---|"
  echo "| doctor, HS256, token cache (the row above) | $(m doctor.gk.rps) | $(m doctor.gk.p50) | $(m doctor.gk.p99) | $(m doctor.gk.cpu %.1f) | 1.00 | 1.00 |"
  echo "| doctor, RS256, no token cache | $(m rs256.gk.rps) | $(m rs256.gk.p50) | $(m rs256.gk.p99) | $(m rs256.gk.cpu %.1f) | $(x cmp.rs256_hs256.rps) | $(x cmp.rs256_hs256.cpu) |"
  echo
  echo "## Rate limits"
  echo
  echo "Every Doctor call spends from a per-user budget it never exhausts. \"Check adds\" is CPU per"
  echo "request minus the no-limit Doctor's in the same run (the Redis round trip's wait is in the"
  echo "latency, not in the gatekeeper's CPU). Keys in Redis after its run: $(m rl_redis.keys) (the bucket)."
  echo "non-2xx must be 0: a refused call would measure the 429 path instead. On shared cores a"
  echo "difference of a few µs is within the noise (it can come out negative)."
  echo
  echo "| store | req/s | p50 | p99 | CPU µs/request | check adds (µs/request) | req/s vs no limit | non-2xx |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "| none (the Doctor row above) | $(m doctor.gk.rps) | $(m doctor.gk.p50) | $(m doctor.gk.p99) | $(m doctor.gk.cpu %.1f) | | 1.00 | $(m doctor.gk.non2xx) |"
  echo "| memory | $(m rl_mem.gk.rps) | $(m rl_mem.gk.p50) | $(m rl_mem.gk.p99) | $(m rl_mem.gk.cpu %.1f) | $(m rl_mem.added_cpu %.1f) | $(x rl_mem.r_rps) | $(m rl_mem.gk.non2xx) |"
  echo "| Redis (\`redis://127.0.0.1\`) | $(m rl_redis.gk.rps) | $(m rl_redis.gk.p50) | $(m rl_redis.gk.p99) | $(m rl_redis.gk.cpu %.1f) | $(m rl_redis.added_cpu %.1f) | $(x rl_redis.r_rps) | $(m rl_redis.gk.non2xx) |"
  echo
  echo "## TLS"
  echo
  echo "Both terminate TLS with the same P-256 certificate and proxy to mock-mcp over plain HTTP."
  echo "Handshakes/s: every request on a new connection (\`Connection: close\`), a full handshake each."
  echo
  echo "| load | nginx | gatekeeper | gatekeeper / nginx | CPU µs/request nginx | gatekeeper | CPU ratio |"
  echo "|---|---|---|---|---|---|---|"
  echo "| keep-alive req/s | $(m tls_ka.nginx.rps) | $(m tls_ka.gk.rps) | $(x tls_ka.r_rps) | $(m tls_ka.nginx.cpu %.1f) | $(m tls_ka.gk.cpu %.1f) | $(x tls_ka.r_cpu) |"
  echo "| handshakes/s | $(m tls_hs.nginx.rps) | $(m tls_hs.gk.rps) | $(x tls_hs.r_rps) | $(m tls_hs.nginx.cpu %.1f) | $(m tls_hs.gk.cpu %.1f) | $(x tls_hs.r_cpu) |"
  echo
  echo "p99 keep-alive: nginx $(m tls_ka.nginx.p99) µs, gatekeeper $(m tls_ka.gk.p99) µs; with a handshake each:"
  echo "nginx $(m tls_hs.nginx.p99) µs, gatekeeper $(m tls_hs.gk.p99) µs (socket errors $(m tls_hs.nginx.errors) / $(m tls_hs.gk.errors))."
  echo
  echo "## Audit stall"
  echo
  echo "The trail goes to a FIFO nobody reads: once the pipe buffer and the 64-record queue are full,"
  echo "\`on_failure: reject\` must answer new requests 503 at once, and the process must stay live."
  echo
  echo "| req/s | requests | non-2xx share | p50 | p99 | p99.9 | socket errors | /healthz answered | after the run |"
  echo "|---|---|---|---|---|---|---|---|---|"
  echo "| $(m stall.gk.rps) | $(m stall.gk.requests) | $(m stall.share_non2xx %.3f) | $(m stall.gk.p50) µs | $(m stall.gk.p99) µs | $(m stall.gk.p999) µs | $(m stall.gk.errors) | $(m stall.health_ok) / $(m stall.health_total) | $(m stall.after_status) |"
  echo
  echo "p99 ≤ 10 ms: $(verdict "${M[stall.gk.p99]} <= 10000"). After the run, one request on a new connection was"
  echo "refused in $(m stall.fresh_ms %.1f) ms; the next request on that kept-alive connection took $(m stall.reuse_ms %.1f) ms."
  echo
  echo "## Added latency at about half of peak"
  echo
  echo "wrk with $(m half.conns) connection(s) (median; per run: $(awk -F'\t' '$2 == "half.conns" {printf "%s%s", sep, $3; sep=", "}' "$WORK/runs.tsv")):" \
    "the gatekeeper served $(m half.gk.rps) req/s (its peak above: $(m doctor.gk.rps))."
  echo
  echo "| | p50 | p99 |"
  echo "|---|---|---|"
  echo "| mock-mcp directly | $(m half.direct.p50) µs | $(m half.direct.p99) µs |"
  echo "| through a bare Pingora proxy | $(m half.floor.p50) µs | $(m half.floor.p99) µs |"
  echo "| through the gatekeeper | $(m half.gk.p50) µs | $(m half.gk.p99) µs |"
  echo "| added by bare Pingora | $(m half.added_floor.p50) µs | $(m half.added_floor.p99) µs |"
  echo "| added by the gatekeeper | $(m half.added_gk.p50) µs | $(m half.added_gk.p99) µs |"
  echo
  echo "## Memory"
  echo
  echo "Gatekeeper peak RSS (VmHWM) over the whole run: $((RSS_KB / 1024)) MiB (JSON upstream)," \
    "$((RSS_SSE_KB / 1024)) MiB (SSE upstream). Audit lines written: $AUDIT_LINES."
  echo
  echo "## Reproduce"
  echo
  echo "\`make bench\` (DURATION, CONNECTIONS, WRK_THREADS, WORKERS, RUNS in the environment;"
  echo "\`SKIP_BUILD=1 scripts/bench.sh\` reuses the release binaries already built)."
} >"$OUT"
echo "wrote $OUT" >&2
cat "$OUT"
