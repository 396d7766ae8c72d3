#include "core/account/collector.h"

#include <algorithm>

#include "core/common/civil-date.h"

namespace r2w::account {

namespace {

constexpr Duration kHour = std::chrono::hours(1);
constexpr Duration kDay = std::chrono::hours(24);

TimePoint floor_to(TimePoint t, Duration unit) {
  int64_t ms = to_epoch_ms(t);
  int64_t u = unit.count();
  int64_t f = ms >= 0 ? ms / u * u : -((-ms + u - 1) / u) * u;
  return from_epoch_ms(f);
}

TimePoint ceil_to(TimePoint t, Duration unit) {
  TimePoint f = floor_to(t, unit);
  return f == t ? f : f + unit;
}

std::string format_time(TimePoint t) {
  int64_t ms = to_epoch_ms(t);
  int64_t in_day = ((ms % kDay.count()) + kDay.count()) % kDay.count();
  int64_t h = in_day / 3'600'000, m = in_day / 60'000 % 60;
  std::string out = format_date(date_of(t)) + "T";
  out += static_cast<char>('0' + h / 10);
  out += static_cast<char>('0' + h % 10);
  out += ':';
  out += static_cast<char>('0' + m / 10);
  out += static_cast<char>('0' + m % 10);
  return out + "Z";
}

std::string window_text(const Window& w) {
  return std::string(dataset_key(w.dataset)) + " " + format_time(w.start) + ".." +
         format_time(w.end);
}

// Cuts [from, to) into windows of at most `length`, in order.
void cut(std::vector<Window>& out, Dataset d, TimePoint from, TimePoint to, Duration length) {
  for (TimePoint s = from; s < to; s += length) {
    out.push_back(Window{.dataset = d, .start = s, .end = std::min(s + length, to)});
  }
}

Duration backoff_for(uint32_t failures, const CollectorOptions& o) {
  Duration d = o.backoff_base;
  for (uint32_t i = 1; i < failures && d < o.backoff_max; ++i) d *= 2;
  return std::min(d, o.backoff_max);
}

void drop_dataset(CollectorRun& run, Dataset d) {
  std::erase_if(run.queue, [d](const Window& w) { return w.dataset == d; });
}

}  // namespace

std::string_view dataset_name(Dataset d) {
  return d == Dataset::kOperations ? "r2OperationsAdaptiveGroups" : "r2StorageAdaptiveGroups";
}

std::string_view dataset_key(Dataset d) {
  return d == Dataset::kOperations ? "operations" : "storage";
}

std::optional<Dataset> parse_dataset_key(std::string_view key) {
  if (key == "operations") return Dataset::kOperations;
  if (key == "storage") return Dataset::kStorage;
  return std::nullopt;
}

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kStore:
      return "store";
    case Verdict::kSplit:
      return "split";
    case Verdict::kBackoff:
      return "backoff";
    case Verdict::kFail:
      return "fail";
  }
  return "fail";
}

TimePoint floor_hour(TimePoint t) { return floor_to(t, kHour); }
TimePoint floor_day(TimePoint t) { return floor_to(t, kDay); }

Result<CollectorOptions> CollectorOptions::create(CollectorOptions o) {
  if (o.limit < 2 || o.limit > 10'000) {
    return invalid_field("limit", "limit must be from 2 to 10000 groups per query");
  }
  if (o.operations_window.count() < 1 || o.operations_window.count() > 24 * 31) {
    return invalid_field("operations_window_hours", "operations_window_hours must be 1..744");
  }
  if (o.storage_window_days < 1 || o.storage_window_days > 31) {
    return invalid_field("storage_window_days", "storage_window_days must be 1..31");
  }
  if (o.max_queries_per_run < 1 || o.max_queries_per_run > 100) {
    return invalid_field("max_queries_per_run", "max_queries_per_run must be 1..100");
  }
  if (o.repull.count() < 0 || o.repull.count() > 48) {
    return invalid_field("repull_hours", "repull_hours must be 0..48");
  }
  if (o.retention_days < 1 || o.retention_days > 31) {
    return invalid_field("retention_days", "retention_days must be 1..31");
  }
  return o;
}

