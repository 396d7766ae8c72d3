#include "wasm-bindings/codec/ops.h"

#include <charconv>

namespace r2w::codec {

namespace {

Json ms_or_null(const std::optional<TimePoint>& t) {
  return t ? Json(t->time_since_epoch().count()) : Json(nullptr);
}

Result<std::optional<TimePoint>> time_member(const Json& o, const char* name,
                                             const std::string& at) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return std::optional<TimePoint>();
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    return invalid_field(at + "." + name, at + "." + name + " must be a time in ms or null");
  }
  return std::optional<TimePoint>(from_epoch_ms(it->get<int64_t>()));
}

}  // namespace

Result<ParsedJobs> jobs_from_json(const Json& in, TimePoint now) {
  if (!in.is_object()) return invalid_field("jobs", "jobs must be an object");
  ParsedJobs p{.known_since = now};
  auto schedule = in.find("schedule");
  if (schedule == in.end() || !schedule->is_array() || schedule->size() > ops::kMaxJobs) {
    return invalid_field("schedule", "schedule must be a list of at most 64 jobs");
  }
  for (size_t i = 0; i < schedule->size(); ++i) {
    const Json& j = (*schedule)[i];
    std::string at = "schedule[" + std::to_string(i) + "]";
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("cron") ||
        !j["cron"].is_string()) {
      return invalid_field(at, at + " must have a name and a cron");
    }
    auto cron = ops::parse_cron(j["cron"].get<std::string>(), at + ".cron");
    if (!cron.ok()) return cron.error();
    p.specs.push_back({.name = j["name"].get<std::string>(), .cron = cron.value()});
  }
  if (auto history = in.find("history"); history != in.end() && !history->is_null()) {
    if (!history->is_array()) return invalid_field("history", "history must be a list");
    for (size_t i = 0; i < history->size(); ++i) {
      const Json& h = (*history)[i];
      std::string at = "history[" + std::to_string(i) + "]";
      if (!h.is_object() || !h.contains("job") || !h["job"].is_string()) {
        return invalid_field(at + ".job", at + ".job must be a job name");
      }
      ops::JobHistory out;
      for (auto [name, target] : {std::pair{"last_started_ms", &out.last_started},
                                  std::pair{"last_ended_ms", &out.last_ended},
                                  std::pair{"last_success_ms", &out.last_success},
                                  std::pair{"known_since_ms", &out.known_since}}) {
        auto t = time_member(h, name, at);
        if (!t.ok()) return t.error();
        *target = t.value();
      }
      if (h.contains("last_outcome") && !h["last_outcome"].is_null()) {
        auto o = h["last_outcome"].is_string()
                     ? ops::parse_run_outcome(h["last_outcome"].get<std::string>())
                     : std::nullopt;
        if (!o) {
          return invalid_field(at + ".last_outcome",
                               at + ".last_outcome must be running, ok or error");
        }
        out.last_outcome = o;
      }
      p.history[h["job"].get<std::string>()] = out;
    }
  }
  auto known = time_member(in, "known_since_ms", "jobs");
  if (!known.ok()) return known.error();
  if (known.value()) p.known_since = *known.value();
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

std::string log_line_text(const ops::RequestLine& l) {
  std::string out = "{";
  key(out, "time", true);
  append_string(out, l.time);
  key(out, "level");
  append_string(out, ops::log_level_name(l.level));
  key(out, "kind");
  append_string(out, "request");
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
  std::string out = "{";
  key(out, "time", true);
  append_string(out, l.time);
  key(out, "level");
  append_string(out, ops::log_level_name(l.level));
  key(out, "kind");
  append_string(out, "job");
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

}  // namespace r2w::codec
