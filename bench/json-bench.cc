// r2w::Json (wasm-bindings/codec/json.h) beside nlohmann/json on the same text, natively: parse
// and dump of a ~1 MB document shaped like the account collector's GraphQL answers and the
// metrics merges (arrays of small objects: strings, integers, doubles). The new type must not
// be slower than the one it replaced. `make bench` runs it.
#include <benchmark/benchmark.h>

#include <string>

#include "wasm-bindings/codec/json.h"

#ifdef R2W_BENCH_NLOHMANN
#include <nlohmann/json.hpp>
#endif

namespace {

const std::string& document() {
  static const std::string text = [] {
    r2w::Json rows = r2w::Json::array();
    for (int i = 0; i < 6000; ++i) {
      rows.push_back({{"dimensions",
                       {{"bucketName", "bucket-" + std::to_string(i % 37)},
                        {"actionType", i % 3 ? "GetObject" : "PutObject"},
                        {"datetimeHour", "2026-11-30T" + std::to_string(i % 24) + ":00:00Z"}}},
                      {"sum", {{"requests", 1000 + i * 7}, {"responseBytes", 123456789ull * i}}},
                      {"avg", {{"latency_ms", 12.5 + i * 0.01}, {"ratio", 0.001 * (i % 1000)}}},
                      {"ok", i % 5 != 0},
                      {"note", nullptr}});
    }
    return r2w::Json{{"data", {{"viewer", {{"accounts", {{{"rows", rows}}}}}}}}}.dump();
  }();
  return text;
}

void BM_ParseR2wJson(benchmark::State& state) {
  const std::string& text = document();
  for (auto _ : state) benchmark::DoNotOptimize(r2w::Json::parse(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseR2wJson);

void BM_DumpR2wJson(benchmark::State& state) {
  r2w::Json j = r2w::Json::parse(document());
  for (auto _ : state) benchmark::DoNotOptimize(j.dump());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * document().size()));
}
BENCHMARK(BM_DumpR2wJson);

#ifdef R2W_BENCH_NLOHMANN
void BM_ParseNlohmannJson(benchmark::State& state) {
  const std::string& text = document();
  for (auto _ : state) benchmark::DoNotOptimize(nlohmann::json::parse(text, nullptr, false));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseNlohmannJson);

void BM_DumpNlohmannJson(benchmark::State& state) {
  nlohmann::json j = nlohmann::json::parse(document(), nullptr, false);
  for (auto _ : state) benchmark::DoNotOptimize(j.dump());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * document().size()));
}
BENCHMARK(BM_DumpNlohmannJson);
#endif

}  // namespace
