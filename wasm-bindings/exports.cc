// The C ABI of r2watch.wasm. Numbers only on the hot path; JSON in linear memory for the rest:
// the Worker copies input into memory from r2w_alloc, calls, then reads r2w_output_ptr/len.
// Every function is total: bad arguments give an error result, never a trap.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/cost/operation-class.h"
#include "core/metrics/inventory.h"
#include "wasm-bindings/engine.h"
#include "wasm-bindings/export.h"

namespace {

using r2w::bindings::Engine;

// The one engine of this instance. Created by r2w_init; the Worker makes a new instance
// (and so a new engine) after a trap.
std::unique_ptr<Engine>& engine() {
  static std::unique_ptr<Engine> instance;
  return instance;
}

r2w::TimePoint to_time(double now_ms) { return r2w::bindings::time_from_js(now_ms); }
r2w::Duration to_duration(double ms) { return r2w::bindings::duration_from_js(ms); }
uint64_t to_count(double n) { return r2w::bindings::count_from_js(n); }

}  // namespace

r2w::bindings::Engine& r2w::bindings::instance_engine() { return *engine(); }

// Linear memory for the Worker to write JSON input into. Returns 0 when out of memory.
R2W_EXPORT("r2w_alloc") void* r2w_alloc(uint32_t size) { return std::malloc(size ? size : 1); }
R2W_EXPORT("r2w_free") void r2w_free(void* ptr) { std::free(ptr); }

// Creates (or recreates) the engine with default settings. Returns 1.
R2W_EXPORT("r2w_init") int32_t r2w_init(double now_ms) {
  engine() = std::make_unique<Engine>(to_time(now_ms));
  return 1;
}

// 1 when an R2 call may go ahead now, 0 when the breaker refuses it.
R2W_EXPORT("r2w_acquire") int32_t r2w_acquire(double now_ms) {
  return engine()->acquire(to_time(now_ms)) ? 1 : 0;
}

// The hot path's shared memory (wasm-bindings/engine.h, HotRegion): where the Worker reads
// whether a call may go ahead without asking and writes the successes it buffers. Valid until
// the next r2w_init.
R2W_EXPORT("r2w_hot_region") void* r2w_hot_region() { return &engine()->hot(); }

// Folds the buffered calls into the breaker and the rollups (the Worker calls it when the ring
// is full). Returns the number of breaker transitions waiting to be taken.
R2W_EXPORT("r2w_fold") int32_t r2w_fold() {
  engine()->fold();
  engine()->publish();
  return static_cast<int32_t>(engine()->breaker().pending_transitions());
}

// After a refusal: milliseconds to wait before trying again.
R2W_EXPORT("r2w_retry_after_ms") double r2w_retry_after_ms() {
  return static_cast<double>(engine()->retry_after().count());
}

// The id of the metrics series of an operation, from "bucket\0key\0user" in memory (as
// written through r2w_alloc): the key's first path segment is the series' prefix. The Worker
// caches ids by (bucket, prefix, user); they last as long as the instance. -1 on bad input.
R2W_EXPORT("r2w_series") int32_t r2w_series(const char* text, uint32_t len) {
  std::string_view all(text, len);
  size_t a = all.find('\0');
  size_t b = a == std::string_view::npos ? a : all.find('\0', a + 1);
  if (b == std::string_view::npos) return -1;
  return static_cast<int32_t>(engine()->series(
      r2w::metrics::Series{.bucket = std::string(all.substr(0, a)),
                           .prefix = r2w::metrics::key_prefix(all.substr(a + 1, b - a - 1)),
                           .user = std::string(all.substr(b + 1))}));
}

// R2's billing class of an operation: 0 Class A, 1 Class B, 2 free; -1 unknown operation.
R2W_EXPORT("r2w_r2_class") int32_t r2w_r2_class(int32_t op) {
  auto operation = r2w::operation_from_index(op);
  return operation ? static_cast<int32_t>(r2w::cost::classify_operation(*operation)) : -1;
}

