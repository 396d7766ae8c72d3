// The account's figures from Cloudflare's GraphQL Analytics API: the class of every R2 action
// type, the collector's windows, watermarks and verdicts, the bill's usage and the
// reconciliation with r2watch's own counts.
#include <gtest/gtest.h>

#include <map>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/account/action-class.h"
#include "core/account/collector.h"
#include "core/account/figures.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/engine.h"

namespace r2w::account {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

// developers.cloudflare.com/r2/pricing/ (as of 2026-11): every operation named under "Class A
// operations", "Class B operations" and "Free operations", copied from the page.
constexpr std::string_view kPricingClassA[] = {"ListBuckets",
                                               "PutBucket",
                                               "ListObjects",
                                               "PutObject",
                                               "CopyObject",
                                               "CompleteMultipartUpload",
                                               "CreateMultipartUpload",
                                               "LifecycleStorageTierTransition",
                                               "ListMultipartUploads",
                                               "UploadPart",
                                               "UploadPartCopy",
                                               "ListParts",
                                               "PutBucketEncryption",
                                               "PutBucketCors",
                                               "PutBucketLifecycleConfiguration"};
constexpr std::string_view kPricingClassB[] = {
    "HeadBucket",          "HeadObject",        "GetObject",     "UsageSummary",
    "GetBucketEncryption", "GetBucketLocation", "GetBucketCors", "GetBucketLifecycleConfiguration"};
constexpr std::string_view kPricingFree[] = {"DeleteObject", "DeleteBucket",
                                             "AbortMultipartUpload"};

TEST(ActionClass, EveryClassAOperationOnThePricingPageIsClassA) {
  for (std::string_view op : kPricingClassA) {
    EXPECT_EQ(classify_action(op), ActionClass::kClassA) << op;
  }
}

TEST(ActionClass, EveryClassBOperationOnThePricingPageIsClassB) {
  for (std::string_view op : kPricingClassB) {
    EXPECT_EQ(classify_action(op), ActionClass::kClassB) << op;
  }
}

TEST(ActionClass, EveryFreeOperationOnThePricingPageIsFree) {
  for (std::string_view op : kPricingFree) EXPECT_EQ(classify_action(op), ActionClass::kFree) << op;
}

TEST(ActionClass, TheTableHoldsNoS3NameThePricingPageDoesNotList) {
  size_t listed = std::size(kPricingClassA) + std::size(kPricingClassB) + std::size(kPricingFree);
  size_t s3_names = 0;
  for (const auto& e : cost::operation_class_table()) {
    if (!e.operation.empty() && e.operation[0] >= 'A' && e.operation[0] <= 'Z') ++s3_names;
  }
  EXPECT_EQ(s3_names, listed);
}

TEST(ActionClass, AnUnknownActionIsUnclassifiedAndBilledAsClassA) {
  EXPECT_EQ(classify_action("PutBucketWebsite"), ActionClass::kUnclassified);
  EXPECT_EQ(classify_action("getobject"), ActionClass::kUnclassified);
  EXPECT_EQ(action_class_name(ActionClass::kUnclassified), "unclassified");
  EXPECT_EQ(billed_as(ActionClass::kUnclassified), cost::OperationClass::kClassA);
}

TEST(ActionClass, AuthFailuresAreNotBilledOtherFailuresAre) {
  EXPECT_FALSE(billed_status(401));
  EXPECT_FALSE(billed_status(403));
  EXPECT_TRUE(billed_status(200));
  EXPECT_TRUE(billed_status(400));
  EXPECT_TRUE(billed_status(404));
  EXPECT_TRUE(billed_status(412));
  EXPECT_TRUE(billed_status(500));
}

const TimePoint kNow = from_epoch_ms(1'780'000'000'000 + 17 * 60'000);  // 2026-05-28T20:43Z

TEST(Collector, TheFirstRunBackfillsRetentionInBoundedWindows) {
  CollectorOptions o;
  CollectorRun run = plan_run(CollectorState{}, kNow, o);
  ASSERT_FALSE(run.queue.empty());
  EXPECT_EQ(run.queries_left, o.max_queries_per_run);
  EXPECT_EQ(run.queue.front().dataset, Dataset::kStorage);
  EXPECT_EQ(run.queue.front().start, floor_day(kNow) - hours(24 * 30));
  const Window& last = run.queue.back();
  EXPECT_EQ(last.dataset, Dataset::kOperations);
  EXPECT_EQ(last.end, floor_hour(kNow) + hours(1));
  for (const Window& w : run.queue) {
    EXPECT_LT(w.start, w.end);
    EXPECT_LE(w.end - w.start, w.dataset == Dataset::kOperations ? hours(24) : hours(24 * 8));
    EXPECT_GE(w.start, kNow - hours(24 * 31));
  }
}

TEST(Collector, ALaterRunRepullsTheTwoHoursBeforeItsWatermark) {
  CollectorState s;
  s.operations_until = floor_hour(kNow) + hours(1);
  s.storage_until = floor_day(kNow) + hours(24);
  CollectorRun run = plan_run(s, kNow + minutes(5), CollectorOptions{});
  ASSERT_EQ(run.queue.size(), 2u);
  EXPECT_EQ(run.queue[0].dataset, Dataset::kStorage);
  EXPECT_EQ(run.queue[0].start, floor_day(kNow));
  EXPECT_EQ(run.queue[1].start, floor_hour(kNow) - hours(1));
  EXPECT_EQ(run.queue[1].end, floor_hour(kNow) + hours(1));
}

TEST(Collector, StoringAdvancesTheWatermarkAndBudgetEndsTheRun) {
  CollectorOptions o{.max_queries_per_run = 2};
  CollectorState s;
  CollectorRun run = plan_run(s, kNow, o);
  Step a = advance(run, s, AnswerSummary{}, kNow, o);
  EXPECT_EQ(a.verdict, Verdict::kStore);
  EXPECT_EQ(a.state.storage_until, floor_day(kNow) - hours(24 * 30) + hours(24 * 8));
  Step b = advance(a.run, a.state, AnswerSummary{}, kNow, o);
  EXPECT_TRUE(b.run.queue.empty());  // two queries made: the rest waits for the next run
  CollectorRun next = plan_run(b.state, kNow + minutes(5), o);
  EXPECT_EQ(next.queue.front().start, *b.state.storage_until - hours(24));
}

TEST(Collector, ATruncatedAnswerSplitsItsWindowAndNeverAdvances) {
  CollectorOptions o;
  CollectorState s;
  CollectorRun run = plan_run(s, kNow, o);
  Window first = run.queue.front();
  Step st = advance(run, s, AnswerSummary{.groups = o.limit}, kNow, o);
  EXPECT_EQ(st.verdict, Verdict::kSplit);
  EXPECT_FALSE(st.state.storage_until.has_value());
  EXPECT_EQ(st.run.queue[0].start, first.start);
  EXPECT_EQ(st.run.queue[0].end, st.run.queue[1].start);
  EXPECT_EQ(st.run.queue[1].end, first.end);
}

TEST(Collector, ACutOffAnswerInHourOrderKeepsItsWholeHoursAndAsksForTheRest) {
  CollectorOptions o;
  CollectorState s;
  s.storage_until = floor_day(kNow) + hours(24);
  s.operations_until = floor_hour(kNow) - hours(40);
  CollectorRun run = plan_run(s, kNow, o);
  run.queue.erase(run.queue.begin());  // the storage window
  const Window w = run.queue.front();
  ASSERT_EQ(w.dataset, Dataset::kOperations);
  ASSERT_EQ(w.end - w.start, hours(24));
  // Cut off at the limit after reaching the 7th hour: hours 1..6 are complete.
  Step st = advance(run, s, AnswerSummary{.groups = o.limit, .complete_until = w.start + hours(6)},
                    kNow, o);
  EXPECT_EQ(st.verdict, Verdict::kStore);
  EXPECT_EQ(st.stored.start, w.start);
  EXPECT_EQ(st.stored.end, w.start + hours(6));
  EXPECT_EQ(st.state.operations_until, w.start + hours(6));
  EXPECT_EQ(st.run.queue.front().start, w.start + hours(6));
  EXPECT_EQ(st.run.queue.front().end, w.end);
  // Reaching no further than its first hour, or not on an hour: split as before, nothing kept.
  for (TimePoint until : {w.start, w.start + minutes(30)}) {
    Step again =
        advance(run, s, AnswerSummary{.groups = o.limit, .complete_until = until}, kNow, o);
    EXPECT_EQ(again.verdict, Verdict::kSplit);
    EXPECT_EQ(again.state.operations_until, s.operations_until);
  }
}

TEST(Collector, WindowsAreCutShortEnoughForTheGroupsAnHourHad) {
  CollectorOptions o;
  CollectorState s;
  s.storage_until = floor_day(kNow) + hours(24);
  s.operations_until = floor_hour(kNow) - hours(40);
  Step st = advance(plan_run(s, kNow, o), s, AnswerSummary{}, kNow, o);  // storage
  CollectorRun run = plan_run(s, kNow, o);
  run.queue.erase(run.queue.begin());
  st = advance(run, s, AnswerSummary{.groups = 24 * 400}, kNow, o);  // 400 groups an hour
  EXPECT_EQ(st.state.operations_groups_per_hour, 400u);
  CollectorRun next = plan_run(st.state, kNow, o);
  for (const Window& w : next.queue) {
    if (w.dataset == Dataset::kOperations) {
      EXPECT_LE(w.end - w.start, hours(20));  // 8,000 groups
    }
  }
}

TEST(Collector, RateLimitBacksOffAndResumesAtTheSameWindow) {
  CollectorOptions o;
  CollectorState s;
  CollectorRun run = plan_run(s, kNow, o);
  Step st = advance(run, s, AnswerSummary{.http_status = 429}, kNow, o);
  EXPECT_EQ(st.verdict, Verdict::kBackoff);
  EXPECT_TRUE(st.run.queue.empty());
  EXPECT_EQ(st.state.retry_at, kNow + minutes(1));
  EXPECT_TRUE(plan_run(st.state, kNow + std::chrono::seconds(30), o).queue.empty());
  CollectorRun again = plan_run(st.state, kNow + minutes(2), o);
  EXPECT_EQ(again.queue.front().start, run.queue.front().start);
  Step twice = advance(again, st.state, AnswerSummary{.http_status = 503}, kNow + minutes(2), o);
  EXPECT_EQ(twice.state.retry_at, kNow + minutes(4));
  Step ok = advance(plan_run(twice.state, kNow + minutes(5), o), twice.state, AnswerSummary{},
                    kNow + minutes(5), o);
  EXPECT_EQ(ok.state.consecutive_failures, 0u);
  EXPECT_FALSE(ok.state.retry_at.has_value());
}

TEST(Collector, AnUnusableAnswerStoresNothingAndKeepsTheWatermark) {
  CollectorOptions o;
  CollectorState s;
  s.storage_until = floor_day(kNow);
  CollectorRun run = plan_run(s, kNow, o);
  Step st = advance(run, s, AnswerSummary{.problem = "errors: bad query"}, kNow, o);
  EXPECT_EQ(st.verdict, Verdict::kFail);
  EXPECT_EQ(st.state.storage_until, floor_day(kNow));
  EXPECT_NE(st.state.last_error.find("errors: bad query"), std::string::npos);
  for (const Window& w : st.run.queue) EXPECT_EQ(w.dataset, Dataset::kOperations);
  EXPECT_EQ(collector_health(true, st.state, kNow, o).status, "failing");
  EXPECT_EQ(collector_health(false, CollectorState{}, kNow, o).status, "off");
}

TEST(AccountUsage, BillsByClassExceptAuthFailuresAndCountsUnknownActionsAsClassA) {
  CivilDate d{2026, 5, 3};
  OperationsDay ops[] = {
      {d, "photos", "PutObject", 200, 10, 0},    {d, "photos", "PutObject", 403, 7, 0},
      {d, "photos", "GetObject", 404, 5, 0},     {d, "photos", "GetObject", 200, 20, 1000},
      {d, "photos", "DeleteObject", 204, 3, 0},  {d, "photos", "Frobnicate", 200, 2, 0},
      {d, "photos", "ListObjects", 401, 100, 0},
  };
  StorageRow st[] = {{d, "photos", cost::StorageClass::kStandard, 1000, 24, 3, 1}};
  AccountUsage u = account_usage(ops, st);
  ASSERT_EQ(u.rows.size(), 1u);
  EXPECT_EQ(u.rows[0].class_a_requests, 12u);
  EXPECT_EQ(u.rows[0].class_b_requests, 25u);
  EXPECT_EQ(u.rows[0].free_requests, 3u);
  EXPECT_EQ(u.rows[0].retrieved_bytes, 1000u);
  EXPECT_EQ(u.rows[0].storage_peak_bytes, 1024u);
  EXPECT_EQ(u.unbilled_auth_failures, 107u);
  ASSERT_EQ(u.unclassified.size(), 1u);
  EXPECT_EQ(u.unclassified[0].action_type, "Frobnicate");
  EXPECT_EQ(u.unclassified[0].requests, 2u);
}

TEST(Reconcile, TheShareAroundR2watchIsWhatCloudflareCountedBeyondIt) {
  CivilDate d{2026, 5, 3};
  OperationsDay cf[] = {{d, "photos", "PutObject", 200, 30, 0},
                        {d, "photos", "GetObject", 200, 70, 0}};
  OwnOperationsDay own[] = {{d, "photos", "put", 10}, {d, "photos", "get", 15}};
  Reconciliation r = reconcile(cf, own);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].cloudflare_total, 100u);
  EXPECT_EQ(r.rows[0].r2watch_total, 25u);
  EXPECT_EQ(r.rows[0].around, 75u);
  EXPECT_EQ(r.rows[0].around_bp, 7500u);
  EXPECT_EQ(r.rows[0].r2watch[class_index(ActionClass::kClassA)], 10u);
}

