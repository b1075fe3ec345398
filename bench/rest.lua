-- wrk script for the REST surface: every request is a different user's, with that user's own
-- cookie, rotating over each user's five projects. Anything but 201 counts as an error.
-- BENCH_COOKIES names a file whose line N is user N's neptun-session value.

local threads = {}
local body = '{"model":"google/gemma-2-27b-it","name":"Benchmark chat"}'
local projects_per_user = 5

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  cookies = {}
  for line in io.lines(os.getenv("BENCH_COOKIES")) do
    cookies[#cookies + 1] = "neptun-session=" .. line
  end
  -- Threads start far apart in the rotation so they do not hit the same user at once.
  counter = id * 7919
  errors = 0
end

function request()
  counter = counter + 1
  local user = (counter % #cookies) + 1
  local project = (user - 1) * projects_per_user + (math.floor(counter / #cookies) % projects_per_user) + 1
  return wrk.format("POST", "/api/users/" .. user .. "/projects/" .. project .. "/chats",
    { ["Content-Type"] = "application/json", ["Cookie"] = cookies[user] }, body)
end

function response(status, headers, body)
  if status ~= 201 then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local bad = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("errors")
  end
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad))
end

-- The paced floor (bench/run.sh's floor-paced): a pause before each request of a connection.
local pace_ms = tonumber(os.getenv("BENCH_PACE_MS") or "")
if pace_ms and pace_ms > 0 then
  function delay()
    return pace_ms
  end
end
