#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/common/result.h"

namespace r2w::storage {

// Keys under this prefix belong to r2watch itself (health probes) and are refused to users.
inline constexpr std::string_view kReservedPrefix = ".r2watch/";
// R2 refuses keys longer than 1,024 bytes.
inline constexpr size_t kMaxKeyBytes = 1024;
inline constexpr uint32_t kDefaultListLimit = 100;
inline constexpr uint32_t kMaxListLimit = 1000;

// Checks an object key a user sent: 1..1,024 bytes of valid UTF-8, no control characters, no
// leading "/", no "." or ".." path segments, nothing under the reserved prefix. The error
// names `field`.
std::optional<Error> validate_key(std::string_view key, std::string_view field = "key");

// A listing request from query-string values, checked.
struct ListQuery {
  std::string prefix;
  std::string cursor;
  uint32_t limit = kDefaultListLimit;
};

// `limit` arrives as text from a query string: decimal digits, 1..1,000. `prefix` follows the
// key rules except that it may be empty; `cursor` is opaque but bounded.
Result<ListQuery> parse_list_query(std::optional<std::string_view> prefix,
                                   std::optional<std::string_view> cursor,
                                   std::optional<std::string_view> limit);

// The storage API's routes, by the query parameters each takes (every one takes ?user=, an
// admin's way to act for a user): an object (PUT, DELETE: none else), the listing (?prefix,
// ?cursor, ?limit), the start of a multipart upload (POST ?uploads), and the uploads and their
// parts (none else).
enum class StorageRoute : uint8_t { kObject, kList, kUploadStart, kUploads };

// Refuses the first of a request's query parameter `names` that `route` does not take:
// "invalid_query" naming it ("unknown query parameter <name>").
std::optional<Error> check_query_names(StorageRoute route, std::span<const std::string> names);

// GET /api/storage/uploads lists at most this many of the caller's open uploads, oldest first.
inline constexpr uint32_t kMaxListedUploads = 1000;

}  // namespace r2w::storage
