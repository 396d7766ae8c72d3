#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.h"

namespace r2w {

// Every state r2watch stores (a latency sketch, the fault plan, an inventory walk) carries the
// version of its schema, written as "version". A stored form without one predates versions and
// is version 1; a version this build does not know is refused rather than misread.
inline constexpr uint32_t kUnversionedState = 1;

// An "invalid_field" Error (HTTP 422) naming `field` ("version", or "latency.version" ...) when
// `version` is not one `what` can read (1..current).
inline std::optional<Error> check_state_version(std::string_view what, uint64_t version,
                                                uint32_t current, std::string field = "version") {
  if (version >= 1 && version <= current) return std::nullopt;
  return Error{.code = "invalid_field",
               .message = std::string(what) + " version " + std::to_string(version) +
                          " is not supported (this build reads versions 1 to " +
                          std::to_string(current) + ")",
               .field = std::move(field)};
}

}  // namespace r2w
