#include "core/health/status-page.h"

#include <gtest/gtest.h>

#include "core/common/civil-date.h"

namespace r2w::health::status {
namespace {

// 2026-11-30 10:20:00 UTC.
const TimePoint kNow =
    from_epoch_ms(days_since_epoch({2026, 11, 30}) * 86'400'000 + 10 * 3'600'000 + 20 * 60'000);
const TimePoint kToday = period_start(TallyPeriod::kDay, kNow);
const TimePoint kThisHour = period_start(TallyPeriod::kHour, kNow);

ProbeTally tally(TallyPeriod period, TimePoint start, ProbeStatus status, uint64_t checks,
                 Operation op = Operation::kGet, ProbeTrigger trigger = ProbeTrigger::kScheduled) {
  return {.period = period,
          .start = start,
          .operation = op,
          .trigger = trigger,
          .status = status,
          .checks = checks};
}

TEST(StatusUptime, OnlyScheduledProbesCountAndOkAndSlowAreUp) {
  EXPECT_EQ(count_of(ProbeTrigger::kScheduled, ProbeStatus::kOk), UptimeCount::kUp);
  EXPECT_EQ(count_of(ProbeTrigger::kScheduled, ProbeStatus::kSlow), UptimeCount::kUp);
  for (auto s : {ProbeStatus::kUnexpected, ProbeStatus::kError, ProbeStatus::kTimeout,
                 ProbeStatus::kCircuitOpen}) {
    EXPECT_EQ(count_of(ProbeTrigger::kScheduled, s), UptimeCount::kDown);
    EXPECT_EQ(count_of(ProbeTrigger::kManual, s), UptimeCount::kNotCounted);
  }
  EXPECT_EQ(count_of(ProbeTrigger::kManual, ProbeStatus::kOk), UptimeCount::kNotCounted);
}

TEST(StatusUptime, PercentIsRoundedDownToThreeDecimalsAndNeverShowsOneHundredWithAFailure) {
  EXPECT_EQ(uptime_pct(0, 0), std::nullopt);
  EXPECT_EQ(uptime_pct(10, 10), 100.0);
  EXPECT_EQ(uptime_pct(0, 10), 0.0);
  EXPECT_DOUBLE_EQ(*uptime_pct(2, 3), 66.666);  // 66.6666.. down, not 66.667
  EXPECT_DOUBLE_EQ(*uptime_pct(999, 1000), 99.9);
  EXPECT_DOUBLE_EQ(*uptime_pct(99'999, 100'000), 99.999);
  // One failure in ten million rounds to 100.000 by nearest; rounded down it stays below.
  EXPECT_DOUBLE_EQ(*uptime_pct(9'999'999, 10'000'000), 99.999);
  EXPECT_LT(*uptime_pct(UINT64_MAX - 1, UINT64_MAX), 100.0);
}

TEST(StatusUptime, WindowsAreWholePeriodsEndingWithTheCurrentOne) {
  EXPECT_EQ(window_start(kUptimeWindows[0], kNow), kThisHour - 23 * kHour);
  EXPECT_EQ(window_start(kUptimeWindows[1], kNow), kToday - 6 * kDay);
  EXPECT_EQ(window_start(kUptimeWindows[2], kNow), kToday - 89 * kDay);
  TallyRange r = tally_range(kNow);
  EXPECT_EQ(r.hours_from, kThisHour - 23 * kHour);
  EXPECT_EQ(r.days_from, kToday - 89 * kDay);
  // The first millisecond of a period is in it; the one before is not.
  EXPECT_EQ(period_start(TallyPeriod::kHour, kThisHour), kThisHour);
  EXPECT_EQ(period_start(TallyPeriod::kHour, kThisHour - Duration(1)), kThisHour - kHour);
  EXPECT_EQ(period_start(TallyPeriod::kDay, kToday - Duration(1)), kToday - kDay);
}

TEST(StatusUptime, EachWindowReadsItsOwnTalliesAndNothingOlder) {
  std::vector<ProbeTally> t = {
      // 24 h: the hour 23 hours ago counts, the one 24 hours ago does not.
      tally(TallyPeriod::kHour, kThisHour - 23 * kHour, ProbeStatus::kOk, 9),
      tally(TallyPeriod::kHour, kThisHour - 23 * kHour, ProbeStatus::kError, 1),
      tally(TallyPeriod::kHour, kThisHour - 24 * kHour, ProbeStatus::kError, 50),
      // Days: 6 days ago is in 7d; 7 days ago only in 90d; 90 days ago in neither.
      tally(TallyPeriod::kDay, kToday - 6 * kDay, ProbeStatus::kOk, 3),
      tally(TallyPeriod::kDay, kToday - 6 * kDay, ProbeStatus::kTimeout, 1),
      tally(TallyPeriod::kDay, kToday - 7 * kDay, ProbeStatus::kCircuitOpen, 4),
      tally(TallyPeriod::kDay, kToday - 89 * kDay, ProbeStatus::kSlow, 4),
      tally(TallyPeriod::kDay, kToday - 90 * kDay, ProbeStatus::kError, 100),
      // Manual probes never count.
      tally(TallyPeriod::kDay, kToday, ProbeStatus::kError, 100, Operation::kGet,
            ProbeTrigger::kManual),
  };
  UptimeReport r = compute_uptime(t, kNow);
  const auto& get = r.operations[0].windows;
  EXPECT_EQ(get[0].counted, 10u);
  EXPECT_DOUBLE_EQ(*get[0].pct(), 90.0);
  EXPECT_EQ(get[1].counted, 4u);
  EXPECT_DOUBLE_EQ(*get[1].pct(), 75.0);
  EXPECT_EQ(get[2].counted, 12u);  // 4 + 4 + 4
  EXPECT_EQ(get[2].up, 7u);        // 3 ok + 4 slow
  EXPECT_DOUBLE_EQ(*get[2].pct(), 58.333);
  // Operations without probes have no uptime, not 100%.
  EXPECT_EQ(r.operations[1].operation, Operation::kPut);
  EXPECT_EQ(r.operations[1].windows[2].pct(), std::nullopt);
  EXPECT_EQ(r.overall[2].counted, 12u);
  // The 90 days, oldest first: 89 days ago is the first bar, today the last.
  ASSERT_EQ(r.days.size(), 90u);
  EXPECT_EQ(r.days.front().day, kToday - 89 * kDay);
  EXPECT_EQ(r.days.back().day, kToday);
  EXPECT_DOUBLE_EQ(*r.days.front().uptime.pct(), 100.0);
  EXPECT_EQ(r.days.back().uptime.pct(), std::nullopt);  // only manual probes today
  EXPECT_DOUBLE_EQ(*r.days[82].uptime.pct(), 0.0);      // 7 days ago: the breaker refused
}

TEST(StatusUptime, DayBarsAreUpPartialOrDownBothSidesOfTheirThresholds) {
  EXPECT_EQ(day_level(std::nullopt), DayLevel::kNone);
  EXPECT_EQ(day_level(100.0), DayLevel::kUp);
  EXPECT_EQ(day_level(99.9), DayLevel::kUp);
  EXPECT_EQ(day_level(99.899), DayLevel::kPartial);
  EXPECT_EQ(day_level(95.0), DayLevel::kPartial);
  EXPECT_EQ(day_level(94.999), DayLevel::kDown);
}

TEST(StatusUptime, TalliesFromTheFutureOrOffTheirPeriodAreIgnored) {
  std::vector<ProbeTally> t = {
      tally(TallyPeriod::kHour, kThisHour + kHour, ProbeStatus::kError, 5),
      tally(TallyPeriod::kHour, kThisHour + Duration(1), ProbeStatus::kError, 5),
      tally(TallyPeriod::kHour, kThisHour, ProbeStatus::kOk, 5),
  };
  UptimeReport r = compute_uptime(t, kNow);
  EXPECT_EQ(r.overall[0].counted, 5u);
  EXPECT_DOUBLE_EQ(*r.overall[0].pct(), 100.0);
}

TEST(StatusComponents, ThePublicSeesStorageDatabaseAndJobsByStateOnly) {
  std::vector<VerdictComponent> v = {{"storage", Level::kDegraded},
                                     {"database", Level::kHealthy},
                                     {"analytics", Level::kUnhealthy},
                                     {"jobs", Level::kUnhealthy}};
  auto shown = public_components(v);
  ASSERT_EQ(shown.size(), 3u);
  EXPECT_EQ(shown[0].title, "Storage API");
  EXPECT_EQ(shown[0].state, PublicState::kDegraded);
  EXPECT_EQ(shown[1].state, PublicState::kOperational);
  EXPECT_EQ(shown[2].name, "jobs");
  EXPECT_EQ(shown[2].state, PublicState::kOutage);
  EXPECT_EQ(overall_state(shown), PublicState::kOutage);
  // Analytics is internal: unhealthy analytics alone leaves the page operational.
  auto only = public_components({{"storage", Level::kHealthy}, {"analytics", Level::kUnhealthy}});
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(overall_state(only), PublicState::kOperational);
}

TEST(StatusComponents, AnOpenMajorOrCriticalIncidentWorsensThePageState) {
  std::vector<PublicComponent> fine = {{.name = "storage", .title = "Storage API"}};
  Incident major{.id = "i", .impact = IncidentImpact::kMajor};
  Incident critical{.id = "j", .impact = IncidentImpact::kCritical};
  Incident minor{.id = "k", .impact = IncidentImpact::kMinor};
  EXPECT_EQ(page_state(fine, {minor}), PublicState::kOperational);
  EXPECT_EQ(page_state(fine, {minor, major}), PublicState::kDegraded);
  EXPECT_EQ(page_state(fine, {critical}), PublicState::kOutage);
  critical.resolved_at = kNow;
  EXPECT_EQ(page_state(fine, {critical}), PublicState::kOperational);
  major.published = false;
  EXPECT_EQ(page_state(fine, {major}), PublicState::kOperational);
}

TEST(StatusIncidents, PublishingNeedsATitleAndChecksEveryField) {
  auto no_title = publish({}, std::nullopt, "inc-1", kNow);
  ASSERT_FALSE(no_title.ok());
  EXPECT_EQ(no_title.error().field, "title");
  auto blank = publish({.title = "   "}, std::nullopt, "inc-1", kNow);
  ASSERT_FALSE(blank.ok());
  EXPECT_EQ(blank.error().field, "title");
  auto control = publish({.title = std::string("a\x01") + "b"}, std::nullopt, "inc-1", kNow);
  ASSERT_FALSE(control.ok());
  EXPECT_NE(control.error().message.find("control"), std::string::npos);
  auto broken = publish({.title = "\xC3"}, std::nullopt, "inc-1", kNow);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("UTF-8"), std::string::npos);
  // 120 characters (each two bytes) pass; 121 do not.
  std::string e_acute = "\xC3\xA9";
  std::string t120;
  for (int i = 0; i < 120; ++i) t120 += e_acute;
  EXPECT_TRUE(publish({.title = t120}, std::nullopt, "inc-1", kNow).ok());
  EXPECT_FALSE(publish({.title = t120 + e_acute}, std::nullopt, "inc-1", kNow).ok());
  auto impact = publish({.title = "Slow uploads", .impact = "huge"}, std::nullopt, "inc-1", kNow);
  ASSERT_FALSE(impact.ok());
  EXPECT_EQ(impact.error().field, "impact");
  auto status = publish({.title = "x", .status = "investigating"}, std::nullopt, "inc-1", kNow);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().field, "message");
}

TEST(StatusIncidents, PublishedWithAMessageStartsWithThatUpdate) {
  auto p = publish({.title = "Uploads failing", .impact = "major", .message = "Looking\ninto it"},
                   std::nullopt, "inc-1", kNow);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p.value().incident.id, "inc-1");
  EXPECT_EQ(p.value().incident.impact, IncidentImpact::kMajor);
  EXPECT_EQ(p.value().incident.status, IncidentStatus::kInvestigating);
  EXPECT_EQ(p.value().incident.started_at, kNow);
  ASSERT_TRUE(p.value().update.has_value());
  EXPECT_EQ(p.value().update->message, "Looking\ninto it");
  // Published again (a new title), it keeps its id and start.
  auto again = publish({.title = "Uploads failing in one region"}, p.value().incident, "inc-2",
                       kNow + kHour);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().incident.id, "inc-1");
  EXPECT_EQ(again.value().incident.started_at, kNow);
  EXPECT_FALSE(again.value().update.has_value());
}

