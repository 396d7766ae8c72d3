#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/breaker/breaker-options.h"
#include "core/common/operation.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::health {

// The names of the monitor's settings in the API and in D1 (`health_check_config`'s columns):
// snake_case, durations in ms. Problems found by validation name these fields.
namespace config_field {
inline constexpr std::string_view kCheckInterval = "check_interval_ms";
inline constexpr std::string_view kTimeout = "timeout_ms";
inline constexpr std::string_view kFailureThreshold = "failure_threshold";
inline constexpr std::string_view kRecoveryTimeout = "recovery_timeout_ms";
inline constexpr std::string_view kSlowResponseThreshold = "slow_response_threshold_ms";
inline constexpr std::string_view kEnabled = "enabled";
inline constexpr std::string_view kTestOperations = "test_operations";
inline constexpr std::string_view kAlertOnFailure = "alert_on_failure";
inline constexpr std::string_view kAlertOnRecovery = "alert_on_recovery";
inline constexpr std::string_view kRetentionDays = "retention_days";
}  // namespace config_field

// The health monitor's settings, changed at run time through the API and stored in D1
// (`health_check_config`).
struct MonitorConfig {
  // `check_interval_ms`: the time between two scheduled probe rounds (the probe scheduler's
  // Durable Object alarm fires at this pace; a round asked for sooner runs none). Default
  // 30,000 ms, range 10,000 .. 86,400,000 ms (an alarm every 10 s at the most).
  Duration check_interval = Duration(30'000);
  // `timeout_ms`: a probe that has not answered in this time fails as "timeout". Default
  // 5,000 ms, range 100 .. 60,000 ms.
  Duration timeout = Duration(5'000);
  // `failure_threshold`: failures in a row that open the breaker (its
  // consecutive_failure_threshold). Default 3, range 1 .. 100.
  uint32_t failure_threshold = 3;
  // `recovery_timeout_ms`: how long the open breaker refuses calls before a trial (its
  // wait_in_open_ms). Default 60,000 ms, range 1,000 .. 86,400,000 ms.
  Duration recovery_timeout = Duration(60'000);
  // `slow_response_threshold_ms`: a probe (and any R2 call: the breaker's
  // slow_call_duration_ms) longer than this is slow. Default 2,000 ms, range 1 ms .. less
  // than `timeout_ms`.
  Duration slow_response_threshold = Duration(2'000);
  // `enabled`: whether scheduled rounds run (monitoring started or stopped). Default true.
  bool enabled = true;
  // `test_operations`: which operations are probed; at least one, no repeats. Default all
  // five. Kept in the canonical order of kAllOperations whatever order the input had.
  std::vector<Operation> test_operations{kAllOperations.begin(), kAllOperations.end()};
  // `alert_on_failure` / `alert_on_recovery`: whether failure events open alerts and whether
  // a recovery is recorded. Default true both.
  bool alert_on_failure = true;
  bool alert_on_recovery = true;
  // `retention_days`: probe results older than this are deleted by the daily job. Default
  // 30, range 1 .. 3,650.
  uint32_t retention_days = 30;

  bool probes(Operation op) const;
  // Every problem, one per bad field (empty when valid).
  std::vector<FieldProblem> problems() const;
};

// Adds "<field> <message>" to `problems` unless the field already has a problem there.
void add_problem(std::vector<FieldProblem>& problems, std::string_view field, std::string message);
bool has_problem(const std::vector<FieldProblem>& problems, std::string_view field);

// Adds the range and consistency problems of `config` to `problems`, skipping the fields that
// already have one (a field that could not be read is not range-checked too).
void check_config(const MonitorConfig& config, std::vector<FieldProblem>& problems);

// One Error for one or more problems: the first field is named, every problem is listed in
// Error::problems, and the message says them all.
Error config_error(std::vector<FieldProblem> problems);

// The Error for `config` (see check_config), or nothing when it is valid.
std::optional<Error> validate(const MonitorConfig& config);

// Probe results checked before this time are past retention (`retention_days` before `now`).
TimePoint retention_cutoff(const MonitorConfig& config, TimePoint now);

// The breaker options this config implies: `base` with failure_threshold,
// recovery_timeout_ms and slow_response_threshold_ms put in their place.
breaker::Options breaker_options_for(const MonitorConfig& config, const breaker::Options& base);

}  // namespace r2w::health
