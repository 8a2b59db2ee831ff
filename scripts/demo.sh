#!/usr/bin/env bash
# The reference scenario, live: starts mock-mcp and the gatekeeper with the shipped config and
# policy, plays the web app's calls with the token client, prints what each role got, and
# stops what it started. Run it with `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/debug}
PY=${PY:-target/pyenv/bin/python}
GK="$BIN/mcp-gatekeeper"

# A fresh secret per run unless the caller brings one: secrets never live in the repo.
export JWT_SECRET=${JWT_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}
. scripts/ports.sh

MOCK_PORT=$(pick_port 5000)
GATE_PORT=$(pick_port 8080)
ADMIN_PORT=$(pick_port 9464)
export MOCK_MCP_LISTEN=127.0.0.1:$MOCK_PORT
export GATEKEEPER_UPSTREAM=http://127.0.0.1:$MOCK_PORT
export GATEKEEPER_LISTEN=127.0.0.1:$GATE_PORT
export MCP_SERVER_URL=http://127.0.0.1:$GATE_PORT/mcp
export GATEKEEPER_METRICS_LISTEN=127.0.0.1:$ADMIN_PORT
LOG_DIR=$(mktemp -d)
export GATEKEEPER_AUDIT_LOG=$LOG_DIR/audit.log

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$BIN/mock-mcp" >"$LOG_DIR/mock-mcp.log" 2>&1 &
pids+=($!)
wait_port "$MOCK_PORT"
# The shipped config, but accepting tokens without `exp` as the seed's web app mints them
# (`exp` is still checked whenever a token carries one).
sed 's/^  require_exp: true/  require_exp: false/' conf/gatekeeper.yaml >"$LOG_DIR/gatekeeper.yaml"
"$GK" serve -c "$LOG_DIR/gatekeeper.yaml" >"$LOG_DIR/gatekeeper.log" 2>&1 &
pids+=($!)
wait_port "$GATE_PORT" || { cat "$LOG_DIR/gatekeeper.log"; exit 1; }

echo "mock-mcp      http://$MOCK_MCP_LISTEN  (a small synthetic hospital)"
echo "gatekeeper    $MCP_SERVER_URL  (policy/hospital.yaml, jwt.require_exp: false)"
echo "metrics       http://$GATEKEEPER_METRICS_LISTEN/metrics"
echo "audit trail   $GATEKEEPER_AUDIT_LOG"
echo "logs          $LOG_DIR"
echo

failures=0
# step "title" expected-exit-status command...
step() {
  local title=$1 expect=$2
  shift 2
  echo "── $title"
  local out status=0
  out=$("$@" 2>&1) || status=$?
  if [ $status -eq 0 ]; then
    echo "$out" | python3 scripts/summarize.py | sed 's/^/   /'
  else
    echo "$out" | head -n 2 | sed 's/^/   /'
  fi
  if { [ "$expect" = ok ] && [ $status -ne 0 ]; } || { [ "$expect" = fail ] && [ $status -eq 0 ]; }; then
    echo "   !! unexpected result (exit $status)"
    failures=$((failures + 1))
  fi
  echo
}

call() { "$GK" call --user-id 1 --username yenji100 "$@"; }
records=(get_medical_records --arg patient_id=NUGWI)

step "The seed's web app: PyJWT token without exp, legacy call without an id" ok "$PY" scripts/seed_webapp.py Doctor
step "The seed's web app as a Researcher (HIPAA Safe Harbor)" ok "$PY" scripts/seed_webapp.py Researcher
step "Doctor asks for NUGWI's medical records (tools/call)" ok call --role Doctor "${records[@]}"
step "Doctor, legacy form the web app sends" ok call --role Doctor --legacy "${records[@]}"
step "No token at all" fail call --role Doctor --no-token "${records[@]}"
step "Token signed with another secret" fail env JWT_SECRET=not-the-gatekeepers-secret-at-all-000 "$GK" call --user-id 1 --role Doctor "${records[@]}"
step "Expired token" fail call --role Doctor --ttl -120 "${records[@]}"
step "Billing asks for medical records" fail call --role Billing "${records[@]}"
step "Billing asks for billing" ok call --role Billing get_billing --arg patient_id=NUGWI
step "Nurse asks for NUGWI's medical records" ok call --role Nurse "${records[@]}"
step "Researcher reads NUGWI's records (HIPAA Safe Harbor)" ok call --role Researcher "${records[@]}"
step "Nurse lists tools (filtered to her role)" ok call --role Nurse tools/list
step "Patient NUGWI reads their own record" ok call --role Patient --claim patient_id=NUGWI "${records[@]}"
step "Patient NUGWI asks for someone else's" fail call --role Patient --claim patient_id=NUGWI get_medical_records --arg patient_id=SQHUM

