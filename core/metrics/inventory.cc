#include "core/metrics/inventory.h"

#include <algorithm>

#include "core/storage/object-key.h"
#include "core/storage/user-namespace.h"

namespace r2w::metrics {

namespace {

void tally(std::map<std::string, Tally>& groups, const std::string& name, uint64_t size) {
  auto it = groups.find(name);
  if (it == groups.end()) {
    if (groups.size() >= Inventory::kMaxGroups)
      it = groups.try_emplace("~other").first;
    else
      it = groups.try_emplace(name).first;
  }
  it->second.objects++;
  it->second.bytes += size;
}

r2w::Json groups_to_json(const std::map<std::string, Tally>& groups) {
  r2w::Json j = r2w::Json::object();
  for (const auto& [name, t] : groups) j[name] = {{"objects", t.objects}, {"bytes", t.bytes}};
  return j;
}

bool groups_from_json(const r2w::Json& j, std::map<std::string, Tally>& out) {
  if (!j.is_object()) return false;
  for (const auto& [name, t] : j.items()) {
    if (!t.is_object() || !t.contains("objects") || !t["objects"].is_number_unsigned() ||
        !t.contains("bytes") || !t["bytes"].is_number_unsigned()) {
      return false;
    }
    out[name] = Tally{t["objects"].get<uint64_t>(), t["bytes"].get<uint64_t>()};
  }
  return true;
}

}  // namespace

std::optional<UserKey> split_user_key(std::string_view bucket_key) {
  if (!bucket_key.starts_with(storage::kUsersPrefix)) return std::nullopt;
  std::string_view rest = bucket_key.substr(storage::kUsersPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return UserKey{.user = std::string(rest.substr(0, slash)), .key = rest.substr(slash + 1)};
}

std::string key_prefix(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0) return "(root)";
  return std::string(key.substr(0, slash));
}

Status Inventory::add_page(const r2w::Json& objects) {
  if (!objects.is_array()) return invalid_field("objects", "objects must be an array");
  for (size_t i = 0; i < objects.size(); ++i) {
    const auto& o = objects[i];
    std::string at = "objects[" + std::to_string(i) + "]";
    if (!o.is_object() || !o.contains("key") || !o["key"].is_string()) {
      return invalid_field(at + ".key", at + ".key must be a string");
    }
    if (!o.contains("size") || !o["size"].is_number_integer() || o["size"].get<int64_t>() < 0) {
      return invalid_field(at + ".size", at + ".size must be a non-negative integer");
    }
    if (o.contains("storage_class") && !o["storage_class"].is_string() &&
        !o["storage_class"].is_null()) {
      return invalid_field(at + ".storage_class", at + ".storage_class must be a string");
    }
    if (o.contains("content_type") && !o["content_type"].is_string() &&
        !o["content_type"].is_null()) {
      return invalid_field(at + ".content_type", at + ".content_type must be a string");
    }
  }
  size_t user_prefix_pairs = 0;
  for (const auto& [user, prefixes] : by_user_prefix) user_prefix_pairs += prefixes.size();
  for (const auto& o : objects) {
    std::string key = o["key"].get<std::string>();
    if (key.starts_with(storage::kReservedPrefix)) continue;
    uint64_t size = o["size"].get<uint64_t>();
    std::string type = o.contains("content_type") && o["content_type"].is_string() &&
                               !o["content_type"].get<std::string>().empty()
                           ? o["content_type"].get<std::string>()
                           : "unknown";
    total.objects++;
    total.bytes += size;
    auto owned = split_user_key(key);
    tally(by_prefix, key_prefix(owned ? owned->key : std::string_view(key)), size);
    if (owned) {
      tally(by_user, owned->user, size);
      std::string inside = key_prefix(owned->key);
      auto known = by_user_prefix.find(owned->user);
      bool seen = known != by_user_prefix.end() && known->second.contains(inside);
      bool room = seen || user_prefix_pairs < kMaxGroups;
      if (!seen && room) user_prefix_pairs++;
      Tally& t = room ? by_user_prefix[owned->user][inside] : by_user_prefix["~other"]["~other"];
      t.objects++;
      t.bytes += size;
    }
    tally(by_content_type, type, size);
    std::string r2_class = o.contains("storage_class") && o["storage_class"].is_string()
                               ? o["storage_class"].get<std::string>()
                               : "";
    std::string storage_class = r2_class == "InfrequentAccess" ? "infrequent_access" : "standard";
    std::string prefix = key_prefix(key);
    if (!by_prefix_class.contains(prefix) && by_prefix_class.size() >= kMaxGroups) {
      prefix = "~other";  // capped like by_prefix
    }
    Tally& t = by_prefix_class[prefix][storage_class];
    t.objects++;
    t.bytes += size;
    largest.emplace_back(key, size);
  }
  std::stable_sort(largest.begin(), largest.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (largest.size() > kLargestKept) largest.resize(kLargestKept);
  return Ok{};
}

r2w::Json Inventory::to_json() const {
  r2w::Json prefix_classes = r2w::Json::object();
  for (const auto& [prefix, classes] : by_prefix_class) {
    prefix_classes[prefix] = groups_to_json(classes);
  }
  r2w::Json user_prefixes = r2w::Json::object();
  for (const auto& [user, prefixes] : by_user_prefix) {
    user_prefixes[user] = groups_to_json(prefixes);
  }
  r2w::Json top = r2w::Json::array();
  for (const auto& [key, size] : largest) top.push_back({{"key", key}, {"size", size}});
  return {{"started_at_ms", to_epoch_ms(started)},
          {"objects", total.objects},
          {"bytes", total.bytes},
          {"by_prefix", groups_to_json(by_prefix)},
          {"by_user", groups_to_json(by_user)},
          {"by_user_prefix", user_prefixes},
          {"by_content_type", groups_to_json(by_content_type)},
          {"by_prefix_class", prefix_classes},
          {"largest", top}};
}

Result<Inventory> Inventory::from_json(const r2w::Json& j) {
  auto bad = [](const char* field) {
    return Error{.code = "invalid_inventory",
                 .message = std::string("inventory field ") + field + " is missing or malformed",
                 .field = field};
  };
  Inventory inv;
  if (!j.is_object()) return bad("inventory");
  if (!j.contains("started_at_ms") || !j["started_at_ms"].is_number_integer()) {
    return bad("started_at_ms");
  }
  inv.started = from_epoch_ms(j["started_at_ms"].get<int64_t>());
  if (!j.contains("objects") || !j["objects"].is_number_unsigned()) return bad("objects");
  if (!j.contains("bytes") || !j["bytes"].is_number_unsigned()) return bad("bytes");
  inv.total = Tally{j["objects"].get<uint64_t>(), j["bytes"].get<uint64_t>()};
  if (!j.contains("by_prefix") || !groups_from_json(j["by_prefix"], inv.by_prefix)) {
    return bad("by_prefix");
  }
  if (!j.contains("by_content_type") ||
      !groups_from_json(j["by_content_type"], inv.by_content_type)) {
    return bad("by_content_type");
  }
  // Absent in snapshots taken before users were counted.
  if (j.contains("by_user") && !groups_from_json(j["by_user"], inv.by_user)) return bad("by_user");
  if (j.contains("by_user_prefix")) {
    if (!j["by_user_prefix"].is_object()) return bad("by_user_prefix");
    for (const auto& [user, prefixes] : j["by_user_prefix"].items()) {
      if (!groups_from_json(prefixes, inv.by_user_prefix[user])) return bad("by_user_prefix");
    }
  }
  if (j.contains("by_prefix_class")) {
    if (!j["by_prefix_class"].is_object()) return bad("by_prefix_class");
    for (const auto& [prefix, classes] : j["by_prefix_class"].items()) {
      if (!groups_from_json(classes, inv.by_prefix_class[prefix])) return bad("by_prefix_class");
    }
  }
  if (!j.contains("largest") || !j["largest"].is_array()) return bad("largest");
  for (const auto& l : j["largest"]) {
    if (!l.is_object() || !l.contains("key") || !l["key"].is_string() || !l.contains("size") ||
        !l["size"].is_number_unsigned()) {
      return bad("largest");
    }
    inv.largest.emplace_back(l["key"].get<std::string>(), l["size"].get<uint64_t>());
  }
  return inv;
}

r2w::Json storage_growth(const r2w::Json& snapshots) {
  struct Snap {
    int64_t at;
    uint64_t objects, bytes;
  };
  std::vector<Snap> snaps;
  if (snapshots.is_array()) {
    for (const auto& s : snapshots) {
      if (s.is_object() && s.contains("taken_at_ms") && s["taken_at_ms"].is_number_integer() &&
          s.contains("objects") && s["objects"].is_number_unsigned() && s.contains("bytes") &&
          s["bytes"].is_number_unsigned()) {
        snaps.push_back({s["taken_at_ms"].get<int64_t>(), s["objects"].get<uint64_t>(),
                         s["bytes"].get<uint64_t>()});
      }
    }
  }
  std::sort(snaps.begin(), snaps.end(), [](const Snap& a, const Snap& b) { return a.at < b.at; });
  if (snaps.empty()) return {{"latest", nullptr}, {"changes", r2w::Json::object()}};
  const Snap& latest = snaps.back();
  r2w::Json changes = r2w::Json::object();
  for (auto [name, days] : {std::pair{"1d", 1}, std::pair{"7d", 7}, std::pair{"30d", 30}}) {
    int64_t cutoff = latest.at - static_cast<int64_t>(days) * 86'400'000;
    const Snap* base = nullptr;
    for (const Snap& s : snaps) {
      if (s.at <= cutoff) base = &s;
    }
    if (!base) {
      changes[name] = nullptr;
      continue;
    }
    int64_t db = static_cast<int64_t>(latest.bytes) - static_cast<int64_t>(base->bytes);
    int64_t dobj = static_cast<int64_t>(latest.objects) - static_cast<int64_t>(base->objects);
    changes[name] = {{"since_ms", base->at},
                     {"bytes_delta", db},
                     {"objects_delta", dobj},
                     {"bytes_pct", base->bytes ? r2w::Json(static_cast<double>(db) * 100.0 /
                                                           static_cast<double>(base->bytes))
                                               : r2w::Json(nullptr)}};
  }
  return {{"latest",
           {{"taken_at_ms", latest.at}, {"objects", latest.objects}, {"bytes", latest.bytes}}},
          {"changes", changes}};
}

}  // namespace r2w::metrics
