#include "core/account/figures.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace r2w::account {

namespace {

uint64_t add_capped(uint64_t a, uint64_t b) {
  return a > cost::kMaxUsageFigure - std::min(b, cost::kMaxUsageFigure) ? cost::kMaxUsageFigure
                                                                        : a + b;
}

}  // namespace

std::string_view action_status_name(ActionStatus s) {
  switch (s) {
    case ActionStatus::kSuccess:
      return "success";
    case ActionStatus::kUserError:
      return "userError";
    case ActionStatus::kInternalError:
      return "internalError";
  }
  return "success";
}

std::optional<ActionStatus> parse_action_status(std::string_view s) {
  if (s == "success") return ActionStatus::kSuccess;
  if (s == "userError") return ActionStatus::kUserError;
  if (s == "internalError") return ActionStatus::kInternalError;
  return std::nullopt;
}

uint32_t basis_points(uint64_t part, uint64_t whole) {
  if (whole == 0) return 0;
  // A display figure: double is exact enough for counts up to 2^53.
  double bp = std::round(10'000.0 * static_cast<double>(part) / static_cast<double>(whole));
  return static_cast<uint32_t>(std::min(bp, 4'000'000'000.0));
}

ClassedOperationsDay classed(const OperationsDay& o) {
  ActionClass c = classify_action(o.action_type);
  return {o.date,
          o.bucket,
          c,
          billed_status(o.status_code) ? Billing::kBilled : Billing::kUnbilled,
          c == ActionClass::kUnclassified ? o.action_type : std::string(),
          o.requests,
          o.response_bytes};
}

namespace {

std::vector<ClassedOperationsDay> classed_all(std::span<const OperationsDay> operations) {
  std::vector<ClassedOperationsDay> out;
  out.reserve(operations.size());
  for (const OperationsDay& o : operations) out.push_back(classed(o));
  return out;
}

}  // namespace

AccountUsage account_usage(std::span<const OperationsDay> operations,
                           std::span<const StorageRow> storage) {
  return account_usage(classed_all(operations), storage);
}

AccountUsage account_usage(std::span<const ClassedOperationsDay> operations,
                           std::span<const StorageRow> storage) {
  AccountUsage out;
  using Key = std::tuple<int64_t, std::string, cost::StorageClass>;
  std::map<Key, cost::UsageRow> rows;
  auto row = [&](CivilDate d, const std::string& bucket, cost::StorageClass c) -> cost::UsageRow& {
    auto [it, added] = rows.try_emplace(Key{days_since_epoch(d), bucket, c});
    if (added) {
      it->second.date = d;
      it->second.bucket = bucket;
      it->second.storage_class = c;
    }
    return it->second;
  };
  std::map<std::string, uint64_t> unclassified;
  for (const ClassedOperationsDay& o : operations) {
    if (o.billing == Billing::kUnbilled) {
      out.unbilled_auth_failures = add_capped(out.unbilled_auth_failures, o.requests);
      continue;
    }
    ActionClass c = o.action_class;
    if (c == ActionClass::kUnclassified) {
      unclassified[o.action_type] = add_capped(unclassified[o.action_type], o.requests);
    }
    cost::UsageRow& r = row(o.date, o.bucket, cost::StorageClass::kStandard);
    switch (billed_as(c)) {
      case cost::OperationClass::kClassA:
        r.class_a_requests = add_capped(r.class_a_requests, o.requests);
        break;
      case cost::OperationClass::kClassB:
        r.class_b_requests = add_capped(r.class_b_requests, o.requests);
        r.retrieved_bytes = add_capped(r.retrieved_bytes, o.response_bytes);
        break;
      case cost::OperationClass::kFree:
        r.free_requests = add_capped(r.free_requests, o.requests);
        break;
    }
  }
  for (const StorageRow& s : storage) {
    cost::UsageRow& r = row(s.date, s.bucket, s.storage_class);
    r.storage_peak_bytes =
        add_capped(r.storage_peak_bytes, add_capped(s.payload_bytes, s.metadata_bytes));
  }
  out.rows.reserve(rows.size());
  for (auto& [_, r] : rows) out.rows.push_back(std::move(r));
  for (auto& [name, n] : unclassified) out.unclassified.push_back({name, n});
  return out;
}

Reconciliation reconcile(std::span<const OperationsDay> cloudflare,
                         std::span<const OwnOperationsDay> own) {
  return reconcile(classed_all(cloudflare), own);
}

Reconciliation reconcile(std::span<const ClassedOperationsDay> cloudflare,
                         std::span<const OwnOperationsDay> own) {
  using Key = std::pair<int64_t, std::string>;
  std::map<Key, ReconcileRow> rows;
  auto row = [&](CivilDate d, const std::string& bucket) -> ReconcileRow& {
    auto [it, added] = rows.try_emplace(Key{days_since_epoch(d), bucket});
    if (added) {
      it->second.date = d;
      it->second.bucket = bucket;
    }
    return it->second;
  };
  for (const ClassedOperationsDay& o : cloudflare) {
    auto& n = row(o.date, o.bucket).cloudflare[class_index(o.action_class)];
    n = add_capped(n, o.requests);
  }
  for (const OwnOperationsDay& o : own) {
    auto& n = row(o.date, o.bucket).r2watch[class_index(classify_action(o.operation))];
    n = add_capped(n, o.calls);
  }
  Reconciliation out;
  auto finish = [](ReconcileRow& r) {
    r.cloudflare_total = r.r2watch_total = 0;
    for (size_t i = 0; i < r.cloudflare.size(); ++i) {
      r.cloudflare_total = add_capped(r.cloudflare_total, r.cloudflare[i]);
      r.r2watch_total = add_capped(r.r2watch_total, r.r2watch[i]);
    }
    r.around = r.cloudflare_total > r.r2watch_total ? r.cloudflare_total - r.r2watch_total : 0;
    r.around_bp = basis_points(r.around, r.cloudflare_total);
  };
  for (auto& [_, r] : rows) {
    finish(r);
    for (size_t i = 0; i < r.cloudflare.size(); ++i) {
      out.total.cloudflare[i] = add_capped(out.total.cloudflare[i], r.cloudflare[i]);
      out.total.r2watch[i] = add_capped(out.total.r2watch[i], r.r2watch[i]);
    }
    out.rows.push_back(std::move(r));
  }
  finish(out.total);
  // The total's "around" is the sum of each day's, not the difference of the sums: a day
  // r2watch counted more than Cloudflare does not hide another day's traffic around it.
  uint64_t around = 0;
  for (const ReconcileRow& r : out.rows) around = add_capped(around, r.around);
  out.total.around = around;
  out.total.around_bp = basis_points(around, out.total.cloudflare_total);
  return out;
}

std::vector<BucketSummary> bucket_summaries(std::span<const StorageRow> latest,
                                            std::span<const OperationsCount> last_day,
                                            std::span<const BucketCost> costs) {
  std::map<std::string, BucketSummary> out;
  auto of = [&](const std::string& bucket) -> BucketSummary& {
    auto [it, added] = out.try_emplace(bucket);
    if (added) it->second.bucket = bucket;
    return it->second;
  };
  for (const StorageRow& s : latest) {
    BucketSummary& b = of(s.bucket);
    if (b.storage_date && days_since_epoch(*b.storage_date) > days_since_epoch(s.date)) continue;
    if (b.storage_date && days_since_epoch(*b.storage_date) < days_since_epoch(s.date)) {
      b.objects = b.payload_bytes = b.metadata_bytes = b.pending_uploads = 0;
    }
    b.storage_date = s.date;
    b.objects = add_capped(b.objects, s.objects);
    b.payload_bytes = add_capped(b.payload_bytes, s.payload_bytes);
    b.metadata_bytes = add_capped(b.metadata_bytes, s.metadata_bytes);
    b.pending_uploads = add_capped(b.pending_uploads, s.pending_uploads);
    b.stored_bytes = add_capped(b.payload_bytes, b.metadata_bytes);
  }
  for (const OperationsCount& o : last_day) {
    BucketSummary& b = of(o.bucket);
    auto& n = b.requests_24h[class_index(classify_action(o.action_type))];
    n = add_capped(n, o.requests);
    b.total_24h = add_capped(b.total_24h, o.requests);
    if (o.status == ActionStatus::kUserError) b.user_errors_24h += o.requests;
    if (o.status == ActionStatus::kInternalError) b.internal_errors_24h += o.requests;
  }
  for (const BucketCost& c : costs) of(c.bucket).month_to_date += c.month_to_date;
  std::vector<BucketSummary> list;
  list.reserve(out.size());
  for (auto& [_, b] : out) {
    b.user_error_bp = basis_points(b.user_errors_24h, b.total_24h);
    b.internal_error_bp = basis_points(b.internal_errors_24h, b.total_24h);
    list.push_back(std::move(b));
  }
  return list;
}

AlertReach alert_reach(std::span<const Duration> windows, TimePoint now, uint32_t spike_weeks) {
  constexpr Duration kHour = std::chrono::hours(1);
  const int64_t ms = to_epoch_ms(now);
  const TimePoint current = from_epoch_ms(ms - ((ms % 3'600'000) + 3'600'000) % 3'600'000);
  AlertReach r;
  for (uint32_t k = 0; k <= spike_weeks; ++k) {
    r.hours.push_back(current - kHour - std::chrono::hours(24 * 7) * k);
  }
  Duration longest = kHour;
  for (Duration w : windows) longest = std::max(longest, w);
  const int64_t from = to_epoch_ms(now - longest);
  r.hours_since = from_epoch_ms(from - ((from % 3'600'000) + 3'600'000) % 3'600'000);
  // Growth compares with the day `window` before the latest stored day (yesterday at worst).
  r.storage_since = add_days(date_of(now - longest), -2);
  r.segments = {r.hours_since, current};
  for (TimePoint h : r.hours) {
    r.segments.push_back(h);
    r.segments.push_back(h + kHour);
  }
  for (Duration w : windows) {
    const int64_t first = to_epoch_ms(now - w);
    r.segments.push_back(from_epoch_ms(first - ((first % 3'600'000) + 3'600'000) % 3'600'000));
  }
  std::sort(r.segments.begin(), r.segments.end());
  r.segments.erase(std::unique(r.segments.begin(), r.segments.end()), r.segments.end());
  return r;
}

std::vector<AlertFigure> alert_figures(std::span<const HourTotal> hours,
                                       std::span<const StorageRow> storage,
                                       std::span<const Duration> windows, TimePoint now,
                                       uint32_t spike_weeks) {
  constexpr int64_t kHourMs = 3'600'000;
  constexpr int64_t kWeekMs = 7 * 24 * kHourMs;
  std::vector<AlertFigure> out;
  std::map<std::string, std::map<int64_t, const HourTotal*>> by_bucket;
  for (const HourTotal& h : hours) by_bucket[h.bucket][to_epoch_ms(h.hour)] = &h;
  const int64_t now_ms = to_epoch_ms(now);
  const int64_t current_hour = now_ms - ((now_ms % kHourMs) + kHourMs) % kHourMs;
  const int64_t last_hour = current_hour - kHourMs;
  for (const auto& [bucket, series] : by_bucket) {
    // Spike: the last complete hour against the median of that hour in past weeks.
    auto at = series.find(last_hour);
    uint64_t current = at == series.end() ? 0 : at->second->requests;
    std::vector<uint64_t> past;
    for (uint32_t k = 1; k <= spike_weeks; ++k) {
      auto p = series.find(last_hour - k * kWeekMs);
      if (p != series.end()) past.push_back(p->second->requests);
    }
    if (!past.empty()) {
      std::sort(past.begin(), past.end());
      size_t n = past.size();
      double median = n % 2 ? static_cast<double>(past[n / 2])
                            : (static_cast<double>(past[n / 2 - 1]) + past[n / 2]) / 2.0;
      if (median > 0) {
        out.push_back({"request_spike_pct", bucket, Duration(0),
                       std::round(1000.0 * current / median) / 10.0, current,
                       std::to_string(current) + " requests in the last hour against a median of " +
                           std::to_string(static_cast<uint64_t>(median)) +
                           " at that hour over the " + std::to_string(n) + " weeks before"});
      }
    }
    for (Duration w : windows) {
      const int64_t from = now_ms - w.count();
      const int64_t first_hour = from - ((from % kHourMs) + kHourMs) % kHourMs;
      uint64_t requests = 0, internal = 0;
      for (auto it = series.lower_bound(first_hour); it != series.end(); ++it) {
        requests += it->second->requests;
        internal += it->second->internal_errors;
      }
      out.push_back({"internal_error_rate_pct", bucket, w,
                     requests == 0 ? 0.0 : basis_points(internal, requests) / 100.0, requests,
                     std::to_string(internal) + " of " + std::to_string(requests) +
                         " requests failed inside R2 (internalError)"});
    }
  }
  // Storage figures: per bucket, the stored bytes and pending uploads of each day.
  struct Day {
    uint64_t bytes = 0;
    uint64_t pending = 0;
  };
  std::map<std::string, std::map<int64_t, Day>> days;
  for (const StorageRow& s : storage) {
    Day& d = days[s.bucket][days_since_epoch(s.date)];
    d.bytes = add_capped(d.bytes, add_capped(s.payload_bytes, s.metadata_bytes));
    d.pending = add_capped(d.pending, s.pending_uploads);
  }
  for (const auto& [bucket, byday] : days) {
    if (byday.empty()) continue;
    const int64_t latest = byday.rbegin()->first;
    for (Duration w : windows) {
      const int64_t span_days = std::max<int64_t>(1, w.count() / (24 * kHourMs));
      const int64_t first = days_since_epoch(date_of(now - w));
      bool complete = true;
      uint64_t fewest = UINT64_MAX;
      for (int64_t d = first; d <= latest; ++d) {
        auto it = byday.find(d);
        if (it == byday.end()) {
          complete = false;
          break;
        }
        fewest = std::min(fewest, it->second.pending);
      }
      if (complete && first <= latest) {
        out.push_back({"pending_uploads_min", bucket, w, static_cast<double>(fewest),
                       static_cast<uint64_t>(latest - first + 1),
                       std::to_string(fewest) +
                           " or more multipart uploads pending every day since " +
                           format_date(date_from_days(first))});
      }
      auto old = byday.find(latest - span_days);
      if (old != byday.end() && old->second.bytes > 0) {
        const double now_bytes = static_cast<double>(byday.rbegin()->second.bytes);
        const double then = static_cast<double>(old->second.bytes);
        out.push_back({"bucket_storage_growth_pct", bucket, w,
                       std::round(1000.0 * (now_bytes - then) / then) / 10.0, 1,
                       "stored bytes " + std::to_string(byday.rbegin()->second.bytes) +
                           " against " + std::to_string(old->second.bytes) + " " +
                           std::to_string(span_days) + " days before"});
      }
    }
  }
  return out;
}

}  // namespace r2w::account
