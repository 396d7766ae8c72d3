// Reports: calendar periods (days, ISO weeks, months; which are due on a given day), each
// section against figures worked by hand, recommendations, and the rendered bodies.
#include "core/reports/report.h"

#include <gtest/gtest.h>

#include "core/reports/period.h"
#include "core/reports/render.h"
#include "core/reports/subscription.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/codec/reports.h"

namespace r2w::reports {
namespace {

TimePoint at(const char* day, int64_t hour_ms = 0) {
  return from_epoch_ms(days_since_epoch(*parse_date(day)) * 86'400'000 + hour_ms);
}

TEST(ReportPeriod, WeeksAreIsoWeeksFromMondayToSunday) {
  Period w = period_holding(ReportType::kWeekly, *parse_date("2026-11-25"));  // a Wednesday
  EXPECT_EQ(w.label, "2026-W48");
  EXPECT_EQ(format_date(w.first), "2026-11-23");
  EXPECT_EQ(format_date(w.last), "2026-11-29");
  EXPECT_EQ(w.days, 7u);
  EXPECT_EQ(w.end - w.start, Duration(7 * 86'400'000));
  // 2021-01-01 (a Friday) is in the last week of 2020, which has 53 weeks.
  EXPECT_EQ(period_holding(ReportType::kWeekly, *parse_date("2021-01-01")).label, "2020-W53");
  // 2024-12-30 (a Monday) starts week 1 of 2025.
  EXPECT_EQ(period_holding(ReportType::kWeekly, *parse_date("2024-12-30")).label, "2025-W01");
}

TEST(ReportPeriod, LabelsParseBackAndBadOnesNameTheField) {
  for (const char* label : {"2026-W48", "2020-W53", "2025-W01"}) {
    auto p = parse_period(ReportType::kWeekly, label, "period");
    ASSERT_TRUE(p.ok()) << label;
    EXPECT_EQ(p.value().label, label);
  }
  EXPECT_EQ(format_date(parse_period(ReportType::kWeekly, "2025-W01", "period").value().first),
            "2024-12-30");
  for (const char* bad : {"2026-W54", "2026-W00", "2026-48", "2026-W4", "2025-W53"}) {
    auto p = parse_period(ReportType::kWeekly, bad, "period");
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().field, "period");
  }
  EXPECT_FALSE(parse_period(ReportType::kMonthly, "2026-13", "period").ok());
  EXPECT_FALSE(parse_period(ReportType::kDaily, "2026-02-29", "period").ok());
  Period feb = parse_period(ReportType::kMonthly, "2028-02", "period").value();
  EXPECT_EQ(feb.days, 29u);
  EXPECT_EQ(format_date(feb.last), "2028-02-29");
}

TEST(ReportPeriod, AReportStandsAtItsPeriodsLastMillisecondOrNowWhileItRuns) {
  Period nov = parse_period(ReportType::kMonthly, "2026-11", "period").value();
  // Made after the month: its last millisecond.
  EXPECT_EQ(report_as_of(nov, at("2026-12-01", 5 * 60'000)), at("2026-12-01") - Duration(1));
  // Made during the month (a report so far): now.
  EXPECT_EQ(report_as_of(nov, at("2026-11-15")), at("2026-11-15"));
  EXPECT_EQ(report_as_of(nov, nov.end - Duration(1)), nov.end - Duration(1));
}

TEST(ReportPeriod, WeeklyIsDueOnMondaysAndMonthlyOnTheFirst) {
  // Tuesday 2026-12-01: yesterday's daily and November's monthly, no weekly.
  std::vector<Period> tue = due_periods(at("2026-12-01", 5 * 60'000));
  ASSERT_EQ(tue.size(), 2u);
  EXPECT_EQ(tue[0].label, "2026-11-30");
  EXPECT_EQ(tue[1].label, "2026-11");
  // Monday 2026-11-30, any time of the day: the daily and the week just ended.
  for (int64_t ms : {int64_t{0}, int64_t{23} * 3'600'000}) {
    std::vector<Period> mon = due_periods(at("2026-11-30", ms));
    ASSERT_EQ(mon.size(), 2u);
    EXPECT_EQ(mon[0].label, "2026-11-29");
    EXPECT_EQ(mon[1].type, ReportType::kWeekly);
    EXPECT_EQ(mon[1].label, "2026-W48");
  }
  // Monday 2026-06-01: all three.
  EXPECT_EQ(due_periods(at("2026-06-01")).size(), 3u);
  // Wednesday: only the daily.
  EXPECT_EQ(due_periods(at("2026-11-25")).size(), 1u);
  EXPECT_EQ(closed_period(ReportType::kWeekly, at("2026-11-25")).label, "2026-W47");
  EXPECT_EQ(report_object_key(closed_period(ReportType::kMonthly, at("2026-11-25"))),
            ".r2watch/reports/monthly/2026-10.json");
  EXPECT_EQ(previous_period(parse_period(ReportType::kWeekly, "2026-W01", "p").value()).label,
            "2025-W52");
}

metrics::Row row(const char* bucket, const char* prefix, Operation op, TimePoint t, uint64_t calls,
                 uint64_t errors, std::vector<double> latencies, uint64_t bytes_down = 0) {
  metrics::Row r;
  r.series = {bucket, prefix, "u"};
  r.operation = op;
  r.level = metrics::Level::kHour;
  r.period_start = t;
  r.figures.calls = calls;
  r.figures.errors = errors;
  r.figures.bytes_down = bytes_down;
  for (double l : latencies) EXPECT_TRUE(r.figures.latency.add(l).ok());
  return r;
}

ReportInput week_input() {
  ReportInput in{.period = parse_period(ReportType::kWeekly, "2026-W48", "p").value()};
  in.prices = cost::default_price_list();
  TimePoint mon = at("2026-11-23", 3'600'000);
  // Two hours of gets on "data": 10 calls at 10 ms and 10 at 100 ms. Averaging each hour's
  // p99 would give 55 ms; the merged sketch's p99 is 100 ms.
  in.operations.push_back(
      row("data", "logs", Operation::kGet, mon, 10, 1, std::vector<double>(10, 10)));
  in.operations.push_back(row("data", "logs", Operation::kGet, mon + Duration(3'600'000), 10, 3,
                              std::vector<double>(10, 100)));
  in.operations.push_back(
      row("data", "logs", Operation::kPut, mon, 5, 0, std::vector<double>(5, 40)));
  // Outside the week: left out.
  in.operations.push_back(row("data", "logs", Operation::kGet, at("2026-11-30"), 1000, 1000, {1}));
  in.statuses = {{"data", 404, 7}, {"data", 500, 2}, {"other", 404, 1}, {"data", 200, 100}};
  TimePoint fired = at("2026-11-24", 0);
  in.alerts = {
      {.id = "a1",
       .name = "errors",
       .type = "error_rate",
       .severity = "high",
       .bucket = "data",
       .fired_at = fired,
       .acknowledged_at = fired + Duration(600'000),
       .resolved_at = fired + Duration(3'600'000)},
      {.id = "a2",
       .name = "latency",
       .type = "latency",
       .severity = "high",
       .bucket = "data",
       .fired_at = fired,
       .acknowledged_at = fired + Duration(1'200'000)},
      {.id = "a3",
       .name = "cost",
       .type = "cost_threshold",
       .severity = "critical",
       .fired_at = fired,
       .resolved_at = fired + Duration(7'200'000)},
      {.id = "old", .name = "old", .severity = "low", .fired_at = at("2026-11-01")},
  };
  // logs: 100 GB all week, no reads to speak of: Standard $1.50 a month, IA $1.00 + requests.
  // tmp: 1 GB growing to 3 GB.
  for (const char* d : {"2026-11-23", "2026-11-29"}) {
    in.storage.push_back({*parse_date(d), "data", "logs", 100'000'000'000});
  }
  in.storage.push_back({*parse_date("2026-11-23"), "data", "tmp", 1'000'000'000});
  in.storage.push_back({*parse_date("2026-11-29"), "data", "tmp", 3'000'000'000});
  // Another bucket known only from the account's figures.
  in.storage.push_back({*parse_date("2026-11-23"), "archive", "", 50'000'000'000});
  in.storage.push_back({*parse_date("2026-11-29"), "archive", "", 40'000'000'000});
  in.pending_uploads = {{"archive", 4}};
  in.budgets = {{"", "ok", cost::Money::micro_usd(100'000'000), {}, {}},
                {"data", "warning", cost::Money::micro_usd(10'000'000),
                 cost::Money::micro_usd(8'500'000), cost::Money::micro_usd(11'000'000)}};
  return in;
}

TEST(ReportBuild, PerformancePercentilesComeFromMergedSketches) {
  Report r = build_report(week_input());
  const Performance& p = r.performance;
  EXPECT_EQ(p.total.calls, 25u);
  EXPECT_EQ(p.total.errors, 4u);
  EXPECT_DOUBLE_EQ(p.total.error_rate_pct, 16.0);
  ASSERT_EQ(p.by_bucket_operation.size(), 2u);
  const OperationLine& get = p.by_bucket_operation[0];
  EXPECT_EQ(get.operation, "get");
  EXPECT_EQ(get.calls, 20u);
  EXPECT_DOUBLE_EQ(get.error_rate_pct, 20.0);
  EXPECT_NEAR(*get.latency.p50_ms, 10, 0.1);  // rank 9 of 20: the 10th value, 10 ms
  EXPECT_NEAR(*get.latency.p99_ms, 100, 1);   // not (10 + 100) / 2
  EXPECT_NEAR(*p.by_bucket_operation[1].latency.p95_ms, 40, 0.4);
}

TEST(ReportFold, AReportOfFoldedOperationsIsTheReportOfTheRows) {
  ReportInput in = week_input();
  // More users and days, so the fold has rows to merge across both.
  for (int day = 0; day < 7; ++day) {
    for (const char* user : {"u1", "u2"}) {
      metrics::Row r =
          row("data", "tmp", Operation::kGet, in.period.start + day * kReportFoldDaySpan, 3 + day,
              day % 2, {1.0 + day, 20.0 * day}, 1000 * day);
      r.series.user = user;
      in.operations.push_back(r);
    }
  }
  const std::string whole = codec::report_sections_json(build_report(in)).dump();
  // A day a step, as the day's work folds them.
  std::vector<metrics::Row> folded;
  TimePoint through = in.period.start;
  int steps = 0;
  for (;;) {
    auto next = next_fold_end(in.period, through);
    ASSERT_TRUE(next.ok());
    if (!next.value()) break;
    std::vector<metrics::Row> rows;
    for (const metrics::Row& r : in.operations) {
      if (r.period_start >= through && r.period_start < *next.value()) rows.push_back(r);
    }
    folded = fold_operations(std::move(folded), rows, in.period);
    through = *next.value();
    ++steps;
  }
  EXPECT_EQ(steps, 7);
  // One row per bucket, prefix and operation: logs get and put, tmp get.
  EXPECT_EQ(folded.size(), 3u);
  ReportInput stepped = in;
  stepped.operations = folded;
  EXPECT_EQ(codec::report_sections_json(build_report(stepped)).dump(), whole);
  // All at once folds the same.
  stepped.operations = fold_operations({}, in.operations, in.period);
  EXPECT_EQ(codec::report_sections_json(build_report(stepped)).dump(), whole);
  // Day rows a day a step, hour rows an hour, minute rows a day, never across a level.
  RolledUp rolled{.days = in.period.start + 5 * kReportFoldDaySpan,
                  .hours = in.period.start + 5 * kReportFoldDaySpan + std::chrono::hours(2)};
  TimePoint day5 = in.period.start + 4 * kReportFoldDaySpan;
  EXPECT_EQ(*next_fold_end(in.period, day5, rolled).value(), *rolled.days);
  EXPECT_EQ(*next_fold_end(in.period, *rolled.days, rolled).value(),
            *rolled.days + std::chrono::hours(1));
  EXPECT_EQ(*next_fold_end(in.period, *rolled.hours, rolled).value(),
            *rolled.hours + kReportFoldMinuteSpan);
  EXPECT_EQ(*next_fold_end(in.period, in.period.end - std::chrono::minutes(1), rolled).value(),
            in.period.end);
  EXPECT_FALSE(next_fold_end(in.period, in.period.end, rolled).value().has_value());
  auto outside = next_fold_end(in.period, in.period.end + Duration(1));
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().field, "through_ms");
}

TEST(ReportBuild, ErrorsAlertsAndStorageAgainstHandWorkedFigures) {
  Report r = build_report(week_input());
  EXPECT_EQ(r.errors.total, 4u);
  ASSERT_EQ(r.errors.status_codes.size(), 2u);
  EXPECT_EQ(r.errors.status_codes[0].key, "404");
  EXPECT_EQ(r.errors.status_codes[0].count, 8u);
  EXPECT_EQ(r.errors.status_codes[1].key, "500");
  EXPECT_EQ(r.errors.operations[0].key, "get");
  EXPECT_EQ(r.errors.operations.size(), 1u);  // puts had none

  EXPECT_EQ(r.alerts.fired, 3u);
  ASSERT_EQ(r.alerts.by_severity.size(), 2u);
  EXPECT_EQ(r.alerts.by_severity[0].key, "critical");
  EXPECT_EQ(r.alerts.by_severity[1].count, 2u);
  EXPECT_EQ(r.alerts.still_open, 1u);
  EXPECT_EQ(r.alerts.acknowledge.count, 2u);
  EXPECT_EQ(*r.alerts.acknowledge.median, Duration(600'000));  // lower middle of 10 and 20 min
  EXPECT_EQ(*r.alerts.acknowledge.max, Duration(1'200'000));
  EXPECT_EQ(*r.alerts.resolve.median, Duration(3'600'000));
  EXPECT_EQ(r.alerts.top[0].id, "a2");  // the open one first

  const StorageSummary& s = r.storage;
  EXPECT_EQ(s.start_bytes, 151'000'000'000u);
  EXPECT_EQ(s.end_bytes, 143'000'000'000u);
  EXPECT_EQ(s.growth_bytes, -8'000'000'000);
  ASSERT_EQ(s.buckets.size(), 2u);
  EXPECT_EQ(s.buckets[0].bucket, "data");
  EXPECT_EQ(s.buckets[0].growth_bytes, 2'000'000'000);
  EXPECT_NEAR(*s.buckets[1].growth_pct, -20.0, 1e-9);
  EXPECT_EQ(s.buckets[1].pending_uploads, 4u);
  EXPECT_EQ(s.pending_uploads, 4u);
  ASSERT_EQ(s.largest_prefixes.size(), 2u);
  EXPECT_EQ(s.largest_prefixes[1].prefix, "tmp");
  EXPECT_EQ(s.largest_prefixes[1].bytes, 3'000'000'000u);
}

TEST(ReportBuild, RecommendationsComeFromTheFigures) {
  Report r = build_report(week_input());
  ASSERT_EQ(r.recommendations.size(), 4u);
  // logs: 100 GB: Standard $1.50 + 20 gets x 30/7 Class B + 5 puts x 30/7 Class A; IA $1.00
  // + the same requests at IA's prices. Saving $0.50 less the requests' difference
  // (85.71 x ($0.90 - $0.36) + 21.43 x ($9.00 - $4.50)) / 1e6 = $0.000143: 499,857 micro-USD.
  const Recommendation& ia = r.recommendations[0];
  EXPECT_EQ(ia.kind, RecommendationKind::kInfrequentAccess);
  EXPECT_EQ(ia.prefix, "logs");
  EXPECT_EQ(ia.monthly_saving->micro_usd(), 499'857);
  // tmp: 3 GB and no requests: 3 x ($0.015 - $0.010) = $0.015, over the $0.01 minimum.
  EXPECT_EQ(r.recommendations[1].prefix, "tmp");
  EXPECT_EQ(r.recommendations[1].monthly_saving->micro_usd(), 15'000);
  EXPECT_EQ(r.recommendations[2].kind, RecommendationKind::kAbandonedUploads);
  EXPECT_EQ(r.recommendations[2].bucket, "archive");
  EXPECT_EQ(r.recommendations[3].kind, RecommendationKind::kBudget);
  EXPECT_EQ(r.recommendations[3].budget_status, "warning");
  ReportInput in = week_input();
  in.options.min_monthly_saving = cost::Money::micro_usd(20'000);
  in.pending_uploads.clear();
  Report fewer = build_report(in);
  ASSERT_EQ(fewer.recommendations.size(), 2u);
  EXPECT_EQ(fewer.recommendations[0].prefix, "logs");
}

TEST(ReportBuild, BudgetsNearTheirLimitAreRecommendations) {
  ReportInput in = week_input();
  in.storage.clear();
  in.pending_uploads.clear();
  Report r = build_report(in);
  ASSERT_EQ(r.recommendations.size(), 1u);
  EXPECT_EQ(r.recommendations[0].kind, RecommendationKind::kBudget);
  EXPECT_EQ(r.recommendations[0].text,
            "Spending of bucket data is near its budget: $8.50 of $10.00 so far, $11.00 "
            "expected by the month's end");
}

TEST(ReportRender, EveryFormatCarriesTheSameFigures) {
  Report r = build_report(week_input());
  Rendered out =
      render_report(r, {.month = "2026-11", .month_to_date = cost::Money::micro_usd(4'875'000)},
                    "https://r2watch.example/reports/weekly/2026-W48");
  EXPECT_EQ(out.subject, "[r2watch] Weekly report 2026-W48");
  EXPECT_NE(out.text.find("Month 2026-11 to 2026-11-29: $4.88"), std::string::npos);
  EXPECT_NE(out.text.find("25 calls, error rate 16%"), std::string::npos) << out.text;
  EXPECT_NE(out.html.find("<h3>Recommendations</h3>"), std::string::npos);
  EXPECT_EQ(out.text.find('<'), std::string::npos);
  EXPECT_NE(out.markdown.find("### Storage"), std::string::npos);
  ASSERT_FALSE(out.slack_blocks.empty());
  EXPECT_EQ(out.slack_blocks[0].kind, SlackBlock::Kind::kHeader);
  EXPECT_EQ(out.slack_blocks.size(), 2u + 6u + 1u);  // header, context, six sections, link
  std::string raw = mime(out, "r2watch@example.com", {"ops@example.com"}, at("2026-11-30"));
  EXPECT_NE(raw.find("Content-Type: multipart/alternative; boundary=\"r2watch-"),
            std::string::npos);
  EXPECT_EQ(raw.find("\r\n\r\n\r\n"), std::string::npos);
  size_t line = 0;
  for (size_t i = 0, start = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n') {
      EXPECT_EQ(raw[i - 1], '\r');
      line = std::max(line, i - start);
      start = i + 1;
    }
  }
  EXPECT_LE(line, 998u);
  EXPECT_EQ(out.title, "Weekly report 2026-W48");
  EXPECT_EQ(github_labels(ReportType::kWeekly),
            (std::vector<std::string>{"r2watch-report", "weekly"}));
}

TEST(Subscriptions, EachTypeOnceToChannelsThatTakeReports) {
  std::vector<Target> targets =
      report_targets({{.name = "ops", .type = "slack"}, {.name = "pager", .type = "pagerduty"}},
                     {"me@example.com"}, "r2watch@example.com");
  ASSERT_EQ(targets.size(), 3u);  // the built-in email joins the channels
  EXPECT_EQ(targets[2].to, std::vector<std::string>{"me@example.com"});
  Subscription weekly{.report_type = "weekly", .channels = {"ops", "email"}};
  EXPECT_FALSE(check_subscription(weekly, 0, {}, targets));
  auto twice = check_subscription(weekly, 1, {weekly}, targets);
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->field, "subscriptions[1].report_type");
  auto pager = check_subscription({.report_type = "daily", .channels = {"pager"}}, 0, {}, targets);
  ASSERT_TRUE(pager.has_value());
  EXPECT_EQ(pager->field, "subscriptions[0].channels[0]");
  auto hourly = check_subscription({.report_type = "hourly"}, 0, {}, targets);
  ASSERT_TRUE(hourly.has_value());
  EXPECT_EQ(hourly->message, "report_type must be daily, weekly or monthly");
  auto to = report_recipients({weekly}, targets, ReportType::kWeekly);
  ASSERT_EQ(to.size(), 2u);
  EXPECT_EQ(to[0].name, "ops");
  EXPECT_TRUE(report_recipients({weekly}, targets, ReportType::kDaily).empty());
}

TEST(Subscriptions, LinkAndOutboxIdOfAPeriod) {
  auto p = parse_period(ReportType::kWeekly, "2026-W48", "period");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(report_notification_id(p.value()), "report:weekly:2026-W48");
  EXPECT_EQ(report_link("https://r2.example.com//", p.value()),
            "https://r2.example.com/reports/weekly/2026-W48");
  EXPECT_EQ(report_link("", p.value()), "");
}

}  // namespace
}  // namespace r2w::reports
