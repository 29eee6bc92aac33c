-- wrk script: POST one fixed body, check every answer, report figures as one JSON line.
-- Arguments (after `--`): body file, Content-Type, text the answer must contain, text it must not.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = args[2]
  expect = args[3]
  forbid = args[4]
  checked = 0
  bad = 0
end

function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 or not string.find(body, expect, 1, true)
     or (forbid ~= "" and string.find(body, forbid, 1, true)) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local checked_all, bad_all = 0, 0
  for _, thread in ipairs(threads) do
    checked_all = checked_all + thread:get("checked")
    bad_all = bad_all + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, '
      .. '"timeouts": %d, "checked": %d, "bad": %d}\n',
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, checked_all, bad_all))
end