CollectorRun plan_run(const CollectorState& state, TimePoint now, const CollectorOptions& o) {
  CollectorRun run;
  if (state.retry_at && now < *state.retry_at) return run;
  run.queries_left = o.max_queries_per_run;
  const TimePoint reach = now - std::chrono::hours(24) * o.retention_days;

  // Storage: whole UTC days, today included (its peak so far).
  TimePoint storage_first = ceil_to(reach, kDay);
  TimePoint storage_from = storage_first;
  if (state.storage_until) storage_from = std::max(storage_first, *state.storage_until - kDay);
  cut(run.queue, Dataset::kStorage, storage_from, floor_day(now) + kDay,
      kDay * o.storage_window_days);

  // Operations: whole hours, the current one included.
  TimePoint ops_first = ceil_to(reach, kHour);
  TimePoint ops_from = ops_first;
  if (state.operations_until) {
    ops_from = std::max(ops_first, *state.operations_until - Duration(o.repull));
  }
  Duration ops_window = Duration(o.operations_window);
  if (state.operations_groups_per_hour > 0) {
    int64_t fit = static_cast<int64_t>(o.limit) * 4 / 5 / state.operations_groups_per_hour;
    ops_window = std::clamp(kHour * fit, kHour, ops_window);
  }
  cut(run.queue, Dataset::kOperations, ops_from, floor_hour(now) + kHour, ops_window);
  return run;
}

Step advance(CollectorRun run, CollectorState state, const AnswerSummary& a, TimePoint now,
             const CollectorOptions& o) {
  Step step;
  const Window w = run.queue.front();
  run.queue.erase(run.queue.begin());
  if (run.queries_left > 0) --run.queries_left;
  state.last_run_at = now;
  auto fail = [&](Verdict v, std::string reason) {
    step.verdict = v;
    step.reason = std::move(reason);
    state.last_error = step.reason;
    state.last_error_at = now;
    if (run.error.empty()) run.error = step.reason;
  };

  // Stores `part` of the window: the watermark moves past it, and the groups per hour it had
  // size the next windows.
  auto store = [&](const Window& part) {
    step.verdict = Verdict::kStore;
    step.stored = part;
    state.consecutive_failures = 0;
    state.retry_at.reset();
    state.last_stored_at = now;
    auto& until = w.dataset == Dataset::kOperations ? state.operations_until : state.storage_until;
    if (!until || part.start <= *until) until = std::max(until.value_or(part.end), part.end);
    if (w.dataset == Dataset::kOperations) {
      auto hours = std::max<int64_t>(1, (part.end - part.start) / kHour);
      state.operations_groups_per_hour =
          static_cast<uint32_t>((a.groups + static_cast<size_t>(hours) - 1) / hours);
    }
  };

  if (a.http_status == 0 || a.http_status == 429 || a.http_status >= 500) {
    ++state.consecutive_failures;
    Duration wait = backoff_for(state.consecutive_failures, o);
    if (a.retry_after && *a.retry_after > wait) wait = std::min(*a.retry_after, o.backoff_max);
    state.retry_at = now + wait;
    fail(Verdict::kBackoff,
         (a.http_status == 0
              ? std::string("Cloudflare's GraphQL API could not be reached")
              : "Cloudflare's GraphQL API answered HTTP " + std::to_string(a.http_status)) +
             " for " + window_text(w) + ": nothing stored, asking again for the same window from " +
             format_time(*state.retry_at));
    run.queue.clear();
  } else if (a.http_status == 401 || a.http_status == 403) {
    fail(Verdict::kFail, "Cloudflare refused the API token (HTTP " + std::to_string(a.http_status) +
                             "): CLOUDFLARE_API_TOKEN needs the Account Analytics Read "
                             "permission on CLOUDFLARE_ACCOUNT_ID; nothing stored");
    run.queue.clear();
  } else if (a.http_status < 200 || a.http_status >= 300) {
    fail(Verdict::kFail, "Cloudflare's GraphQL API answered HTTP " + std::to_string(a.http_status) +
                             " for " + window_text(w) + ": nothing stored");
    run.queue.clear();
  } else if (!a.problem.empty()) {
    fail(Verdict::kFail, "unusable answer for " + window_text(w) + ": " + a.problem +
                             "; nothing stored, watermark kept");
    drop_dataset(run, w.dataset);
  } else if (a.groups >= o.limit && w.dataset == Dataset::kOperations && a.complete_until &&
             *a.complete_until > w.start && *a.complete_until < w.end &&
             floor_hour(*a.complete_until) == *a.complete_until) {
    // Cut off, but ordered by hour: the hours before the last one it reached are complete.
    // They are stored; the rest of the window is asked next.
    run.queue.insert(run.queue.begin(),
                     Window{.dataset = w.dataset, .start = *a.complete_until, .end = w.end});
    store(Window{.dataset = w.dataset, .start = w.start, .end = *a.complete_until});
  } else if (a.groups >= o.limit) {
    Duration unit = w.dataset == Dataset::kOperations ? kHour : kDay;
    auto units = (w.end - w.start) / unit;
    if (units < 2) {
      fail(Verdict::kFail, window_text(w) + " has " + std::to_string(a.groups) +
                               " groups or more, the most one query returns, and cannot be "
                               "split further; nothing stored, watermark kept");
      drop_dataset(run, w.dataset);
    } else {
      TimePoint mid = w.start + unit * (units / 2);
      step.verdict = Verdict::kSplit;
      run.queue.insert(run.queue.begin(),
                       {Window{.dataset = w.dataset, .start = w.start, .end = mid},
                        Window{.dataset = w.dataset, .start = mid, .end = w.end}});
    }
  } else {
    store(w);
  }
  if (run.queries_left == 0) run.queue.clear();
  // A run that ends without a failure clears the last one.
  if (run.queue.empty() && run.error.empty()) state.last_error.clear();
  step.run = std::move(run);
  step.state = std::move(state);
  return step;
}

