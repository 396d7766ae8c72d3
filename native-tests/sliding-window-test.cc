#include "core/breaker/sliding-window.h"

#include <gtest/gtest.h>

#include "native-tests/test-clock.h"

namespace r2w::breaker {
namespace {

TEST(CountWindow, KeepsOnlyTheLastNCalls) {
  SlidingWindow w(
      Options{.window_type = WindowType::kCountBased, .window_size_calls = 3, .minimum_calls = 1});
  TimePoint t{};
  w.record(t, /*failed=*/true, /*slow=*/true);
  w.record(t, false, false);
  w.record(t, false, false);
  EXPECT_EQ(w.totals(t).failures, 1u);
  w.record(t, false, false);  // pushes out the failed, slow call
  WindowTotals totals = w.totals(t);
  EXPECT_EQ(totals.calls, 3u);
  EXPECT_EQ(totals.failures, 0u);
  EXPECT_EQ(totals.slow_calls, 0u);
}

TEST(TimeWindow, DropsABucketOnceItIsAWholeWindowOld) {
  Options o{.monitoring_window = Duration(10'000), .window_bucket = Duration(1'000)};
  SlidingWindow w(o);
  testing::FakeClock clock(1'000'000);  // aligned to a bucket start
  w.record(clock.now(), true, false);
  clock.advance(9'999);  // still inside the window (bucket 1,000,000..1,000,999 is 10th newest)
  EXPECT_EQ(w.totals(clock.now()).calls, 1u);
  clock.advance(1);  // now 1,010,000: that bucket left the window
  EXPECT_EQ(w.totals(clock.now()).calls, 0u);
}

TEST(TimeWindow, ReusesASlotWithoutMixingOldCalls) {
  Options o{.monitoring_window = Duration(2'000), .window_bucket = Duration(1'000)};
  SlidingWindow w(o);
  testing::FakeClock clock(0);
  w.record(clock.now(), true, false);
  clock.advance(2'000);  // same ring slot, new bucket
  w.record(clock.now(), false, false);
  WindowTotals t = w.totals(clock.now());
  EXPECT_EQ(t.calls, 1u);
  EXPECT_EQ(t.failures, 0u);
}

TEST(TimeWindow, HandlesTimesBeforeTheEpoch) {
  Options o{.monitoring_window = Duration(2'000), .window_bucket = Duration(1'000)};
  SlidingWindow w(o);
  w.record(from_epoch_ms(-1), true, false);
  EXPECT_EQ(w.totals(from_epoch_ms(-1)).failures, 1u);
  EXPECT_EQ(w.totals(from_epoch_ms(999)).failures, 1u);
  EXPECT_EQ(w.totals(from_epoch_ms(1'000)).failures, 0u);
}

TEST(SlidingWindow, RestoresWhatItSaved) {
  for (Options o :
       {Options{.window_type = WindowType::kCountBased, .window_size_calls = 4, .minimum_calls = 1},
        Options{}}) {
    SlidingWindow w(o);
    testing::FakeClock clock;
    for (int i = 0; i < 6; ++i) {
      w.record(clock.now(), i % 2 == 0, i % 3 == 0);
      clock.advance(7'000);
    }
    SlidingWindow back(o);
    ASSERT_TRUE(back.restore(w.to_json()));
    WindowTotals a = w.totals(clock.now()), b = back.totals(clock.now());
    EXPECT_EQ(a.calls, b.calls);
    EXPECT_EQ(a.failures, b.failures);
    EXPECT_EQ(a.slow_calls, b.slow_calls);
    EXPECT_EQ(back.to_json(), w.to_json());
  }
}

TEST(SlidingWindow, RefusesDataOfAnotherShape) {
  SlidingWindow count(
      Options{.window_type = WindowType::kCountBased, .window_size_calls = 2, .minimum_calls = 1});
  SlidingWindow time(Options{});
  time.record(TimePoint{}, true, false);
  EXPECT_FALSE(count.restore(time.to_json()));
  r2w::Json too_long = {{"type", "count_based"}, {"calls", {0, 1, 2}}};
  EXPECT_FALSE(count.restore(too_long));
  r2w::Json bad_flags = {{"type", "count_based"}, {"calls", {9}}};
  EXPECT_FALSE(count.restore(bad_flags));
  EXPECT_EQ(count.totals(TimePoint{}).calls, 0u);
}

}  // namespace
}  // namespace r2w::breaker
