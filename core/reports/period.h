#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::reports {

// Which calendar period a report covers (UTC).
enum class ReportType : uint8_t { kDaily, kWeekly, kMonthly };
inline constexpr ReportType kAllReportTypes[] = {ReportType::kDaily, ReportType::kWeekly,
                                                 ReportType::kMonthly};
std::string_view report_type_name(ReportType t);  // "daily", "weekly", "monthly"
std::optional<ReportType> parse_report_type(std::string_view name);

// One closed calendar period: a day, an ISO week (Monday to Sunday) or a month.
struct Period {
  ReportType type = ReportType::kDaily;
  std::string label;  // "2026-11-29", "2026-W48" (ISO 8601 week), "2026-11"
  CivilDate first;    // its first day
  CivilDate last;     // its last day
  uint32_t days = 1;
  TimePoint start;  // 00:00 UTC of `first`
  TimePoint end;    // 00:00 UTC of the day after `last` (exclusive)
};

// The moment a report of `p` made at `now` stands at (its budgets as they were then): the
// period's last millisecond, or `now` for a period that has not ended yet.
TimePoint report_as_of(const Period& p, TimePoint now);

// 0 = Monday .. 6 = Sunday.
uint32_t weekday(CivilDate d);

// The period of `type` holding the day `d`.
Period period_holding(ReportType type, CivilDate d);
// The last period of `type` that has ended at `now`: yesterday, the week that ended on the
// last Sunday, last month.
Period closed_period(ReportType type, TimePoint now);
// The reports a daily run at `now` makes, each of its closed period: the daily one always,
// the weekly one when `now` falls on a Monday (the week just ended), the monthly one on the
// 1st (the month just ended). A run later the same day makes the same list.
std::vector<Period> due_periods(TimePoint now);
// A period from its label ("YYYY-MM-DD", "YYYY-Www" with week 01..53 of that ISO year,
// "YYYY-MM"); an error naming `field` otherwise. A period that has not ended at `now` is
// allowed (a report of the period so far).
Result<Period> parse_period(ReportType type, std::string_view label, std::string_view field);
// The period just before `p` (same type).
Period previous_period(const Period& p);

// Where the report's JSON lives in the bucket: ".r2watch/reports/<type>/<label>.json", and the
// latest usage snapshot: ".r2watch/metrics/r2_usage.json".
std::string report_object_key(const Period& p);
inline constexpr std::string_view kUsageSnapshotKey = ".r2watch/metrics/r2_usage.json";

}  // namespace r2w::reports
