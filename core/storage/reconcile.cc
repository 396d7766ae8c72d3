#include "core/storage/reconcile.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "core/metrics/inventory.h"
#include "core/storage/user-namespace.h"

namespace r2w::storage {

std::string record_r2_key(const ObjectRecord& r) { return user_namespace(r.user_id) + r.key; }

bool in_range(const ListingRange& range, const std::string& r2_key) {
  if (range.after && !(r2_key > *range.after)) return false;
  if (range.through && r2_key > *range.through) return false;
  return true;
}

namespace {

// "users/<id>/<key>" -> (id, key); nothing for keys outside a user's namespace.
std::optional<std::pair<std::string, std::string>> split_user_key(std::string_view r2_key) {
  if (!r2_key.starts_with(kUsersPrefix)) return std::nullopt;
  std::string_view rest = r2_key.substr(kUsersPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
    return std::nullopt;
  }
  return std::make_pair(std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1)));
}

}  // namespace

ReconcilePlan reconcile_page(const std::vector<ListedObject>& listed,
                             const std::vector<ObjectRecord>& records, const ListingRange& range,
                             TimePoint listed_at) {
  ReconcilePlan plan;
  std::set<std::string> users;
  std::map<std::pair<std::string, std::string>, const ObjectRecord*> by_key;
  for (const ObjectRecord& r : records) {
    if (in_range(range, record_r2_key(r))) by_key[{r.user_id, r.key}] = &r;
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const ListedObject& o : listed) {
    auto user_key = split_user_key(o.r2_key);
    if (!user_key) continue;
    seen.insert(*user_key);
    auto it = by_key.find(*user_key);
    if (it != by_key.end() && (it->second->size == o.size || it->second->updated_at >= listed_at)) {
      continue;
    }
    plan.upserts.push_back({.user_id = user_key->first,
                            .key = user_key->second,
                            .r2_key = o.r2_key,
                            .size = o.size,
                            .prefix = metrics::key_prefix(user_key->second)});
    users.insert(user_key->first);
  }
  for (const auto& [user_key, record] : by_key) {
    if (seen.contains(user_key) || record->updated_at >= listed_at) continue;
    plan.deletes.push_back(
        {.user_id = user_key.first, .key = user_key.second, .r2_key = record_r2_key(*record)});
    users.insert(user_key.first);
  }
  plan.users.assign(users.begin(), users.end());
  return plan;
}

}  // namespace r2w::storage
