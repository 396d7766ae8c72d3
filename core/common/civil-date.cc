// Calendar arithmetic after Howard Hinnant's days_from_civil / civil_from_days algorithms.
#include "core/common/civil-date.h"

#include "core/common/format.h"

namespace r2w {

bool is_leap_year(int32_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

uint32_t days_in_month(YearMonth m) {
  static constexpr uint32_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m.month == 2 && is_leap_year(m.year)) return 29;
  return kDays[(m.month - 1) % 12];
}

int64_t days_since_epoch(CivilDate d) {
  int64_t y = static_cast<int64_t>(d.year) - (d.month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = d.month > 2 ? d.month - 3 : d.month + 9;
  int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate date_from_days(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int32_t>(y + (m <= 2 ? 1 : 0)), static_cast<uint32_t>(m),
                   static_cast<uint32_t>(d)};
}

CivilDate date_of(TimePoint t) {
  int64_t ms = to_epoch_ms(t);
  int64_t days = ms >= 0 ? ms / 86'400'000 : -((-ms + 86'399'999) / 86'400'000);
  return date_from_days(days);
}

CivilDate add_days(CivilDate d, int64_t n) { return date_from_days(days_since_epoch(d) + n); }

YearMonth next_month(YearMonth m) {
  return m.month == 12 ? YearMonth{m.year + 1, 1} : YearMonth{m.year, m.month + 1};
}

namespace {

// Reads exactly `n` decimal digits at `pos`.
std::optional<uint32_t> digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  uint32_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(s[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<YearMonth> parse_year_month(std::string_view s) {
  if (s.size() != 7 || s[4] != '-') return std::nullopt;
  auto y = digits(s, 0, 4);
  auto m = digits(s, 5, 2);
  if (!y || !m || *y < 1970 || *m < 1 || *m > 12) return std::nullopt;
  return YearMonth{static_cast<int32_t>(*y), *m};
}

std::optional<CivilDate> parse_date(std::string_view s) {
  if (s.size() != 10 || s[7] != '-') return std::nullopt;
  auto ym = parse_year_month(s.substr(0, 7));
  auto d = digits(s, 8, 2);
  if (!ym || !d || *d < 1 || *d > days_in_month(*ym)) return std::nullopt;
  return CivilDate{ym->year, ym->month, *d};
}

std::string format_date(CivilDate d) {
  std::string out;
  append_padded(out, d.year, 4);
  out.push_back('-');
  append_padded(out, d.month, 2);
  out.push_back('-');
  append_padded(out, d.day, 2);
  return out;
}

std::string format_year_month(YearMonth m) {
  std::string out;
  append_padded(out, m.year, 4);
  out.push_back('-');
  append_padded(out, m.month, 2);
  return out;
}

}  // namespace r2w
