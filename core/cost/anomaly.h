#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/common/civil-date.h"
#include "core/common/result.h"
#include "core/cost/bill.h"
#include "core/cost/money.h"
#include "core/cost/price-list.h"
#include "core/cost/usage.h"

namespace r2w::cost {

inline constexpr uint32_t kMaxBaselineDays = 90;
inline constexpr uint32_t kMaxRisePct = 100'000;
struct AnomalyOptions {
  // The days before the checked day that form the baseline. Default 7, range 1..90.
  uint32_t baseline_days = 7;
  // The day is an anomaly when its cost is more than the baseline by this percentage.
  // Default 50 (a 50% rise), range 1..100,000.
  uint32_t rise_pct = 50;
  // ... and by at least this much, so sub-cent noise does not alarm. Default 0.
  Money min_increase;
};

// A day's usage at list price (no free tier, no rounding: a day has no bill of its own), by
// storage class and line.
struct DayLines {
  std::array<std::array<Money, kLineCount>, kStorageClassCount> cost{};
  Money total;
};

struct AnomalyReport {
  CivilDate date;
  DayLines today;
  // The mean of each figure over the baseline days that have usage rows (days without rows
  // are missing data, not zero cost), half up. Zero when there are none.
  DayLines baseline;
  uint32_t baseline_days_with_data = 0;
  // "anomaly", "normal", or "no_baseline" (no baseline day has data).
  std::string_view verdict;
  // (today - baseline) / baseline in tenths of a percent; nullopt when the baseline is zero.
  std::optional<int64_t> rise_permille;
  // The line that moved most (the largest rise; on a fall, the smallest fall), and the
  // bucket whose cost rose most, with their rises.
  StorageClass reason_class = StorageClass::kStandard;
  Line reason_line = Line::kStorage;
  Money reason_change;
  std::string top_bucket;
  Money top_bucket_change;
};

// Checks `date` against the `baseline_days` days before it. Rows may be of any dates (the
// baseline may reach into the previous month); rows of other days are ignored. A day's
// storage is priced as one day of its month (peak * price / days in that month).
// Anomaly when baseline > 0, today * 100 > baseline * (100 + rise_pct) and today - baseline
// >= min_increase; or when the baseline is zero and today >= max(min_increase, 1 micro-USD).
AnomalyReport check_anomaly(const PriceList& prices, std::span<const UsageRow> rows, CivilDate date,
                            const AnomalyOptions& options);

}  // namespace r2w::cost