const AlertFigure* figure(const std::vector<AlertFigure>& all, std::string_view metric,
                          std::string_view bucket, Duration window = Duration(0)) {
  for (const AlertFigure& f : all) {
    if (f.metric == metric && f.bucket == bucket && f.window == window) return &f;
  }
  return nullptr;
}

TEST(AccountAlerts, ASpikeIsMeasuredAgainstTheMedianOfThatHourInPastWeeksNotTheirMean) {
  const TimePoint last = floor_hour(kNow) - hours(1);
  std::vector<HourTotal> hrs = {
      {last, "media", 5000, 0},
      {last - hours(24 * 7), "media", 100, 0},
      {last - hours(24 * 14), "media", 120, 0},
      {last - hours(24 * 21), "media", 90000, 0},  // a one-off peak that week
      {last - hours(24 * 28), "media", 110, 0},
  };
  auto all = alert_figures(hrs, {}, {}, kNow);
  const AlertFigure* f = figure(all, "request_spike_pct", "media");
  ASSERT_NE(f, nullptr);
  EXPECT_DOUBLE_EQ(f->value, 4347.8);  // 5000 / median(100, 110, 120, 90000) = 5000 / 115
  EXPECT_EQ(f->samples, 5000u);
}

TEST(AccountAlerts, TheWorkerReadsOnlyTheHoursAndDaysTheFiguresNeed) {
  Duration windows[] = {hours(1), hours(24 * 7)};
  AlertReach r = alert_reach(windows, kNow);
  ASSERT_EQ(r.hours.size(), 5u);
  EXPECT_EQ(r.hours[0], floor_hour(kNow) - hours(1));
  EXPECT_EQ(r.hours[4], floor_hour(kNow) - hours(1) - hours(24 * 28));
  EXPECT_EQ(r.hours_since, floor_hour(kNow - hours(24 * 7)));
  EXPECT_EQ(days_since_epoch(r.storage_since), days_since_epoch(date_of(kNow)) - 9);
}

