-- wrk script for `make bench`: POSTs one JSON-RPC body (env BODY) with the Bearer token in
-- env TOKEN (none when empty) and prints one machine-readable RESULT line at the end.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
local token = os.getenv("TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.body = os.getenv("BODY") or
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_patient","arguments":{"patient_id":"NUGWI"}}}'

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d socket_errors=%d non2xx=%d p50_us=%d p99_us=%d p999_us=%d\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
