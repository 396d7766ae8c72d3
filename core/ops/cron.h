#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::ops {

// A cron expression as Cloudflare's Cron Triggers take it (five fields, UTC): minute (0-59),
// hour (0-23), day of month (1-31), month (1-12), day of week (0-7, 0 and 7 both Sunday). Each
// field is `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a comma list of those.
// When both day fields are restricted, a day matches either (as in every cron). Cloudflare's
// `L`, `W` and `#` forms and month or day names are refused as unsupported.
struct CronExpr {
  std::string text;
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bit 0 unused
  std::bitset<13> months;         // bit 0 unused
  std::bitset<7> days_of_week;    // 0 = Sunday
  bool any_day_of_month = true;
  bool any_day_of_week = true;
};

// Parses `text`; an unsupported or malformed expression is an "invalid_field" Error naming
// `field` and what is wrong.
Result<CronExpr> parse_cron(std::string_view text, std::string_view field = "cron");

// True when the schedule fires at the minute that contains `t`.
bool fires_at(const CronExpr& cron, TimePoint t);

// The first firing strictly after `t` (at a whole minute). Every valid expression fires at
// least once in any 8 years, so this always answers.
TimePoint next_fire(const CronExpr& cron, TimePoint t);

// The last firing at or before `t`, or nothing within the 8 years before it.
std::optional<TimePoint> previous_fire(const CronExpr& cron, TimePoint t);

// The schedule's period around `t`: the gap between the two firings after the last one at or
// before `t` (a month for a monthly job, a minute for `* * * * *`).
Duration nominal_interval(const CronExpr& cron, TimePoint t);

}  // namespace r2w::ops