TEST(AccountAlerts, InternalErrorsPendingUploadsAndGrowthPerBucket) {
  const TimePoint hour = floor_hour(kNow);
  std::vector<HourTotal> hrs = {
      {hour, "b", 1000, 20}, {hour - hours(1), "b", 1000, 0}, {hour - hours(5), "b", 1000, 900}};
  std::vector<StorageRow> st;
  for (int d = 0; d <= 7; ++d) {
    st.push_back({date_of(kNow - hours(24 * d)), "b", cost::StorageClass::kStandard,
                  static_cast<uint64_t>(1000 - 50 * d), 0, 1, static_cast<uint64_t>(12 + d)});
  }
  Duration two_hours = hours(2), week = hours(24 * 7);
  Duration windows[] = {two_hours, week};
  auto all = alert_figures(hrs, st, windows, kNow);
  const AlertFigure* e = figure(all, "internal_error_rate_pct", "b", two_hours);
  ASSERT_NE(e, nullptr);
  EXPECT_DOUBLE_EQ(e->value, 1.0);  // 20 of 2000 in the hours overlapping the last 2 hours
  const AlertFigure* p = figure(all, "pending_uploads_min", "b", week);
  ASSERT_NE(p, nullptr);
  EXPECT_DOUBLE_EQ(p->value, 12);
  const AlertFigure* g = figure(all, "bucket_storage_growth_pct", "b", week);
  ASSERT_NE(g, nullptr);
  EXPECT_DOUBLE_EQ(g->value, 53.8);  // 1000 against 650 seven days before
}

