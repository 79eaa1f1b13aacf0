-- wrk script for POST /api/ask, driven by qa.load_generator (--tool wrk):
--   wrk -t1 -cN -dS --timeout 60s -s wrk_ask.lua URL -- BODIES_FILE
-- BODIES_FILE holds one JSON request body a line; each connection cycles through them from a
-- random start. A reply counts as an answer if it is 200 with passages; done() prints one JSON line.
local bodies = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(bodies, line) end
  end
  position = math.random(#bodies)
  bad = 0
end

function request()
  position = position % #bodies + 1
  return wrk.format("POST", "/api/ask", {["Content-Type"] = "application/json"}, bodies[position])
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"passages"', 1, true) then bad = bad + 1 end
end

function done(summary, latency, requests)
  local bad_replies = 0
  for _, thread in ipairs(threads) do bad_replies = bad_replies + thread:get("bad") end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "bad_replies": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration / 1e6, bad_replies, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
