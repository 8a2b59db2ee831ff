# Process bookkeeping shared by the benchmark scripts (sourced, not run). Every background
# process goes into `pids`; at exit each is stopped and $WORK (when set) removed.

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "${WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# Forgets a process that has ended (so cleanup never signals a reused pid).
forget() { # pid
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
# Stops one process this script started.
stop() { # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget "$1"
}
