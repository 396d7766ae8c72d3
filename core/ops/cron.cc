#include "core/ops/cron.h"

#include <charconv>
#include <vector>

#include "core/common/civil-date.h"

namespace r2w::ops {

namespace {

constexpr Duration kDay = std::chrono::hours(24);
// Every valid expression fires within this (Feb 29 on a given weekday recurs within 28 years,
// but a day-of-month OR day-of-week match always comes sooner; Feb 29 alone within 8 years).
constexpr int64_t kSearchDays = 8 * 366;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? s.npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::optional<int> number(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// One field: sets the bits of the values it names in [lo, hi]; false when malformed.
template <size_t N>
bool parse_field(std::string_view text, int lo, int hi, std::bitset<N>& bits, bool& any) {
  any = text == "*";
  for (std::string_view part : split(text, ',')) {
    int step = 1;
    std::string_view range = part;
    if (size_t slash = part.find('/'); slash != std::string_view::npos) {
      auto s = number(part.substr(slash + 1));
      if (!s || *s < 1 || *s > hi) return false;
      step = *s;
      range = part.substr(0, slash);
    }
    int from = lo;
    int to = hi;
    if (range != "*") {
      size_t dash = range.find('-');
      auto a = number(range.substr(0, dash));
      if (!a) return false;
      from = *a;
      to = *a;
      if (dash != std::string_view::npos) {
        auto b = number(range.substr(dash + 1));
        if (!b) return false;
        to = *b;
      } else if (part.find('/') != std::string_view::npos) {
        to = hi;  // "5/15": from 5 on, every 15
      }
    }
    if (from < lo || to > hi || from > to) return false;
    for (int v = from; v <= to; v += step) bits.set(static_cast<size_t>(v));
  }
  return true;
}

int64_t minutes_of(TimePoint t) {
  int64_t ms = t.time_since_epoch().count();
  return ms >= 0 ? ms / 60'000 : (ms - 59'999) / 60'000;
}

TimePoint at_minute(int64_t minute) { return from_epoch_ms(minute * 60'000); }

bool day_matches(const CronExpr& c, CivilDate d) {
  int64_t days = days_since_epoch(d);
  // 1970-01-01 was a Thursday (4).
  auto weekday = static_cast<size_t>(((days % 7) + 7 + 4) % 7);
  bool dom = c.days_of_month.test(d.day);
  bool dow = c.days_of_week.test(weekday);
  if (!c.months.test(d.month)) return false;
  if (c.any_day_of_month && c.any_day_of_week) return true;
  if (c.any_day_of_month) return dow;
  if (c.any_day_of_week) return dom;
  return dom || dow;
}

}  // namespace

Result<CronExpr> parse_cron(std::string_view text, std::string_view field) {
  auto fail = [&](std::string why) {
    return invalid_field(std::string(field),
                         std::string(field) + " " + why + " (got \"" + std::string(text) + "\")");
  };
  if (text.size() > 128) return fail("must be at most 128 characters");
  std::vector<std::string_view> fields;
  for (std::string_view f : split(text, ' ')) {
    if (!f.empty()) fields.push_back(f);
  }
  if (fields.size() != 5) return fail("must have five fields: minute hour day month weekday");
  CronExpr c;
  c.text = std::string(text);
  bool any = false;
  if (!parse_field(fields[0], 0, 59, c.minutes, any)) return fail("has a bad minute field");
  if (!parse_field(fields[1], 0, 23, c.hours, any)) return fail("has a bad hour field");
  if (!parse_field(fields[2], 1, 31, c.days_of_month, c.any_day_of_month)) {
    return fail("has a bad day-of-month field");
  }
  if (!parse_field(fields[3], 1, 12, c.months, any)) return fail("has a bad month field");
  std::bitset<8> dow;
  if (!parse_field(fields[4], 0, 7, dow, c.any_day_of_week)) {
    return fail("has a bad day-of-week field");
  }
  for (size_t i = 0; i < 7; ++i) c.days_of_week.set(i, dow.test(i));
  if (dow.test(7)) c.days_of_week.set(0);
  // A schedule that can never fire (Feb 30) is refused.
  bool possible = false;
  for (uint32_t m = 1; m <= 12 && !possible; ++m) {
    if (!c.months.test(m)) continue;
    if (!c.any_day_of_week) possible = true;
    for (uint32_t d = 1; d <= days_in_month({2024, m}) && !possible; ++d) {
      possible = c.days_of_month.test(d);
    }
  }
  if (!possible) return fail("names no day that exists");
  return c;
}

bool fires_at(const CronExpr& c, TimePoint t) {
  int64_t minute = minutes_of(t);
  int64_t in_day = ((minute % 1440) + 1440) % 1440;
  return c.minutes.test(static_cast<size_t>(in_day % 60)) &&
         c.hours.test(static_cast<size_t>(in_day / 60)) && day_matches(c, date_of(t));
}

TimePoint next_fire(const CronExpr& c, TimePoint t) {
  int64_t minute = minutes_of(t) + 1;
  int64_t day = minute >= 0 ? minute / 1440 : (minute - 1439) / 1440;
  for (int64_t d = day; d <= day + kSearchDays; ++d) {
    if (!day_matches(c, date_from_days(d))) continue;
    int64_t first = d == day ? minute - d * 1440 : 0;
    for (int64_t m = first; m < 1440; ++m) {
      if (c.hours.test(static_cast<size_t>(m / 60)) &&
          c.minutes.test(static_cast<size_t>(m % 60))) {
        return at_minute(d * 1440 + m);
      }
    }
  }
  return t + kDay * kSearchDays;  // unreachable for an expression parse_cron accepted
}

std::optional<TimePoint> previous_fire(const CronExpr& c, TimePoint t) {
  int64_t minute = minutes_of(t);
  int64_t day = minute >= 0 ? minute / 1440 : (minute - 1439) / 1440;
  for (int64_t d = day; d >= day - kSearchDays; --d) {
    if (!day_matches(c, date_from_days(d))) continue;
    int64_t last = d == day ? minute - d * 1440 : 1439;
    for (int64_t m = last; m >= 0; --m) {
      if (c.hours.test(static_cast<size_t>(m / 60)) &&
          c.minutes.test(static_cast<size_t>(m % 60))) {
        return at_minute(d * 1440 + m);
      }
    }
  }
  return std::nullopt;
}

Duration nominal_interval(const CronExpr& c, TimePoint t) {
  TimePoint first = next_fire(c, previous_fire(c, t).value_or(t));
  return next_fire(c, first) - first;
}

}  // namespace r2w::ops
