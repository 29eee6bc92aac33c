-- wrk script: POST one fixed body, or each body of a pool once; check every answer; report figures
-- as one JSON line.
-- Arguments (after `--`): body file, Content-Type, text the answer must contain, text it must not,
-- and for a pool (signed bodies, each good once) the word "pool" and wrk's thread count. A pool file
-- holds the bodies separated by NUL bytes, which neither XML nor JSON text contains.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

-- The bodies of `data` this thread sends: every `stride`-th from its own index, so no two threads
-- share one. Formatted once here, so `request()` costs a table lookup.
local function thread_requests(data, headers, index, stride)
  local requests, position, n = {}, 1, 0
  while position <= #data do
    local stop = string.find(data, "\0", position, true) or #data + 1
    n = n + 1
    if (n - index) % stride == 0 then
      requests[#requests + 1] = wrk.format("POST", nil, headers, string.sub(data, position, stop - 1))
    end
    position = stop + 1
  end
  return requests
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = args[2]
  expect = args[3]
  forbid = args[4]
  checked = 0
  bad = 0
  if args[5] ~= "pool" then
    wrk.body = data
    return
  end
  local pool = thread_requests(data, {["Content-Type"] = args[2]}, thread_index, tonumber(args[6]))
  local sent = 0
  -- Defined here, so wrk sends a fixed body unless there is a pool.
  function request()
    sent = sent + 1
    if sent > #pool then
      -- Sending a body again would be a replay, which the bridge must refuse: stop instead.
      io.stderr:write(string.format(
        "bench: wrk thread %d has sent all %d of its signed bodies; the pool is too small "
          .. "(MIN_SIGNED_BODIES, POOL_MARGIN in benchmarks/measure.py)\n",
        thread_index, #pool))
      io.stderr:flush()
      os.exit(3)
    end
    return pool[sent]
  end
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
