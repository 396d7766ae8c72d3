// The command registry and Engine::call, the one JSON entry point of the engine.
#include "wasm-bindings/commands.h"

#include <string>

#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using json = r2w::Json;

Error prefixed(Error e, const std::string& prefix) { return prefixed_error(std::move(e), prefix); }

// find_command: wasm-bindings/modules.cc (the commands of the module this binary is).

bool run_command(CommandHandler handler, Engine& engine, std::string_view command,
                 std::string_view input, TimePoint now, std::string& output) {
  Result<json> result = Error{};
  if (handler) {
    auto parsed = parse_json_object(input.empty() ? std::string_view("{}") : input);
    result = parsed.ok() ? handler(engine, parsed.value(), now) : Result<json>(parsed.error());
  } else {
    result = Error{.code = "unknown_command",
                   .message = "no engine command named " + std::string(command),
                   .field = ""};
  }
  if (result.ok()) {
    output = result.value().dump(-1, ' ', false, json::error_handler_t::replace);
    return true;
  }
  const Error& e = result.error();
  json err = {{"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  if (!e.problems.empty()) {
    err["errors"] = json::array();
    for (const FieldProblem& p : e.problems) {
      err["errors"].push_back({{"field", p.field}, {"message", p.message}});
    }
  }
  output = json{{"error", err}}.dump(-1, ' ', false, json::error_handler_t::replace);
  return false;
}

bool Engine::call(std::string_view command, std::string_view input, TimePoint now,
                  std::string_view attachment) {
  fold();  // the hot path's buffered calls count before anything reads the breaker or rollups
  saw(now);
  attachment_ = attachment;
  output_texts_.clear();
  bool ok = run_command(find_command(command), *this, command, input, now, output_);
  publish();
  attachment_ = {};
  for (const std::string& text : output_texts_) {
    if (!ok) break;
    output_ += '\0';
    output_ += text;
  }
  output_texts_.clear();
  return ok;
}

}  // namespace r2w::bindings
