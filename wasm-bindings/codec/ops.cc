#include "wasm-bindings/codec/ops.h"

#include <charconv>

namespace r2w::codec {

namespace {

Json ms_or_null(const std::optional<TimePoint>& t) {
  return t ? Json(t->time_since_epoch().count()) : Json(nullptr);
}

}  // namespace

Result<ParsedJobs> jobs_from_json(const Json& in, TimePoint now) {
  if (!in.is_object()) return invalid_field("jobs", "jobs must be an object");
  ParsedJobs p{.known_since = now};
  FieldReader r(in, "", {.nulls = FieldNulls::kAbsent});
  r.require("schedule");
  const Json* schedule = r.read_json("schedule");
  const Json* history = r.read_json("history");
  std::optional<TimePoint> known;
  r.read_time("known_since_ms", known);
  if (auto e = r.finish()) return *e;
  if (!schedule->is_array() || schedule->size() > ops::kMaxJobs) {
    return invalid_field("schedule", "schedule must be a list of at most " +
                                         std::to_string(ops::kMaxJobs) + " jobs");
  }
  for (size_t i = 0; i < schedule->size(); ++i) {
    FieldReader j((*schedule)[i], "schedule[" + std::to_string(i) + "]");
    std::string name, cron_text;
    j.require("name");
    j.require("cron");
    j.read_string("name", name);
    j.read_string("cron", cron_text);
    if (auto e = j.finish()) return *e;
    auto cron = ops::parse_cron(cron_text, "schedule[" + std::to_string(i) + "].cron");
    if (!cron.ok()) return cron.error();
    p.specs.push_back({.name = std::move(name), .cron = cron.value()});
  }
  if (history) {
    if (!history->is_array()) return invalid_field("history", "history must be a list");
    for (size_t i = 0; i < history->size(); ++i) {
      std::string at = "history[" + std::to_string(i) + "]";
      FieldReader h((*history)[i], at, {.nulls = FieldNulls::kAbsent});
      ops::JobHistory out;
      std::string job;
      std::optional<std::string> outcome;
      h.require("job");
      h.read_string("job", job);
      h.read_time("last_started_ms", out.last_started);
      h.read_time("last_ended_ms", out.last_ended);
      h.read_time("last_success_ms", out.last_success);
      h.read_time("known_since_ms", out.known_since);
      h.read_optional_string("last_outcome", outcome);
      if (auto e = h.finish()) return *e;
      if (outcome) {
        out.last_outcome = ops::parse_run_outcome(*outcome);
        if (!out.last_outcome) {
          return invalid_field(at + ".last_outcome",
                               at + ".last_outcome must be running, ok or error");
        }
      }
      p.history[job] = out;
    }
  }
  if (known) p.known_since = *known;
  return p;
}

namespace {

// A JSON string: quotes, backslashes and control characters escaped as JSON requires; every
// invalid UTF-8 sequence written as U+FFFD.
void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // The length of a well-formed sequence starting here, or 0.
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      if (k == 1 && ((c == 0xe0 && cc < 0xa0) || (c == 0xed && cc > 0x9f) ||
                     (c == 0xf0 && cc < 0x90) || (c == 0xf4 && cc > 0x8f))) {
        ok = false;
      }
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out += '"';
}

void append_optional(std::string& out, const std::optional<std::string>& s) {
  if (s) {
    append_string(out, *s);
  } else {
    out += "null";
  }
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// `"name":` (names are plain ASCII).
void key(std::string& out, std::string_view name, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += name;
  out += "\":";
}

}  // namespace

Result<std::vector<ops::JobStatus>> job_statuses_from_json(const Json& in, TimePoint now) {
  auto parsed = jobs_from_json(in, now);
  if (!parsed.ok()) return prefixed_error(parsed.error(), "jobs");
  std::vector<ops::JobStatus> out;
  for (const ops::JobSpec& spec : parsed.value().specs) {
    out.push_back(
        ops::judge_job(spec, parsed.value().history[spec.name], parsed.value().known_since, now));
  }
  return out;
}

Json job_status_to_json(const ops::JobStatus& s, const ops::JobHistory& h) {
  return {{"name", s.name},
          {"cron", s.cron},
          {"interval_ms", s.interval.count()},
          {"previous_due_ms", ms_or_null(s.previous_due)},
          {"next_due_ms", s.next_due.time_since_epoch().count()},
          {"last_started_ms", ms_or_null(h.last_started)},
          {"last_ended_ms", ms_or_null(h.last_ended)},
          {"last_outcome",
           h.last_outcome ? Json(ops::run_outcome_name(*h.last_outcome)) : Json(nullptr)},
          {"last_success_ms", ms_or_null(h.last_success)},
          {"missed_runs", s.missed_runs},
          {"health", ops::job_health_name(s.health)},
          {"reason", s.reason.empty() ? Json(nullptr) : Json(s.reason)}};
}

namespace {

// The fields every log line starts with: {"time", "level", "kind" (and the caller's fields).
std::string line_head(const std::string& time, ops::LogLevel level, std::string_view kind) {
  std::string out = "{";
  key(out, "time", true);
  append_string(out, time);
  key(out, "level");
  append_string(out, ops::log_level_name(level));
  key(out, "kind");
  append_string(out, kind);
  return out;
}

}  // namespace

std::string log_line_text(const ops::RequestLine& l) {
  std::string out = line_head(l.time, l.level, "request");
  key(out, "method");
  append_string(out, l.method);
  key(out, "route");
  append_optional(out, l.route);
  key(out, "status");
  append_int(out, l.status);
  key(out, "duration_ms");
  append_int(out, l.duration_ms);
  key(out, "request_id");
  append_optional(out, l.request_id);
  key(out, "user");
  append_optional(out, l.user);
  out += '}';
  return out;
}

std::string log_line_text(const ops::JobLine& l) {
  std::string out = line_head(l.time, l.level, "job");
  key(out, "job");
  append_string(out, l.job);
  key(out, "trigger");
  append_string(out, l.trigger);
  key(out, "outcome");
  append_string(out, l.outcome);
  key(out, "duration_ms");
  append_int(out, l.duration_ms);
  key(out, "error");
  append_optional(out, l.error);
  out += '}';
  return out;
}

namespace {

// Task names into tasks, naming `at.name[i]` for one that is not a task.
Status read_tasks(const std::vector<std::string>& names, const std::string& at,
                  std::vector<ops::DailyTask>& out) {
  for (size_t i = 0; i < names.size(); ++i) {
    auto task = ops::parse_daily_task(names[i]);
    if (!task) return invalid_field(at + "[" + std::to_string(i) + "]", "not a task of the day");
    out.push_back(*task);
  }
  return Ok{};
}

// The most tasks a list names (the day has fewer).
constexpr size_t kMaxDailyTasks = 16;

}  // namespace

Result<std::optional<ops::DailyWork>> daily_work_from_json(const Json* in, std::string_view at) {
  if (!in || in->is_null()) return std::optional<ops::DailyWork>();
  const std::string prefix(at);
  if (!in->is_object()) return invalid_field(prefix, prefix + " must be an object or null");
  FieldReader r(*in, prefix, {.nulls = FieldNulls::kAbsent});
  ops::DailyWork w;
  std::string day;
  std::vector<std::string> done, failed;
  int64_t attempts = 0, steps = 0;
  for (const char* name : {"day", "started_ms", "done"}) r.require(name);
  r.read_string("day", day);
  r.read_time("started_ms", w.started);
  r.read_strings("done", done, kMaxDailyTasks);
  r.read_strings("failed", failed, kMaxDailyTasks);
  r.read_int("attempts", attempts, 0, 1'000'000);
  r.read_int("steps", steps, 0, INT64_C(1) << 40);
  r.read_time("finished_ms", w.finished);
  if (auto err = r.finish()) return *err;
  auto parsed_day = parse_date(day);
  if (!parsed_day) return invalid_field(prefix + ".day", "must be a date YYYY-MM-DD");
  w.day = *parsed_day;
  if (auto s = read_tasks(done, prefix + ".done", w.done); !s.ok()) return s.error();
  if (auto s = read_tasks(failed, prefix + ".failed", w.failed); !s.ok()) return s.error();
  w.attempts = static_cast<uint32_t>(attempts);
  w.steps = static_cast<uint64_t>(steps);
  return std::optional<ops::DailyWork>(std::move(w));
}

}  // namespace r2w::codec
