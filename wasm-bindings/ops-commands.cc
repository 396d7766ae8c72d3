// Commands of the Worker's own operation: the job schedule, heartbeats and their judgement.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/common/json-fields.h"
#include "core/ops/cron.h"
#include "core/ops/jobs.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"
#include "wasm-bindings/ops-codec.h"

namespace r2w::bindings {

using nlohmann::json;

namespace {

constexpr size_t kMaxJobs = 64;

json ms_or_null(const std::optional<TimePoint>& t) {
  return t ? json(t->time_since_epoch().count()) : json(nullptr);
}

Result<std::optional<TimePoint>> time_member(const json& o, const char* name,
                                             const std::string& at) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return std::optional<TimePoint>();
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    return invalid_field(at + "." + name, at + "." + name + " must be a time in ms or null");
  }
  return std::optional<TimePoint>(from_epoch_ms(it->get<int64_t>()));
}

struct ParsedJobs {
  std::vector<ops::JobSpec> specs;
  std::map<std::string, ops::JobHistory> history;
  TimePoint known_since;
};

Result<ParsedJobs> parse_jobs(const json& in, TimePoint now) {
  if (!in.is_object()) return invalid_field("jobs", "jobs must be an object");
  ParsedJobs p{.known_since = now};
  auto schedule = in.find("schedule");
  if (schedule == in.end() || !schedule->is_array() || schedule->size() > kMaxJobs) {
    return invalid_field("schedule", "schedule must be a list of at most 64 jobs");
  }
  for (size_t i = 0; i < schedule->size(); ++i) {
    const json& j = (*schedule)[i];
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
      const json& h = (*history)[i];
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

// {"schedule", "history", "known_since_ms"} (as job_statuses_from_json) -> {"jobs": [{"name",
// "cron", "interval_ms", "previous_due_ms", "next_due_ms", "last_started_ms", "last_ended_ms",
// "last_outcome", "last_success_ms", "missed_runs", "health": ok|late|stale, "reason"}],
// "runs_before_ms": heartbeats older than this are deleted by the daily job}.
Result<json> jobs_status(Engine&, const json& in, TimePoint now) {
  auto parsed = parse_jobs(in, now);
  if (!parsed.ok()) return parsed.error();
  json jobs = json::array();
  for (const ops::JobSpec& spec : parsed.value().specs) {
    const ops::JobHistory& h = parsed.value().history[spec.name];
    jobs.push_back(job_status_to_json(ops::judge_job(spec, h, parsed.value().known_since, now), h));
  }
  return json{{"jobs", jobs},
              {"runs_before_ms", (now - ops::kJobRunRetention).time_since_epoch().count()}};
}

}  // namespace

Result<std::vector<ops::JobStatus>> job_statuses_from_json(const json& in, TimePoint now) {
  auto parsed = parse_jobs(in, now);
  if (!parsed.ok()) return prefixed(parsed.error(), "jobs");
  std::vector<ops::JobStatus> out;
  for (const ops::JobSpec& spec : parsed.value().specs) {
    out.push_back(
        ops::judge_job(spec, parsed.value().history[spec.name], parsed.value().known_since, now));
  }
  return out;
}

json job_status_to_json(const ops::JobStatus& s, const ops::JobHistory& h) {
  return {{"name", s.name},
          {"cron", s.cron},
          {"interval_ms", s.interval.count()},
          {"previous_due_ms", ms_or_null(s.previous_due)},
          {"next_due_ms", s.next_due.time_since_epoch().count()},
          {"last_started_ms", ms_or_null(h.last_started)},
          {"last_ended_ms", ms_or_null(h.last_ended)},
          {"last_outcome",
           h.last_outcome ? json(ops::run_outcome_name(*h.last_outcome)) : json(nullptr)},
          {"last_success_ms", ms_or_null(h.last_success)},
          {"missed_runs", s.missed_runs},
          {"health", ops::job_health_name(s.health)},
          {"reason", s.reason.empty() ? json(nullptr) : json(s.reason)}};
}

std::span<const CommandEntry> ops_commands() {
  static constexpr CommandEntry kCommands[] = {
      {"jobs_status", &jobs_status},
  };
  return kCommands;
}

}  // namespace r2w::bindings
