#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/time.h"

namespace r2w {

// A calendar day (proleptic Gregorian, UTC). Nothing here reads a clock: a date comes in as
// text from the caller or is derived from a TimePoint handed in.
struct CivilDate {
  int32_t year = 1970;
  uint32_t month = 1;  // 1..12
  uint32_t day = 1;    // 1..days_in_month
  auto operator<=>(const CivilDate&) const = default;
};

// A calendar month, the billing period of R2.
struct YearMonth {
  int32_t year = 1970;
  uint32_t month = 1;  // 1..12
  auto operator<=>(const YearMonth&) const = default;
};

bool is_leap_year(int32_t year);
// 28..31.
uint32_t days_in_month(YearMonth m);
// Days since 1970-01-01 (negative before), and back.
int64_t days_since_epoch(CivilDate d);
CivilDate date_from_days(int64_t days);
// The UTC calendar day that contains `t`.
CivilDate date_of(TimePoint t);
CivilDate add_days(CivilDate d, int64_t n);
inline YearMonth month_of(CivilDate d) { return YearMonth{d.year, d.month}; }
inline CivilDate first_day(YearMonth m) { return CivilDate{m.year, m.month, 1}; }
YearMonth next_month(YearMonth m);

// "YYYY-MM-DD" and "YYYY-MM", years 1970..9999; nullopt for anything else (including days
// that do not exist, such as 2025-02-29).
std::optional<CivilDate> parse_date(std::string_view text);
std::optional<YearMonth> parse_year_month(std::string_view text);
std::string format_date(CivilDate d);
std::string format_year_month(YearMonth m);

}  // namespace r2w
