#include "core/reports/period.h"

#include <algorithm>

namespace r2w::reports {

namespace {

constexpr int64_t kDayMs = 86'400'000;

TimePoint midnight(CivilDate d) { return from_epoch_ms(days_since_epoch(d) * kDayMs); }

std::string two_digits(uint32_t n) {
  return std::string(1, static_cast<char>('0' + n / 10)) + static_cast<char>('0' + n % 10);
}

// The Monday of ISO week 1 of `year`: the week holding 4 January.
CivilDate week_one_monday(int32_t year) {
  CivilDate jan4{year, 1, 4};
  return add_days(jan4, -static_cast<int64_t>(weekday(jan4)));
}

Period make(ReportType type, CivilDate first, CivilDate last) {
  Period p;
  p.type = type;
  p.first = first;
  p.last = last;
  p.days = static_cast<uint32_t>(days_since_epoch(last) - days_since_epoch(first) + 1);
  p.start = midnight(first);
  p.end = midnight(add_days(last, 1));
  switch (type) {
    case ReportType::kDaily:
      p.label = format_date(first);
      break;
    case ReportType::kMonthly:
      p.label = format_year_month(month_of(first));
      break;
    case ReportType::kWeekly: {
      // The ISO year and week are those of the week's Thursday.
      CivilDate thursday = add_days(first, 3);
      int64_t week =
          (days_since_epoch(first) - days_since_epoch(week_one_monday(thursday.year))) / 7 + 1;
      p.label = std::to_string(thursday.year) + "-W" + two_digits(static_cast<uint32_t>(week));
      break;
    }
  }
  return p;
}

}  // namespace

std::string_view report_type_name(ReportType t) {
  switch (t) {
    case ReportType::kDaily:
      return "daily";
    case ReportType::kWeekly:
      return "weekly";
    case ReportType::kMonthly:
      return "monthly";
  }
  return "daily";
}

std::optional<ReportType> parse_report_type(std::string_view name) {
  for (ReportType t : kAllReportTypes) {
    if (report_type_name(t) == name) return t;
  }
  return std::nullopt;
}

uint32_t weekday(CivilDate d) {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  int64_t w = (days_since_epoch(d) + 3) % 7;
  return static_cast<uint32_t>(w < 0 ? w + 7 : w);
}

Period period_holding(ReportType type, CivilDate d) {
  switch (type) {
    case ReportType::kDaily:
      return make(type, d, d);
    case ReportType::kWeekly: {
      CivilDate monday = add_days(d, -static_cast<int64_t>(weekday(d)));
      return make(type, monday, add_days(monday, 6));
    }
    case ReportType::kMonthly: {
      YearMonth m = month_of(d);
      return make(type, first_day(m), CivilDate{m.year, m.month, days_in_month(m)});
    }
  }
  return make(type, d, d);
}

Period closed_period(ReportType type, TimePoint now) {
  CivilDate today = date_of(now);
  switch (type) {
    case ReportType::kDaily:
      return period_holding(type, add_days(today, -1));
    case ReportType::kWeekly:
      return period_holding(type, add_days(today, -1 - static_cast<int64_t>(weekday(today))));
    case ReportType::kMonthly:
      return period_holding(type, add_days(first_day(month_of(today)), -1));
  }
  return period_holding(type, today);
}

std::vector<Period> due_periods(TimePoint now) {
  CivilDate today = date_of(now);
  std::vector<Period> out{closed_period(ReportType::kDaily, now)};
  if (weekday(today) == 0) out.push_back(closed_period(ReportType::kWeekly, now));
  if (today.day == 1) out.push_back(closed_period(ReportType::kMonthly, now));
  return out;
}

Result<Period> parse_period(ReportType type, std::string_view label, std::string_view field) {
  std::string f(field);
  switch (type) {
    case ReportType::kDaily: {
      auto d = parse_date(label);
      if (!d) return invalid_field(f, f + " of a daily report must be a day as YYYY-MM-DD");
      return period_holding(type, *d);
    }
    case ReportType::kMonthly: {
      auto m = parse_year_month(label);
      if (!m) return invalid_field(f, f + " of a monthly report must be a month as YYYY-MM");
      return period_holding(type, first_day(*m));
    }
    case ReportType::kWeekly: {
      std::string bad = f + " of a weekly report must be an ISO week as YYYY-Www (2026-W48)";
      if (label.size() != 8 || label[4] != '-' || label[5] != 'W') return invalid_field(f, bad);
      auto year = parse_date(std::string(label.substr(0, 4)) + "-01-01");
      if (!year || label[6] < '0' || label[6] > '9' || label[7] < '0' || label[7] > '9') {
        return invalid_field(f, bad);
      }
      int week = (label[6] - '0') * 10 + (label[7] - '0');
      if (week < 1) return invalid_field(f, bad);
      Period p = period_holding(
          type, add_days(week_one_monday(year->year), static_cast<int64_t>(week - 1) * 7));
      // Week 53 exists only in some years: the label must come back unchanged.
      if (p.label != label) return invalid_field(f, f + " names a week that year does not have");
      return p;
    }
  }
  return invalid_field(f, "unknown report type");
}

Period previous_period(const Period& p) { return period_holding(p.type, add_days(p.first, -1)); }

std::string report_object_key(const Period& p) {
  return ".r2watch/reports/" + std::string(report_type_name(p.type)) + "/" + p.label + ".json";
}

TimePoint report_as_of(const Period& p, TimePoint now) {
  return std::min(p.end - Duration(1), now);
}

}  // namespace r2w::reports
