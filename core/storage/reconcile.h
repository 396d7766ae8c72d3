#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/time.h"

namespace r2w::storage {

// The stored-object records (user_objects) follow R2 by the uploads and deletes that pass
// through r2watch. Two of them on one key at once (a PUT and a DELETE racing), or a write that
// bypasses r2watch, can leave a record out of step with R2: an object counted that no longer
// exists, or bytes that escape a quota. The storage inventory walks R2's listing page by page;
// each page reconciles the records in the page's key range with what R2 listed.

// One object as R2's listing showed it (its full key in the bucket).
struct ListedObject {
  std::string r2_key;
  uint64_t size = 0;
};

// One stored-object record: the user's key (without the namespace).
struct ObjectRecord {
  std::string user_id;
  std::string key;
  uint64_t size = 0;
  TimePoint updated_at;
};

// The R2 keys one listing page covers: after `after` (exclusive; none for the first page) up to
// and including `through` (none for the last page: to the end of the bucket).
struct ListingRange {
  std::optional<std::string> after;
  std::optional<std::string> through;
};

struct RecordFix {
  std::string user_id;
  std::string key;
  std::string r2_key;
  uint64_t size = 0;   // upserts only
  std::string prefix;  // upserts only: metrics::key_prefix of the key
};

struct ReconcilePlan {
  std::vector<RecordFix> upserts;  // listed, but unrecorded or recorded with another size
  std::vector<RecordFix> deletes;  // recorded in the range, not listed
  std::vector<std::string> users;  // whose usage must be recounted (sorted, unique)
};

// Where a user's record lives in the bucket, for range checks ("users/<id>/<key>").
std::string record_r2_key(const ObjectRecord& r);

// True when `r2_key` lies in `range`.
bool in_range(const ListingRange& range, const std::string& r2_key);

// What to change so the records in `range` agree with `listed` as R2 showed it at `listed_at`.
// A record changed at or after `listed_at` is left alone (an upload or delete under way when the
// page was listed knows better), and so is every key outside the users' namespaces.
ReconcilePlan reconcile_page(const std::vector<ListedObject>& listed,
                             const std::vector<ObjectRecord>& records, const ListingRange& range,
                             TimePoint listed_at);

}  // namespace r2w::storage
