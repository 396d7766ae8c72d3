#pragma once

// The cost domain's codec: reads the cost commands' JSON into core/cost's structs and writes
// their answers. Money is given twice: exact integer micro-dollars (`*_micro_usd`) and a
// dollar string rounded half up to the cent (`*_usd`). Type checks and unknown fields are
// refused here (FieldReader); ranges and rules are the core's.
#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/cost/anomaly.h"
#include "core/cost/attribution.h"
#include "core/cost/bill.h"
#include "core/cost/budget.h"
#include "core/cost/estimate.h"
#include "core/cost/month.h"
#include "core/cost/period-report.h"
#include "core/cost/price-list.h"
#include "core/cost/usage.h"
#include "core/cost/user-share.h"
#include "core/cost/window.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::codec {

// A non-negative dollar amount: a decimal string with at most 6 decimals ("4.50"), or a number
// (taken to the nearest micro-dollar). nullopt for anything else or above `max`.
std::optional<cost::Money> usd_from_json(const Json& v, cost::Money max);

// A price list:
// {"effective_from": "2026-01-01", "source": "...",
//  "standard": {"storage_usd_per_gb_month": "0.015", "class_a_usd_per_million": "4.5",
//               "class_b_usd_per_million": "0.36", "retrieval_usd_per_gb": "0",
//               "min_storage_days": 0},
//  "infrequent_access": {...},
//  "free_tier": {"storage_gb_months": 10, "class_a_requests": 1000000,
//                "class_b_requests": 10000000, "applies_to": ["standard"]}}
// (every price a dollar string or number; written back as exact strings). Fields absent from
// `j` keep their value in `base` (a partial update). Refuses unknown fields, wrong types,
// prices above $1,000,000 per unit, minimum durations above 365 days, and what
// cost::validate_price_list refuses, naming the field.
Result<cost::PriceList> price_list_from_json(const Json& j, const cost::PriceList& base);
Json price_list_to_json(const cost::PriceList& p);
// Stored versions ([price list, ...]) over the default, naming the field
// ("pricing[2].standard.class_a_usd_per_million") when one is invalid.
Result<std::vector<cost::PriceList>> price_versions_from_json(const Json& j,
                                                              std::string_view field);

// {"budgets": [{"bucket": "photos" (absent or null: the account), "monthly_usd": "25.00" or
//  25, "monthly_micro_usd"?: n, "warn_at_pct": 80}, ...]}: errors name the field
// ("budgets[1].monthly_usd").
Result<std::vector<cost::Budget>> budgets_from_json(const Json& j);
// {"budgets": [{"bucket": null | "photos", "monthly_usd": "25.00", "monthly_micro_usd": n,
//  "warn_at_pct": 80}]}, the shape budgets_from_json reads back.
Json budgets_to_json(std::span<const cost::Budget> budgets);

// The body of POST /api/costs/estimate, every field optional, numbers non-negative:
// {"standard": {...}, "infrequent_access": {...}}, each class with storage_gb_months,
// stored_gb, days_stored, class_a, class_b, retrieval_gb (cost::ClassRequest). GB figures are
// taken to the nearest byte (1 GB = 10^9 bytes). Errors name the field ("standard.class_a").
Result<cost::EstimateRequest> estimate_request_from_json(const Json& body);
// estimate_request_from_json, then cost::estimate_input.
Result<cost::EstimateInput> estimate_from_json(const Json& body, const cost::PriceList& prices);

// [row, ...]; each row:
// {"date": "YYYY-MM-DD", "bucket": "photos", "prefix": "2026/", "user": "alice",
//  "storage_class": "standard" | "infrequent_access", "storage_peak_bytes": n,
//  "operations": {"put": n, "GetObject": n, ...}, "retrieved_bytes": n,
//  "early_deletes": [{"bytes": n, "age_days": d}]}
// date and bucket are required, the rest optional (storage_class defaults to standard).
// Errors name the field: "usage[3].operations.Frobnicate".
Result<std::vector<cost::UsageRow>> usage_rows_from_json(const Json& j, std::string_view field);

