-- wrk script of the load benchmark (bench/load/drive-wrk.ts runs it).
-- Arguments: bodies file, path, nStart, expect, thread count, then header lines "Name: value".
-- Request i (unique across threads) posts line (i mod lines) of the bodies file with "{n}"
-- replaced by nStart + i. Every response is counted by status; a 2xx whose body does not contain
-- `expect` is "unexpected". done() prints one JSON line prefixed with WRK_JSON.

local threads = {}
local created = 0

function setup(thread)
  thread:set("tid", created)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  path, nStart, expect, nthreads = args[2], tonumber(args[3]), args[4], tonumber(args[5])
  lines = {}
  for line in io.lines(args[1]) do lines[#lines + 1] = line end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  for i = 6, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
  k = 0
  statuses = {}
  unexpected = 0
  sample = ""
end

function request()
  local i = tid + k * nthreads
  k = k + 1
  local body = lines[(i % #lines) + 1]:gsub("{n}", tostring(nStart + i))
  return wrk.format(nil, path, nil, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  local ok = status >= 200 and status < 300
  if ok and not body:find(expect, 1, true) then unexpected = unexpected + 1 end
  if (not ok or not body:find(expect, 1, true)) and sample == "" then sample = status .. " " .. body:sub(1, 300) end
end

local function jsonString(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local merged, unexp, firstSample = {}, 0, ""
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do merged[code] = (merged[code] or 0) + n end
    unexp = unexp + t:get("unexpected")
    if firstSample == "" then firstSample = t:get("sample") end
  end
  local parts = {}
  for code, n in pairs(merged) do parts[#parts + 1] = string.format('"%s":%d', code, n) end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"socketErrors":%d,"timeouts":%d,"statuses":{%s},"unexpected":%d,"sample":%s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write, e.timeout, table.concat(parts, ","), unexp, jsonString(firstSample)))
end
