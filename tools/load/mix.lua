-- wrk script for `make load`: a mix of reads, writes, listings and dashboard queries against a
-- local r2watch, as the admin token in TOKEN. Responses are classified by their shape (wrk does
-- not say which request a response answers): 201 = upload, an ETag = download, {"objects" =
-- listing, other 200 = dashboard query. done() prints the counts as JSON for the check that the
-- rollups account for every successful request.
local token = os.getenv("TOKEN")
local counter = 0
local threads = {}

ok_put, ok_get, ok_list, ok_dash, failed = 0, 0, 0, 0, 0
failed_statuses = ""
-- Requests sent per kind: those still in flight when wrk stops were served by the Worker but
-- never answered to wrk, so the rollups may hold up to (sent - answered) more of a kind.
sent_put, sent_get, sent_list = 0, 0, 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local function req(method, path, body)
  local headers = { ["Authorization"] = "Bearer " .. token }
  if body then headers["Content-Type"] = "text/plain" end
  return wrk.format(method, path, headers, body)
end

function request()
  counter = counter + 1
  local n = counter % 10
  if n < 4 then
    sent_get = sent_get + 1
    return req("GET", "/api/storage/files/load/seed-" .. (counter % 20) .. ".txt")
  elseif n < 6 then
    sent_put = sent_put + 1
    return req("PUT", "/api/storage/files/load/t" .. tid .. "-" .. counter .. ".txt", "payload-" .. counter)
  elseif n == 6 then
    sent_list = sent_list + 1
    return req("GET", "/api/storage/files?prefix=load/seed-&limit=10")
  elseif n < 9 then
    return req("GET", "/api/usage/summary?period=hour")
  else
    return req("GET", "/api/metrics/history?range=1h")
  end
end

function response(status, headers, body)
  if status == 201 then
    ok_put = ok_put + 1
  elseif status == 200 and (headers["etag"] or headers["ETag"]) then
    ok_get = ok_get + 1
  elseif status == 200 and body:sub(1, 10) == '{"objects"' then
    ok_list = ok_list + 1
  elseif status == 200 then
    ok_dash = ok_dash + 1
  else
    failed = failed + 1
    if failed <= 5 then failed_statuses = failed_statuses .. status .. " " .. body:sub(1, 160) .. "\n" end
  end
end

function done(summary, latency, requests)
  local t = { put = 0, get = 0, list = 0, dashboard = 0, failed = 0, sent_put = 0, sent_get = 0,
              sent_list = 0 }
  for _, thread in ipairs(threads) do
    t.put = t.put + thread:get("ok_put")
    t.get = t.get + thread:get("ok_get")
    t.list = t.list + thread:get("ok_list")
    t.dashboard = t.dashboard + thread:get("ok_dash")
    t.failed = t.failed + thread:get("failed")
    t.sent_put = t.sent_put + thread:get("sent_put")
    t.sent_get = t.sent_get + thread:get("sent_get")
    t.sent_list = t.sent_list + thread:get("sent_list")
  end
  for _, thread in ipairs(threads) do io.write(thread:get("failed_statuses")) end
  local secs = summary.duration / 1e6
  io.write(string.format(
    'LOAD {"requests": %d, "seconds": %.1f, "rps": %.1f, "p50_ms": %.1f, "p99_ms": %.1f, ' ..
    '"socket_errors": %d, "put": %d, "get": %d, "list": %d, "dashboard": %d, "failed": %d, ' ..
    '"sent": {"put": %d, "get": %d, "list": %d}}\n',
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    t.put, t.get, t.list, t.dashboard, t.failed, t.sent_put, t.sent_get, t.sent_list))
end
