-- post.lua -- wrk sends one signed delivery, over and over.
--
--   wrk -t1 -c32 -d5s -s tests/bench/post.lua URL -- BODY_FILE SIGNATURE
--
-- The body is read once per thread from BODY_FILE; every request is the
-- same POST with Content-Type and Panora-Signature. No per-response hook
-- (it would cost wrk CPU on every answer): done() prints one JSON line with
-- the counts and the latency percentiles (microseconds) for the bench.
function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Panora-Signature"] = args[2]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max,
    latency.mean))
end
