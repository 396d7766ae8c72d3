#!/usr/bin/env bash
# Every test of r2watch: clang-format, native GoogleTest (CTest), a short libFuzzer run of every
# parsing export, the wasm build, the Worker tests inside workerd (golden cases through the
# .wasm, storage API, breaker, metrics, costs, alerts, security, backup/restore, dev server), then
# the dashboard in headless Chromium and the CLI against the Worker served locally.
# Ends with one summary line: "make test: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
started=$(date +%s)

step() { echo; echo "== $*"; }

# node_suite TITLE PATH...: runs node's test runner on PATHs and adds its counts (a run that
# fails without reporting a failed test counts as one failure).
node_suite() {
  step "$1"
  shift
  local out status n_pass n_fail
  out=$(node --test --test-concurrency=1 "$@" 2>&1)
  status=$?
  echo "$out" | grep -E "^not ok|^# (tests|pass|fail)"
  if ((status != 0)); then echo "$out" | grep -B2 -A30 "^not ok" | head -n 200; fi
  n_pass=$(echo "$out" | sed -nE 's/^# pass ([0-9]+)/\1/p' | tail -n 1)
  n_fail=$(echo "$out" | sed -nE 's/^# fail ([0-9]+)/\1/p' | tail -n 1)
  passed=$((passed + ${n_pass:-0}))
  failed=$((failed + ${n_fail:-1}))
  ((status == 0)) || ((${n_fail:-1} > 0)) || failed=$((failed + 1))
}

step "clang-format"
if make --no-print-directory format-check; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

step "native build and GoogleTest (CTest)"
if make --no-print-directory native >build-native.log 2>&1 || { cat build-native.log; false; }; then
  out=$(cd build/native && ctest --output-on-failure -j2 2>&1)
  echo "$out" | grep -E "tests passed|Failed|\*\*\*" | tail -n 20
  n_pass=$(echo "$out" | sed -nE 's/.* ([0-9]+) tests failed out of ([0-9]+)/\2 \1/p' | awk '{print $1-$2}')
  n_fail=$(echo "$out" | sed -nE 's/.* ([0-9]+) tests failed out of ([0-9]+)/\1/p')
  passed=$((passed + ${n_pass:-0}))
  failed=$((failed + ${n_fail:-1}))
else
  failed=$((failed + 1))
fi
rm -f build-native.log

step "fuzz smoke run (libFuzzer, ASan+UBSan; make fuzz for a long run)"
if tools/fuzz.sh "${FUZZ_SMOKE_SECONDS:-8}"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

step "wasm builds (Worker, and the cost model for the page), dashboard and Worker bundle"
if make --no-print-directory worker; then
  passed=$((passed + 1))
  step "wasm size budgets (WASM_GZIP_BUDGET, CONSOLE_WASM_GZIP_BUDGET in the Makefile)"
  if make --no-print-directory wasm-size; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  node_suite "Worker tests in workerd (node --test)" worker-shim/test/
  node_suite "Dashboard (headless Chromium) and CLI against the local Worker (node --test)" dashboard/test/ cli/test/
else
  failed=$((failed + 1))
fi

echo
echo "took $(( $(date +%s) - started )) s"
echo "make test: ${passed} passed, ${failed} failed"
((failed == 0))
