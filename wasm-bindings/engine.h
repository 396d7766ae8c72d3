#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alerts/round.h"
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

// Numbers from JavaScript are doubles; converting one outside the target's range is undefined
// behaviour in C++ (found by the hot-path fuzz target), so every conversion clamps first: times
// to JavaScript's Date range (+-8.64e15 ms), durations and counts to 0..2^53, NaN to 0.
TimePoint time_from_js(double ms);
Duration duration_from_js(double ms);
uint64_t count_from_js(double n);

// The hot path's shared memory: a region of the engine in wasm linear memory that the Worker
// reads and writes through typed arrays (worker-shim/src/engine.js), so that most guarded calls
// cross into wasm not at all. The engine writes the answers (word, slow_call_ms, ring_limit_ms,
// faults_active, the sampling draws) after each of its calls; the Worker writes events into
// `ring` and their number into `count`.
//   word 1 ("go ahead"): a call may go ahead without asking (acquire), and its success may be
//     written into the ring instead of recorded, when its latency is at most `slow_call_ms`
//     (the breaker's slow-call duration). word 0 ("ask me"): acquire and record are calls.
//   ring_limit_ms: the same answer for a success, in the doubles the Worker writes the ring
//     with (one array, one compare): slow_call_ms under word 1, NaN (no latency is at most
//     NaN) under word 0.
//   count: the events in the ring, a double (the Worker's ring writes stay in one array),
//     written by the Worker before each of its calls into the engine (it keeps the count in
//     JavaScript between them) and set to 0 by the fold.
//   faults_active: whether any fault is injected (the Worker asks for faults only then).
//   sampling: an operation's raw event is written with weight `*_sample_weight` when a uniform
//     draw in [0, 1) is below `*_sample_below`, else not at all (metrics::sample_weight).
//   ring: `capacity` events of kHotEventFields doubles each: key (the series id plus the
//     operation index times kHotOperationStride, one double the fold compares once), latency
//     ms, bytes up, bytes down, time (epoch ms). Folded into the breaker and the rollups, in
//     order, before any other engine call and when the Worker finds it full. A key is read back
//     as operation floor(key / stride) and series key - operation * stride (a series id at or
//     above the stride reads as the next operation's, as r2w_record's 32-bit argument wraps it).
// Byte layout (offsets from the region's start, fixed: the Worker reads them):
//   0 int32 word, 4 (unused), 8 int32 capacity, 12 int32 fields per event,
//   16 double slow_call_ms, 24 int32 faults_active, 28 (unused),
//   32 double ok_sample_below, 40 double ok_sample_weight,
//   48 double error_sample_below, 56 double error_sample_weight,
//   64 double ring_limit_ms, 72 double count, 80 the ring.
inline constexpr uint32_t kHotRingCapacity = 4096;
inline constexpr uint32_t kHotEventFields = 5;
inline constexpr double kHotOperationStride = 4294967296.0;  // 2^32
struct HotRegion {
  int32_t word = 0;
  int32_t unused_count = 0;
  int32_t capacity = kHotRingCapacity;
  int32_t fields = kHotEventFields;
  double slow_call_ms = 0;
  int32_t faults_active = 0;
  int32_t unused = 0;
  double ok_sample_below = 0;
  double ok_sample_weight = 0;
  double error_sample_below = 0;
  double error_sample_weight = 0;
  double ring_limit_ms = 0;
  double count = 0;
  double ring[kHotRingCapacity * kHotEventFields] = {};
};
static_assert(offsetof(HotRegion, slow_call_ms) == 16 && offsetof(HotRegion, faults_active) == 24 &&
              offsetof(HotRegion, ok_sample_below) == 32 &&
              offsetof(HotRegion, error_sample_weight) == 56 &&
              offsetof(HotRegion, ring_limit_ms) == 64 && offsetof(HotRegion, count) == 72 &&
              offsetof(HotRegion, ring) == 80);

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
  // The hot path's shared memory (see HotRegion). `fold` records the events the Worker wrote
  // into its ring (events of an unknown series or operation are dropped) and empties it;
  // `publish` writes the breaker's answer for the next calls into it. Every engine entry
  // point that reads or changes the breaker or the rollups folds first and publishes after.
  HotRegion& hot() { return hot_; }
  void fold();
  void publish();
  // The latest time the engine was given (by a hot-path call, a buffered event or a command):
  // the breaker's answer in the hot region holds from then on.
  void saw(TimePoint t) { latest_ = std::max(latest_, t); }

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
  // The alert round kept between check-alerts runs (alert_round, alert-exports.cc).
  alerts::Round& alert_round() { return alert_round_; }

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
  alerts::Round alert_round_;
  std::string output_;
  // fold()'s scratch, kept for its memory: the latencies and times of the calls.
  std::vector<double> fold_latencies_;
  std::vector<double> fold_times_;
  TimePoint latest_;
  alignas(8) HotRegion hot_;
};

// The engine of this wasm instance (exports.cc), for the exports of other files.
Engine& instance_engine();

}  // namespace r2w::bindings
