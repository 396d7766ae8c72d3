// Commands that check storage API input: object keys and listing queries.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/common/json-fields.h"
#include "core/metrics/inventory.h"
#include "core/security/access.h"
#include "core/storage/content-type.h"
#include "core/storage/object-key.h"
#include "core/storage/user-namespace.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::bindings {

using nlohmann::json;

namespace {

// The namespace of "user" when the input names one (checked), else "" (r2watch's own calls).
Result<std::string> namespace_of(FieldReader& r) {
  std::string user;
  if (!r.has("user")) return std::string();
  r.read_string("user", user);
  if (!r.ok()) return std::string();
  if (auto err = security::validate_user_id(user, "user")) return *err;
  return storage::user_namespace(user);
}

// {"key": "...", "user"?: id} -> the key when it is acceptable for the storage API, and
// "r2_key": where it lives in the bucket (under the user's namespace when a user is named), and
// "prefix": the key's first path segment, as the metrics series and the cost attribution name it.
Result<json> storage_check_key(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string key;
  r.read_string("key", key);
  auto ns = namespace_of(r);
  if (auto err = r.finish()) return *err;
  if (!ns.ok()) return ns.error();
  if (auto err = storage::validate_key(key)) return *err;
  return json{{"key", key}, {"r2_key", ns.value() + key}, {"prefix", metrics::key_prefix(key)}};
}

// Query-string values (all strings, all optional) and "user"? -> {"prefix", "cursor", "limit",
// "namespace", "r2_prefix"} (the listing prefix inside the user's namespace).
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
  auto ns = namespace_of(r);
  if (auto err = r.finish()) return *err;
  if (!ns.ok()) return ns.error();
  auto q = storage::parse_list_query(fields[0], fields[1], fields[2]);
  if (!q.ok()) return q.error();
  return json{{"prefix", q.value().prefix},
              {"cursor", q.value().cursor},
              {"limit", q.value().limit},
              {"namespace", ns.value()},
              {"r2_prefix", ns.value() + q.value().prefix}};
}

// {"content_type": text | null} -> {"active", "headers"}: the headers every object response
// adds: X-Content-Type-Options: nosniff always, Content-Disposition: attachment for an active
// type (core/storage/content-type.h; no type at all counts as active).
Result<json> storage_object_headers(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  std::string type;
  bool given = r.has("content_type") && !in["content_type"].is_null();
  if (given) r.read_string("content_type", type);
  if (auto err = r.finish()) return *err;
  bool active = storage::is_active_content_type(type);
  json headers = {{"x-content-type-options", "nosniff"}};
  if (active) headers["content-disposition"] = "attachment";
  return json{{"active", active}, {"headers", headers}};
}

}  // namespace

std::span<const CommandEntry> storage_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"storage_check_key", &storage_check_key},
      {"storage_list_query", &storage_list_query},
      {"storage_object_headers", &storage_object_headers},
  };
  return kCommands;
}

}  // namespace r2w::bindings
