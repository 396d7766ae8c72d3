// Commands that check storage API input: object keys and listing queries.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/common/json-fields.h"
#include "core/storage/object-key.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using nlohmann::json;

namespace {

// {"key": "..."} -> the same key when it is acceptable for the storage API.
Result<json> storage_check_key(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string key;
  r.read_string("key", key);
  if (auto err = r.finish()) return *err;
  if (auto err = storage::validate_key(key)) return *err;
  return json{{"key", key}};
}

// Query-string values (all strings, all optional) -> {"prefix", "cursor", "limit"}.
Result<json> storage_list_query(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::optional<std::string> fields[3];
  const char* names[3] = {"prefix", "cursor", "limit"};
  for (int i = 0; i < 3; ++i) {
    if (r.has(names[i])) {
      std::string value;
      r.read_string(names[i], value);
      fields[i] = value;
    }
  }
  if (auto err = r.finish()) return *err;
  auto q = storage::parse_list_query(fields[0], fields[1], fields[2]);
  if (!q.ok()) return q.error();
  return json{
      {"prefix", q.value().prefix}, {"cursor", q.value().cursor}, {"limit", q.value().limit}};
}

}  // namespace

std::span<const CommandEntry> storage_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"storage_check_key", &storage_check_key},
      {"storage_list_query", &storage_list_query},
  };
  return kCommands;
}

}  // namespace r2w::bindings
