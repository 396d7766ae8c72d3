#pragma once

#include <cstdint>
#include <optional>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::cost {

// The days whose usage a cost command needs, decided from `now` (the Worker reads them, it
// does not work them out).

// A billing month to date: its first day to `as_of` (the month's last day, or today in the
// current month). `end` is the instant after as_of's day.
struct MonthWindow {
  YearMonth month;
  CivilDate first;
  CivilDate as_of;
  TimePoint start;
  TimePoint end;
};

// The month asked (default: the month of `now`) to date. A month after now's is refused
// (code "invalid_query", field "month").
Result<MonthWindow> billing_month(std::optional<YearMonth> asked, TimePoint now);
// The month of `as_of` from its first day to as_of (a report's month).
MonthWindow month_to(CivilDate as_of);

// The anomaly check's usage: the `kAnomalyUsageDays` days before `date`, and `date` (the
// baseline may reach into the previous month; its longest default is 7 days). Shared by the
// cost anomaly route and the cost-anomaly alert.
inline constexpr uint32_t kAnomalyUsageDays = 14;
struct DayWindow {
  CivilDate first;
  CivilDate last;
  TimePoint start;
  TimePoint end;  // the instant after `last`'s day
};
DayWindow anomaly_usage_window(CivilDate date);

// The instant a day starts.
TimePoint start_of(CivilDate d);

}  // namespace r2w::cost