// The codec reads a GraphQL answer (the call's attachment) in one pass; every unusable answer
// is a failure that names what is wrong, and a good one becomes rows, one per bucket and hour.
struct Ingested {
  std::string verdict, reason;
  size_t rows = 0;
  r2w::Json stored = r2w::Json::array();  // the stored rows, parts joined
};
Ingested ingest(std::string_view answer, std::string_view dataset = "operations") {
  bindings::Engine engine{kNow};
  const int64_t h = to_epoch_ms(dataset == "operations" ? floor_hour(kNow) : floor_day(kNow));
  const int64_t unit = dataset == "operations" ? 3'600'000 : 86'400'000;
  std::string input = R"({"account_id": "a", "http_status": 200, "run": {"queue": [[")" +
                      std::string(dataset) + "\", " + std::to_string(h - unit) + ", " +
                      std::to_string(h + unit) + R"(]], "queries_left": 3, "error": ""}})";
  EXPECT_TRUE(engine.call("account_ingest", input, kNow, answer)) << engine.output();
  // The answer, then each part of the rows behind a NUL byte.
  std::vector<std::string> pieces;
  std::string_view rest = engine.output();
  for (size_t cut; (cut = rest.find('\0')) != std::string_view::npos; rest.remove_prefix(cut + 1)) {
    pieces.emplace_back(rest.substr(0, cut));
  }
  pieces.emplace_back(rest);
  auto out = r2w::Json::parse(pieces[0]);
  Ingested r{out["verdict"], out["reason"], 0};
  if (!out["store"].is_null()) {
    r.rows = out["store"]["rows"].get<size_t>();
    EXPECT_EQ(out["store"]["parts"].get<size_t>(), pieces.size() - 1);
    for (size_t i = 1; i < pieces.size(); ++i) {
      for (auto& row : r2w::Json::parse(pieces[i])) r.stored.push_back(row);
    }
  } else {
    EXPECT_EQ(pieces.size(), 1u);
  }
  return r;
}

