-- One request shape for every leg: method, path, body and bearer token come from the
-- environment; responses whose body carries GraphQL "errors" are counted; an optional
-- per-connection delay (ms) paces the load; done() prints one JSON line for bench/load.py.
local method = os.getenv("BENCH_METHOD") or "POST"
local path = os.getenv("BENCH_PATH") or "/graphql"
local body = os.getenv("BENCH_BODY") or ""
local token = os.getenv("BENCH_TOKEN")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  gql_errors = 0
  local headers = { ["Content-Type"] = "application/json" }
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  prepared = wrk.format(method, path, headers, body)
end

function request()
  return prepared
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function response(status, headers, response_body)
  if status ~= 200 or string.find(response_body, '"errors"', 1, true) then
    gql_errors = gql_errors + 1
  end
end

function done(summary, latency, requests)
  local errors = 0
  for _, thread in ipairs(threads) do
    errors = errors + thread:get("gql_errors")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"socket_errors":%d,"bad_responses":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, errors))
end
