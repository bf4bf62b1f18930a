-- The opening wave as wrk requests (cargo xtask bench; docs/perf.md).
--
-- Of every 20 requests: 10 claims by people not seen before (the capped
-- voucher and the forever emoticon, one new user and key each), 4 package
-- loads, 3 선물함 (GET /v1/me/claims) and 3 status polls by people who just
-- claimed. Tokens come from MAEUM_TOKENS (one a line); each wrk thread of each
-- wrk process takes every SLOTS-th line, so no two claims share a user.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local MIX = { "claim", "package", "claim", "mine", "claim", "status", "claim", "package",
              "claim", "mine", "claim", "status", "claim", "package", "claim", "mine",
              "claim", "status", "claim", "package" }

function init(args)
  local slot = tonumber(os.getenv("MAEUM_WRK_SLOT") or "0")
  local slots = tonumber(os.getenv("MAEUM_WRK_SLOTS") or "1")
  local per = tonumber(os.getenv("MAEUM_WRK_THREADS") or "1")
  local mine = slot * per + id
  local stride = slots * per
  tokens, n, i, step, grants, granted_claims, last = {}, 0, 0, 0, 0, 0, nil
  local line_no = 0
  for line in io.lines(os.getenv("MAEUM_TOKENS")) do
    if line_no % stride == mine then
      n = n + 1
      tokens[n] = line
    end
    line_no = line_no + 1
  end
  claim_body = '{"item_ids":["drawer-plus-1m","emoticon-forever"]}'
end

function request()
  step = step % #MIX + 1
  local kind = MIX[step]
  if kind == "claim" or last == nil then
    i = i % n + 1
    last = tokens[i]
    return wrk.format("POST", "/api/v1/claims", {
      ["Authorization"] = "Bearer " .. last,
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = "open-" .. i,
    }, claim_body)
  end
  local path = ({ package = "/api/v1/package", mine = "/api/v1/me/claims", status = "/api/v1/status" })[kind]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. last })
end

function response(status, headers, body)
  if status == 200 then
    local before = grants
    local from = 1
    while true do
      local s, e = string.find(body, '"status":"granted"', from, true)
      if not s then break end
      grants = grants + 1
      from = e + 1
    end
    if grants > before then granted_claims = granted_claims + 1 end
  end
end

function done(summary, latency, requests)
  local total, claims = 0, 0
  for _, t in ipairs(threads) do
    total = total + t:get("grants")
    claims = claims + t:get("granted_claims")
  end
  io.write(string.format("grants %d granted_claims %d\n", total, claims))
  io.write(string.format("latency_us p50 %d p99 %d max %d\n",
    latency:percentile(50), latency:percentile(99), latency.max))
  io.write(string.format("requests %d duration_us %d errors %d non2xx_or_err %d\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
