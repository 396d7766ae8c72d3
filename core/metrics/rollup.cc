#include "core/metrics/rollup.h"

#include <algorithm>

#include "core/cost/operation-class.h"

namespace r2w::metrics {

namespace {
constexpr std::string_view kOtherPrefix = "~other";

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
}  // namespace

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kMinute:
      return "minute";
    case Level::kHour:
      return "hour";
    case Level::kDay:
      return "day";
  }
  return "minute";
}

std::optional<Level> parse_level(std::string_view name) {
  for (Level l : {Level::kMinute, Level::kHour, Level::kDay}) {
    if (level_name(l) == name) return l;
  }
  return std::nullopt;
}

Duration level_length(Level level) {
  switch (level) {
    case Level::kMinute:
      return Duration(60'000);
    case Level::kHour:
      return Duration(3'600'000);
    case Level::kDay:
      return Duration(86'400'000);
  }
  return Duration(60'000);
}

TimePoint period_start(Level level, TimePoint t) {
  int64_t len = level_length(level).count();
  return from_epoch_ms(floor_div(to_epoch_ms(t), len) * len);
}

void Figures::merge(const Figures& other) {
  calls += other.calls;
  errors += other.errors;
  bytes_up += other.bytes_up;
  bytes_down += other.bytes_down;
  latency.merge(other.latency);
}

std::optional<Error> validate_row(const Row& row) {
  if (row.figures.errors > row.figures.calls) {
    return invalid_field("errors", "errors must not exceed calls");
  }
  return std::nullopt;
}

std::vector<Row> merge_rows(const std::vector<Row>& rows, Level level) {
  std::map<std::tuple<int64_t, Series, Operation>, Row> merged;
  for (const Row& row : rows) {
    TimePoint start = period_start(level, row.period_start);
    auto key = std::make_tuple(to_epoch_ms(start), row.series, row.operation);
    auto [it, inserted] = merged.try_emplace(key);
    if (inserted) {
      it->second = Row{
          .series = row.series, .operation = row.operation, .level = level, .period_start = start};
    }
    it->second.figures.merge(row.figures);
  }
  std::vector<Row> out;
  out.reserve(merged.size());
  for (auto& [key, row] : merged) out.push_back(std::move(row));
  return out;
}

std::vector<Row> merge_account_rows(const std::vector<Row>& rows, Level level) {
  std::map<std::tuple<int64_t, std::string, Operation>, Row> merged;
  for (const Row& row : rows) {
    if (row.series.prefix == kOwnPrefix) continue;
    TimePoint start = period_start(level, row.period_start);
    for (std::string_view bucket : {std::string_view(row.series.bucket), kAllBuckets}) {
      auto key = std::make_tuple(to_epoch_ms(start), std::string(bucket), row.operation);
      auto [it, inserted] = merged.try_emplace(key);
      if (inserted) {
        it->second = Row{.series = Series{.bucket = std::string(bucket)},
                         .operation = row.operation,
                         .level = level,
                         .period_start = start};
      }
      it->second.figures.merge(row.figures);
    }
  }
  std::vector<Row> out;
  out.reserve(merged.size());
  for (auto& [key, row] : merged) out.push_back(std::move(row));
  return out;
}

std::optional<RollupPlan> plan_rollup(Level target, std::optional<TimePoint> progress,
                                      std::optional<TimePoint> earliest_source,
                                      std::optional<TimePoint> source_complete_before,
                                      TimePoint now) {
  if (target == Level::kMinute) return std::nullopt;
  std::optional<TimePoint> start = progress ? progress : earliest_source;
  if (!start) return std::nullopt;
  Duration len = level_length(target);
  TimePoint from = period_start(target, *start);
  TimePoint current_end = period_start(target, now) + len;
  TimePoint to = std::min(from + len * (target == Level::kHour ? 72 : 35), current_end);
  if (to <= from) return std::nullopt;
  TimePoint settled = target == Level::kHour
                          ? period_start(target, now - Duration(5 * 60'000))
                          : period_start(target, source_complete_before.value_or(from));
  if (target == Level::kDay) {
    to = std::min(to, settled);  // complete days only
    if (to <= from) return std::nullopt;
  }
  return RollupPlan{
      .from = from, .to = to, .complete_before = std::max(from, std::min(to, settled))};
}

std::optional<Error> AggregatorOptions::validate() const {
  if (max_series < 1 || max_series > 100'000) {
    return invalid_field("max_series", "max_series must be between 1 and 100000");
  }
  if (batch_size < 1 || batch_size > 1'000) {
    return invalid_field("batch_size", "batch_size must be between 1 and 1000");
  }
  if (flush_interval < Duration(0) || flush_interval > Duration(3'600'000)) {
    return invalid_field("flush_interval_ms", "flush_interval_ms must be between 0 and 3600000");
  }
  return std::nullopt;
}

uint32_t Aggregator::intern(const Series& series) {
  if (auto it = series_ids_.find(series); it != series_ids_.end()) return it->second;
  Series kept = series;
  if (series_.size() >= options_.max_series) {
    Series other{.bucket = series.bucket, .prefix = std::string(kOtherPrefix), .user = series.user};
    if (auto it = series_ids_.find(other); it != series_ids_.end()) return it->second;
    // The overflow series itself may go past the cap: one per bucket and user.
    kept = std::move(other);
  }
  uint32_t id = static_cast<uint32_t>(series_.size());
  uint32_t bucket = kNoBucket;
  if (kept.prefix != kOwnPrefix) {
    if (buckets_.empty()) buckets_.emplace_back(kAllBuckets);  // id 0
    auto found = std::find(buckets_.begin() + 1, buckets_.end(), kept.bucket);
    bucket = static_cast<uint32_t>(found - buckets_.begin());
    if (found == buckets_.end()) buckets_.push_back(kept.bucket);
  }
  series_bucket_.push_back(bucket);
  series_ids_.emplace(kept, id);
  series_.push_back(std::move(kept));
  return id;
}

const Series* Aggregator::series(uint32_t id) const {
  return id < series_.size() ? &series_[id] : nullptr;
}

bool Aggregator::record(uint32_t series_id, Operation op, bool ok, Duration latency,
                        uint64_t bytes_up, uint64_t bytes_down, TimePoint now) {
  if (series_id >= series_.size()) return false;
  int64_t minute = to_epoch_ms(period_start(Level::kMinute, now));
  Cell& cell = cells_[{minute, series_id, op}];
  cell.figures.calls++;
  if (!ok) cell.figures.errors++;
  cell.figures.bytes_up += bytes_up;
  cell.figures.bytes_down += bytes_down;
  double ms = static_cast<double>(std::max(latency, Duration(0)).count());
  (void)cell.figures.latency.add(ms);
  cell.version++;
  if (uint32_t bucket = series_bucket_[series_id]; bucket != kNoBucket) {
    int64_t hour = to_epoch_ms(period_start(Level::kHour, now));
    // The bucket's series and every bucket's together (id 0, kAllBuckets).
    for (uint32_t b : {bucket, 0u}) {
      Cell& h = hours_[{hour, b, op}];
      h.figures.calls++;
      if (!ok) h.figures.errors++;
      h.figures.bytes_up += bytes_up;
      h.figures.bytes_down += bytes_down;
      (void)h.figures.latency.add(ms);
      h.version++;
    }
  }
  return true;
}

Aggregator::Pending& Aggregator::pending_sum(int64_t minute, uint32_t series_id, Operation op,
                                             size_t& used) {
  for (size_t p = 0; p < used; ++p) {
    Pending& c = pending_sums_[p];
    if (c.minute == minute && c.series_id == series_id && c.operation == op) return c;
  }
  if (used == kMaxSums) add_pending_sums(used);
  if (used == pending_sums_.size()) pending_sums_.emplace_back();
  Pending& run = pending_sums_[used++];
  run.minute = minute;
  run.series_id = series_id;
  run.operation = op;
  run.figures.calls = run.figures.errors = 0;
  run.figures.bytes_up = run.figures.bytes_down = 0;
  run.figures.latency.clear();
  return run;
}

void Aggregator::add_pending_sums(size_t& used) {
  for (size_t p = 0; p < used; ++p) {
    const Pending& c = pending_sums_[p];
    Cell& cell = cells_[{c.minute, c.series_id, c.operation}];
    cell.figures.merge(c.figures);
    cell.version += c.figures.calls;
    if (uint32_t bucket = series_bucket_[c.series_id]; bucket != kNoBucket) {
      int64_t hour = to_epoch_ms(period_start(Level::kHour, from_epoch_ms(c.minute)));
      for (uint32_t b : {bucket, 0u}) {
        Cell& h = hours_[{hour, b, c.operation}];
        h.figures.merge(c.figures);
        h.version += c.figures.calls;
      }
    }
  }
  used = 0;
}

size_t Aggregator::record_all(const OperationEvent* events, size_t count) {
  constexpr int64_t kMinuteMs = 60'000;
  size_t used = 0;
  size_t recorded = 0;
  if (latency_scratch_.size() < count) latency_scratch_.resize(count);
  double* latencies = latency_scratch_.data();
  size_t i = 0;
  while (i < count) {
    const OperationEvent& e = events[i];
    if (e.series_id >= series_.size()) {
      ++i;
      continue;
    }
    int64_t minute = floor_div(to_epoch_ms(e.at), kMinuteMs) * kMinuteMs;
    Pending& run = pending_sum(minute, e.series_id, e.operation, used);
    // The events that follow of the same series, operation and minute: summed in locals, their
    // latencies added to the sketch together.
    uint64_t errors = 0, bytes_up = 0, bytes_down = 0;
    size_t j = i;
    for (; j < count; ++j) {
      const OperationEvent& x = events[j];
      int64_t ms = to_epoch_ms(x.at);
      if (x.series_id != e.series_id || x.operation != e.operation || ms < minute ||
          ms - minute >= kMinuteMs) {
        break;
      }
      errors += x.result == CallResult::kError ? 1 : 0;
      bytes_up += x.bytes_up;
      bytes_down += x.bytes_down;
      latencies[j - i] = static_cast<double>(std::max(x.latency, Duration(0)).count());
    }
    Figures& f = run.figures;
    f.calls += j - i;
    f.errors += errors;
    f.bytes_up += bytes_up;
    f.bytes_down += bytes_down;
    f.latency.add_all_checked(latencies, j - i);
    recorded += j - i;
    i = j;
  }
  add_pending_sums(used);
  return recorded;
}

Figures* Aggregator::run_figures(uint32_t series_id, Operation op, TimePoint at) {
  constexpr int64_t kMinuteMs = 60'000;
  if (series_id >= series_.size()) return nullptr;
  int64_t minute = floor_div(to_epoch_ms(at), kMinuteMs) * kMinuteMs;
  return &pending_sum(minute, series_id, op, runs_used_).figures;
}

bool Aggregator::flush_due(TimePoint now) const {
  if (cells_.empty() || dirty_rows() == 0) return false;
  return !last_take_ || now - *last_take_ >= options_.flush_interval ||
         dirty_rows() >= options_.batch_size;
}

Aggregator::Batch Aggregator::take_batch(TimePoint now) {
  last_take_ = now;
  Batch batch{.token = next_token_++};
  pending_.clear();
  for (auto& [key, cell] : cells_) {
    if (cell.version == cell.written_version) continue;
    if (batch.rows.size() >= options_.batch_size) break;
    const auto& [minute, series_id, op] = key;
    batch.rows.push_back(Row{.series = series_[series_id],
                             .operation = op,
                             .level = Level::kMinute,
                             .period_start = from_epoch_ms(minute),
                             .figures = cell.figures});
    pending_.emplace_back(key, cell.version);
  }
  pending_hours_.clear();
  for (auto& [key, cell] : hours_) {
    if (cell.version == cell.written_version) continue;
    const auto& [hour, bucket, op] = key;
    batch.account_rows.push_back(Row{.series = Series{.bucket = buckets_[bucket]},
                                     .operation = op,
                                     .level = Level::kHour,
                                     .period_start = from_epoch_ms(hour),
                                     .figures = cell.figures});
    pending_hours_.emplace_back(key, cell.version);
  }
  pending_token_ = batch.token;
  return batch;
}

void Aggregator::confirm(uint64_t token, TimePoint now) {
  if (token == 0 || token != pending_token_) return;
  for (const auto& [key, version] : pending_) {
    auto it = cells_.find(key);
    if (it != cells_.end())
      it->second.written_version = std::max(it->second.written_version, version);
  }
  pending_.clear();
  for (const auto& [key, version] : pending_hours_) {
    auto it = hours_.find(key);
    if (it != hours_.end())
      it->second.written_version = std::max(it->second.written_version, version);
  }
  pending_hours_.clear();
  int64_t current_hour = to_epoch_ms(period_start(Level::kHour, now));
  std::erase_if(hours_, [&](const auto& kv) {
    return std::get<0>(kv.first) < current_hour && kv.second.written_version == kv.second.version;
  });
  // Minutes that are over and fully stored leave memory.
  int64_t current_minute = to_epoch_ms(period_start(Level::kMinute, now));
  std::erase_if(cells_, [&](const auto& kv) {
    return std::get<0>(kv.first) < current_minute && kv.second.written_version == kv.second.version;
  });
  pending_token_ = 0;
}

size_t Aggregator::dirty_rows() const {
  return static_cast<size_t>(std::count_if(cells_.begin(), cells_.end(), [](const auto& kv) {
    return kv.second.version != kv.second.written_version;
  }));
}

}  // namespace r2w::metrics
