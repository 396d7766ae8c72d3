#pragma once

#include "core/common/time.h"

namespace r2w::testing {

// A clock the test moves by hand: the core never reads one of its own.
class FakeClock {
 public:
  explicit FakeClock(int64_t start_ms = 1'700'000'000'000) : now_(from_epoch_ms(start_ms)) {}
  TimePoint now() const { return now_; }
  TimePoint advance(int64_t ms) { return now_ += Duration(ms); }
  TimePoint set(int64_t ms) { return now_ = from_epoch_ms(ms); }

 private:
  TimePoint now_;
};

}  // namespace r2w::testing
