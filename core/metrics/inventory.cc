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

void Inventory::add_page(const std::vector<ListedObject>& objects) {
  size_t user_prefix_pairs = 0;
  for (const auto& [user, prefixes] : by_user_prefix) user_prefix_pairs += prefixes.size();
  for (const ListedObject& o : objects) {
    const std::string& key = o.key;
    if (key.starts_with(storage::kReservedPrefix)) continue;
    uint64_t size = o.size;
    std::string type = o.content_type && !o.content_type->empty() ? *o.content_type : "unknown";
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
    std::string storage_class =
        o.storage_class == "InfrequentAccess" ? "infrequent_access" : "standard";
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
}

Growth storage_growth(std::vector<Snapshot> snaps) {
  std::stable_sort(snaps.begin(), snaps.end(),
                   [](const Snapshot& a, const Snapshot& b) { return a.taken_at < b.taken_at; });
  Growth g;
  constexpr std::pair<std::string_view, int64_t> kWindows[] = {{"1d", 1}, {"7d", 7}, {"30d", 30}};
  if (snaps.empty()) return g;
  const Snapshot& latest = snaps.back();
  g.latest = latest;
  for (auto [name, days] : kWindows) {
    TimePoint cutoff = latest.taken_at - Duration(days * 86'400'000);
    const Snapshot* base = nullptr;
    for (const Snapshot& s : snaps) {
      if (s.taken_at <= cutoff) base = &s;
    }
    if (!base) {
      g.changes.emplace_back(name, std::nullopt);
      continue;
    }
    int64_t db = static_cast<int64_t>(latest.bytes) - static_cast<int64_t>(base->bytes);
    int64_t dobj = static_cast<int64_t>(latest.objects) - static_cast<int64_t>(base->objects);
    GrowthChange c{.since = base->taken_at, .bytes_delta = db, .objects_delta = dobj};
    if (base->bytes)
      c.bytes_pct = static_cast<double>(db) * 100.0 / static_cast<double>(base->bytes);
    g.changes.emplace_back(name, c);
  }
  return g;
}

}  // namespace r2w::metrics