std::string group(std::string_view figures, std::string_view dims) {
  return "{\"s\": {" + std::string(figures) + "}, \"d\": {" + std::string(dims) + "}}";
}
std::string answer_of(const std::string& groups,
                      std::string_view dataset = "r2OperationsAdaptiveGroups") {
  return R"({"data": {"viewer": {"accounts": [{")" + std::string(dataset) + R"(": [)" + groups +
         R"(]}]}}, "errors": null})";
}
const std::string kHour = format_date(date_of(kNow)) + "T20:00:00Z";
std::string dims(std::string_view bucket, std::string_view action, std::string_view status,
                 int code) {
  return "\"h\": \"" + kHour + "\", \"n\": \"" + std::string(bucket) + "\", \"a\": \"" +
         std::string(action) + "\", \"t\": \"" + std::string(status) +
         "\", \"c\": " + std::to_string(code);
}
const std::string kDims = dims("b", "GetObject", "success", 200);

TEST(AccountAnswer, GroupsBecomeOneRowPerBucketAndHourWithTheirTotals) {
  Ingested r = ingest(answer_of(
      group(R"("r": 5, "b": 10)", kDims) + "," +
      group(R"("r": 1.0, "b": 0)", dims("b", "PutObject", "internalError", 500)) + "," +
      group(R"("r": 7, "b": 3)", dims(R"(other \"q\" \u00e9)", "GetObject", "userError", 404))));
  EXPECT_EQ(r.verdict, "store");
  ASSERT_EQ(r.rows, 2u);
  const int64_t hour_ms = to_epoch_ms(floor_hour(kNow));
  // [hour_ms, bucket, requests, internal_errors, [[action, status, code, requests, bytes]...]]
  EXPECT_EQ(r.stored[0], r2w::Json::parse("[" + std::to_string(hour_ms) +
                                          R"(, "b", 6, 1, [["GetObject", "success", 200, 5, 10],
                                 ["PutObject", "internalError", 500, 1, 0]]])"));
  // Escapes in a name are read and written back exactly.
  EXPECT_EQ(r.stored[1][1], "other \"q\" \u00e9");
  EXPECT_EQ(r.stored[1][4][0][3], 7);
}

TEST(AccountAnswer, StorageIsKeptPerBucketAndStorageClass) {
  const std::string day = format_date(date_of(kNow));
  auto g = [&](std::string_view cls, int payload) {
    return "{\"m\": {\"p\": " + std::to_string(payload) +
           R"(, "x": 1, "o": 2, "u": 0}, "d": {"y": ")" + day + R"(", "n": "b", "k": )" +
           std::string(cls) + "}}";
  };
  Ingested r = ingest(
      answer_of(g("\"Standard\"", 100) + "," + g("\"InfrequentAccess\"", 40) + "," + g("null", 7),
                "r2StorageAdaptiveGroups"),
      "storage");
  EXPECT_EQ(r.verdict, "store") << r.reason;
  ASSERT_EQ(r.rows, 3u);
  EXPECT_EQ(r.stored[0], r2w::Json::parse("[\"" + day + R"(", "b", "standard", 100, 1, 2, 0])"));
  EXPECT_EQ(r.stored[1][2], "infrequent_access");
  EXPECT_EQ(r.stored[2][2], "standard");  // no class given: Standard
  Ingested bad = ingest(answer_of(g("\"Glacier\"", 1), "r2StorageAdaptiveGroups"), "storage");
  EXPECT_EQ(bad.verdict, "fail");
  EXPECT_NE(bad.reason.find("storageClass"), std::string::npos) << bad.reason;
}

