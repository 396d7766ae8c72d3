# r2watch: `make dev` starts it locally, `make test` runs every test. Both install what is
# missing first (Debian packages when run as root, npm packages from the lockfile).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8787
JOBS ?= 2
# Local D1 and R2 for `make dev` live here (wrangler's default).
DEV_STATE ?= .wrangler/state

export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false
export CI ?=
# ccache (installed by tools/ensure-deps.sh): one cache for every checkout of the project.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

WASM := build/wasm/r2watch.wasm
CONSOLE_WASM := build/wasm/r2watch-console.wasm
# The most each wasm module may weigh gzipped. r2watch.wasm (the request path) is fetched and
# compiled by every isolate on a cold start: at most 120 KB (issue #14). r2watch-console.wasm
# (dashboard, admin API, crons; instantiated on the first command only it answers) is held at
# its figure after the kept alert round and the account day sums landed (333,178), rounded up,
# so it cannot grow silently either.
# `make wasm-size` (a step of `make test`) fails above either.
WASM_GZIP_BUDGET ?= 122880
# +2,048 (views, #16): the account's month read as day rows summed by class (account_reads' grouping, classed rows).
# +4,096 bytes: the day's work in steps (core/ops/daily.h: daily_start, daily_next, day_rollup_step, jobs_status's daily_work) and the backup step's table cursors.
# +1,024 (alertcpu): alert_cost_figures, the check-alerts round's bill and anomaly reading the account's rows once.
# +1,024 (report2): report_fold, a weekly or monthly report's operations folded a day a step.
CONSOLE_WASM_GZIP_BUDGET ?= 348160
# The cost engine for the browser (Emscripten) and the dashboard the Worker serves at /.
COST_MODEL := build/browser/cost-model.wasm
DASHBOARD := dashboard/dist/index.html
DASHBOARD_SOURCES := $(shell find dashboard/src -type f) dashboard/build.mjs
WRANGLER := npx --no-install wrangler
CORE_SOURCES := $(shell find core wasm-bindings -name '*.cc' -o -name '*.h') CMakeLists.txt cmake/wasm32-wasi.cmake
SHIM_SOURCES := $(shell find worker-shim/src -type f) wrangler.toml

.PHONY: help deps native wasm cost-model dashboard demo worker test test-dashboard test-native \
        test-worker wasm-size format-check format dev migrate-local dev-bootstrap bench deploy clean fuzz load

help:
	@echo "make dev     start r2watch locally on 127.0.0.1:$(PORT) (local D1 and R2)"
	@echo "make test    run every test (native, wasm golden, Worker in workerd)"
	@echo "make bench   run the native and JavaScript benchmarks"
	@echo "make wasm    build $(WASM)"
	@echo "make dashboard  build the dashboard (dashboard/dist) and its cost model (Emscripten)"
	@echo "make demo    start r2watch and send it a few minutes of traffic (PORT=$(PORT))"
	@echo "make fuzz    fuzz the wasm exports for FUZZ_SECONDS (300) each"
	@echo "make load    load-test a local Worker with wrk for DURATION (20) seconds"
	@echo "make deploy  deploy to Cloudflare (ENV=production, the default, or ENV=staging)"

deps:
	@tools/ensure-deps.sh

native: deps
	@cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build/native -j$(JOBS) >build/native-build.log 2>&1 || (cat build/native-build.log; exit 1)

build/native-release/r2w_bench: $(CORE_SOURCES) bench/breaker-bench.cc bench/json-bench.cc
	@cmake -S . -B build/native-release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build/native-release -j$(JOBS) --target r2w_bench

