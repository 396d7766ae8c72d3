#pragma once

#include <chrono>

#include "core/common/time.h"

namespace r2w::ops {

// How long the daily job keeps event tables that only record history (no rollup reads them):
// rows older than this, by their own time, are deleted. Other tables' periods live with their
// domain (metrics/sampling.h, health/monitor-config.h, ops/jobs.h); docs/operations.md,
// "Tables and retention", lists them all.
//
// circuit_breaker_events (at_ms): the breaker's transitions [90 days]; its current state is in
// circuit_breaker_state and is never deleted.
inline constexpr Duration kBreakerEventRetention = std::chrono::hours(24 * 90);
// security_events (last_at_ms): repeated failed authentications and other abuse [90 days].
inline constexpr Duration kSecurityEventRetention = std::chrono::hours(24 * 90);

struct EventCutoffs {
  TimePoint breaker_events_before;
  TimePoint security_events_before;
};

inline EventCutoffs event_cutoffs(TimePoint now) {
  return {.breaker_events_before = now - kBreakerEventRetention,
          .security_events_before = now - kSecurityEventRetention};
}

}  // namespace r2w::ops