// "pricing" of `in`: the stored versions ([price list, ...]); absent = none (the default list).
Result<std::vector<cost::PriceList>> versions_of(const Json& in, bool has_pricing);
// The fields every month command shares, read with `r` after the command marked its own:
// {"as_of": "YYYY-MM-DD", "usage": [row, ...], "pricing": [version, ...],
//  "forecast_window_days": 7}. Instead of "usage", "account": {"operations", "storage"} bills
// the account's figures from Cloudflare's analytics (account-commands.cc); `notes` then gets
// what the bill says of them (unclassified action types, unbilled auth failures).
Result<cost::MonthInput> month_input(const Json& in, FieldReader& r, Json* notes = nullptr);
// "user_storage": [{"date", "bucket", "user", "prefix", "peak_bytes"}, ...], each user's own
// daily peaks (user_storage_daily_peaks).
Result<std::vector<cost::UserStorage>> user_storage_from_json(const Json& list);

// {"storage_micro_usd", "class_a_micro_usd", "class_b_micro_usd", "retrieval_micro_usd",
//  "total_micro_usd", "total_usd"}: the bill's lines summed over storage classes.
Json totals_json(const cost::Bill& bill);
// totals_json plus, for each class in `classes`, {"lines": [line...], "total_micro_usd",
// "total_usd"}; a line is {"line", "usage", "usage_unit", "free_tier", "billable",
// "billing_unit", "unit_price_usd", "cost_micro_usd", "cost_usd", "rounding"}.
Json bill_json(const cost::Bill& bill, std::array<bool, cost::kStorageClassCount> classes);
// {"effective_from", "source"}: which price list priced an answer.
Json pricing_ref_json(const cost::PriceList& p);
// [{key_name: key, "storage_micro_usd", ..., "total_micro_usd", "total_usd", "share_pct"}]
Json shares_json(std::span<const cost::Share> shares, cost::Money total, std::string_view key_name);
// A share's per-line figures and total.
Json share_totals_json(const cost::Share& s);
// {"bucket", <share_totals_json>}: one bucket's part of a month to date (cost::bucket_part).
Json bucket_part_json(const cost::Share& s);
// A bill's or a share's charges as people read them: storage, requests (Class A + B),
// retrieval, in micro-dollars and dollars to the cent.
Json charges_json(const cost::Bill& bill);
Json charges_json(const cost::Share& share);
// What moving to another storage class saves, to date and for the month, and the verdict.
Json saving_json(const cost::Saving& s);

// The whole month report: month_to_date (bill_json), daily average, forecast (with its
// method), trend, by_bucket.
Json month_report_json(const cost::MonthReport& r, const cost::PriceList& prices,
                       const cost::ForecastOptions& forecast);
// cost_user_share's answer: the user's part of the month (without the what-if), and the
// what-if in `target` (user_share of the month priced in it).
Json user_share_json(const cost::MonthReport& report, const cost::MonthInput& input,
                     const cost::UserShare& share);
Json user_what_if_json(cost::StorageClass target, const cost::UserShare& share,
                       const cost::UserShare& what_if);
Json budget_status_json(std::span<const cost::BudgetStatus> statuses);
Json anomaly_json(const cost::AnomalyReport& r, const cost::AnomalyOptions& options);
// cost_report's answer.
Json period_report_json(const cost::PeriodCostReport& p, const cost::MonthReport& rep,
                        const cost::MonthInput& in);
// {"month", "first_day", "first_day_ms", "as_of", "end_ms"}.
Json month_window_json(const cost::MonthWindow& w);
// {"date", "from_day", "from_ms", "end_ms"}.
Json day_window_json(const cost::DayWindow& w);

// The forecast method, in words (also in the README).
std::string_view forecast_method();

}  // namespace r2w::codec
