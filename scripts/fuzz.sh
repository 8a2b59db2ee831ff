#!/usr/bin/env bash
# Fuzzes the pure core with cargo fuzz (libFuzzer): the JSON-RPC classifier, the Authorization
# parser + JWT verifier, the SSE redactor (random splits give the same output as none), the
# response path as a hostile upstream meets it (an SSN never comes out), and the
# redactor's JSON tree (accepts and writes what serde_json does).
# Each target starts from its committed corpus in fuzz/corpus/<target>.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 15 s each, all targets)
#
# Uses a nightly toolchain when rustup has one; otherwise the stable one with
# RUSTC_BOOTSTRAP=1 (cargo fuzz needs -Z flags). Installs cargo-fuzz when it is missing.
# A crash stops the run with a non-zero exit and leaves the input in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-15}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(jsonrpc authorization sse_redact json_tree response_body)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz (once)..."
  cargo install cargo-fuzz --locked --quiet
fi
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  export RUSTC_BOOTSTRAP=1
fi

for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== fuzz $t for ${seconds}s"
  cargo "${toolchain[@]}" fuzz run -O "$t" -- -max_total_time="$seconds" -print_final_stats=1 2>&1 |
    grep -E '^(Done|stat::number_of_executed_units|SUMMARY|thread .* panicked)|INFO: seed corpus' || true
  # grep hides the exit status: a crash leaves an artifact behind.
  if compgen -G "artifacts/$t/crash-*" >/dev/null || compgen -G "artifacts/$t/oom-*" >/dev/null; then
    echo "fuzz target $t crashed; reproduce with: cd fuzz && cargo fuzz run $t artifacts/$t/<file>" >&2
    exit 1
  fi
done