TEST(StatusIncidents, AnUpdateSetsTheStatusAndResolvedMarksTheTime) {
  Incident i = publish({.title = "t"}, std::nullopt, "inc-1", kNow).value().incident;
  auto missing = post_update({.message = "m"}, i, kNow);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, "status");
  auto no_message = post_update({.status = "identified"}, i, kNow);
  ASSERT_FALSE(no_message.ok());
  EXPECT_EQ(no_message.error().field, "message");
  auto resolved = post_update({.status = "resolved", .message = "Fixed"}, i, kNow + kHour);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved.value().incident.status, IncidentStatus::kResolved);
  EXPECT_EQ(resolved.value().incident.resolved_at, kNow + kHour);
  auto reopened = post_update({.status = "investigating", .message = "Back"},
                              resolved.value().incident, kNow + 2 * kHour);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened.value().incident.resolved_at, std::nullopt);
}

TEST(StatusIncidents, ThePageShowsOpenOnesFirstAndResolvedOnesForFourteenDays) {
  auto make = [](std::string id, TimePoint start, std::optional<TimePoint> resolved) {
    Incident i{.id = std::move(id),
               .title = "t",
               .started_at = start,
               .updated_at = start,
               .resolved_at = resolved};
    return i;
  };
  std::vector<Incident> all = {
      make("old-resolved", kNow - 30 * kDay, kNow - 14 * kDay - Duration(1)),
      make("edge-resolved", kNow - 20 * kDay, kNow - 14 * kDay),
      make("recent-resolved", kNow - 2 * kDay, kNow - kDay),
      make("open-old", kNow - 40 * kDay, std::nullopt),
      make("open-new", kNow - kHour, std::nullopt),
      make("unpublished", kNow, std::nullopt),
  };
  all.back().published = false;
  all[4].updates = {
      {.status = IncidentStatus::kInvestigating, .message = "a", .posted_at = kNow - kHour},
      {.status = IncidentStatus::kIdentified, .message = "b", .posted_at = kNow}};
  auto shown = visible_incidents(all, kNow);
  std::vector<std::string> ids;
  for (const auto& i : shown) ids.push_back(i.id);
  EXPECT_EQ(ids,
            (std::vector<std::string>{"open-new", "open-old", "recent-resolved", "edge-resolved"}));
  EXPECT_EQ(shown[0].updates[0].message, "b");  // newest first
}

TEST(StatusCache, TtlDefaultsToSixtySecondsAndRefusesWhatIsNotWholeSeconds) {
  EXPECT_EQ(cache_ttl(std::nullopt).value(), Duration(60'000));
  EXPECT_EQ(cache_ttl("").value(), Duration(60'000));
  EXPECT_EQ(cache_ttl("0").value(), Duration(0));
  EXPECT_EQ(cache_ttl("3600").value(), Duration(3'600'000));
  for (const char* bad : {"3601", "-1", "1.5", "60s", "999999"}) {
    auto r = cache_ttl(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "CACHE_TTL");
  }
}

TEST(StatusCache, ThePageReloadsWithItsCacheButNotMoreOftenThanEveryThirtySeconds) {
  EXPECT_EQ(page_refresh(Duration(0)), Duration(0));  // not cached: no reload
  EXPECT_EQ(page_refresh(Duration(1'000)), Duration(30'000));
  EXPECT_EQ(page_refresh(Duration(30'000)), Duration(30'000));
  EXPECT_EQ(page_refresh(Duration(60'000)), Duration(60'000));
}

}  // namespace
}  // namespace r2w::health::status