TEST(AccountAnswer, EveryUnusableAnswerFailsNamingWhatIsWrong) {
  std::string deep = R"({"data": )" + std::string(100, '[') + std::string(100, ']') + "}";
  const std::pair<std::string, std::string> cases[] = {
      {"not json", "not a JSON object"},
      {"", "empty"},
      {deep, "not a JSON object"},
      {answer_of(group(R"("r": 5, "b": 10)", kDims)) + " trailing", "not a JSON object"},
      {R"({"data": {"viewer": {"accounts": [{"r2OperationsAdaptiveGroups": [{"s": {"r": 5, "b": 10}, "d": {"h": "unterminated}]}]}}})",
       "not a JSON object"},
      {R"({"data": null, "errors": [{"message": "quota \"exceeded\""}]})",
       "GraphQL errors: quota \"exceeded\""},
      {R"({"data": {"viewer": {"accounts": []}}})", "is missing"},
      {answer_of(group(R"("r": -5, "b": 0)", kDims)), "sum.requests is not a whole"},
      {answer_of(group(R"("r": "5", "b": 0)", kDims)), "sum.requests is not a whole"},
      {answer_of(group(R"("r": 5.5, "b": 0)", kDims)), "sum.requests is not a whole"},
      {answer_of(group(R"("r": 1e3, "b": 0)", kDims)), "sum.requests is not a whole"},
      {answer_of(group(R"("r": 99999999999999999999999, "b": 0)", kDims)),
       "sum.requests is not a whole"},
      {answer_of(group(R"("r": 5)", kDims)), "sum.responseObjectSize is missing"},
      {answer_of(R"({"s": {"r": 5, "b": 0}})"), "dimensions is missing"},
      {answer_of(group(
           R"("r": 5, "b": 0)",
           R"("h": "2020-01-01T00:00:00Z", "n": "b", "a": "GetObject", "t": "success", "c": 200)")),
       "not an hour of the window"},
      {answer_of(group(R"("r": 5, "b": 0)", dims("b", "GetObject", "meh", 200))), "actionStatus"},
      {answer_of(group(R"("r": 5, "b": 0)", dims("b", "GetObject", "success", 1000))),
       "responseStatusCode"},
      {answer_of("7"), "is not an object"},
  };
  for (const auto& [text, why] : cases) {
    Ingested r = ingest(text);
    EXPECT_EQ(r.verdict, "fail") << text;
    EXPECT_NE(r.reason.find(why), std::string::npos) << r.reason;
    EXPECT_EQ(r.rows, 0u);
  }
}

// The text without whitespace outside strings: the layout Cloudflare writes, which the reader
// takes on its fast path (account-commands.cc, compact_ops_group).
std::string compact(std::string_view text) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out += c;
    } else if (c != ' ' && c != '\n') {
      out += c;
    }
  }
  return out;
}