AccountReads account_reads(TimePoint now, const CollectorOptions& o) {
  const CivilDate today = date_of(now);
  return {.retention_since = now - kDay * o.retention_days,
          // Hour rows start on the hour: the first one at or after now - 24 h reads the same
          // rows, and the same statement for an hour (a read D1 can answer alike).
          .last_day_since = floor_hour(now - kDay + kHour - Duration(1)),
          .as_of = today,
          .month_start = CivilDate{today.year, today.month, 1}};
}

UsageReach usage_reach(TimePoint from, CivilDate as_of) {
  return {.since = from,
          .until = from_epoch_ms(0) + kDay * (days_since_epoch(as_of) + 1),
          .from_day = date_of(from),
          .to_day = as_of};
}

CollectorHealth collector_health(bool configured, const CollectorState& s, TimePoint now,
                                 const CollectorOptions& o) {
  if (!configured) {
    return {"off",
            "account analytics are off: set CLOUDFLARE_ACCOUNT_ID and the secret "
            "CLOUDFLARE_API_TOKEN to read every bucket of the account",
            false};
  }
  if (s.retry_at && now < *s.retry_at) return {"backing_off", s.last_error, true};
  if (!s.last_error.empty()) return {"failing", s.last_error, true};
  if (!s.operations_until) {
    return {"backfilling", "waiting for the first run of the account-analytics job", false};
  }
  TimePoint reach = now - std::chrono::hours(24) * o.retention_days;
  if (*s.operations_until < floor_hour(now)) {
    if (s.last_run_at && *s.last_run_at > now - std::chrono::minutes(15)) {
      return {"backfilling",
              "operations stored up to " + format_time(*s.operations_until) +
                  " (backfilling from " + format_time(reach) + ")",
              false};
    }
    return {"stale", "operations stored only up to " + format_time(*s.operations_until), true};
  }
  return {"ok", "operations stored up to " + format_time(*s.operations_until), false};
}

}  // namespace r2w::account
