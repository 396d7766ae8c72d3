#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::metrics {

struct Tally {
  uint64_t objects = 0;
  uint64_t bytes = 0;
};

// What a walk of the bucket listing has counted so far. The walk is resumable: the state
// (with the listing cursor kept by the Worker) is saved between cron runs, and a walk that
// reaches the end of the listing becomes a snapshot.
struct Inventory {
  static constexpr size_t kLargestKept = 10;
  static constexpr size_t kMaxGroups = 1'000;  // further prefixes / types count as "~other"

  TimePoint started;
  Tally total;
  // By the prefix as its owner sees it: the first path segment of the key inside the user's
  // namespace ("users/alice/photos/a.jpg" -> "photos"), or of the key itself outside any
  // namespace; "(root)" for none. Every user's objects would otherwise be one "users" row.
  std::map<std::string, Tally> by_prefix;
  // Objects under "users/<id>/": per user, and per user and prefix (at most kMaxGroups pairs;
  // further pairs count as "~other" / "~other").
  std::map<std::string, Tally> by_user;
  std::map<std::string, std::map<std::string, Tally>> by_user_prefix;
  std::map<std::string, Tally> by_content_type;  // "unknown" when not set
  // Per top-level prefix of the bucket key ("users" for every user's objects) and storage class
  // ("standard" | "infrequent_access"): what storage costs are computed from (a user's part is
  // split out of "users" by what each stored, see core/cost/user-share.h).
  std::map<std::string, std::map<std::string, Tally>> by_prefix_class;
  std::vector<std::pair<std::string, uint64_t>> largest;  // biggest first

  // Adds one page of the listing: [{"key", "size", "content_type"?, "storage_class"?}, ...]
  // (R2's storage class names "Standard" / "InfrequentAccess"; absent means Standard). Objects
  // under the
  // reserved prefix (r2watch's own probes) are not counted. Refused whole on bad input.
  Status add_page(const r2w::Json& objects);

  r2w::Json to_json() const;
  static Result<Inventory> from_json(const r2w::Json& j);
};

// The first path segment of a key: "photos/2026/a.jpg" -> "photos"; "a.jpg" -> "(root)".
std::string key_prefix(std::string_view key);

// A bucket key under a user's namespace ("users/<id>/<key>"): the user and the key inside it;
// unset for keys outside every namespace (or with an empty user id).
struct UserKey {
  std::string user;
  std::string_view key;
};
std::optional<UserKey> split_user_key(std::string_view bucket_key);

// Growth from snapshots [{"taken_at_ms", "objects", "bytes"}, ...] (any order): the latest,
// and its change against the newest snapshot at least 1, 7 and 30 days older (absent when
// there is none), in bytes, objects and percent of bytes.
r2w::Json storage_growth(const r2w::Json& snapshots);

}  // namespace r2w::metrics
