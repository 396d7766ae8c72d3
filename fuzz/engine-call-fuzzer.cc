// libFuzzer target: Engine::call, the one JSON entry point of r2watch.wasm (r2w_call). The input
// is "<command name>\n<JSON input>": the command is taken from the input, so every command of
// every domain is reached, including unknown ones. Each input gets a fresh engine with a JWT
// secret configured (so the authentication commands run their whole path).
//
// Checked besides crashes, leaks and undefined behaviour: every answer is a JSON object, and an
// error answer is {"error": {"code", "message", ...}}.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/engine.h"

namespace {

constexpr int64_t kNowMs = 1'750'000'000'000;

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view command = newline == std::string_view::npos ? input : input.substr(0, newline);
  std::string_view body =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  r2w::bindings::Engine engine(r2w::from_epoch_ms(kNowMs));
  engine.call("security_configure",
              R"({"vars":{},"jwt_secret":"fuzz-secret-fuzz-secret-fuzz-secret-0123"})",
              r2w::from_epoch_ms(kNowMs));
  bool ok = engine.call(command, body, r2w::from_epoch_ms(kNowMs));

  auto answer = r2w::Json::parse(engine.output(), nullptr, false);
  check(!answer.is_discarded() && answer.is_object());
  if (!ok) {
    auto it = answer.find("error");
    check(it != answer.end() && it->is_object() && it->contains("code") && it->contains("message"));
  }
  return 0;
}
