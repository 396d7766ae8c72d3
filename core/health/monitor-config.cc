#include "core/health/monitor-config.h"

#include <algorithm>
#include <string>
#include <string_view>

namespace r2w::health {

namespace {

namespace f = config_field;

std::string range_text(int64_t min, int64_t max, std::string_view unit) {
  std::string u = unit.empty() ? "" : " " + std::string(unit);
  return "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) + u;
}

void check_ms(std::vector<FieldProblem>& p, std::string_view name, Duration v, int64_t min,
              int64_t max) {
  if (has_problem(p, name)) return;
  if (v.count() < min || v.count() > max) add_problem(p, name, range_text(min, max, "ms"));
}

void check_count(std::vector<FieldProblem>& p, std::string_view name, uint32_t v, int64_t min,
                 int64_t max) {
  if (has_problem(p, name)) return;
  if (v < min || v > max) add_problem(p, name, range_text(min, max, ""));
}

constexpr int64_t kOneDayMs = 86'400'000;

}  // namespace

void add_problem(std::vector<FieldProblem>& problems, std::string_view field, std::string message) {
  if (has_problem(problems, field)) return;  // one problem per field is enough
  problems.push_back({std::string(field), std::string(field) + " " + message});
}

bool has_problem(const std::vector<FieldProblem>& problems, std::string_view field) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const FieldProblem& p) { return p.field == field; });
}

void check_config(const MonitorConfig& c, std::vector<FieldProblem>& p) {
  check_ms(p, f::kCheckInterval, c.check_interval, 10'000, kOneDayMs);
  check_ms(p, f::kTimeout, c.timeout, 100, 60'000);
  check_count(p, f::kFailureThreshold, c.failure_threshold, 1, 100);
  check_ms(p, f::kRecoveryTimeout, c.recovery_timeout, 1'000, kOneDayMs);
  check_ms(p, f::kSlowResponseThreshold, c.slow_response_threshold, 1, 60'000);
  check_count(p, f::kRetentionDays, c.retention_days, 1, 3'650);
  if (!has_problem(p, f::kTestOperations) && c.test_operations.empty()) {
    add_problem(p, f::kTestOperations, "must name at least one operation");
  }
  // A probe that is cut off at the timeout could never be slow otherwise.
  if (!has_problem(p, f::kSlowResponseThreshold) && !has_problem(p, f::kTimeout) &&
      c.slow_response_threshold >= c.timeout) {
    add_problem(p, f::kSlowResponseThreshold,
                "must be less than " + std::string(f::kTimeout) + " (" +
                    std::to_string(c.timeout.count()) + " ms)");
  }
}

Error config_error(std::vector<FieldProblem> list) {
  std::string message =
      list.size() == 1 ? list[0].message : std::to_string(list.size()) + " fields are invalid: ";
  if (list.size() > 1) {
    for (size_t i = 0; i < list.size(); ++i) message += (i ? "; " : "") + list[i].message;
  }
  std::string field = list.empty() ? "" : list[0].field;
  return Error{.code = "invalid_field",
               .message = std::move(message),
               .field = std::move(field),
               .problems = std::move(list)};
}

std::optional<Error> validate(const MonitorConfig& config) {
  std::vector<FieldProblem> p = config.problems();
  if (p.empty()) return std::nullopt;
  return config_error(std::move(p));
}

bool MonitorConfig::probes(Operation op) const {
  return std::find(test_operations.begin(), test_operations.end(), op) != test_operations.end();
}

std::vector<FieldProblem> MonitorConfig::problems() const {
  std::vector<FieldProblem> p;
  check_config(*this, p);
  return p;
}

TimePoint retention_cutoff(const MonitorConfig& config, TimePoint now) {
  return now - Duration(int64_t{86'400'000} * config.retention_days);
}

breaker::Options breaker_options_for(const MonitorConfig& c, const breaker::Options& base) {
  breaker::Options o = base;
  o.consecutive_failure_threshold = c.failure_threshold;
  o.wait_in_open = c.recovery_timeout;
  o.slow_call_duration = c.slow_response_threshold;
  return o;
}

}  // namespace r2w::health
