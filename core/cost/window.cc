#include "core/cost/window.h"

#include <algorithm>

namespace r2w::cost {

namespace {
constexpr int64_t kDayMs = 86'400'000;
}  // namespace

TimePoint start_of(CivilDate d) { return from_epoch_ms(days_since_epoch(d) * kDayMs); }

MonthWindow month_to(CivilDate as_of) {
  MonthWindow w;
  w.month = month_of(as_of);
  w.first = first_day(w.month);
  w.as_of = as_of;
  w.start = start_of(w.first);
  w.end = start_of(add_days(as_of, 1));
  return w;
}

Result<MonthWindow> billing_month(std::optional<YearMonth> asked, TimePoint now) {
  CivilDate today = date_of(now);
  YearMonth month = asked.value_or(month_of(today));
  if (first_day(month) > today) {
    return Error{.code = "invalid_query", .message = "month is in the future", .field = "month"};
  }
  CivilDate last{month.year, month.month, days_in_month(month)};
  return month_to(std::min(last, today));
}

DayWindow anomaly_usage_window(CivilDate date) {
  DayWindow w;
  w.first = add_days(date, -static_cast<int64_t>(kAnomalyUsageDays));
  w.last = date;
  w.start = start_of(w.first);
  w.end = start_of(add_days(date, 1));
  return w;
}

}  // namespace r2w::cost
