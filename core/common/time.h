#pragma once

#include <chrono>
#include <cstdint>

namespace r2w {

// Time inside the core is always a typed value handed in by the caller; nothing here reads a
// clock. `TimePoint` counts milliseconds since the Unix epoch, as JavaScript's Date.now() does.
using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

inline TimePoint from_epoch_ms(int64_t ms) { return TimePoint(Duration(ms)); }
inline int64_t to_epoch_ms(TimePoint t) { return t.time_since_epoch().count(); }

}  // namespace r2w