$(WASM): $(CORE_SOURCES)
	@cmake -S . -B build/wasm -DCMAKE_TOOLCHAIN_FILE=cmake/wasm32-wasi.cmake \
	  -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build/wasm -j$(JOBS) >build/wasm-build.log 2>&1 || (cat build/wasm-build.log; exit 1)
	@echo "r2watch.wasm: $$(stat -c %s $(WASM)) bytes, $$(gzip -9c $(WASM) | wc -c) gzipped;" \
	  "r2watch-console.wasm: $$(stat -c %s $(CONSOLE_WASM)) bytes, $$(gzip -9c $(CONSOLE_WASM) | wc -c) gzipped"

wasm: deps $(WASM)

# Each module's size beside its budget, their total, and no printf family function linked (the
# link maps build/wasm/<module>.map name every function, the modules themselves have no names).
wasm-size: wasm
	@total=0; for m in $(WASM):$(WASM_GZIP_BUDGET) $(CONSOLE_WASM):$(CONSOLE_WASM_GZIP_BUDGET); do \
	  file=$${m%%:*}; budget=$${m##*:}; map=$${file%.wasm}.map; \
	  bytes=$$(stat -c %s $$file); gzipped=$$(gzip -9c $$file | wc -c); total=$$((total + gzipped)); \
	  echo "$$(basename $$file): $$bytes bytes, $$gzipped gzipped (budget $$budget; link map $$map)"; \
	  if grep -qE 'libc\.a\([a-z_]*printf\.o\)|printf_core' $$map; then \
	    echo "$$(basename $$file) links printf:"; grep -E 'libc\.a\([a-z_]*printf\.o\)|printf_core' $$map | head; exit 1; fi; \
	  if ((gzipped > budget)); then echo "$$(basename $$file) is over its budget"; exit 1; fi; \
	done; echo "both modules: $$total gzipped"

# Emscripten's JS tools need Debian's node modules (acorn, ...) on NODE_PATH.
$(COST_MODEL): $(CORE_SOURCES)
	@mkdir -p build
	@NODE_PATH=/usr/share/nodejs emcmake cmake -S . -B build/browser -DCMAKE_BUILD_TYPE=Release \
	  >build/browser-configure.log 2>&1 || (cat build/browser-configure.log; exit 1)
	@NODE_PATH=/usr/share/nodejs cmake --build build/browser -j$(JOBS) --target cost-model \
	  >build/browser-build.log 2>&1 || (cat build/browser-build.log; exit 1)
	@echo "cost-model.wasm: $$(stat -c %s $(COST_MODEL)) bytes, $$(gzip -9c $(COST_MODEL) | wc -c) gzipped"

cost-model: deps $(COST_MODEL)

$(DASHBOARD): $(COST_MODEL) $(DASHBOARD_SOURCES)
	@node dashboard/build.mjs >build/dashboard-build.log 2>&1 || (cat build/dashboard-build.log; exit 1)
	@echo "dashboard: app.js $$(stat -c %s dashboard/dist/app.js) bytes, $$(gzip -9c dashboard/dist/app.js | wc -c) gzipped"

dashboard: deps $(DASHBOARD)

build/worker/index.js: $(WASM) $(SHIM_SOURCES) $(DASHBOARD)
	@rm -rf build/worker
	@$(WRANGLER) deploy --dry-run --env="" --outdir build/worker >build/worker-bundle.log 2>&1 \
	  || (cat build/worker-bundle.log; exit 1)

worker: deps build/worker/index.js

test-native: native
	@cd build/native && ctest --output-on-failure -j$(JOBS) 2>&1 | tail -n 4

test-worker: worker
	@node --test --test-concurrency=1 worker-shim/test/

test-dashboard: worker
	@node --test --test-concurrency=1 dashboard/test/ cli/test/

format-check: deps
	@clang-format --dry-run --Werror $$(find core wasm-bindings native-tests bench -name '*.cc' -o -name '*.h') \
	  && echo "clang-format: clean"

format:
	@clang-format -i $$(find core wasm-bindings native-tests bench -name '*.cc' -o -name '*.h')

test: deps
	@tools/run-tests.sh

migrate-local: deps
	@CI=true $(WRANGLER) d1 migrations apply DB --local --persist-to $(DEV_STATE) --env="" >/dev/null
	@echo "local D1 migrated ($(DEV_STATE))"

# Prints the local admin token (and makes .dev.vars's JWT_SECRET on first run).
dev-bootstrap: deps
	@node tools/dev-bootstrap.mjs --persist-to $(DEV_STATE)

# The crons of wrangler.toml run on their schedule through the Worker's scheduled handler,
# driven by tools/dev-scheduler.mjs (wrangler 4.86 fires no cron locally; see docs/operations.md).
SCHEDULER = node tools/dev-scheduler.mjs --url http://127.0.0.1:$(PORT) --token-file $(DEV_STATE)/admin-token

# tools/with-account.sh: the account's figures come from a local stand-in for Cloudflare's GraphQL
# API unless CLOUDFLARE_GRAPHQL_URL, CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN are set.
dev: wasm dashboard migrate-local dev-bootstrap
	@echo "r2watch on http://127.0.0.1:$(PORT)  (Ctrl-C stops it)"
	@$(SCHEDULER) & scheduler=$$!; trap 'kill $$scheduler 2>/dev/null' EXIT; \
	  tools/with-account.sh $(WRANGLER) dev --ip 127.0.0.1 --port $(PORT) --persist-to $(DEV_STATE) --env="" \
	  --show-interactive-dev-session=false

# `make dev` plus a few minutes of traffic and the jobs the crons run (tools/demo.mjs), so every
# panel of http://127.0.0.1:$(PORT)/ fills within a minute.
demo: wasm dashboard migrate-local dev-bootstrap
	@echo "r2watch demo on http://127.0.0.1:$(PORT)/  (Ctrl-C stops it)"
	@node tools/demo.mjs --wait --url http://127.0.0.1:$(PORT) --minutes $${DEMO_MINUTES:-3} \
	  --token "$$(cat $(DEV_STATE)/admin-token)" & \
	  $(SCHEDULER) & scheduler=$$!; trap 'kill $$scheduler 2>/dev/null' EXIT; \
	  tools/with-account.sh $(WRANGLER) dev --ip 127.0.0.1 --port $(PORT) --persist-to $(DEV_STATE) --env="" \
	    --show-interactive-dev-session=false

bench: deps build/native-release/r2w_bench build/worker/index.js
	@build/native-release/r2w_bench --benchmark_min_time=0.2
	@node bench/js/breaker-overhead.mjs
	@node bench/js/metrics-ingest.mjs
	@node bench/js/status-page.mjs
	@node bench/js/history-server-time.mjs
	@node bench/js/scale.mjs
	@node bench/js/dashboard-cpu.mjs
	@node bench/js/cron-cpu.mjs
	@node bench/js/alerts-eval.mjs
	@node bench/js/alert-cron-cpu.mjs
	@node bench/js/account-collector.mjs
	@node bench/js/archive.mjs
	@node bench/js/request-path.mjs
	@node bench/js/report-build.mjs

# ENV: an environment of wrangler.toml (production or staging). Migrations first: they are
# forward-only, so the code being replaced must work with the new schema (docs/operations.md).
ENV ?= production
deploy: wasm dashboard
	@case "$(ENV)" in production|staging) ;; *) echo "ENV must be production or staging"; exit 2;; esac
	@$(WRANGLER) d1 migrations apply DB --remote --env $(ENV)
	@$(WRANGLER) deploy --env $(ENV)

# Fuzzes every parsing export for FUZZ_SECONDS each and merges new inputs into fuzz/corpus/.
FUZZ_SECONDS ?= 300
fuzz: deps
	@FUZZ_MERGE=1 tools/fuzz.sh $(FUZZ_SECONDS)

# wrk against a local Worker for DURATION seconds (default 20); checks the rollups afterwards.
load: deps
	@tools/load-test.sh

clean:
	rm -rf build
