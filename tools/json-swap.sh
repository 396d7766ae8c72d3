#!/usr/bin/env bash
# Swaps nlohmann::json for r2watch's own JSON type (r2w::Json, wasm-bindings/codec/json.h) in the
# C++ sources: core, wasm-bindings, native-tests, fuzz, bench. Idempotent: run it again after a
# merge brings new uses of nlohmann (it changes nothing when none is left) and it reformats only
# the files it changed. The rewrites:
#   #include <nlohmann/json.hpp>  -> #include "wasm-bindings/codec/json.h" (dropped if present)
#   nlohmann::ordered_json        -> r2w::OrderedJson (insertion-ordered objects, log lines)
#   using nlohmann::json;         -> using json = r2w::Json;
#   nlohmann::json                -> r2w::Json
# and the call sites that used nlohmann's implicit conversions (r2w::Json has none):
#   s.error_rate_pct = j["error_rate_pct"];  -> ... = j["error_rate_pct"].get<double>();
#   cond ? in["nonce"] : ""                  -> cond ? in["nonce"].get<std::string>() : ""
# bench/json-bench.cc compares the two types and keeps nlohmann on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."

CODEC_INCLUDE='#include "wasm-bindings/codec/json.h"'
changed=()
while IFS= read -r -d '' file; do
  case "$file" in
    wasm-bindings/codec/json.h | wasm-bindings/codec/json.cc | bench/json-bench.cc) continue ;;
  esac
  # Implicit conversions (Json converts only through get<T>()).
  if grep -qE 's\.error_rate_pct = j\["error_rate_pct"\];|\? [a-z_]+\["[a-z_]+"\] : ""' "$file"; then
    sed -i -E -e 's/(s\.error_rate_pct = j\["error_rate_pct"\]);/\1.get<double>();/' \
      -e 's/\? ([a-z_]+\["[a-z_]+"\]) : ""/? \1.get<std::string>() : ""/g' "$file"
    changed+=("$file")
  fi
  grep -qE 'nlohmann::|<nlohmann/' "$file" || continue
  if grep -qF "$CODEC_INCLUDE" "$file"; then
    sed -i '/^#include <nlohmann\/json\.hpp>$/d' "$file"
  else
    sed -i "s|^#include <nlohmann/json\.hpp>\$|${CODEC_INCLUDE}|" "$file"
  fi
  sed -i -E \
    -e 's/\bnlohmann::ordered_json\b/r2w::OrderedJson/g' \
    -e 's/^(\s*)using nlohmann::json;/\1using json = r2w::Json;/' \
    -e 's/\bnlohmann::json\b/r2w::Json/g' \
    "$file"
  [[ " ${changed[*]} " == *" $file "* ]] || changed+=("$file")
done < <(find core wasm-bindings native-tests fuzz bench \( -name '*.cc' -o -name '*.h' \) -print0 | sort -z)

if ((${#changed[@]})); then
  clang-format -i "${changed[@]}"
  echo "json-swap: ${#changed[@]} files rewritten"
else
  echo "json-swap: nothing to rewrite"
fi
left=$(grep -rlE 'nlohmann::|<nlohmann/' core wasm-bindings native-tests fuzz bench \
  --include='*.cc' --include='*.h' | grep -vx 'bench/json-bench.cc' || true)
if [[ -n "$left" ]]; then
  echo "json-swap: nlohmann is still named in:" >&2
  echo "$left" >&2
  exit 1
fi
