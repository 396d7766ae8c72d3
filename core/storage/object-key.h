#pragma once

#include <cstdint>
#include <optional>
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

}  // namespace r2w::storage
