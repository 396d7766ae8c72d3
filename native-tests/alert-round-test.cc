// The alert round kept in the engine (core/alerts/round.h) against the round over states handed
// in and back (check()): on the same random inputs, round after round, both answer the same
// transitions, notifications, actions, ledger and states, including after rules change, a cold
// start restores the stored states, and a state is changed by hand between rounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/alerts/evaluate.h"
#include "core/alerts/round.h"
#include "wasm-bindings/codec/alerts.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::alerts {
namespace {

using namespace r2w::codec;

constexpr int64_t kMinute = 60'000;

struct Universe {
  std::vector<Series> series;  // every key, in key-table order (values set per round)
};

Universe universe(int buckets) {
  Universe u;
  for (int b = 0; b < buckets; ++b) {
    std::string bucket = "b" + std::to_string(b);
    u.series.push_back(Series{
        .metric = "error_rate_pct", .scope = Scope{.bucket = bucket}, .window = Duration(300'000)});
    u.series.push_back(Series{
        .metric = "latency_p95_ms", .scope = Scope{.bucket = bucket}, .window = Duration(300'000)});
    u.series.push_back(Series{.metric = "error_rate_pct",
                              .scope = Scope{.bucket = bucket, .prefix = "logs"},
                              .window = Duration(300'000),
                              .natural = false});
    u.series.push_back(Series{.metric = "quota_used_pct",
                              .scope = Scope{.bucket = bucket, .user = "u" + std::to_string(b)}});
    u.series.push_back(
        Series{.metric = "storage_growth_30d_pct", .scope = Scope{.bucket = bucket}});
  }
  return u;
}

Rule random_rule(std::mt19937& rng, int i, int buckets) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  Rule r;
  r.id = "r" + std::to_string(i);
  r.name = "rule " + std::to_string(i);
  switch (pick(4)) {
    case 0:
      r.type = RuleType::kErrorRate;
      r.threshold = 2 + pick(6);
      r.min_calls = 1 + pick(50);
      if (pick(4) == 0) r.scope.prefix = "logs";
      break;
    case 1:
      r.type = RuleType::kLatency;
      r.statistic = Statistic::kP95;
      r.threshold = 500 + pick(3000);
      break;
    case 2:
      r.type = RuleType::kQuotaUsage;
      r.threshold = 50 + pick(40);
      r.actions.notify_user = pick(2) == 0;
      break;
    default:
      r.type = RuleType::kStorageGrowth;
      r.threshold = 10 + pick(40);
      break;
  }
  if (pick(2) == 0) r.scope.bucket = "b" + std::to_string(pick(buckets));
  r.for_duration = Duration(kMinute * pick(3));
  r.severity = static_cast<Severity>(pick(4));
  r.enabled = pick(10) != 0;
  if (pick(3) == 0) r.repeat_interval = Duration(kMinute * (1 + pick(10)));
  if (pick(8) == 0) r.actions.force_breaker_open = true;
  if (pick(5) == 0) r.labels = {{"team", pick(2) ? "storage" : "edge"}};
  return r;
}

Settings random_settings() {
  Settings s;
  s.channels = {
      Channel{.name = "hook", .type = ChannelType::kWebhook, .url_secret = "X"},
      Channel{.name = "pager",
              .type = ChannelType::kPagerDuty,
              .url_secret = "X",
              .routing_key_secret = "PD",
              .min_severity = Severity::kHigh},
      Channel{
          .name = "later", .type = ChannelType::kSlack, .url_secret = "X", .escalation_level = 1},
  };
  s.escalation_after = {Duration(4 * kMinute)};
  s.repeat_interval = Duration(6 * kMinute);
  s.max_notices_per_type_per_hour = 12;
  s.inhibit = {InhibitRule{.source_severity = Severity::kCritical,
                           .target_severities = {Severity::kLow, Severity::kMedium},
                           .equal = {"bucket"}}};
  return s;
}

std::string dump(const Json& j) { return j.dump(); }

// What a round answers, as text: every part that reaches the Worker.
std::vector<std::string> answer(const CheckResult& r) {
  std::vector<std::string> out;
  for (size_t i = 0; i < r.changed.size(); ++i) {
    out.push_back((r.changes.at(i) == Change::kState ? "changed " : "value of ") +
                  dump(state_to_json(r.changed[i])));
  }
  for (const std::string& fp : r.dropped) out.push_back("dropped " + fp);
  for (const Notification& n : r.notifications) {
    out.push_back("notification " + dump(notification_to_json(n)));
  }
  for (const Action& a : r.actions) out.push_back("action " + a.alert_id + " " + a.rule_id);
  out.push_back("ledger " + dump(ledger_to_json(r.ledger)));
  out.push_back("counts " + std::to_string(r.rules_evaluated) + " " +
                std::to_string(r.series_matched) + " " + std::to_string(r.firing) + " " +
                std::to_string(r.pending));
  return out;
}

// The Worker's stored states: changed ones replace or join, dropped ones leave.
void store(std::vector<AlertState>& states, const CheckResult& r) {
  for (const AlertState& s : r.changed) {
    auto it = std::find_if(states.begin(), states.end(),
                           [&](const AlertState& x) { return x.fingerprint == s.fingerprint; });
    if (it == states.end()) {
      states.push_back(s);
    } else {
      *it = s;
    }
  }
  for (const std::string& fp : r.dropped) {
    std::erase_if(states, [&](const AlertState& x) { return x.fingerprint == fp; });
  }
}

void run_rounds(uint32_t seed, int rounds, int buckets, int rule_count) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  Universe u = universe(buckets);
  std::vector<Rule> rules;
  for (int i = 0; i < rule_count; ++i) rules.push_back(random_rule(rng, i, buckets));
  Settings settings = random_settings();

  Round kept;
  kept.set_rules(rules);
  kept.set_settings(settings);
  for (const Series& s : u.series) ASSERT_TRUE(kept.intern(key_of(s)).has_value());
  kept.restore({}, Ledger{}, 0);

  std::vector<AlertState> stored;
  Ledger ledger;
  std::vector<Silence> silences;
  TimePoint now = from_epoch_ms(1'780'000'000'000);
  size_t notifications = 0, transitions = 0;
  for (int round = 0; round < rounds; ++round) {
    now += Duration(kMinute);
    // Figures: most keys, values around the thresholds; some move each round.
    std::vector<Series> given;
    for (Series s : u.series) {
      if (pick(10) == 0) continue;
      if (s.metric == "error_rate_pct") s.value = pick(10), s.samples = pick(80);
      if (s.metric == "latency_p95_ms") s.value = pick(4000), s.samples = 1 + pick(200);
      if (s.metric == "quota_used_pct") s.value = 40 + pick(60);
      if (s.metric == "storage_growth_30d_pct") s.value = pick(60);
      if (pick(3) == 0) s.detail = "detail " + std::to_string(pick(3));
      given.push_back(s);
    }
    // Now and then: a rule changes, is disabled or removed; a silence starts or ends.
    if (pick(15) == 0 && !rules.empty()) {
      Rule& r = rules[static_cast<size_t>(pick(static_cast<int>(rules.size())))];
      r.threshold = r.threshold * (pick(2) ? 0.8 : 1.2);
      r.name += "'";
      kept.set_rules(rules);
    }
    if (pick(25) == 0 && !rules.empty()) {
      rules[static_cast<size_t>(pick(static_cast<int>(rules.size())))].enabled ^= true;
      kept.set_rules(rules);
    }
    if (pick(40) == 0 && !rules.empty()) {
      rules.erase(rules.begin() + pick(static_cast<int>(rules.size())));
      kept.set_rules(rules);
    }
    if (pick(20) == 0) {
      silences = {Silence{.id = "s" + std::to_string(round),
                          .kind = pick(2) ? "silence" : "maintenance",
                          .starts_at = now - Duration(kMinute),
                          .ends_at = now + Duration(5 * kMinute),
                          .matchers = {Matcher{.name = "bucket", .value = "b1"}}}};
    }
    // Now and then: a person acknowledges or resolves an alert (the Worker stores it, and the
    // kept round restores the stored states: its generation no longer matches).
    if (pick(12) == 0 && !stored.empty()) {
      AlertState& s = stored[static_cast<size_t>(pick(static_cast<int>(stored.size())))];
      auto manual = pick(2) ? acknowledge(s, "ann", "looking", rules, settings, now)
                            : resolve_by_hand(s, "bob", "fixed", rules, settings, now);
      if (manual.ok()) {
        s = manual.value().state;
        kept.restore(stored, ledger, static_cast<uint64_t>(round));
      }
    }
    // Now and then: a cold start (a new isolate restores what D1 holds).
    if (pick(30) == 0) {
      Round fresh;
      fresh.set_rules(rules);
      fresh.set_settings(settings);
      for (const Series& s : u.series) ASSERT_TRUE(fresh.intern(key_of(s)).has_value());
      fresh.restore(stored, ledger, static_cast<uint64_t>(round));
      kept = std::move(fresh);
    }

    CheckInput in{.rules = rules,
                  .series = given,
                  .states = stored,
                  .silences = silences,
                  .settings = settings,
                  .ledger = ledger,
                  .now = now};
    CheckResult one_off = check(in);
    // The kept round takes the figures as the Worker's typed arrays, or (every other round)
    // as series computed in the engine.
    CheckResult held;
    if (round % 2 == 0) {
      for (const Series& s : given) {
        uint32_t k = *kept.intern(key_of(s));
        kept.values()[k] = s.value;
        kept.samples()[k] = static_cast<double>(s.samples);
        kept.set_detail(k, s.detail);
      }
      held = kept.run(RoundInput{.silences = &silences, .now = now});
    } else {
      held = kept.run(RoundInput{.series = &given, .silences = &silences, .now = now});
    }
    std::vector<std::string> a = answer(held), b = answer(one_off);
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      ASSERT_EQ(i < a.size() ? a[i] : "(none)", i < b.size() ? b[i] : "(none)")
          << "seed " << seed << " round " << round << " line " << i;
    }
    transitions += one_off.changed.size() + one_off.dropped.size();
    notifications += one_off.notifications.size();
    store(stored, one_off);
    ledger = one_off.ledger;
    ASSERT_EQ(kept.state_count(), stored.size());
    // Beyond what was answered: the kept states move as the stored ones.
    for (const AlertState& x : stored) {
      const AlertState* y = kept.state(x.fingerprint);
      ASSERT_NE(y, nullptr);
      ASSERT_EQ(std::tuple(y->status, y->manually_resolved, y->alert_id, y->heard, y->notices),
                std::tuple(x.status, x.manually_resolved, x.alert_id, x.heard, x.notices))
          << "seed " << seed << " round " << round << " " << x.fingerprint;
    }
  }
  // The rounds did move alerts and notify.
  EXPECT_GT(transitions, 50U) << "seed " << seed;
  EXPECT_GT(notifications, 5U) << "seed " << seed;
}

TEST(AlertRound, KeptStatesAnswerAsTheRoundOverStoredStatesOverRandomRounds) {
  for (uint32_t seed = 1; seed <= 6; ++seed) run_rounds(seed, 60, 6, 24);
}

TEST(AlertRound, ManyRulesOverManySeries) { run_rounds(99, 25, 16, 80); }

TEST(AlertRound, AKeyIsInternedOnceAndItsFiguresLastOneRound) {
  Round round;
  Rule rule;
  rule.id = "grow";
  rule.type = RuleType::kStorageGrowth;
  rule.threshold = 10;
  round.set_rules({rule});
  round.restore({}, Ledger{}, 7);
  SeriesKey key{.metric = "storage_growth_30d_pct", .scope = Scope{.bucket = "a"}};
  uint32_t k = *round.intern(key);
  EXPECT_EQ(*round.intern(key), k);
  EXPECT_EQ(round.key_count(), 1U);
  EXPECT_TRUE(std::isnan(round.values()[k]));
  round.values()[k] = 50;
  TimePoint now = from_epoch_ms(1'780'000'000'000);
  CheckResult first = round.run(RoundInput{.now = now});
  ASSERT_EQ(first.changed.size(), 1U);
  EXPECT_EQ(first.changed[0].status, Status::kFiring);
  EXPECT_TRUE(std::isnan(round.values()[k]));
  // No figure the next round: the alert resolves (the rule found none).
  CheckResult second = round.run(RoundInput{.now = now + Duration(kMinute)});
  ASSERT_EQ(second.changed.size(), 1U);
  EXPECT_EQ(second.changed[0].status, Status::kResolved);
  EXPECT_EQ(second.changed[0].resolved_by.resolver, Resolver::kConditionCleared);
  EXPECT_EQ(round.generation(), 7U);
  // An emptied key table is named again; the states stay and the round goes on from them.
  EXPECT_TRUE(round.keys_fit(kMaxSeriesKeys - 1));
  EXPECT_FALSE(round.keys_fit(kMaxSeriesKeys));
  round.clear_keys();
  EXPECT_EQ(round.key_count(), 0U);
  EXPECT_EQ(round.state_count(), 1U);
  uint32_t again = *round.intern(key);
  round.values()[again] = 60;
  CheckResult third = round.run(RoundInput{.now = now + Duration(2 * kMinute)});
  ASSERT_EQ(third.changed.size(), 1U);
  EXPECT_EQ(third.changed[0].status, Status::kFiring);
  EXPECT_EQ(third.changed[0].fingerprint, first.changed[0].fingerprint);
  round.forget();
  EXPECT_FALSE(round.generation().has_value());
  EXPECT_EQ(round.state_count(), 0U);
}

}  // namespace
}  // namespace r2w::alerts
