#!/usr/bin/env bash
# `make load`: a load test of a local r2watch with wrk. Starts `wrangler dev` on a fresh state
# (rate limits raised out of the way), stores 20 seed objects, then runs wrk for DURATION
# seconds with CONNECTIONS connections mixing downloads (40%), uploads (20%), listings (10%) and
# dashboard queries (30%: usage summary, metrics history). Prints requests per second, p50/p99
# latency and errors, then flushes the rollups and checks that they count every successful
# upload, download and listing exactly (exit 1 when not).
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
npx --no-install wrangler dev --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" --env="" \
  --var RATE_LIMIT_PER_MINUTE:100000000 --var RATE_LIMIT_IP_PER_MINUTE:100000000 \
  --show-interactive-dev-session=false >"$STATE/wrangler.log" 2>&1 &
DEV=$!
trap 'kill $DEV 2>/dev/null; wait $DEV 2>/dev/null; rm -rf "$STATE"' EXIT
BASE=http://127.0.0.1:$PORT
for _ in $(seq 120); do curl -sf "$BASE/api/health" >/dev/null && break; sleep 0.5; done
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
  let ok = true;
  for (const [op, n] of rows) {
    const c = counted(op);
    console.log(`rollups: ${op} ${c} calls for ${n} successful requests ${c === n ? "(exact)" : "(MISMATCH)"}`);
    ok &&= c === n;
  }
  console.log(`dashboard queries: ${load.dashboard}`);
  process.exit(ok && load.failed === 0 ? 0 : 1);
' "$load" "$before" "$after"
