#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/account/action-class.h"
#include "core/common/civil-date.h"
#include "core/common/time.h"
#include "core/cost/money.h"
#include "core/cost/price-list.h"
#include "core/cost/usage.h"

namespace r2w::account {

// GraphQL `actionStatus`.
enum class ActionStatus : uint8_t { kSuccess, kUserError, kInternalError };
std::string_view action_status_name(ActionStatus s);  // "success", "userError", "internalError"
std::optional<ActionStatus> parse_action_status(std::string_view s);

// One group of r2OperationsAdaptiveGroups at hour resolution: what the collector stores.
struct OperationsRow {
  TimePoint hour;
  std::string bucket;
  std::string action_type;
  ActionStatus status = ActionStatus::kSuccess;
  uint32_t status_code = 200;
  uint64_t requests = 0;
  uint64_t response_bytes = 0;  // sum of responseObjectSize
};

// One group of r2StorageAdaptiveGroups: a bucket's (and class's) peak figures of a day.
struct StorageRow {
  CivilDate date;
  std::string bucket;
  cost::StorageClass storage_class = cost::StorageClass::kStandard;
  uint64_t payload_bytes = 0;    // max payloadSize
  uint64_t metadata_bytes = 0;   // max metadataSize
  uint64_t objects = 0;          // max objectCount
  uint64_t pending_uploads = 0;  // max uploadCount (multipart uploads not completed)
};

// Operations summed over a day per (bucket, action type, status code): what a month's bill
// needs.
struct OperationsDay {
  CivilDate date;
  std::string bucket;
  std::string action_type;
  uint32_t status_code = 200;
  uint64_t requests = 0;
  uint64_t response_bytes = 0;
};

// Whether R2 bills a request, by its status code (billed_status).
enum class Billing : uint8_t { kBilled, kUnbilled };

// Operations of a day summed per (bucket, the action's class, billed or not): what the bill and
// the reconciliation read of a month, as the Worker sums the day rows by the grouping the
// engine names (account_reads' `usage.classes` and `usage.unbilled_status_codes`), one row per
// class instead of one per action type and status code. An unclassified action keeps its name
// (the bill lists it); a classified one has none.
struct ClassedOperationsDay {
  CivilDate date;
  std::string bucket;
  ActionClass action_class = ActionClass::kUnclassified;
  Billing billing = Billing::kBilled;
  std::string action_type;  // unclassified actions only
  uint64_t requests = 0;
  uint64_t response_bytes = 0;
};
// The same day row grouped by its class and billing.
ClassedOperationsDay classed(const OperationsDay& o);

struct UnclassifiedAction {
  std::string action_type;
  uint64_t requests = 0;  // billed as Class A
};

// The account's usage in the cost engine's rows, one per (date, bucket, storage class):
//  - storage: the day's peak payloadSize + metadataSize (both are stored bytes; docs/account.md);
//  - requests by the action's class (unclassified ones as Class A), except those answered 401
//    or 403, which R2 does not bill;
//  - retrieved bytes: responseObjectSize of billed Class B requests (reads).
// Operations carry no storage class in the dataset, so they are counted as Standard.
struct AccountUsage {
  std::vector<cost::UsageRow> rows;
  std::vector<UnclassifiedAction> unclassified;  // by action type, sorted
  uint64_t unbilled_auth_failures = 0;           // requests answered 401 or 403
};
AccountUsage account_usage(std::span<const OperationsDay> operations,
                           std::span<const StorageRow> storage);
AccountUsage account_usage(std::span<const ClassedOperationsDay> operations,
                           std::span<const StorageRow> storage);

// Requests of a slice by class: Class A, Class B, free, unclassified.
using ClassCounts = std::array<uint64_t, 4>;
inline size_t class_index(ActionClass c) { return static_cast<size_t>(c); }

// r2watch's own count of a day's operations on a bucket (storage_metrics), by operation name.
struct OwnOperationsDay {
  CivilDate date;
  std::string bucket;
  std::string operation;
  uint64_t calls = 0;
};

// A bucket's day as Cloudflare counted it and as r2watch counted the calls that went through it.
struct ReconcileRow {
  CivilDate date;
  std::string bucket;
  ClassCounts cloudflare{};
  ClassCounts r2watch{};
  uint64_t cloudflare_total = 0;
  uint64_t r2watch_total = 0;
  uint64_t around = 0;  // requests Cloudflare counted beyond r2watch's (never negative)
  // around / cloudflare_total in basis points (1/100 of a percent); 0 when Cloudflare counted
  // none.
  uint32_t around_bp = 0;
};
struct Reconciliation {
  std::vector<ReconcileRow> rows;  // by date, then bucket
  ReconcileRow total;              // date and bucket empty
};
Reconciliation reconcile(std::span<const OperationsDay> cloudflare,
                         std::span<const OwnOperationsDay> own);
Reconciliation reconcile(std::span<const ClassedOperationsDay> cloudflare,
                         std::span<const OwnOperationsDay> own);

// The operations of a bucket over the last day, for the bucket list and the alert figures.
struct OperationsCount {
  std::string bucket;
  std::string action_type;
  ActionStatus status = ActionStatus::kSuccess;
  uint64_t requests = 0;
};

struct BucketSummary {
  std::string bucket;
  std::optional<CivilDate> storage_date;  // the day of the latest storage figures
  uint64_t objects = 0;
  uint64_t stored_bytes = 0;  // payload + metadata
  uint64_t payload_bytes = 0;
  uint64_t metadata_bytes = 0;
  uint64_t pending_uploads = 0;
  ClassCounts requests_24h{};
  uint64_t total_24h = 0;
  uint64_t user_errors_24h = 0;
  uint64_t internal_errors_24h = 0;
  uint32_t user_error_bp = 0;  // basis points of total_24h
  uint32_t internal_error_bp = 0;
  cost::Money month_to_date;
};

// One summary per bucket named in any input, sorted by name. `latest`: each bucket's latest
// storage rows (all classes of its latest day); `last_day`: operations of the last 24 hours;
// `costs`: each bucket's share of the month's bill.
struct BucketCost {
  std::string bucket;
  cost::Money month_to_date;
};
std::vector<BucketSummary> bucket_summaries(std::span<const StorageRow> latest,
                                            std::span<const OperationsCount> last_day,
                                            std::span<const BucketCost> costs);

// One bucket's requests in one hour, and how many of them failed inside R2 (internalError).
struct HourTotal {
  TimePoint hour;
  std::string bucket;
  uint64_t requests = 0;
  uint64_t internal_errors = 0;
};

// A figure for the alert engine (core/alerts Series: metric, bucket, window, value, samples).
struct AlertFigure {
  std::string metric;
  std::string bucket;
  Duration window{0};
  double value = 0;
  uint64_t samples = 0;
  std::string detail;
};

// The account's alert figures per bucket at `now`:
//  - request_spike_pct (no window): requests of the last complete hour against the MEDIAN of
//    that hour in the 1..`spike_weeks` weeks before (weeks without a stored row are left out,
//    so a one-off peak in one past week does not move the baseline); none without a baseline
//    or when the baseline is 0. samples: the hour's requests.
//  - for each window w: internal_error_rate_pct over the whole hours that overlap
//    [now - w, now] (samples: requests); pending_uploads_min, the fewest pending multipart
//    uploads of any day from (now - w)'s day to the latest stored day, when every one of
//    those days is stored (samples: days); bucket_storage_growth_pct, the latest day's stored
//    bytes against the day w before it (none when that day is not stored or held nothing).
std::vector<AlertFigure> alert_figures(std::span<const HourTotal> hours,
                                       std::span<const StorageRow> storage,
                                       std::span<const Duration> windows, TimePoint now,
                                       uint32_t spike_weeks = 4);

// What alert_figures reads, so the Worker reads no more: the hours the spike compares (the last
// complete hour and the same hour in the `spike_weeks` weeks before), every hour from
// `hours_since` on (the windows' error rates), and storage days from `storage_since` on.
// `segments`: ascending starts (hours_since among them) of spans whose hours alert_figures only
// ever reads summed: a bucket's hours summed per span [start, next start) (the last span open)
// and placed at its start give the same figures as every hour (each window's first hour and
// each hour the spike reads, with the hour after it, start a span).
struct AlertReach {
  std::vector<TimePoint> hours;
  TimePoint hours_since;
  CivilDate storage_since;
  std::vector<TimePoint> segments;
};
AlertReach alert_reach(std::span<const Duration> windows, TimePoint now, uint32_t spike_weeks = 4);

// Basis points of part / whole, rounded half up (0 when whole is 0).
uint32_t basis_points(uint64_t part, uint64_t whole);

}  // namespace r2w::account
