// The kept alert round's figures as typed arrays (issue #16): the Worker names its series once
// (the alert_round_keys command answers each key's index), then each round writes every key's
// value and sample count straight into the engine's arrays in linear memory (a NaN value: no
// figure this round) and runs the alert_round command, which answers only what changed.
// worker-shim/src/alert-round.js is the other side.
#include <cstdint>

#include "wasm-bindings/engine.h"
#include "wasm-bindings/export.h"

namespace {

r2w::alerts::Round& round() { return r2w::bindings::instance_engine().alert_round(); }

}  // namespace

// The number of keys in the table: the length of both arrays.
R2W_EXPORT("r2w_alert_key_count") uint32_t r2w_alert_key_count() { return round().key_count(); }

// The values of this round, one double per key (all NaN after each round). Valid until a key
// is added (alert_round_keys, or an alert_round whose figures name a new series).
R2W_EXPORT("r2w_alert_values") double* r2w_alert_values() { return round().values().data(); }

// The calls behind each value (rates below a rule's min_calls are no data).
R2W_EXPORT("r2w_alert_samples") double* r2w_alert_samples() { return round().samples().data(); }

// The stored round the engine's states are (what D1's alert_config.states_generation must
// say for them to be current), or -1 when it holds none.
R2W_EXPORT("r2w_alert_generation") double r2w_alert_generation() {
  auto g = round().generation();
  return g ? static_cast<double>(*g) : -1.0;
}

// Empties the key table (alert_round or alert_round_keys answered that it is full): the Worker
// names its series again. The states stay.
R2W_EXPORT("r2w_alert_keys_reset") void r2w_alert_keys_reset() { round().clear_keys(); }

// Drops the held states (the Worker could not store the last round's answer): the next round
// restores them from D1.
R2W_EXPORT("r2w_alert_forget") void r2w_alert_forget() { round().forget(); }
