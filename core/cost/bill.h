#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/common/result.h"
#include "core/cost/money.h"
#include "core/cost/price-list.h"

namespace r2w::cost {

// The lines of an R2 bill, per storage class. Egress is free and has no line.
enum class Line : uint8_t { kStorage = 0, kClassA = 1, kClassB = 2, kRetrieval = 3 };
inline constexpr size_t kLineCount = 4;
inline constexpr std::array<Line, kLineCount> kAllLines = {Line::kStorage, Line::kClassA,
                                                           Line::kClassB, Line::kRetrieval};
std::string_view line_name(Line l);  // "storage", "class_a", "class_b", "retrieval"
inline size_t index_of(Line l) { return static_cast<size_t>(l); }

// What one storage class used over a period, in exact base units.
struct ClassUsage {
  // Sum over the days of the period of each day's peak stored bytes, plus the byte-days still
  // owed by objects deleted, moved or replaced before the class's minimum storage duration.
  Wide storage_byte_days = 0;
  Wide class_a_requests = 0;
  Wide class_b_requests = 0;
  // Bytes read or copied; billed only where the class has a retrieval price.
  Wide retrieved_bytes = 0;

  Wide of(Line l) const;
  bool empty() const;
  ClassUsage& operator+=(const ClassUsage& o);
};
using UsageByClass = std::array<ClassUsage, kStorageClassCount>;
UsageByClass& operator+=(UsageByClass& a, const UsageByClass& b);

// One priced line: usage in base units, the part the free tier covers, the billable quantity
// in whole billing units, the unit price and the cost.
struct BillLine {
  StorageClass storage_class = StorageClass::kStandard;
  Line line = Line::kStorage;
  Wide usage = 0;               // byte-days, requests, requests, bytes
  uint64_t free_allowance = 0;  // in the line's usage unit (GB-months, requests); 0 = none
  uint64_t billable_units = 0;
  Money unit_price;
  Money cost;
};

// The bill of one period: 4 lines per storage class, always in the order of
// kAllStorageClasses x kAllLines.
struct Bill {
  uint32_t period_days = 30;
  std::vector<BillLine> lines;
  Money total;

  const BillLine& line(StorageClass c, Line l) const {
    return lines[index_of(c) * kLineCount + index_of(l)];
  }
  Money line_total(Line l) const;
  Money class_total(StorageClass c) const;
};

// Prices one billing period of `period_days` days (the calendar month's length; 30 in the
// estimator) the way R2 bills it. Per line:
//   storage:   GB-months = byte-days / (10^9 * period_days), i.e. the average of the daily
//              peaks over the period; less the free tier; rounded UP to a whole GB-month.
//   class A/B: requests less the free tier, rounded UP to a whole million requests.
//   retrieval: bytes read or copied, rounded UP to a whole GB (10^9 bytes); no free tier.
// The free tier (classes it applies to only) comes off before rounding and never makes a
// quantity negative. cost = billable units * unit price, exact in micro-dollars; the total is
// the exact sum of the lines. Refuses (code "usage_too_large") a line above kMaxMoney.
Result<Bill> price_period(const PriceList& prices, const UsageByClass& usage, uint32_t period_days);

// The cost of usage at list price with no free tier and no rounding to billing units, to the
// nearest micro-dollar (half up). Not a bill: it is what a day's usage "costs" in the trend,
// the anomaly check and the forecast's attribution.
Money list_price_cost(const ClassPrices& prices, Line line, Wide usage, uint32_t period_days);
Money list_price_cost(const PriceList& prices, const UsageByClass& usage, uint32_t period_days);

// The classes a bill has usage in.
std::array<bool, kStorageClassCount> classes_used(const Bill& bill);

// The unit each line's usage is shown in and the rounding it gets, for the JSON answers.
std::string_view usage_unit(Line l);    // "GB-month", "requests", "requests", "GB"
std::string_view billing_unit(Line l);  // "GB-month", "million requests", ..., "GB"
std::string_view rounding_rule(Line l);

}  // namespace r2w::cost
