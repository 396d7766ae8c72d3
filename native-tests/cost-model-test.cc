// The cost model against hand-worked bills: money and dates, the price list, the operation
// table, and the pricing calculator checked line by line against R2's published prices and
// billing examples (developers.cloudflare.com/r2/pricing).
#include <gtest/gtest.h>

#include "core/common/civil-date.h"
#include "core/cost/bill.h"
#include "core/cost/estimate.h"
#include "core/cost/money.h"
#include "core/cost/operation-class.h"
#include "core/cost/price-list.h"
#include "wasm-bindings/codec/cost.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/engine.h"

namespace r2w::cost {
namespace {

using json = r2w::Json;
using namespace r2w::codec;  // NOLINT: the cost codec's readers, tested with the core

Money usd_micro(int64_t m) { return Money::micro_usd(m); }

TEST(Money, FormatsDollarsRoundingHalfAwayFromZero) {
  EXPECT_EQ(format_usd(usd_micro(14'850'000)), "14.85");
  EXPECT_EQ(format_usd(usd_micro(15'000)), "0.02");  // $0.015 -> half up
  EXPECT_EQ(format_usd(usd_micro(14'999)), "0.01");
  EXPECT_EQ(format_usd(usd_micro(-5'000)), "-0.01");
  EXPECT_EQ(format_usd(usd_micro(-4'999)), "0.00");
  EXPECT_EQ(format_usd(usd_micro(0)), "0.00");
  EXPECT_EQ(format_usd(usd_micro(1'234'567), 6), "1.234567");
  EXPECT_EQ(format_usd_exact(usd_micro(15'000)), "0.015");
  EXPECT_EQ(format_usd_exact(usd_micro(4'500'000)), "4.5");
  EXPECT_EQ(format_usd_exact(usd_micro(0)), "0");
}

TEST(Money, ReadsDollarsFromStringsExactlyAndNumbersToTheMicroDollar) {
  EXPECT_EQ(usd_from_json(json("4.50"), kMaxMoney), usd_micro(4'500'000));
  EXPECT_EQ(usd_from_json(json("0.000001"), kMaxMoney), usd_micro(1));
  EXPECT_EQ(usd_from_json(json(0.015), kMaxMoney), usd_micro(15'000));
  EXPECT_EQ(usd_from_json(json(0.36), kMaxMoney), usd_micro(360'000));
  EXPECT_EQ(usd_from_json(json("0.0000001"), kMaxMoney), std::nullopt);  // 7 decimals
  EXPECT_EQ(usd_from_json(json("-1"), kMaxMoney), std::nullopt);
  EXPECT_EQ(usd_from_json(json(-1), kMaxMoney), std::nullopt);
  EXPECT_EQ(usd_from_json(json("1."), kMaxMoney), std::nullopt);
  EXPECT_EQ(usd_from_json(json("1e3"), kMaxMoney), std::nullopt);
  EXPECT_EQ(usd_from_json(json(true), kMaxMoney), std::nullopt);
  EXPECT_EQ(usd_from_json(json("2"), usd_micro(1'000'000)), std::nullopt);  // above max
}

TEST(Money, AllocationAddsUpExactlyAndGivesLeftoversToLargestRemainders) {
  std::vector<Wide> equal = {1, 1, 1};
  auto parts = allocate(usd_micro(100), equal);
  EXPECT_EQ(parts, (std::vector<Money>{usd_micro(34), usd_micro(33), usd_micro(33)}));
  std::vector<Wide> w = {1, 2, 7};  // 10 * w / 10 exact
  EXPECT_EQ(allocate(usd_micro(10), w),
            (std::vector<Money>{usd_micro(1), usd_micro(2), usd_micro(7)}));
  std::vector<Wide> skew = {1, 1'000'000, 0};  // remainders decide the last micro-dollar
  parts = allocate(usd_micro(7), skew);
  EXPECT_EQ(parts, (std::vector<Money>{usd_micro(0), usd_micro(7), usd_micro(0)}));
  std::vector<Wide> zero = {0, 0};
  EXPECT_EQ(allocate(usd_micro(5), zero), (std::vector<Money>{usd_micro(5), usd_micro(0)}));
  // Many parts of awkward sizes always add up.
  std::vector<Wide> many;
  for (int i = 1; i <= 97; ++i) many.push_back(static_cast<Wide>(i * i * 7919 % 1013));
  for (int64_t total : {INT64_C(1), INT64_C(99), INT64_C(1'000'003), INT64_C(123'456'789'012)}) {
    int64_t sum = 0;
    for (Money m : allocate(usd_micro(total), many)) sum += m.micro_usd();
    EXPECT_EQ(sum, total);
  }
}

TEST(CivilDate, ParsesFormatsAndCountsDays) {
  EXPECT_EQ(days_in_month({2026, 2}), 28u);
  EXPECT_EQ(days_in_month({2024, 2}), 29u);
  EXPECT_EQ(days_in_month({2000, 2}), 29u);
  EXPECT_EQ(days_in_month({2100, 2}), 28u);
  EXPECT_EQ(days_in_month({2026, 7}), 31u);
  EXPECT_EQ(parse_date("2025-02-29"), std::nullopt);
  EXPECT_EQ(parse_date("2024-02-29"), (CivilDate{2024, 2, 29}));
  EXPECT_EQ(parse_date("2024-2-29"), std::nullopt);
  EXPECT_EQ(parse_year_month("2026-13"), std::nullopt);
  EXPECT_EQ(days_since_epoch({1970, 1, 1}), 0);
  EXPECT_EQ(days_since_epoch({2026, 6, 1}), 20605);
  EXPECT_EQ(date_from_days(20605), (CivilDate{2026, 6, 1}));
  EXPECT_EQ(format_date(add_days({2026, 6, 30}, 1)), "2026-07-01");
  EXPECT_EQ(date_of(from_epoch_ms(INT64_C(1780358399999))), (CivilDate{2026, 6, 1}));
  EXPECT_EQ(date_of(from_epoch_ms(INT64_C(1780358400000))), (CivilDate{2026, 6, 2}));
}

TEST(OperationClass, FollowsRsPricingPage) {
  EXPECT_EQ(classify_operation("PutObject"), OperationClass::kClassA);
  EXPECT_EQ(classify_operation("ListObjects"), OperationClass::kClassA);
  EXPECT_EQ(classify_operation("CopyObject"), OperationClass::kClassA);
  EXPECT_EQ(classify_operation("CreateMultipartUpload"), OperationClass::kClassA);
  EXPECT_EQ(classify_operation("UploadPart"), OperationClass::kClassA);
  EXPECT_EQ(classify_operation("CompleteMultipartUpload"), OperationClass::kClassA);
  EXPECT_EQ(classify_operation("GetObject"), OperationClass::kClassB);
  EXPECT_EQ(classify_operation("HeadObject"), OperationClass::kClassB);
  EXPECT_EQ(classify_operation("DeleteObject"), OperationClass::kFree);
  EXPECT_EQ(classify_operation("AbortMultipartUpload"), OperationClass::kFree);
  EXPECT_EQ(classify_operation("getobject"), std::nullopt);
  EXPECT_EQ(classify_operation(Operation::kPut), OperationClass::kClassA);
  EXPECT_EQ(classify_operation(Operation::kList), OperationClass::kClassA);
  EXPECT_EQ(classify_operation(Operation::kGet), OperationClass::kClassB);
  EXPECT_EQ(classify_operation(Operation::kHead), OperationClass::kClassB);
  EXPECT_EQ(classify_operation(Operation::kDelete), OperationClass::kFree);
  for (Operation op : kAllOperations) {
    EXPECT_TRUE(classify_operation(operation_name(op)).has_value()) << operation_name(op);
  }
}

TEST(PriceList, DefaultIsThePublishedPriceList) {
  PriceList p = default_price_list();
  EXPECT_EQ(p.of(StorageClass::kStandard).storage_per_gb_month, usd_micro(15'000));
  EXPECT_EQ(p.of(StorageClass::kStandard).class_a_per_million, usd_micro(4'500'000));
  EXPECT_EQ(p.of(StorageClass::kStandard).class_b_per_million, usd_micro(360'000));
  EXPECT_EQ(p.of(StorageClass::kStandard).retrieval_per_gb, usd_micro(0));
  EXPECT_EQ(p.of(StorageClass::kStandard).min_storage_days, 0u);
  EXPECT_EQ(p.of(StorageClass::kInfrequentAccess).storage_per_gb_month, usd_micro(10'000));
  EXPECT_EQ(p.of(StorageClass::kInfrequentAccess).class_a_per_million, usd_micro(9'000'000));
  EXPECT_EQ(p.of(StorageClass::kInfrequentAccess).class_b_per_million, usd_micro(900'000));
  EXPECT_EQ(p.of(StorageClass::kInfrequentAccess).retrieval_per_gb, usd_micro(10'000));
  EXPECT_EQ(p.of(StorageClass::kInfrequentAccess).min_storage_days, 30u);
  EXPECT_EQ(p.free_tier.storage_gb_months, 10u);
  EXPECT_EQ(p.free_tier.class_a_requests, 1'000'000u);
  EXPECT_EQ(p.free_tier.class_b_requests, 10'000'000u);
  EXPECT_TRUE(p.free_tier.applies_to[0]);
  EXPECT_FALSE(p.free_tier.applies_to[1]);
}

TEST(PriceList, RoundTripsThroughJsonAndMergesPartialUpdates) {
  PriceList p = default_price_list();
  auto back = price_list_from_json(price_list_to_json(p), PriceList{});
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(price_list_to_json(back.value()), price_list_to_json(p));
  auto upd = price_list_from_json(
      json{{"effective_from", "2026-07-01"}, {"standard", {{"class_b_usd_per_million", "0.40"}}}},
      p);
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd.value().of(StorageClass::kStandard).class_b_per_million, usd_micro(400'000));
  EXPECT_EQ(upd.value().of(StorageClass::kStandard).class_a_per_million, usd_micro(4'500'000));
}

TEST(PriceList, RefusesBadFieldsNamingThem) {
  PriceList p = default_price_list();
  auto field_of = [&](const json& j) {
    auto r = price_list_from_json(j, p);
    return r.ok() ? std::string("(accepted)") : r.error().field;
  };
  EXPECT_EQ(field_of({{"effective_from", "2026-07-02"}}), "effective_from");
  EXPECT_EQ(field_of({{"effective_from", "July"}}), "effective_from");
  EXPECT_EQ(field_of({{"standard", {{"class_a_usd_per_million", -1}}}}),
            "standard.class_a_usd_per_million");
  EXPECT_EQ(field_of({{"standard", {{"class_a_usd_per_million", "abc"}}}}),
            "standard.class_a_usd_per_million");
  EXPECT_EQ(field_of({{"infrequent_access", {{"min_storage_days", 400}}}}),
            "infrequent_access.min_storage_days");
  EXPECT_EQ(field_of({{"infrequent_access", {{"egress_usd_per_gb", 1}}}}),
            "infrequent_access.egress_usd_per_gb");
  EXPECT_EQ(field_of({{"free_tier", {{"applies_to", {"standard", "glacier"}}}}}),
            "free_tier.applies_to");
  EXPECT_EQ(field_of({{"free_tier", {{"class_b_requests", 1.5}}}}), "free_tier.class_b_requests");
  EXPECT_EQ(field_of({{"colour", "red"}}), "colour");
}

TEST(PriceList, AVersionPricesItsMonthAndLaterOnly) {
  PriceList june = default_price_list();
  june.effective_from = {2026, 6, 1};
  june.classes[0].storage_per_gb_month = usd_micro(20'000);
  PriceList sept = default_price_list();
  sept.effective_from = {2026, 9, 1};
  sept.classes[0].storage_per_gb_month = usd_micro(12'000);
  std::vector<PriceList> versions = {sept, june};
  auto storage = [&](YearMonth m) {
    return price_list_for(versions, m).of(StorageClass::kStandard).storage_per_gb_month;
  };
  EXPECT_EQ(storage({2026, 5}), usd_micro(15'000));
  EXPECT_EQ(storage({2026, 6}), usd_micro(20'000));
  EXPECT_EQ(storage({2026, 8}), usd_micro(20'000));
  EXPECT_EQ(storage({2026, 9}), usd_micro(12'000));
  EXPECT_EQ(storage({2027, 1}), usd_micro(12'000));
}

// ---- the pricing calculator against hand-worked bills ----

struct HandLine {
  const char* line;  // storage | class_a | class_b | retrieval
  uint64_t billable;
  int64_t cost_micro;
};

struct HandCase {
  const char* name;
  const char* body;             // POST /api/costs/estimate body
  const char* storage_class;    // the class whose lines are listed
  std::vector<HandLine> lines;  // worked out by hand from the published prices
  int64_t total_micro;
  const char* total_usd;
};

const std::vector<HandCase>& hand_cases() {
  static const std::vector<HandCase> cases = {
      // R2 docs "Standard storage example": 1,000 GB-months - 10 free = 990 * $0.015 =
      // $14.85; 1,000 writes and 1 million reads are inside the free tier.
      {"docs standard example",
       R"({"standard": {"storage_gb_months": 1000, "class_a": 1000, "class_b": 1000000}})",
       "standard",
       {{"storage", 990, 14'850'000}, {"class_a", 0, 0}, {"class_b", 0, 0}, {"retrieval", 0, 0}},
       14'850'000,
       "14.85"},
      // R2 docs "Infrequent access example": 1,000 GB kept 5 days is billed the 30-day
      // minimum = 1,000 GB-months * $0.01 = $10; 1,000 writes round up to 1 million = $9;
      // 1 million reads = $0.90; 1,000 GB retrieved * $0.01 = $10. Total $29.90.
      {"docs infrequent access example",
       R"({"infrequent_access": {"stored_gb": 1000, "days_stored": 5, "class_a": 1000,
           "class_b": 1000000, "retrieval_gb": 1000}})",
       "infrequent_access",
       {{"storage", 1000, 10'000'000},
        {"class_a", 1, 9'000'000},
        {"class_b", 1, 900'000},
        {"retrieval", 1000, 10'000'000}},
       29'900'000,
       "29.90"},
      // R2 docs "Asset hosting": 100,000 * 100 KB = 10 GB (free); 100,000 writes (free);
      // 10 million reads a day * 30 = 300 million - 10 million free = 290 * $0.36 = $104.40.
      {"docs asset hosting",
       R"({"standard": {"storage_gb_months": 10, "class_a": 100000, "class_b": 300000000}})",
       "standard",
       {{"storage", 0, 0}, {"class_a", 0, 0}, {"class_b", 290, 104'400'000}, {"retrieval", 0, 0}},
       104'400'000,
       "104.40"},
      // Free tier edges: exactly the allowance is free; one byte-month or one request more
      // is a whole unit: 1 GB-month * $0.015, 1 million * $4.50, 1 million * $0.36.
      {"free tier exactly used",
       R"({"standard": {"storage_gb_months": 10, "class_a": 1000000, "class_b": 10000000}})",
       "standard",
       {{"storage", 0, 0}, {"class_a", 0, 0}, {"class_b", 0, 0}, {"retrieval", 0, 0}},
       0,
       "0.00"},
      {"one unit past the free tier",
       R"({"standard": {"storage_gb_months": 10.000000001, "class_a": 1000001,
           "class_b": 10000001}})",
       "standard",
       {{"storage", 1, 15'000},
        {"class_a", 1, 4'500'000},
        {"class_b", 1, 360'000},
        {"retrieval", 0, 0}},
       4'875'000,
       "4.88"},
      // Docs rounding examples (Infrequent Access: no free tier): 1,000,001 operations are
      // billed as 2 million (2 * $9 = $18); 1.1 GB-month as 2 ($0.02); 1.1 GB retrieved as
      // 2 GB ($0.02).
      {"docs rounding examples",
       R"({"infrequent_access": {"storage_gb_months": 1.1, "class_a": 1000001,
           "retrieval_gb": 1.1}})",
       "infrequent_access",
       {{"storage", 2, 20'000},
        {"class_a", 2, 18'000'000},
        {"class_b", 0, 0},
        {"retrieval", 2, 20'000}},
       18'040'000,
       "18.04"},
      // Infrequent Access minimum duration: 100 GB kept 10 days is billed 30 days = 100
      // GB-months * $0.01 = $1.00.
      {"ia minimum duration",
       R"({"infrequent_access": {"stored_gb": 100, "days_stored": 10}})",
       "infrequent_access",
       {{"storage", 100, 1'000'000}, {"class_a", 0, 0}, {"class_b", 0, 0}, {"retrieval", 0, 0}},
       1'000'000,
       "1.00"},
      // Standard has no minimum: 100 GB * 10/30 = 33.33 GB-months - 10 = 23.33 -> 24 *
      // $0.015 = $0.36.
      {"standard has no minimum duration",
       R"({"standard": {"stored_gb": 100, "days_stored": 10}})",
       "standard",
       {{"storage", 24, 360'000}, {"class_a", 0, 0}, {"class_b", 0, 0}, {"retrieval", 0, 0}},
       360'000,
       "0.36"},
      // Standard has no retrieval fee even when data is read.
      {"standard retrieval is free",
       R"({"standard": {"retrieval_gb": 5000}})",
       "standard",
       {{"storage", 0, 0}, {"class_a", 0, 0}, {"class_b", 0, 0}, {"retrieval", 5000, 0}},
       0,
       "0.00"},
  };
  return cases;
}

TEST(EstimateHandTable, EveryLineMatchesTheHandWorkedBill) {
  PriceList prices = default_price_list();
  for (const HandCase& c : hand_cases()) {
    SCOPED_TRACE(c.name);
    json body = json::parse(c.body);
    auto in = estimate_from_json(body, prices);
    ASSERT_TRUE(in.ok()) << in.error().message;
    auto bill = estimate(prices, in.value());
    ASSERT_TRUE(bill.ok());
    StorageClass cls = parse_storage_class(c.storage_class).value();
    for (const HandLine& h : c.lines) {
      Line line = Line::kStorage;
      for (Line l : kAllLines) {
        if (line_name(l) == h.line) line = l;
      }
      SCOPED_TRACE(h.line);
      EXPECT_EQ(bill.value().line(cls, line).billable_units, h.billable);
      EXPECT_EQ(bill.value().line(cls, line).cost, usd_micro(h.cost_micro));
    }
    EXPECT_EQ(bill.value().total, usd_micro(c.total_micro));
    EXPECT_EQ(format_usd(bill.value().total), c.total_usd);
  }
}

TEST(EstimateHandTable, BothClassesAddUp) {
  // The docs' Standard and Infrequent Access examples in one request: $14.85 + $29.90.
  json body = json::parse(R"({
    "standard": {"storage_gb_months": 1000, "class_a": 1000, "class_b": 1000000},
    "infrequent_access": {"stored_gb": 1000, "days_stored": 5, "class_a": 1000,
                          "class_b": 1000000, "retrieval_gb": 1000}})");
  auto in = estimate_from_json(body, default_price_list());
  ASSERT_TRUE(in.ok());
  auto bill = estimate(default_price_list(), in.value());
  ASSERT_TRUE(bill.ok());
  EXPECT_EQ(bill.value().total, usd_micro(44'750'000));
  EXPECT_EQ(bill.value().class_total(StorageClass::kStandard), usd_micro(14'850'000));
}

TEST(EstimateValidation, RefusesBadBodiesNamingTheField) {
  auto field_of = [](const char* body) {
    auto r = estimate_from_json(json::parse(body), default_price_list());
    return r.ok() ? std::string("(accepted)") : r.error().field;
  };
  EXPECT_EQ(field_of(R"({"standard": {"class_a": -1}})"), "standard.class_a");
  EXPECT_EQ(field_of(R"({"standard": {"class_a": 1.5}})"), "standard.class_a");
  EXPECT_EQ(field_of(R"({"standard": {"class_b": "many"}})"), "standard.class_b");
  EXPECT_EQ(field_of(R"({"standard": {"storage_gb_months": -0.5}})"), "standard.storage_gb_months");
  EXPECT_EQ(field_of(R"({"infrequent_access": {"days_stored": 31, "stored_gb": 1}})"),
            "infrequent_access.days_stored");
  EXPECT_EQ(field_of(R"({"infrequent_access": {"days_stored": 3}})"),
            "infrequent_access.days_stored");
  EXPECT_EQ(field_of(R"({"standard": {"storage_gb_months": 1, "stored_gb": 1}})"),
            "standard.stored_gb");
  EXPECT_EQ(field_of(R"({"standard": {"egress_gb": 1}})"), "standard.egress_gb");
  EXPECT_EQ(field_of(R"({"glacier": {}})"), "glacier");
  EXPECT_EQ(field_of(R"({"standard": 5})"), "standard");
  EXPECT_EQ(field_of(R"({"standard": {"class_a": 1e6}})"), "(accepted)");
  EXPECT_EQ(field_of(R"({})"), "(accepted)");
}

TEST(Bill, ListPriceCostIsUnroundedAndIgnoresTheFreeTier) {
  PriceList p = default_price_list();
  // One day of 300 GB in a 30-day month: 300 * $0.015 / 30 = $0.15.
  EXPECT_EQ(list_price_cost(p.of(StorageClass::kStandard), Line::kStorage,
                            static_cast<Wide>(300) * kBytesPerGb, 30),
            usd_micro(150'000));
  // 1,000 GETs: 1,000 * $0.36 / 10^6 = $0.00036.
  EXPECT_EQ(list_price_cost(p.of(StorageClass::kStandard), Line::kClassB, 1000, 30),
            usd_micro(360));
  // Half a micro-dollar rounds up: 1,500,001 * 0.36 = 540,000.36 -> 540,000; 1,500,002 ->
  // 540,000.72 -> 540,001.
  EXPECT_EQ(list_price_cost(p.of(StorageClass::kStandard), Line::kClassB, 1'500'001, 30),
            usd_micro(540'000));
  EXPECT_EQ(list_price_cost(p.of(StorageClass::kStandard), Line::kClassB, 1'500'002, 30),
            usd_micro(540'001));
}

}  // namespace
}  // namespace r2w::cost

// ---- through the engine: `now` picks the current month, never a clock ----

namespace r2w::cost {
namespace {

TEST(CostCommands, NowPicksTheMonthWhosePricesApplyAndPastMonthsCannotBeRepriced) {
  // 2026-06-15T00:00:00Z.
  TimePoint june = from_epoch_ms(INT64_C(1781481600000));
  bindings::Engine engine(june);
  const char* update =
      R"({"request": {"effective_from": "2026-06-01", "standard": {"class_b_usd_per_million": 1}}})";
  EXPECT_TRUE(engine.call("pricing_validate", update, june));
  const char* past =
      R"({"request": {"effective_from": "2026-05-01", "standard": {"class_b_usd_per_million": 1}}})";
  EXPECT_FALSE(engine.call("pricing_validate", past, june));
  EXPECT_EQ(json::parse(engine.output())["error"]["field"], "effective_from");

  // The version in effect, sent back exactly as GET answered it (here the built-in default):
  // accepted, nothing to store. Changed, it is still a past month's.
  ASSERT_TRUE(engine.call("pricing_status", "{}", june));
  json in_effect = json::parse(engine.output())["in_effect"];
  ASSERT_TRUE(engine.call("pricing_validate", json{{"request", in_effect}}.dump(), june))
      << engine.output();
  EXPECT_EQ(json::parse(engine.output())["unchanged"], true);
  in_effect["standard"]["class_b_usd_per_million"] = "1";
  EXPECT_FALSE(engine.call("pricing_validate", json{{"request", in_effect}}.dump(), june));
  EXPECT_EQ(json::parse(engine.output())["error"]["field"], "effective_from");
  // GET's whole answer sent back: its in_effect, the versions being what GET answers.
  ASSERT_TRUE(engine.call("pricing_status", "{}", june));
  json whole = json::parse(engine.output());
  ASSERT_TRUE(engine.call("pricing_validate", json{{"request", whole}}.dump(), june))
      << engine.output();
  EXPECT_EQ(json::parse(engine.output())["unchanged"], true);
  whole["versions"][0]["source"] = "edited";
  EXPECT_FALSE(engine.call("pricing_validate", json{{"request", whole}}.dump(), june));
  EXPECT_EQ(json::parse(engine.output())["error"]["field"], "versions");

  // A stored version from July on prices July, not June (the month of now).
  const char* estimate = R"({"request": {"standard": {"class_b": 20000000}},
      "pricing": [{"effective_from": "2026-07-01", "standard": {"class_b_usd_per_million": 1}}]})";
  ASSERT_TRUE(engine.call("cost_estimate", estimate, june));
  EXPECT_EQ(json::parse(engine.output())["total_usd"], "3.60");  // 10 * $0.36
  TimePoint july = from_epoch_ms(INT64_C(1782864000000));        // 2026-07-01T00:00:00Z
  ASSERT_TRUE(engine.call("cost_estimate", estimate, july));
  EXPECT_EQ(json::parse(engine.output())["total_usd"], "10.00");  // 10 * $1
}

}  // namespace
}  // namespace r2w::cost
