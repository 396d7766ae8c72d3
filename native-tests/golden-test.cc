// Runs every golden case, testdata/golden/<command>/<case>.in.json -> .out.json, through the
// engine built natively. The Worker tests run the same files through r2watch.wasm: two builds,
// one answer. Set R2W_UPDATE_GOLDEN=1 to rewrite the .out.json files from this build.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {
namespace {

namespace fs = std::filesystem;
using json = r2w::Json;

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct GoldenCase {
  std::string command;
  fs::path input;
};

std::vector<GoldenCase> all_cases() {
  std::vector<GoldenCase> cases;
  for (const auto& dir : fs::directory_iterator(R2W_GOLDEN_DIR)) {
    if (!dir.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(dir.path())) {
      std::string name = file.path().filename().string();
      if (name.size() > 8 && name.ends_with(".in.json")) {
        cases.push_back({dir.path().filename().string(), file.path()});
      }
    }
  }
  std::sort(cases.begin(), cases.end(),
            [](const auto& a, const auto& b) { return a.input < b.input; });
  return cases;
}

TEST(Golden, ThereAreCasesForEveryCommandDirectory) { EXPECT_GE(all_cases().size(), 10u); }

TEST(Golden, EveryCaseGivesItsRecordedAnswer) {
  bool update = std::getenv("R2W_UPDATE_GOLDEN") != nullptr;
  for (const GoldenCase& c : all_cases()) {
    SCOPED_TRACE(c.input.string());
    // A fresh engine at time 0 for every case, exactly as the Worker test does.
    Engine engine(TimePoint{});
    engine.call(c.command, read_file(c.input), TimePoint{});
    fs::path out_path = c.input;
    out_path.replace_filename(
        c.input.filename().string().substr(0, c.input.filename().string().size() - 8) +
        ".out.json");
    // An answer may carry raw texts behind a NUL byte (account_ingest's rows): the JSON answer
    // is what comes before it, as the Worker's golden runner reads it.
    std::string_view answer = engine.output();
    answer = answer.substr(0, answer.find('\0'));
    json actual = json::parse(answer);
    if (update) {
      std::ofstream(out_path) << actual.dump(2) << "\n";
      continue;
    }
    ASSERT_TRUE(fs::exists(out_path)) << "missing " << out_path;
    json expected = json::parse(read_file(out_path), nullptr, false);
    ASSERT_FALSE(expected.is_discarded());
    EXPECT_EQ(actual.dump(), expected.dump());
  }
}

}  // namespace
}  // namespace r2w::bindings