// Reports a permitted call: series id, operation index (get 0, put 1, delete 2, list 3,
// head 4), ok 1/0, latency, bytes up and down. Returns the number of breaker transitions
// waiting to be taken, or -1 for an unknown operation or series.
R2W_EXPORT("r2w_record")
int32_t r2w_record(int32_t series, int32_t op, int32_t ok, double latency_ms, double bytes_up,
                   double bytes_down, double now_ms) {
  auto operation = r2w::operation_from_index(op);
  if (!operation || series < 0 || !engine()->aggregator().series(static_cast<uint32_t>(series))) {
    return -1;
  }
  return static_cast<int32_t>(engine()->record(static_cast<uint32_t>(series), *operation, ok != 0,
                                               to_duration(latency_ms), to_count(bytes_up),
                                               to_count(bytes_down), to_time(now_ms)));
}

// The weight to write an operation's raw event to Analytics Engine with, or 0 to skip it.
R2W_EXPORT("r2w_sample_weight") double r2w_sample_weight(int32_t ok, double uniform01) {
  return r2w::metrics::sample_weight(engine()->metrics_settings(), ok != 0, uniform01);
}

// 1 when the minute rollups should be flushed to D1 now.
R2W_EXPORT("r2w_flush_due") int32_t r2w_flush_due(double now_ms) {
  engine()->fold();
  return engine()->aggregator().flush_due(to_time(now_ms)) ? 1 : 0;
}

// Gives back a permission whose call never happened.
R2W_EXPORT("r2w_release") void r2w_release() {
  engine()->fold();
  engine()->release();
  engine()->publish();
}

// Injected faults: 1 when this call should fail given a uniform draw in [0, 1); the added
// latency in ms. Both answer 0 for an unknown operation.
R2W_EXPORT("r2w_fault_fails") int32_t r2w_fault_fails(int32_t op, double uniform01) {
  auto operation = r2w::operation_from_index(op);
  return operation && engine()->faults().should_fail(*operation, uniform01) ? 1 : 0;
}
R2W_EXPORT("r2w_fault_latency_ms") double r2w_fault_latency_ms(int32_t op) {
  auto operation = r2w::operation_from_index(op);
  if (!operation) return 0;
  return static_cast<double>(engine()->faults().fault(*operation).added_latency.count());
}
R2W_EXPORT("r2w_faults_active") int32_t r2w_faults_active() {
  return engine()->faults().active() ? 1 : 0;
}
// Injected D1 faults: the delay before every D1 round trip in ms, what a round trip with the
// uniform draw in [0, 1) does (0 run, 1 fail before running, 2 run and lose the answer), and the
// clock skew in ms.
R2W_EXPORT("r2w_d1_fault_latency_ms") double r2w_d1_fault_latency_ms() {
  return static_cast<double>(engine()->faults().d1().fault.added_latency.count());
}
R2W_EXPORT("r2w_d1_fault") int32_t r2w_d1_fault(double uniform01) {
  return static_cast<int32_t>(engine()->faults().d1_outcome(uniform01));
}
R2W_EXPORT("r2w_clock_skew_ms") double r2w_clock_skew_ms() {
  return static_cast<double>(engine()->faults().clock_skew().count());
}

// Runs a JSON command. Returns 1 on success and 0 on an error result; either way the answer
// is at r2w_output_ptr() for r2w_output_len() bytes, valid until the next call.
R2W_EXPORT("r2w_call")
int32_t r2w_call(const char* command, uint32_t command_len, const char* input, uint32_t input_len,
                 double now_ms) {
  return engine()->call(std::string_view(command, command_len), std::string_view(input, input_len),
                        to_time(now_ms))
             ? 1
             : 0;
}
// r2w_call with raw bytes beside the JSON input (Engine::call's attachment).
R2W_EXPORT("r2w_call_attached")
int32_t r2w_call_attached(const char* command, uint32_t command_len, const char* input,
                          uint32_t input_len, const char* attachment, uint32_t attachment_len,
                          double now_ms) {
  return engine()->call(std::string_view(command, command_len), std::string_view(input, input_len),
                        to_time(now_ms), std::string_view(attachment, attachment_len))
             ? 1
             : 0;
}
R2W_EXPORT("r2w_output_ptr") const char* r2w_output_ptr() { return engine()->output().data(); }
R2W_EXPORT("r2w_output_len") uint32_t r2w_output_len() {
  return static_cast<uint32_t>(engine()->output().size());
}

// Traps on purpose, so the Worker's recovery from a trapped instance can be tested. The
// Worker reaches it only through the fault-injection routes.
R2W_EXPORT("r2w_debug_trap") void r2w_debug_trap() { __builtin_trap(); }
