#pragma once

// The alert round kept between rounds (issue #16): the rules and settings in force, a table of
// series keys named once, and the alert states and notice ledger of the last round, so that a
// round takes only this round's figures (a value and a sample count per key) and answers only
// what changed. `check()` (evaluate.h) is the same round over states handed in and handed back;
// both run the same code (Round::run), so they answer alike on the same inputs.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/alerts/alert.h"
#include "core/alerts/evaluate.h"
#include "core/alerts/figures.h"
#include "core/alerts/rule.h"
#include "core/alerts/settings.h"
#include "core/common/time.h"

namespace r2w::alerts {

// A series without its figures: what the key table names once.
struct SeriesKey {
  std::string metric;
  Scope scope;
  Duration window = Duration(0);
  bool natural = true;
  bool operator==(const SeriesKey&) const = default;
};
SeriesKey key_of(const Series& s);

// The most keys a table holds (about 35 MB): the Worker's figures of one account stay far
// below it. A table that would grow past it is emptied (Round::clear_keys) and named again, so
// series that came and went do not pile up.
inline constexpr uint32_t kMaxSeriesKeys = 100'000;

// The Worker writes a round's changes (states, values, outbox rows, the generation last) to D1
// in batches of at most this many statements each (r2watch's choice, not a D1 limit: D1 bounds
// each statement, not the statements of a batch; a batch is one transaction, so a round that
// changed more than this is written in several, the generation in the last).
inline constexpr uint32_t kRoundWriteBatchStatements = 100;

// How a round names its series: the kept round interns each key once (the same key is the same
// series every round); a one-off round (check()) takes each series as given, duplicates
// included.
enum class KeyTable : uint8_t { kInterned, kEachSeries };

// What one round takes besides the figures of the key table.
struct RoundInput {
  const std::vector<Series>* series = nullptr;  // figures computed this round (interned here)
  const std::vector<Silence>* silences = nullptr;
  const std::map<std::string, std::string>* user_emails = nullptr;
  TimePoint now;
};

class Round {
 public:
  explicit Round(KeyTable table = KeyTable::kInterned) : table_(table) {}
  // It holds pointers into itself: moved, never copied.
  Round(const Round&) = delete;
  Round& operator=(const Round&) = delete;
  Round(Round&&) = default;
  Round& operator=(Round&&) = default;

  // The rules and settings in force until the next call.
  void set_rules(std::vector<Rule> rules);
  void set_settings(Settings settings) { settings_ = std::move(settings); }
  const std::vector<Rule>& rules() const { return rules_; }
  bool has_rules() const { return has_rules_; }  // set_rules was called
  const Settings& settings() const { return settings_; }

  // The key table. `intern` answers a key's index (a new key takes the next one); unset when
  // the table is full.
  std::optional<uint32_t> intern(const SeriesKey& key);
  uint32_t key_count() const { return static_cast<uint32_t>(keys_.size()); }
  // Whether `more` keys fit beside those held.
  bool keys_fit(size_t more) const { return keys_.size() + more <= kMaxSeriesKeys; }
  // Empties the key table (the states stay).
  void clear_keys();
  const SeriesKey& key(uint32_t i) const { return keys_[i]; }
  // This round's figures of the key table: `values()[i]` the value of key i (NaN: no figure
  // this round; all NaN after each round and for a new key) and `samples()[i]` the calls
  // behind it.
  std::vector<double>& values() { return values_; }
  std::vector<double>& samples() { return samples_; }
  // A sentence for key i's notification this round (cleared after each round).
  void set_detail(uint32_t i, std::string detail);

  // The states and ledger the Worker stored after round `generation` (a cold start, or another
  // writer changed them). Replaces what is held.
  void restore(std::vector<AlertState> states, Ledger ledger, uint64_t generation);
  // Which stored round the held states are (unset: none held, restore first).
  std::optional<uint64_t> generation() const { return generation_; }
  void set_generation(uint64_t g) { generation_ = g; }
  // Drops the held states (the Worker could not store the last answer).
  void forget();
  size_t state_count() const { return order_.size(); }
  // The held state of a fingerprint (null: none).
  const AlertState* state(const std::string& fingerprint) const;
  const Ledger& ledger() const { return ledger_; }

  // One round at `in.now` over the key table's figures and `in.series`: moves the held states
  // and answers what changed (states to store, fingerprints to forget, notifications, actions,
  // the ledger), as check() does.
  CheckResult run(const RoundInput& in);

 private:
  struct Slot {
    AlertState state;
    int32_t rule = -1;  // the rule and key it was last matched through (-1: none)
    int32_t key = -1;
    uint64_t copied = 0;   // rules_version_ when the rule's fields were copied in
    uint64_t seen = 0;     // round_ when a figure of its rule matched
    uint64_t touched = 0;  // round_ when it changed
    uint64_t changed = 0;  // round_ when more than its value and detail changed
  };
  void rebuild();
  void link(Slot& slot, uint32_t rule, uint32_t key);
  void unlink(Slot& slot);
  uint32_t add_key(const SeriesKey& key);

  KeyTable table_;
  std::vector<Rule> rules_;
  std::unordered_map<std::string, const Rule*> rule_by_id_;
  std::unordered_map<std::string, uint32_t> rule_index_;
  Settings settings_;
  uint64_t rules_version_ = 1;
  bool has_rules_ = false;

  std::vector<SeriesKey> keys_;
  std::unordered_map<std::string, uint32_t> key_index_;              // kInterned
  std::unordered_map<std::string, std::vector<uint32_t>> by_scope_;  // metric@window + scope
  std::vector<double> values_;
  std::vector<double> samples_;
  std::vector<std::string> details_;
  std::vector<uint32_t> detailed_;  // keys with a detail this round
  bool stale_ = true;               // matches_ and links need a rebuild

  std::vector<std::vector<uint32_t>> matches_;  // per rule: the keys whose scope it reads
  std::vector<std::unordered_map<uint32_t, Slot*>> linked_;  // per rule: key -> state

  std::unordered_map<std::string, Slot> slots_;  // by fingerprint
  std::vector<Slot*> order_;                     // stable: held order, new ones appended
  Ledger ledger_;
  std::optional<uint64_t> generation_;
  uint64_t round_ = 0;
};

}  // namespace r2w::alerts