# The same hospital as FHIR R4 / US Core, what hospital MCP servers return: a second mock-mcp
# (--fhir) and a second gatekeeper in front of it, with the same policy.
FHIR_MOCK_PORT=$(pick_port $((MOCK_PORT + 1)))
FHIR_GATE_PORT=$(pick_port $((GATE_PORT + 1)))
FHIR_ADMIN_PORT=$(pick_port $((ADMIN_PORT + 1)))
"$BIN/mock-mcp" --fhir --listen "127.0.0.1:$FHIR_MOCK_PORT" >"$LOG_DIR/mock-mcp-fhir.log" 2>&1 &
pids+=($!)
wait_port "$FHIR_MOCK_PORT"
GATEKEEPER_UPSTREAM=http://127.0.0.1:$FHIR_MOCK_PORT GATEKEEPER_LISTEN=127.0.0.1:$FHIR_GATE_PORT \
  GATEKEEPER_METRICS_LISTEN=127.0.0.1:$FHIR_ADMIN_PORT GATEKEEPER_AUDIT_LOG=$LOG_DIR/audit-fhir.log \
  "$GK" serve -c "$LOG_DIR/gatekeeper.yaml" >"$LOG_DIR/gatekeeper-fhir.log" 2>&1 &
pids+=($!)
wait_port "$FHIR_GATE_PORT" || { cat "$LOG_DIR/gatekeeper-fhir.log"; exit 1; }
fhir() { "$GK" call --url "http://127.0.0.1:$FHIR_GATE_PORT/mcp" --user-id 1 --username yenji100 "$@"; }
step "FHIR R4: Doctor reads NUGWI's record Bundle" ok fhir --role Doctor "${records[@]}"
step "FHIR R4: Researcher reads it (redacted by FHIR datatype)" ok fhir --role Researcher "${records[@]}"
step "FHIR R4: Nurse reads it (SSN identifier, last 4 kept)" ok fhir --role Nurse get_patient --arg patient_id=NUGWI

# Encrypted end to end: the web app → gatekeeper over HTTPS, and the gatekeeper → the MCP server
# over HTTPS, with a CA made for this run (openssl) that both hops verify against.
TLS_DIR=$LOG_DIR/tls
mkdir -p "$TLS_DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=demo hospital CA" -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.pem" 2>/dev/null
for name in gatekeeper mock; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
    -keyout "$TLS_DIR/$name.key" -out "$TLS_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
    -CAcreateserial -days 2 -out "$TLS_DIR/$name.crt" \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2>/dev/null
done
TLS_MOCK_PORT=$(pick_port $((MOCK_PORT + 2)))
TLS_GATE_PORT=$(pick_port $((GATE_PORT + 2)))
TLS_ADMIN_PORT=$(pick_port $((ADMIN_PORT + 2)))
"$BIN/mock-mcp" --listen "127.0.0.1:$TLS_MOCK_PORT" --tls-cert "$TLS_DIR/mock.crt" \
  --tls-key "$TLS_DIR/mock.key" >"$LOG_DIR/mock-mcp-tls.log" 2>&1 &
pids+=($!)
wait_port "$TLS_MOCK_PORT"
{
  cat "$LOG_DIR/gatekeeper.yaml"
  printf 'tls:\n  cert_file: %s\n  key_file: %s\n' "$TLS_DIR/gatekeeper.crt" "$TLS_DIR/gatekeeper.key"
  printf 'upstream_tls:\n  ca_file: %s\n' "$TLS_DIR/ca.pem"
} >"$LOG_DIR/gatekeeper-tls.yaml"
GATEKEEPER_UPSTREAM=https://127.0.0.1:$TLS_MOCK_PORT GATEKEEPER_LISTEN=127.0.0.1:$TLS_GATE_PORT \
  GATEKEEPER_METRICS_LISTEN=127.0.0.1:$TLS_ADMIN_PORT GATEKEEPER_AUDIT_LOG=$LOG_DIR/audit-tls.log \
  "$GK" serve -c "$LOG_DIR/gatekeeper-tls.yaml" >"$LOG_DIR/gatekeeper-tls.log" 2>&1 &
pids+=($!)
wait_port "$TLS_GATE_PORT" || { cat "$LOG_DIR/gatekeeper-tls.log"; exit 1; }
tls() { "$GK" call --user-id 1 --username yenji100 --cacert "$TLS_DIR/ca.pem" "$@"; }
step "HTTPS end to end: Doctor reads NUGWI's records (both hops verified)" ok \
  tls --url "https://127.0.0.1:$TLS_GATE_PORT/mcp" --role Doctor "${records[@]}"
step "HTTPS end to end: Researcher (redacted as ever)" ok \
  tls --url "https://127.0.0.1:$TLS_GATE_PORT/mcp" --role Researcher "${records[@]}"
step "Plain HTTP to the TLS listener gets no answer" fail \
  call --url "http://127.0.0.1:$TLS_GATE_PORT/mcp" --role Doctor "${records[@]}"

echo "── What the operators see"
metrics=$(exec 3<>"/dev/tcp/127.0.0.1/$ADMIN_PORT"; printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3; cat <&3)
echo "$metrics" | grep -E '^gatekeeper_(requests_total|auth_failures_total|redactions_total)' | grep -v ' 0$' | sed 's/^/   /'
for _ in $(seq 1 100); do [ "$(wc -l <"$GATEKEEPER_AUDIT_LOG")" -ge 14 ] && break; sleep 0.05; done
echo "   audit: $("$GK" audit verify "$GATEKEEPER_AUDIT_LOG")"
echo

if [ $failures -ne 0 ]; then
  echo "demo: $failures step(s) did not behave as the reference scenario says" >&2
  exit 1
fi
echo "demo: every step behaved as the reference scenario says"
