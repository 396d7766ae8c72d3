// Commands that check storage API input: object keys and listing queries.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/common/json-fields.h"
#include "core/metrics/inventory.h"
#include "core/security/access.h"
#include "core/storage/content-type.h"
#include "core/storage/object-key.h"
#include "core/storage/reconcile.h"
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

// A string or null member of `in` (absent counts as null).
Result<std::optional<std::string>> optional_string(const json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return invalid_field(name, std::string(name) + " must be a string or null");
  return std::optional<std::string>(it->get<std::string>());
}

Result<uint64_t> count_member(const json& o, const char* name, const std::string& at) {
  auto it = o.find(name);
  if (it == o.end() || !it->is_number_integer() || it->get<int64_t>() < 0) {
    return invalid_field(at + "." + name, at + "." + name + " must be a non-negative integer");
  }
  return it->get<uint64_t>();
}

json fixes_json(const std::vector<storage::RecordFix>& fixes, bool with_size) {
  json out = json::array();
  for (const auto& f : fixes) {
    json j = {{"user_id", f.user_id}, {"key", f.key}, {"r2_key", f.r2_key}};
    if (with_size) {
      j["size"] = f.size;
      j["prefix"] = f.prefix;
    }
    out.push_back(std::move(j));
  }
  return out;
}

// One page of the inventory against the stored-object records of its key range:
// {"objects": [{"key", "size"}], "records": [{"user_id", "key", "size", "updated_at_ms"}],
//  "after": key|null, "through": key|null, "listed_at_ms"} -> {"upserts": [{"user_id", "key",
// "r2_key", "size", "prefix"}], "deletes": [{"user_id", "key", "r2_key"}], "users": [...]}.
Result<json> storage_reconcile_page(Engine&, const json& in, TimePoint) {
  FieldReader r(in);
  bool has_objects = r.has("objects");
  bool has_records = r.has("records");
  r.has("after");
  r.has("through");
  Duration listed_at{0};
  r.read_duration("listed_at_ms", listed_at, Duration(0), Duration(INT64_C(8'640'000'000'000'000)));
  if (auto err = r.finish()) return *err;
  if (!has_objects || !in["objects"].is_array()) {
    return invalid_field("objects", "objects must be a list");
  }
  if (!has_records || !in["records"].is_array()) {
    return invalid_field("records", "records must be a list");
  }
  storage::ListingRange range;
  auto after = optional_string(in, "after");
  if (!after.ok()) return after.error();
  auto through = optional_string(in, "through");
  if (!through.ok()) return through.error();
  range.after = after.value();
  range.through = through.value();
  std::vector<storage::ListedObject> listed;
  for (size_t i = 0; i < in["objects"].size(); ++i) {
    const json& o = in["objects"][i];
    std::string at = "objects[" + std::to_string(i) + "]";
    if (!o.is_object() || !o.contains("key") || !o["key"].is_string()) {
      return invalid_field(at + ".key", at + ".key must be a string");
    }
    auto size = count_member(o, "size", at);
    if (!size.ok()) return size.error();
    listed.push_back({.r2_key = o["key"].get<std::string>(), .size = size.value()});
  }
  std::vector<storage::ObjectRecord> records;
  for (size_t i = 0; i < in["records"].size(); ++i) {
    const json& o = in["records"][i];
    std::string at = "records[" + std::to_string(i) + "]";
    if (!o.is_object() || !o.contains("user_id") || !o["user_id"].is_string() ||
        !o.contains("key") || !o["key"].is_string()) {
      return invalid_field(at, at + " must have user_id and key strings");
    }
    auto size = count_member(o, "size", at);
    if (!size.ok()) return size.error();
    auto updated = count_member(o, "updated_at_ms", at);
    if (!updated.ok()) return updated.error();
    records.push_back({.user_id = o["user_id"].get<std::string>(),
                       .key = o["key"].get<std::string>(),
                       .size = size.value(),
                       .updated_at = from_epoch_ms(static_cast<int64_t>(updated.value()))});
  }
  auto plan = storage::reconcile_page(listed, records, range, TimePoint(listed_at));
  return json{{"upserts", fixes_json(plan.upserts, true)},
              {"deletes", fixes_json(plan.deletes, false)},
              {"users", plan.users}};
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
      {"storage_reconcile_page", &storage_reconcile_page},
      {"storage_object_headers", &storage_object_headers},
  };
  return kCommands;
}

}  // namespace r2w::bindings
