#pragma once

#include <cstdint>

#include "core/common/time.h"

namespace r2w::health {

// The limits of the health API's list queries (GET /api/health/history, /alerts,
// /circuit-breaker/events): how many rows one page may hold, the default page, how far a
// page may start.
struct PageLimits {
  int64_t default_limit = 50;
  int64_t max_limit = 1'000;
  int64_t max_offset = 1'000'000;
};
inline constexpr PageLimits kPageLimits{};

// The time range of GET /api/health/metrics: the last `hours` hours (default a day, at most a
// leap year).
inline constexpr int64_t kDefaultMetricsHours = 24;
inline constexpr int64_t kMaxMetricsHours = 24 * 366;

struct TimeRange {
  TimePoint since;
  TimePoint until;
};
inline TimeRange last_hours(int64_t hours, TimePoint now) {
  return {.since = now - Duration(hours * 3'600'000), .until = now};
}

// How many of the breaker's latest transitions GET /api/health/circuit-breaker shows.
inline constexpr int64_t kRecentBreakerTransitions = 20;

}  // namespace r2w::health
