#!/usr/bin/env bash
# `make load`: a load test of a local r2watch with wrk. Starts `wrangler dev` on a fresh state
# (rate limits raised out of the way), stores 20 seed objects, then runs wrk for DURATION
# seconds with CONNECTIONS connections mixing downloads (40%), uploads (20%), listings (10%) and
# dashboard queries (30%: usage summary, metrics history). Prints requests per second, p50/p99
# latency and errors, then flushes the rollups and checks that they count every successful
# upload, download and listing (plus, at most, the requests still in flight when wrk stopped,
# which the Worker served but wrk never saw answered); exit 1 when not, or on any error.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-8}
PORT=${PORT:-8799}
STATE=$(mktemp -d)
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false CI=true
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }

make --no-print-directory wasm >/dev/null
npx --no-install wrangler d1 migrations apply DB --local --persist-to "$STATE" --env="" >/dev/null
TOKEN=$(node tools/dev-bootstrap.mjs --persist-to "$STATE" | sed -nE 's/.*local r2watch: (r2w_[0-9a-f_]+)/\1/p')
if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "port $PORT is taken: choose another with PORT=..." >&2
  exit 1
fi
# In its own process group, so that stopping it stops wrangler's workerd too.
setsid npx --no-install wrangler dev --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" --env="" \
  --var RATE_LIMIT_PER_MINUTE:1000000 --var RATE_LIMIT_IP_PER_MINUTE:1000000 \
  --show-interactive-dev-session=false >"$STATE/wrangler.log" 2>&1 &
DEV=$!
cleanup() {
  kill -- "-$DEV" 2>/dev/null || true
  wait "$DEV" 2>/dev/null || true
  rm -rf "$STATE"
}
trap cleanup EXIT
BASE=http://127.0.0.1:$PORT
for _ in $(seq 240); do curl -sf "$BASE/api/health" >/dev/null && break; sleep 0.5; done
AUTH="Authorization: Bearer $TOKEN"
for i in $(seq 0 19); do
  curl -sf -X PUT -H "$AUTH" --data-binary "seed $i" "$BASE/api/storage/files/load/seed-$i.txt" >/dev/null
done
curl -sf -X POST -H "$AUTH" "$BASE/api/admin/jobs/metrics-flush" >/dev/null
before=$(curl -sf -H "$AUTH" "$BASE/api/usage/export?hours=1&user=admin")

out=$(TOKEN=$TOKEN wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s tools/load/mix.lua "$BASE")
echo "$out" | grep -vE "^LOAD"
load=$(echo "$out" | sed -nE 's/^LOAD (.*)/\1/p')

curl -sf -X POST -H "$AUTH" "$BASE/api/admin/jobs/metrics-flush" >/dev/null
after=$(curl -sf -H "$AUTH" "$BASE/api/usage/export?hours=1&user=admin")
node -e '
  const [load, before, after] = process.argv.slice(1).map((s) => JSON.parse(s));
  const calls = (x, op) => x.records.filter((r) => r.operation === op).reduce((n, r) => n + r.calls, 0);
  const counted = (op) => calls(after, op) - calls(before, op);
  const rows = [["put", load.put], ["get", load.get], ["list", load.list]];
  console.log(`requests ${load.requests} in ${load.seconds} s: ${load.rps} req/s, p50 ${load.p50_ms} ms, p99 ${load.p99_ms} ms, ` +
    `errors: ${load.failed} non-2xx, ${load.socket_errors} socket`);
  // Every answered success is counted; requests still in flight when wrk stopped were served
  // too (wrk never saw their answers), so the rollups may hold up to that many more.
  let ok = true;
  for (const [op, n] of rows) {
    const c = counted(op);
    const inFlight = load.sent[op] - n;
    const fine = c >= n && c <= n + inFlight;
    console.log(`rollups: ${op} ${c} calls = ${n} successful requests answered + ${c - n} in flight at the stop ` +
      `(of ${inFlight} unanswered) ${fine ? "ok" : "MISMATCH"}`);
    ok &&= fine;
  }
  console.log(`dashboard queries: ${load.dashboard}`);
  process.exit(ok && load.failed === 0 ? 0 : 1);
' "$load" "$before" "$after"
