// The C ABI of cost-model.wasm, the browser build of the cost engine (Emscripten), which the
// dashboard uses to compute its what-if figures with the same code as the Worker's API. Only the
// cost commands (cost-commands.cc) are reachable: the page has no breaker, rollups or health.
// Every function is total: bad input gives an {"error": ...} answer, never a trap.
#include <emscripten/emscripten.h>

#include <string>
#include <string_view>

#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace {

using r2w::bindings::CommandHandler;
using r2w::bindings::Engine;

// The cost commands take no state from the engine; one instance serves every call.
Engine& engine() {
  static Engine instance(r2w::from_epoch_ms(0));
  return instance;
}

std::string& output() {
  static std::string text;
  return text;
}

CommandHandler find_cost_command(std::string_view name) {
  for (const auto& e : r2w::bindings::cost_commands()) {
    if (e.name == name) return e.handler;
  }
  return nullptr;
}

}  // namespace

extern "C" {

// Runs the cost command `command` (NUL-terminated) on the JSON text `input` at `now_ms` (which
// picks the current month where a command needs one). Returns 1 on success and 0 on an error
// answer; either way the answer is at r2w_cost_output() until the next call.
EMSCRIPTEN_KEEPALIVE int r2w_cost_call(const char* command, const char* input, double now_ms) {
  std::string_view name(command ? command : "");
  int64_t ms = now_ms == now_ms && now_ms > 0 && now_ms < 9.0e15 ? static_cast<int64_t>(now_ms) : 0;
  return r2w::bindings::run_command(find_cost_command(name), engine(), name,
                                    std::string_view(input ? input : ""), r2w::from_epoch_ms(ms),
                                    output())
             ? 1
             : 0;
}

// The last answer of r2w_cost_call, NUL-terminated UTF-8 JSON.
EMSCRIPTEN_KEEPALIVE const char* r2w_cost_output() { return output().c_str(); }

}  // extern "C"