TEST(AccountAnswer, TheCompactLayoutReadsAsTheGeneralOne) {
  // Every figure and name form: plain, escaped names, a figure of 17 digits (past the fast
  // path's 16), a zero fraction, groups of two buckets and statuses.
  std::string groups;
  for (int i = 0; i < 200; ++i) {
    // Names: escaped (the general path), UTF-8 past 8 bytes, one that begins as another does.
    const std::string bucket =
        i % 7 == 0   ? R"(b \"q\" \u00e9)"
        : i % 7 == 1 ? "b\u00fccket-\u00f1ame-\u0434\u043b\u0438\u043d\u043d\u043e\u0435"
        : i % 7 == 2 ? "b1-longer-than-eight"
                     : "b" + std::to_string(i % 3);
    const char* status = i % 5 == 0 ? "internalError" : i % 3 == 0 ? "userError" : "success";
    std::string figures = "\"r\": " + std::to_string(i * 37 + 1) + ", \"b\": " +
                          (i % 11 == 0 ? std::string("12345678901234567") : std::to_string(i));
    if (i % 13 == 0) figures = "\"r\": 4.0, \"b\": 0";
    if (!groups.empty()) groups += ", ";
    groups += group(figures, dims(bucket, i % 2 ? "GetObject" : "PutObject", status, 200 + i));
  }
  const std::string spaced = answer_of(groups);
  Ingested general = ingest(spaced);
  Ingested fast = ingest(compact(spaced));
  ASSERT_EQ(general.verdict, "store") << general.reason;
  EXPECT_EQ(fast.verdict, "store") << fast.reason;
  EXPECT_EQ(fast.rows, general.rows);
  EXPECT_EQ(fast.stored, general.stored);
  EXPECT_EQ(general.rows, 6u);  // b0, b1, b2 and the three other names, one hour
  // The compact text of each unusable group fails as the spaced one does.
  const std::pair<std::string, std::string> cases[] = {
      {group(R"("r": -5, "b": 0)", kDims), "sum.requests is not a whole"},
      {group(R"("r": 5.5, "b": 0)", kDims), "sum.requests is not a whole"},
      {group(R"("r": 1e3, "b": 0)", kDims), "sum.requests is not a whole"},
      {group(R"("r": 05, "b": 0)", kDims), "not a JSON object"},
      {group(R"("r": 99999999999999999999999, "b": 0)", kDims), "sum.requests is not a whole"},
      {group(R"("r": 5)", kDims), "sum.responseObjectSize is missing"},
      {group(R"("r": 5, "b": 0)", dims("b", "GetObject", "meh", 200)), "actionStatus"},
      {group(R"("r": 5, "b": 0)", dims("b", "GetObject", "success", 1000)), "responseStatusCode"},
      {group(R"("r": 5, "b": 0)", dims("", "GetObject", "success", 200)), "lacks"},
      {group(R"("r": 5, "b": 0)", dims("a-bucket-name\tx", "GetObject", "success", 200)),
       "not a JSON object"},
      {group(
           R"("r": 5, "b": 0)",
           R"("h": "2020-01-01T00:00:00Z", "n": "b", "a": "GetObject", "t": "success", "c": 200)"),
       "not an hour of the window"},
  };
  for (const auto& [g, why] : cases) {
    for (const std::string& text : {answer_of(g), compact(answer_of(g))}) {
      Ingested r = ingest(text);
      EXPECT_EQ(r.verdict, "fail") << text;
      EXPECT_NE(r.reason.find(why), std::string::npos) << text << ": " << r.reason;
    }
  }
}

TEST(AccountReads, TheWorkersReadWindowsComeFromTheCore) {
  CollectorOptions o;
  AccountReads r = account_reads(kNow, o);
  EXPECT_EQ(r.retention_since, kNow - hours(24 * 31));
  // The hours that start in the last 24 hours: from the first whole hour at or after now - 24 h.
  EXPECT_EQ(r.last_day_since, floor_hour(kNow - hours(24)) + hours(1));
  EXPECT_EQ(account_reads(floor_hour(kNow), o).last_day_since, floor_hour(kNow) - hours(24));
  EXPECT_EQ(r.as_of, date_of(kNow));
  EXPECT_EQ(r.month_start, (CivilDate{date_of(kNow).year, date_of(kNow).month, 1}));
  // The account's usage from a time to the end of a day: hours from the time itself, storage
  // days from its day.
  const TimePoint from = from_epoch_ms(1'764'547'200'000 + 5 * 3'600'000);  // 2025-12-01 05:00Z
  UsageReach u = usage_reach(from, CivilDate{2025, 12, 24});
  EXPECT_EQ(u.since, from);
  EXPECT_EQ(u.until, from_epoch_ms(1'764'547'200'000 + 24LL * 86'400'000));  // 2025-12-25 00:00Z
  EXPECT_EQ(u.from_day, (CivilDate{2025, 12, 1}));
  EXPECT_EQ(u.to_day, (CivilDate{2025, 12, 24}));
}

TEST(AccountReads, TheCommandNamesTheUsageReachAndRefusesAHalfOne) {
  bindings::Engine engine{kNow};
  ASSERT_TRUE(engine.call(
      "account_reads", R"({"usage_from_ms": 1764547200000, "usage_as_of": "2025-12-24"})", kNow));
  auto out = r2w::Json::parse(engine.output());
  EXPECT_EQ(out["usage"]["since_ms"], 1'764'547'200'000);
  EXPECT_EQ(out["usage"]["until_ms"], 1'764'547'200'000 + 24LL * 86'400'000);
  EXPECT_EQ(out["usage"]["from_day"], "2025-12-01");
  EXPECT_EQ(out["usage"]["to_day"], "2025-12-24");
  EXPECT_EQ(out["last_day_since_ms"], to_epoch_ms(floor_hour(kNow)) - 86'400'000 + 3'600'000);
  ASSERT_TRUE(engine.call("account_reads", "{}", kNow));
  EXPECT_FALSE(r2w::Json::parse(engine.output()).contains("usage"));
  const std::pair<const char*, const char*> bad[] = {
      {R"({"usage_from_ms": 1764547200000})", "usage_as_of"},
      {R"({"usage_as_of": "2025-12-24"})", "usage_from_ms"},
      {R"({"usage_from_ms": -1, "usage_as_of": "2025-12-24"})", "usage_from_ms"},
      {R"({"usage_from_ms": 0, "usage_as_of": "2025-02-30"})", "usage_as_of"},
      {R"({"usage_since": 0})", "usage_since"},
  };
  for (const auto& [input, field] : bad) {
    EXPECT_FALSE(engine.call("account_reads", input, kNow)) << input;
    EXPECT_EQ(r2w::Json::parse(engine.output())["error"]["field"], field) << input;
  }
}

