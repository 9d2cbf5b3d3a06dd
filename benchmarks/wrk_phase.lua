-- One phase of benchmarks/load.py: replay the requests of a prepared file through wrk.
--
--   wrk ... -s wrk_phase.lua URL -- FILE EXPECTED_STATUS once|cycle THREADS
--
-- FILE has one request a line: METHOD <tab> PATH <tab> TOKEN <tab> BODY (JSON or empty).
-- Thread k sends lines k, k+THREADS, k+2*THREADS …; "once" sends each line at most once
-- (a check-in may not be repeated), "cycle" starts again at the end. Every response whose
-- status is not EXPECTED_STATUS counts as an error; done() prints one RESULT line of JSON.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  expected = tonumber(args[2])
  mode = args[3]
  local nthreads = tonumber(args[4])
  prepared = {}
  local n = 0
  local all = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(all, line) end
  end
  if mode == "cycle" and #all < nthreads then
    nthreads = 1  -- a short list (one /healthz line) is sent by every thread
    id = 0
  end
  for _, line in ipairs(all) do
    if n % nthreads == id then
      local method, target, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      if token ~= "" then headers["Authorization"] = "Bearer " .. token end
      if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
      table.insert(prepared, wrk.format(method, target, headers, body))
    end
    n = n + 1
  end
  index = 0
  statuses = {}
  unexpected = 0
  exhausted = 0
end

function request()
  index = index + 1
  if index > #prepared then
    if mode == "cycle" then
      index = 1
    else
      -- Nothing left to send: stop this thread rather than send a line twice.
      exhausted = 1
      wrk.thread:stop()
      index = #prepared
    end
  end
  return prepared[index]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= expected then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local totals, unexpected_all, exhausted_all = {}, 0, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
    unexpected_all = unexpected_all + thread:get("unexpected")
    exhausted_all = exhausted_all + thread:get("exhausted")
  end
  local parts = {}
  for status, count in pairs(totals) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, "unexpected": %d, ' ..
    '"exhausted_threads": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, unexpected_all, exhausted_all,
    table.concat(parts, ", ")))
end
