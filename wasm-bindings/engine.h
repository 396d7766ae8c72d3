#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alerts/settings.h"
#include "core/breaker/circuit-breaker.h"
#include "core/breaker/shared-breaker.h"
#include "core/common/operation.h"
#include "core/common/time.h"
#include "core/faults/fault-plan.h"
#include "core/metrics/rollup.h"
#include "core/metrics/sampling.h"
#include "core/security/policy.h"

namespace r2w::bindings {

// Per-operation counters of the calls this instance has seen since it started.
struct OperationCounters {
  uint64_t calls = 0;
  uint64_t errors = 0;
  uint64_t bytes = 0;
  double latency_sum_ms = 0;
};

// One engine per wasm instance (so per Worker isolate): the breaker that guards the bucket,
// the injected faults, and counters. The Worker calls the hot-path methods with numbers and
// everything else through `call()` with JSON; `call()` never throws and never traps on bad
// input: it answers {"error": {"code", "message", "field"}}.
class Engine {
 public:
  explicit Engine(TimePoint now);

  // Hot path. `acquire` answers whether an R2 call may go ahead now; after a refusal
  // `retry_after()` says how long to wait. `record` reports a permitted call's outcome (to
  // the breaker and the minute rollups of `series_id`, from `series()`) and returns how many
  // breaker transitions wait to be taken (and persisted) by the Worker.
  bool acquire(TimePoint now);
  Duration retry_after() const { return retry_after_; }
  uint32_t series(const metrics::Series& series) { return aggregator_.intern(series); }
  uint32_t record(uint32_t series_id, Operation op, bool ok, Duration latency, uint64_t bytes_up,
                  uint64_t bytes_down, TimePoint now);
  void release() { breaker_.release(); }

  const faults::FaultPlan& faults() const { return faults_; }

  // For the JSON commands (wasm-bindings/*-commands.cc).
  breaker::CircuitBreaker& breaker() { return breaker_; }
  // This isolate's link to the shared breaker (a Durable Object): absent until enabled, and
  // then every recorded call is also held for the next report.
  std::optional<breaker::IsolateSync>& sync() { return sync_; }
  // The shared breaker itself, in the engine of the Durable Object that holds it.
  std::optional<breaker::SharedBreaker>& shared() { return shared_; }
  faults::FaultPlan& fault_plan() { return faults_; }
  metrics::Aggregator& aggregator() { return aggregator_; }
  const metrics::Settings& metrics_settings() const { return metrics_settings_; }
  void set_metrics_settings(const metrics::Settings& s) {
    metrics_settings_ = s;
    aggregator_.set_options(s.aggregator);
  }
  const std::array<OperationCounters, kAllOperations.size()>& counters() const { return counters_; }
  // Security settings and the JWT secret (security-commands.cc); no secret until configured.
  const security::Settings& security_settings() const { return security_settings_; }
  void set_security(const security::Settings& s, std::optional<std::string> jwt_secret) {
    security_settings_ = s;
    jwt_secret_ = std::move(jwt_secret);
  }
  const std::optional<std::string>& jwt_secret() const { return jwt_secret_; }
  // The ANALYTICS_HASH_KEY that pseudonymizes users in Analytics Engine events ("" : none).
  void set_analytics_key(std::string key) { analytics_key_ = std::move(key); }
  const std::string& analytics_key() const { return analytics_key_; }

  // Runs a JSON command. Returns true on success; `output()` holds the answer either way.
  // `attachment`: raw bytes the command may read besides its JSON input (account_ingest: a
  // GraphQL answer, so a large text is not escaped into a JSON string and parsed twice); valid
  // during the call only.
  bool call(std::string_view command, std::string_view input, TimePoint now,
            std::string_view attachment = {});
  const std::string& output() const { return output_; }
  std::string_view attachment() const { return attachment_; }
  // A raw text the running command hands back beside its JSON answer (account_ingest: the rows
  // to store, so megabytes are not escaped into JSON strings and parsed back). After a
  // successful call each one follows the answer in `output()` behind a NUL byte (which no JSON
  // text holds).
  void add_output_text(std::string text) { output_texts_.push_back(std::move(text)); }
  // The Worker's EMAIL_TO / EMAIL_FROM (alert_configure): email channels without their own.
  const alerts::EmailDefaults& email_defaults() const { return email_defaults_; }
  void set_email_defaults(alerts::EmailDefaults d) { email_defaults_ = std::move(d); }

 private:
  breaker::CircuitBreaker breaker_;
  std::optional<breaker::IsolateSync> sync_;
  std::optional<breaker::SharedBreaker> shared_;
  faults::FaultPlan faults_;
  metrics::Settings metrics_settings_;
  metrics::Aggregator aggregator_{metrics_settings_.aggregator};
  std::array<OperationCounters, kAllOperations.size()> counters_{};
  std::string_view attachment_;
  std::vector<std::string> output_texts_;
  Duration retry_after_ = Duration(0);
  security::Settings security_settings_;
  std::optional<std::string> jwt_secret_;
  std::string analytics_key_;
  alerts::EmailDefaults email_defaults_;
  std::string output_;
};

}  // namespace r2w::bindings
