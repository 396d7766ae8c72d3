#!/usr/bin/env bash
# Runs `wrangler dev ...` ("$@") with the account-analytics variables (`make dev`, `make demo`):
# the real account's when CLOUDFLARE_GRAPHQL_URL, CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN
# are all set in the environment, else a local stand-in for Cloudflare's GraphQL API
# (tools/graphql-standin.mjs, a generated account) on a free port of 127.0.0.1, stopped with it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${CLOUDFLARE_GRAPHQL_URL:-}" && -n "${CLOUDFLARE_ACCOUNT_ID:-}" && -n "${CLOUDFLARE_API_TOKEN:-}" ]]; then
  echo "account analytics: ${CLOUDFLARE_GRAPHQL_URL} (account ${CLOUDFLARE_ACCOUNT_ID})"
  exec "$@" --var "CLOUDFLARE_GRAPHQL_URL:${CLOUDFLARE_GRAPHQL_URL}" \
    --var "CLOUDFLARE_ACCOUNT_ID:${CLOUDFLARE_ACCOUNT_ID}" --var "CLOUDFLARE_API_TOKEN:${CLOUDFLARE_API_TOKEN}"
fi

fifo=$(mktemp -u)
mkfifo "$fifo"
node tools/graphql-standin.mjs --port 0 --print-env >"$fifo" &
standin=$!
trap 'kill "$standin" 2>/dev/null || true; rm -f "$fifo"' EXIT INT TERM
exec 3<"$fifo"
declare -A env
for _ in 1 2 3; do
  IFS= read -r line <&3
  env[${line%%=*}]=${line#*=}
done
echo "account analytics: local stand-in ${env[CLOUDFLARE_GRAPHQL_URL]} (a generated account; set CLOUDFLARE_GRAPHQL_URL, CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN for a real one)"
"$@" --var "CLOUDFLARE_GRAPHQL_URL:${env[CLOUDFLARE_GRAPHQL_URL]}" \
  --var "CLOUDFLARE_ACCOUNT_ID:${env[CLOUDFLARE_ACCOUNT_ID]}" --var "CLOUDFLARE_API_TOKEN:${env[CLOUDFLARE_API_TOKEN]}"
