#!/usr/bin/env bash
# Fuzzes every wasm export that parses input, natively with libFuzzer (clang 14, address and
# undefined-behaviour sanitizers, leak detection on), starting from the seed corpus in
# fuzz/corpus/<target>/.
#
#   tools/fuzz.sh [SECONDS]   each target for SECONDS (default 8: the smoke run of `make test`)
#   FUZZ_MERGE=1 tools/fuzz.sh 300   `make fuzz`: longer, and new interesting inputs are merged
#                                    into fuzz/corpus/ (review and commit them)
#
# A crash, leak, sanitizer report or timeout stops the run with the reproducer saved under
# build/fuzz/artifacts/ (replay: build/fuzz/r2w_fuzz_<target> <file>). Ends with a line per
# target: runs, seconds, corpus size.
set -uo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-8}
TARGETS=(engine-call hot-path token)
declare -A MAX_LEN=([engine-call]=65536 [hot-path]=4096 [token]=8192)
JOBS=${JOBS:-2}

if ! cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++-14 -DR2W_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Debug >build/fuzz-configure.log 2>&1; then
  cat build/fuzz-configure.log
  exit 1
fi
if ! cmake --build build/fuzz -j"$JOBS" >build/fuzz-build.log 2>&1; then
  grep -E "error|Error" -A5 build/fuzz-build.log | head -n 60
  exit 1
fi

mkdir -p build/fuzz/artifacts
status=0
summary=()
for t in "${TARGETS[@]}"; do
  work=$(mktemp -d)
  log=build/fuzz/$t.log
  # New inputs go to the scratch directory (first); the committed seeds are only read.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    build/fuzz/r2w_fuzz_"$t" "$work" "fuzz/corpus/$t" \
      -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -max_len="${MAX_LEN[$t]}" -print_final_stats=1 \
      -artifact_prefix=build/fuzz/artifacts/"$t"- >"$log" 2>&1
  rc=$?
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -n 1)
  corpus=$(( $(ls "$work" | wc -l) + $(ls "fuzz/corpus/$t" | wc -l) ))
  if ((rc != 0)); then
    status=1
    echo "fuzz $t: FAILED (exit $rc); reproducer in build/fuzz/artifacts/"
    grep -E "ERROR|runtime error|SUMMARY|Test unit written" "$log" | head -n 10
  fi
  if [[ ${FUZZ_MERGE:-0} == 1 && $rc == 0 ]]; then
    build/fuzz/r2w_fuzz_"$t" -merge=1 "fuzz/corpus/$t" "$work" -max_len="${MAX_LEN[$t]}" \
      >>"$log" 2>&1
  fi
  rm -rf "$work"
  summary+=("fuzz $t: ${runs:-0} runs in ${SECONDS_PER_TARGET} s, corpus ${corpus} inputs, exit $rc")
done
printf '%s\n' "${summary[@]}"
exit $status