// What the Worker sums a month's day rows by (account_reads' `usage.classes` and
// `usage.unbilled_status_codes`), summed that way, gives the bill and the reconciliation the
// stored rows give, row for row.
TEST(AccountUsage, RowsSummedByTheNamedGroupingBillAndReconcileAsTheStoredRows) {
  const CivilDate d1{2025, 12, 1};
  const CivilDate d2{2025, 12, 2};
  std::vector<OperationsDay> ops = {
      {d1, "photos", "GetObject", 200, 1000, 5000}, {d1, "photos", "GetObject", 404, 30, 0},
      {d1, "photos", "HeadObject", 200, 70, 0},     {d1, "photos", "PutObject", 200, 100, 0},
      {d1, "photos", "PutObject", 403, 5, 0},       {d1, "photos", "GetObject", 401, 2, 9},
      {d1, "photos", "DeleteObject", 200, 4, 0},    {d1, "photos", "Frobnicate", 200, 3, 0},
      {d2, "logs", "Frobnicate", 200, 6, 0},        {d2, "logs", "ListObjects", 200, 8, 0},
  };
  // The grouping as the engine names it to the Worker.
  auto unbilled = unbilled_status_codes();
  ASSERT_EQ(unbilled.size(), 2u);
  for (uint32_t code : unbilled) EXPECT_FALSE(billed_status(code));
  EXPECT_TRUE(billed_status(404));
  // Summed as the Worker's SQL does: per (date, bucket, class, billing, unclassified name).
  std::map<std::tuple<int64_t, std::string, ActionClass, Billing, std::string>,
           ClassedOperationsDay>
      sums;
  for (const OperationsDay& o : ops) {
    ClassedOperationsDay c = classed(o);
    auto [it, added] = sums.try_emplace(
        {days_since_epoch(c.date), c.bucket, c.action_class, c.billing, c.action_type}, c);
    if (!added) {
      it->second.requests += c.requests;
      it->second.response_bytes += c.response_bytes;
    }
  }
  std::vector<ClassedOperationsDay> grouped;
  for (auto& [_, c] : sums) grouped.push_back(c);
  EXPECT_EQ(grouped.size(), 8u);  // from 10 stored rows
  std::vector<StorageRow> st = {{d1, "photos", cost::StorageClass::kStandard, 5000, 100, 10, 0}};
  AccountUsage a = account_usage(ops, st);
  AccountUsage b = account_usage(grouped, st);
  EXPECT_EQ(a.unbilled_auth_failures, 7u);
  EXPECT_EQ(b.unbilled_auth_failures, a.unbilled_auth_failures);
  ASSERT_EQ(b.unclassified.size(), 1u);
  EXPECT_EQ(b.unclassified[0].action_type, "Frobnicate");
  EXPECT_EQ(b.unclassified[0].requests, 9u);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i) {
    EXPECT_EQ(a.rows[i].bucket, b.rows[i].bucket);
    EXPECT_EQ(a.rows[i].class_a_requests, b.rows[i].class_a_requests);
    EXPECT_EQ(a.rows[i].class_b_requests, b.rows[i].class_b_requests);
    EXPECT_EQ(a.rows[i].free_requests, b.rows[i].free_requests);
    EXPECT_EQ(a.rows[i].retrieved_bytes, b.rows[i].retrieved_bytes);
    EXPECT_EQ(a.rows[i].storage_peak_bytes, b.rows[i].storage_peak_bytes);
  }
  EXPECT_EQ(a.rows[0].class_b_requests, 1100u);
  EXPECT_EQ(a.rows[0].retrieved_bytes, 5000u);
  Reconciliation ra = reconcile(ops, {});
  Reconciliation rb = reconcile(grouped, {});
  ASSERT_EQ(ra.rows.size(), rb.rows.size());
  for (size_t i = 0; i < ra.rows.size(); ++i)
    EXPECT_EQ(ra.rows[i].cloudflare, rb.rows[i].cloudflare);
  EXPECT_EQ(rb.total.cloudflare_total, 1228u);
}

}  // namespace
}  // namespace r2w::account
