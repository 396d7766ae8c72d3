// The alert engine round by round, on a fake clock: every state transition, `for` durations,
// flapping and repeats, grouping, suppression, silences, inhibition, escalation, manual
// acknowledge/resolve, idempotency keys, automated responses and the figures from rollups.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/alerts/evaluate.h"
#include "core/alerts/payloads.h"
#include "core/alerts/text.h"
#include "core/metrics/rollup.h"
#include "native-tests/test-clock.h"
#include "wasm-bindings/codec/alerts.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/codec/metrics.h"
#include "wasm-bindings/engine.h"

namespace r2w::alerts {
namespace {

using json = r2w::Json;
using namespace r2w::codec;  // the JSON of rules, settings, states and bodies

// The figures as the Worker sends them, read by the codec, turned into series by the core.
Result<std::vector<Series>> series_from_json(const json& j, const FigureNeeds& needs,
                                             TimePoint now) {
  auto figures = figures_from_json(j);
  if (!figures.ok()) return figures.error();
  return series_of(figures.value(), needs, now);
}

constexpr int64_t kMinute = 60'000;

Rule error_rule(std::string id, double threshold, int64_t for_ms, Severity severity) {
  Rule r;
  r.id = id;
  r.name = "errors " + id;
  r.type = RuleType::kErrorRate;
  r.threshold = threshold;
  r.for_duration = Duration(for_ms);
  r.severity = severity;
  r.min_calls = 10;
  return r;
}

Series errors(std::string bucket, double pct, uint64_t calls = 100) {
  return Series{.metric = "error_rate_pct",
                .scope = Scope{.bucket = std::move(bucket)},
                .window = Duration(300'000),
                .value = pct,
                .samples = calls,
                .detail = "test"};
}

Channel channel(std::string name, ChannelType type, uint32_t level = 0) {
  Channel c{.name = std::move(name), .type = type, .url_secret = "X", .escalation_level = level};
  if (type == ChannelType::kPagerDuty) c.routing_key_secret = "PD";
  return c;
}

// Runs rounds the way the Worker does: stores changed states, forgets dropped ones, keeps the
// ledger.
struct Harness {
  testing::FakeClock clock;
  std::vector<Rule> rules;
  Settings settings;
  std::vector<AlertState> states;
  std::vector<Silence> silences;
  Ledger ledger;
  std::map<std::string, std::string> emails;

  Harness() { settings.channels = {channel("hook", ChannelType::kWebhook)}; }

  CheckResult run(std::vector<Series> series) {
    CheckInput in{.rules = rules,
                  .series = std::move(series),
                  .states = states,
                  .silences = silences,
                  .settings = settings,
                  .ledger = ledger,
                  .user_emails = emails,
                  .now = clock.now()};
    CheckResult r = check(in);
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
    ledger = r.ledger;
    return r;
  }

  const AlertState* of(std::string_view rule_id, std::string_view bucket = "") const {
    for (const AlertState& s : states) {
      if (s.rule_id == rule_id && (bucket.empty() || s.scope.bucket == bucket)) return &s;
    }
    return nullptr;
  }

  void store(const AlertState& s) {
    for (AlertState& x : states) {
      if (x.fingerprint == s.fingerprint) x = s;
    }
  }
};

std::vector<std::string> kinds(const CheckResult& r) {
  std::vector<std::string> out;
  for (const Notification& n : r.notifications) out.push_back(n.kind + "@" + n.channel);
  return out;
}

TEST(AlertEvaluate, PendingForTheForDurationThenFiringThenResolved) {
  Harness h;
  h.rules = {error_rule("r", 5, kMinute, Severity::kHigh)};
  CheckResult r = h.run({errors("photos", 50)});
  ASSERT_NE(h.of("r"), nullptr);
  EXPECT_EQ(h.of("r")->status, Status::kPending);
  EXPECT_TRUE(r.notifications.empty());
  EXPECT_EQ(r.pending, 1u);

  h.clock.advance(kMinute - 1);
  r = h.run({errors("photos", 50)});
  EXPECT_EQ(h.of("r")->status, Status::kPending) << "one ms before `for` has elapsed";
  EXPECT_TRUE(r.notifications.empty());

  h.clock.advance(1);
  r = h.run({errors("photos", 50)});
  EXPECT_EQ(h.of("r")->status, Status::kFiring);
  EXPECT_EQ(h.of("r")->fired_at, h.clock.now());
  EXPECT_EQ(kinds(r), std::vector<std::string>{"firing@hook"});
  const json body = body_to_json(r.notifications[0].body);
  EXPECT_EQ(body["status"], "firing");
  EXPECT_EQ(body["alerts"][0]["labels"]["bucket"], "photos");
  EXPECT_EQ(body["alerts"][0]["severity"], "high");
  EXPECT_EQ(body["alerts"][0]["value"], 50.0);

  h.clock.advance(kMinute);
  r = h.run({errors("photos", 50)});
  EXPECT_TRUE(r.notifications.empty()) << "a condition that holds is not notified again";

  h.clock.advance(kMinute);
  r = h.run({errors("photos", 1)});
  EXPECT_EQ(h.of("r")->status, Status::kResolved);
  EXPECT_EQ(h.of("r")->resolved_by.resolver, Resolver::kConditionCleared);
  EXPECT_EQ(kinds(r), std::vector<std::string>{"resolved@hook"});
  EXPECT_EQ(body_to_json(r.notifications[0].body)["status"], "resolved");
  EXPECT_EQ(body_to_json(r.notifications[0].body)["alerts"][0]["endsAt"],
            "2023-11-14T22:16:20.000Z");
}

TEST(AlertEvaluate, APendingConditionThatClearsEndsQuietlyAndIsForgotten) {
  Harness h;
  h.rules = {error_rule("r", 5, 5 * kMinute, Severity::kHigh)};
  h.run({errors("photos", 50)});
  h.clock.advance(kMinute);
  CheckResult r = h.run({errors("photos", 0)});
  EXPECT_EQ(h.of("r")->status, Status::kInactive);
  EXPECT_TRUE(r.notifications.empty());
  h.clock.advance(kMinute);
  r = h.run({errors("photos", 0)});
  EXPECT_EQ(h.of("r"), nullptr);
  EXPECT_EQ(r.dropped.size(), 1u);
}

TEST(AlertEvaluate, WithoutForAnAlertFiresAtOnce) {
  Harness h;
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  CheckResult r = h.run({errors("photos", 6)});
  EXPECT_EQ(h.of("r")->status, Status::kFiring);
  EXPECT_EQ(r.notifications.size(), 1u);
}

TEST(AlertEvaluate, FewerCallsThanMinCallsIsNoData) {
  Harness h;
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  CheckResult r = h.run({errors("photos", 100, 9)});
  EXPECT_EQ(h.of("r"), nullptr);
  r = h.run({errors("photos", 100, 10)});
  EXPECT_EQ(h.of("r")->status, Status::kFiring);
}

TEST(AlertEvaluate, EveryComparisonAndTheThresholdBoundary) {
  EXPECT_FALSE(compare(5, Comparison::kGt, 5));
  EXPECT_TRUE(compare(5.0001, Comparison::kGt, 5));
  EXPECT_TRUE(compare(5, Comparison::kGte, 5));
  EXPECT_TRUE(compare(4, Comparison::kLt, 5));
  EXPECT_FALSE(compare(5, Comparison::kLt, 5));
  EXPECT_TRUE(compare(5, Comparison::kLte, 5));
  EXPECT_TRUE(compare(5, Comparison::kEq, 5));
}

TEST(AlertEvaluate, AFiringAlertIsRepeatedAfterTheRepeatInterval) {
  Harness h;
  h.settings.repeat_interval = Duration(60 * kMinute);
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  h.run({errors("photos", 50)});
  h.clock.advance(60 * kMinute - 1);
  EXPECT_TRUE(h.run({errors("photos", 50)}).notifications.empty());
  h.clock.advance(1);
  EXPECT_EQ(kinds(h.run({errors("photos", 50)})), std::vector<std::string>{"repeat@hook"});
}

TEST(AlertEvaluate, AFlappingConditionIsNotNotifiedAgainWithinTheRepeatInterval) {
  Harness h;
  h.settings.repeat_interval = Duration(30 * kMinute);
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  EXPECT_EQ(kinds(h.run({errors("photos", 50)})), std::vector<std::string>{"firing@hook"});
  h.clock.advance(kMinute);
  EXPECT_EQ(kinds(h.run({errors("photos", 0)})), std::vector<std::string>{"resolved@hook"});
  h.clock.advance(kMinute);
  CheckResult r = h.run({errors("photos", 50)});  // fires again 2 min after it was notified
  EXPECT_EQ(h.of("r")->status, Status::kFiring);
  EXPECT_TRUE(r.notifications.empty());
  EXPECT_EQ(h.of("r")->muted_by.reason, MuteReason::kFlapping);
  h.clock.advance(kMinute);
  r = h.run({errors("photos", 0)});
  EXPECT_EQ(h.of("r")->status, Status::kResolved);
  EXPECT_TRUE(r.notifications.empty()) << "the receivers already think it resolved";
  h.clock.advance(kMinute);
  h.run({errors("photos", 50)});
  // Still firing when the repeat interval since the last firing notice has passed: told now.
  h.clock.set(to_epoch_ms(*h.of("r")->last_firing_notice) + 30 * kMinute);
  EXPECT_EQ(kinds(h.run({errors("photos", 50)})), std::vector<std::string>{"firing@hook"});
}

TEST(AlertEvaluate, AlertsThatFireTogetherAreGroupedPerChannel) {
  Harness h;
  h.settings.channels = {
      channel("hook", ChannelType::kWebhook), channel("slack", ChannelType::kSlack),
      channel("pd", ChannelType::kPagerDuty), channel("am", ChannelType::kAlertmanager)};
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  CheckResult r = h.run({errors("photos", 50), errors("videos", 60)});
  ASSERT_EQ(r.notifications.size(), 5u);  // one webhook, one slack, two pagerduty, one alertmanager
  for (const Notification& n : r.notifications) {
    if (n.type == ChannelType::kWebhook) {
      EXPECT_EQ(body_to_json(n.body)["alerts"].size(), 2u);
    }
    if (n.type == ChannelType::kSlack) {
      EXPECT_EQ(body_to_json(n.body)["attachments"].size(), 2u);
      EXPECT_EQ(body_to_json(n.body)["attachments"][0]["color"], "#e01e5a");
      EXPECT_EQ(body_to_json(n.body)["text"], "[FIRING:2] r2watch alerts");
    }
    if (n.type == ChannelType::kPagerDuty) {
      EXPECT_EQ(body_to_json(n.body)["event_action"], "trigger");
      EXPECT_EQ(body_to_json(n.body)["payload"]["severity"], "error");
      EXPECT_EQ(n.secret_field, "routing_key");
      EXPECT_EQ(n.alert_ids.size(), 1u);
    }
    if (n.type == ChannelType::kAlertmanager) {
      EXPECT_EQ(n.path, "/api/v2/alerts");
      EXPECT_EQ(body_to_json(n.body).size(), 2u);
      EXPECT_EQ(body_to_json(n.body)[0]["labels"]["alertname"], "errors r");
    }
  }
}

TEST(AlertEvaluate, AtMostFiveNoticesOfATypeAnHourTheRestWait) {
  Harness h;
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  std::vector<Series> series;
  for (int i = 0; i < 7; ++i) series.push_back(errors("b" + std::to_string(i), 50));
  CheckResult r = h.run(series);
  ASSERT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(body_to_json(r.notifications[0].body)["alerts"].size(), 5u);
  EXPECT_EQ(std::count_if(
                h.states.begin(), h.states.end(),
                [](const AlertState& s) { return s.muted_by.reason == MuteReason::kSuppressed; }),
            2);
  h.clock.advance(60 * kMinute - 1);
  EXPECT_TRUE(h.run(series).notifications.empty());
  h.clock.advance(1);
  r = h.run(series);
  ASSERT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(body_to_json(r.notifications[0].body)["alerts"].size(), 2u);
}

TEST(AlertEvaluate, ASilenceMutesFiringButNotResolvedNotices) {
  Harness h;
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  h.silences = {Silence{.id = "s1",
                        .starts_at = h.clock.now(),
                        .ends_at = h.clock.now() + Duration(10 * kMinute),
                        .matchers = {{"bucket", "photos", true}},
                        .comment = "migration",
                        .created_by = "ana"}};
  CheckResult r = h.run({errors("photos", 50), errors("videos", 50)});
  ASSERT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(body_to_json(r.notifications[0].body)["alerts"][0]["labels"]["bucket"], "videos");
  EXPECT_EQ(h.of("r", "photos")->muted_by, (Mute{MuteReason::kSilence, "s1"}));
  h.clock.advance(10 * kMinute);  // the silence has ended: the alert still fires, told now
  r = h.run({errors("photos", 50), errors("videos", 50)});
  ASSERT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(body_to_json(r.notifications[0].body)["alerts"][0]["labels"]["bucket"], "photos");
  // A silence over a heard alert does not hide its resolution.
  h.silences[0].ends_at = h.clock.now() + Duration(60 * kMinute);
  h.clock.advance(kMinute);
  r = h.run({errors("photos", 0), errors("videos", 50)});
  EXPECT_EQ(kinds(r), std::vector<std::string>{"resolved@hook"});
}

TEST(AlertEvaluate, ACriticalAlertMutesMediumOnesOfTheSameBucket) {
  Harness h;
  h.rules = {error_rule("crit", 50, 0, Severity::kCritical),
             error_rule("med", 5, 0, Severity::kMedium), error_rule("high", 5, 0, Severity::kHigh)};
  CheckResult r = h.run({errors("photos", 60), errors("videos", 10)});
  EXPECT_EQ(h.of("med", "photos")->muted_by.reason, MuteReason::kInhibited);
  EXPECT_EQ(h.of("med", "videos")->muted_by.reason, MuteReason::kNone);
  EXPECT_EQ(h.of("high", "photos")->muted_by.reason, MuteReason::kNone);
  ASSERT_EQ(r.notifications.size(), 1u);
  std::set<std::string> told;
  const json inhibited_body = body_to_json(r.notifications[0].body);
  for (const json& a : inhibited_body["alerts"]) {
    told.insert(a["labels"]["rule_id"].get<std::string>() + "/" +
                a["labels"]["bucket"].get<std::string>());
  }
  EXPECT_EQ(told,
            (std::set<std::string>{"crit/photos", "high/photos", "high/videos", "med/videos"}));
  // Once the critical one resolves, the medium one is told.
  h.clock.advance(kMinute);
  r = h.run({errors("photos", 10), errors("videos", 10)});
  EXPECT_EQ(h.of("med", "photos")->heard, Heard::kFiring);
}

TEST(AlertEvaluate, AnUnacknowledgedAlertEscalatesLevelByLevel) {
  Harness h;
  h.settings.escalation_after = {Duration(10 * kMinute), Duration(20 * kMinute)};
  h.settings.channels = {channel("hook", ChannelType::kWebhook),
                         channel("lead", ChannelType::kWebhook, 1),
                         channel("cto", ChannelType::kWebhook, 2)};
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  EXPECT_EQ(kinds(h.run({errors("photos", 50)})), std::vector<std::string>{"firing@hook"});
  h.clock.advance(10 * kMinute - 1);
  EXPECT_TRUE(h.run({errors("photos", 50)}).notifications.empty());
  h.clock.advance(1);
  CheckResult r = h.run({errors("photos", 50)});
  EXPECT_EQ(kinds(r), std::vector<std::string>{"escalation@lead"});
  EXPECT_EQ(h.of("r")->escalation_level, 1u);
  EXPECT_EQ(body_to_json(r.notifications[0].body)["alerts"][0]["escalation_level"], 1);

  // Acknowledged: no level 2.
  auto acked = acknowledge(*h.of("r"), "ana", "looking", h.rules, h.settings, h.clock.now());
  ASSERT_TRUE(acked.ok());
  h.store(acked.value().state);
  h.clock.advance(20 * kMinute);
  EXPECT_TRUE(h.run({errors("photos", 50)}).notifications.empty());
  // Resolution reaches every level that heard of it, not level 2.
  h.clock.advance(kMinute);
  r = h.run({errors("photos", 0)});
  EXPECT_EQ(kinds(r), (std::vector<std::string>{"resolved@hook", "resolved@lead"}));
}

TEST(AlertEvaluate, EscalationSkippedWhileSilencedHappensWhenTheSilenceEnds) {
  Harness h;
  h.settings.escalation_after = {Duration(10 * kMinute)};
  h.settings.channels = {channel("hook", ChannelType::kWebhook),
                         channel("lead", ChannelType::kWebhook, 1)};
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  h.run({errors("photos", 50)});
  h.silences = {Silence{.id = "s",
                        .starts_at = h.clock.now(),
                        .ends_at = h.clock.now() + Duration(15 * kMinute),
                        .matchers = {{"rule_id", "r", true}}}};
  h.clock.advance(10 * kMinute);
  EXPECT_TRUE(h.run({errors("photos", 50)}).notifications.empty());
  EXPECT_EQ(h.of("r")->muted_by, (Mute{MuteReason::kSilence, "s"}));
  EXPECT_EQ(h.of("r")->escalation_level, 0u);
  h.clock.advance(5 * kMinute);
  EXPECT_EQ(kinds(h.run({errors("photos", 50)})), std::vector<std::string>{"escalation@lead"});
}

TEST(AlertEvaluate, AckAndResolveByHandWithNotes) {
  Harness h;
  h.settings.channels = {channel("hook", ChannelType::kWebhook),
                         channel("pd", ChannelType::kPagerDuty)};
  h.rules = {error_rule("r", 5, kMinute, Severity::kHigh)};
  h.run({errors("photos", 50)});
  auto early = acknowledge(*h.of("r"), "ana", "", h.rules, h.settings, h.clock.now());
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, "conflict");
  h.clock.advance(kMinute);
  h.run({errors("photos", 50)});
  auto acked = acknowledge(*h.of("r"), "ana", "on it", h.rules, h.settings, h.clock.now());
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked.value().state.ack_note, "on it");
  ASSERT_EQ(acked.value().notifications.size(), 1u);
  EXPECT_EQ(body_to_json(acked.value().notifications[0].body)["event_action"], "acknowledge");
  EXPECT_EQ(body_to_json(acked.value().notifications[0].body)["dedup_key"], h.of("r")->fingerprint);
  h.store(acked.value().state);
  EXPECT_EQ(acknowledge(*h.of("r"), "ana", "", h.rules, h.settings, h.clock.now()).error().code,
            "conflict");

  auto resolved =
      resolve_by_hand(*h.of("r"), "ana", "fixed the client", h.rules, h.settings, h.clock.now());
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved.value().state.resolve_note, "fixed the client");
  std::set<std::string> actions;
  for (const Notification& n : resolved.value().notifications) {
    actions.insert(n.type == ChannelType::kPagerDuty
                       ? body_to_json(n.body)["event_action"].get<std::string>()
                       : body_to_json(n.body)["status"].get<std::string>());
  }
  EXPECT_EQ(actions, (std::set<std::string>{"resolve", "resolved"}));
  h.store(resolved.value().state);
  // The condition still holds: not raised again until it clears.
  h.clock.advance(kMinute);
  CheckResult r = h.run({errors("photos", 50)});
  EXPECT_EQ(h.of("r")->status, Status::kResolved);
  EXPECT_TRUE(r.notifications.empty());
  h.clock.advance(kMinute);
  h.run({errors("photos", 0)});
  h.clock.advance(kMinute);
  h.run({errors("photos", 50)});
  EXPECT_EQ(h.of("r")->status, Status::kPending);
}

TEST(AlertEvaluate, TheSameRoundTwiceGivesTheSameKeysAndAStoredRoundNoMore) {
  Harness h;
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  CheckInput in{.rules = h.rules,
                .series = {errors("photos", 50)},
                .settings = h.settings,
                .now = h.clock.now()};
  CheckResult a = check(in), b = check(in);
  ASSERT_EQ(a.notifications.size(), 1u);
  EXPECT_EQ(a.notifications[0].key, b.notifications[0].key);
  h.run({errors("photos", 50)});
  EXPECT_TRUE(h.run({errors("photos", 50)}).notifications.empty());
}

TEST(AlertEvaluate, ARemovedRuleResolvesItsAlerts) {
  Harness h;
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  h.run({errors("photos", 50)});
  h.rules.clear();
  h.clock.advance(kMinute);
  CheckResult r = h.run({errors("photos", 50)});
  EXPECT_EQ(h.of("r")->status, Status::kResolved);
  EXPECT_EQ(h.of("r")->resolved_by.resolver, Resolver::kRuleGone);
  EXPECT_EQ(kinds(r), std::vector<std::string>{"resolved@hook"});
}

TEST(AlertEvaluate, AnErrorRateRuleMayForceTheBreakerOpenOncePerEpisode) {
  Harness h;
  Rule rule = error_rule("r", 5, 0, Severity::kHigh);
  rule.actions.force_breaker_open = true;
  h.rules = {rule};
  CheckResult r = h.run({errors("photos", 50)});
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_EQ(r.actions[0].type, ActionType::kForceBreakerOpen);
  h.clock.advance(kMinute);
  EXPECT_TRUE(h.run({errors("photos", 50)}).actions.empty());
}

TEST(AlertEngine, AForceBreakerOpenRuleForcesTheEnginesBreakerOpenWhenItFires) {
  testing::FakeClock clock;
  bindings::Engine engine(clock.now());
  json rule = rule_to_json(error_rule("r", 5, 0, Severity::kHigh));
  rule["actions"]["force_breaker_open"] = true;
  json quiet = {{"rules", {rule}},
                {"figures",
                 {{"series",
                   {{{"metric", "error_rate_pct"},
                     {"bucket", "b"},
                     {"window_ms", 300000},
                     {"value", 1},
                     {"samples", 50}}}}}}};
  ASSERT_TRUE(engine.call("alert_check", quiet.dump(), clock.now())) << engine.output();
  EXPECT_EQ(engine.breaker().state(), breaker::State::kClosed);
  json failing = quiet;
  failing["figures"]["series"][0]["value"] = 40;
  ASSERT_TRUE(engine.call("alert_check", failing.dump(), clock.now())) << engine.output();
  json out = json::parse(engine.output());
  EXPECT_EQ(out["actions"][0]["type"], "force_breaker_open");
  EXPECT_EQ(out["actions"][0]["applied"], true);
  EXPECT_EQ(engine.breaker().state(), breaker::State::kForcedOpen);
}

TEST(AlertEvaluate, AQuotaAlertTellsTheUserConcerned) {
  Harness h;
  Rule quota = default_rules()[4];
  ASSERT_EQ(quota.id, "quota_usage");
  h.rules = {quota};
  h.emails = {{"alice", "alice@example.com"}};
  Series alice{.metric = "quota_used_pct",
               .scope = Scope{.user = "alice"},
               .value = 85,
               .detail = "8.5 GB of 10 GB"};
  Series bob{.metric = "quota_used_pct", .scope = Scope{.user = "bob"}, .value = 50};
  CheckResult r = h.run({alice, bob});
  ASSERT_EQ(r.notifications.size(), 2u);
  EXPECT_EQ(r.notifications[0].kind, "firing");
  EXPECT_EQ(r.notifications[1].kind, "user");
  EXPECT_EQ(r.notifications[1].channel, "user:alice");
  EXPECT_EQ(body_to_json(r.notifications[1].body)["to"], json({"alice@example.com"}));
  EXPECT_NE(
      body_to_json(r.notifications[1].body)["text"].get<std::string>().find("85% of its quota"),
      std::string::npos);
}

TEST(AlertEvaluate, ScopesPickTheirSeries) {
  Harness h;
  Rule any = error_rule("any", 5, 0, Severity::kHigh);
  Rule photos = error_rule("photos", 5, 0, Severity::kHigh);
  photos.scope.bucket = "photos";
  Rule prefix = error_rule("prefix", 5, 0, Severity::kHigh);
  prefix.scope.prefix = "img";
  h.rules = {any, photos, prefix};
  Series by_prefix = errors("photos", 50);
  by_prefix.scope.prefix = "img";
  by_prefix.natural = false;
  h.run({errors("photos", 50), errors("videos", 50), by_prefix});
  std::set<std::string> alerts;
  for (const AlertState& s : h.states)
    alerts.insert(s.rule_id + ":" + s.scope.bucket + "/" + s.scope.prefix);
  EXPECT_EQ(alerts, (std::set<std::string>{"any:photos/", "any:videos/", "photos:photos/",
                                           "prefix:photos/img"}));
}

TEST(AlertState, RoundTripsAndRefusesAnotherSchema) {
  Harness h;
  h.rules = {error_rule("r", 5, 0, Severity::kHigh)};
  h.run({errors("photos", 50)});
  json j = state_to_json(*h.of("r"));
  auto back = state_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(state_to_json(back.value()), j);
  j["v"] = 2;
  EXPECT_EQ(state_from_json(j).error().field, "v");
  json broken = state_to_json(*h.of("r"));
  broken.erase("heard");
  EXPECT_EQ(state_from_json(broken).error().field, "heard");
}

TEST(AlertFigures, ErrorRateAndLatencyComeFromTheRollupsOfTheWindow) {
  testing::FakeClock clock;
  metrics::Row ok_row{.series = {"photos", "img", "alice"},
                      .operation = Operation::kGet,
                      .period_start = clock.now()};
  ok_row.figures.calls = 8;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(ok_row.figures.latency.add(100).ok());
  metrics::Row bad_row{
      .series = {"photos", "", ""}, .operation = Operation::kPut, .period_start = clock.now()};
  bad_row.figures.calls = 2;
  bad_row.figures.errors = 2;
  ASSERT_TRUE(bad_row.figures.latency.add(3000, 2).ok());
  json figures = {{"operations",
                   {{{"window_ms", 300000},
                     {"rows", {codec::row_to_json(ok_row), codec::row_to_json(bad_row)}}}}}};
  Rule rule = error_rule("r", 5, 0, Severity::kHigh);
  auto series = series_from_json(figures, needs_of({rule}), clock.now());
  ASSERT_TRUE(series.ok()) << series.error().message;
  const Series* bucket_rate = nullptr;
  const Series* bucket_avg = nullptr;
  for (const Series& s : series.value()) {
    if (s.scope == Scope{.bucket = "photos"} && s.metric == "error_rate_pct") bucket_rate = &s;
    if (s.scope == Scope{.bucket = "photos"} && s.metric == "latency_avg_ms") bucket_avg = &s;
  }
  ASSERT_NE(bucket_rate, nullptr);
  EXPECT_DOUBLE_EQ(bucket_rate->value, 20.0);
  EXPECT_EQ(bucket_rate->samples, 10u);
  EXPECT_EQ(bucket_rate->detail, "2 of 10 calls failed in the last 5 min");
  ASSERT_NE(bucket_avg, nullptr);
  EXPECT_NEAR(bucket_avg->value, 680.0, 1.0);
  auto bad = series_from_json(json{{"operations", {{{"window_ms", -1}, {"rows", json::array()}}}}},
                              FigureNeeds{}, clock.now());
  EXPECT_EQ(bad.error().field, "operations[0].window_ms");
}

TEST(AlertFigures, AFailureCounterCountsAtItsWindowsEnd) {
  testing::FakeClock clock;
  FigureNeeds needs;
  needs.failed_access = true;
  needs.failed_access_windows = {std::chrono::minutes(5)};
  int64_t now_ms = to_epoch_ms(clock.now());
  auto count = [&](json item) {
    auto series = series_from_json(json{{"failed_access", {item}}}, needs, clock.now());
    EXPECT_TRUE(series.ok()) << series.error().message;
    return series.ok() ? series.value().front().value : -1;
  };
  // A 5-minute counter that started 9 minutes ago ended 4 minutes ago: inside the last 5 min.
  EXPECT_EQ(count({{"at_ms", now_ms - 540'000}, {"window_ms", 300'000}, {"count", 12}}), 12);
  // Without its window the same row would be 9 minutes old.
  EXPECT_EQ(count({{"at_ms", now_ms - 540'000}, {"count", 12}}), 0);
  // One that ended 6 minutes ago is out; one still running counts now.
  EXPECT_EQ(count({{"at_ms", now_ms - 660'000}, {"window_ms", 300'000}, {"count", 3}}), 0);
  EXPECT_EQ(count({{"at_ms", now_ms - 60'000}, {"window_ms", 300'000}, {"count", 3}}), 3);
  auto bad = series_from_json(json{{"failed_access", {{{"at_ms", now_ms}, {"window_ms", 0}}}}},
                              needs, clock.now());
  EXPECT_EQ(bad.error().field, "failed_access[0].window_ms");
}

TEST(AlertFigures, RequestsPerHourCountsEachUsersCurrentHourOnly) {
  testing::FakeClock clock;
  FigureNeeds needs = needs_of(default_rules());
  EXPECT_TRUE(needs.requests);
  int64_t now_ms = to_epoch_ms(clock.now());
  int64_t hour = now_ms - now_ms % 3'600'000;
  json counters = json::array({
      {{"user", "heavy"}, {"window_start_ms", hour}, {"count", 1500}},
      {{"user", "heavy"}, {"window_start_ms", hour - 3'600'000}, {"count", 9000}},  // last hour
      {{"user", "light"}, {"window_start_ms", hour}, {"count", 20}},
  });
  auto series = series_from_json(json{{"requests", counters}}, needs, clock.now());
  ASSERT_TRUE(series.ok()) << series.error().message;
  ASSERT_EQ(series.value().size(), 2u);
  EXPECT_EQ(series.value()[0].metric, "requests_per_hour");
  EXPECT_EQ(series.value()[0].scope.user, "heavy");
  EXPECT_EQ(series.value()[0].value, 1500);
  EXPECT_EQ(series.value()[1].value, 20);
  auto bad = series_from_json(json{{"requests", {{{"user", "x"}, {"window_start_ms", hour}}}}},
                              needs, clock.now());
  EXPECT_EQ(bad.error().field, "requests[0].count");
}

TEST(AlertPayloads, SlackColoursBySeverityAndEmailHasBothBodies) {
  EXPECT_EQ(slack_color(Severity::kCritical, Resolution::kOpen), "#a30200");
  EXPECT_EQ(slack_color(Severity::kLow, Resolution::kOpen), "#439fe0");
  EXPECT_EQ(slack_color(Severity::kCritical, Resolution::kResolved), "#2eb886");
  Harness h;
  h.settings.channels = {Channel{.name = "mail",
                                 .type = ChannelType::kEmail,
                                 .to = {"ops@example.com"},
                                 .from = "r2watch@example.com"}};
  h.rules = {error_rule("r", 5, 0, Severity::kCritical)};
  CheckResult r = h.run({errors("photos", 50)});
  ASSERT_EQ(r.notifications.size(), 1u);
  const json mail = body_to_json(r.notifications[0].body);
  EXPECT_EQ(mail["subject"], "[r2watch] [FIRING] [CRITICAL] errors r (bucket photos)");
  std::string raw = mail["raw"];
  EXPECT_NE(raw.find("Content-Type: multipart/alternative"), std::string::npos);
  EXPECT_NE(raw.find("Content-Type: text/html"), std::string::npos);
  EXPECT_NE(raw.find("To: ops@example.com"), std::string::npos);
  EXPECT_NE(raw.find("Subject: [r2watch] [FIRING] [CRITICAL] errors r (bucket photos)\r\n"),
            std::string::npos);
  // Both parts base64: the text's lines are CRLF, and no line of the message is over 78.
  std::string text = mail["text"];
  EXPECT_NE(raw.find("text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                     base64(text.substr(0, 18))),
            std::string::npos);
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "every line ends in CRLF";
    EXPECT_LE(end - start, 78u) << raw.substr(start, end - start);
    start = end + 2;
  }
}

TEST(AlertPayloads, GithubOpensAnIssuePerAlertCommentsOnRepeatsAndClosesWithTheNote) {
  Harness h;
  Channel gh{.name = "gh", .type = ChannelType::kGithub, .url = "https://api.github.com"};
  gh.repository = "octo-org/storage";
  gh.token_secret = "GITHUB_TOKEN";
  gh.labels_by_severity = {{Severity::kCritical, {"r2watch", "p1"}}};
  h.settings.channels = {gh};
  h.settings.repeat_interval = Duration(60 * kMinute);
  h.rules = {error_rule("r", 5, 0, Severity::kCritical)};
  Series other = errors("logs", 50);
  CheckResult r = h.run({errors("photos", 50), other});
  // Two alerts, two issues (never one issue for two alerts).
  ASSERT_EQ(r.notifications.size(), 2u);
  const Notification* photos = nullptr;
  for (const Notification& n : r.notifications) {
    EXPECT_EQ(n.alert_ids.size(), 1u);
    if (body_to_json(n.body)["requests"][0]["body"]["title"].get<std::string>().find(
            "errors r (bucket photos)") != std::string::npos)
      photos = &n;
  }
  ASSERT_NE(photos, nullptr);
  const json open = body_to_json(photos->body)["requests"][0];
  EXPECT_EQ(open["method"], "POST");
  EXPECT_EQ(open["path"], "/repos/octo-org/storage/issues");
  EXPECT_EQ(open["opens_issue"], true);
  EXPECT_EQ(open["body"]["title"], "[r2watch] [FIRING] [CRITICAL] errors r (bucket photos)");
  EXPECT_EQ(open["body"]["labels"], json({"r2watch", "p1"}));
  EXPECT_NE(open["body"]["body"].get<std::string>().find("| bucket | `photos` |"),
            std::string::npos);
  h.clock.advance(60 * kMinute);
  r = h.run({errors("photos", 50), other});
  ASSERT_EQ(r.notifications.size(), 2u);
  for (const Notification& n : r.notifications) {
    EXPECT_EQ(n.kind, "repeat");
    ASSERT_EQ(body_to_json(n.body)["requests"].size(), 1u);
    EXPECT_EQ(body_to_json(n.body)["requests"][0]["path"],
              "/repos/octo-org/storage/issues/{issue}/comments");
    EXPECT_EQ(body_to_json(n.body)["requests"][0]["body"]["body"].get<std::string>().rfind(
                  "**Still firing**", 0),
              0u);
  }

  auto acked = acknowledge(*h.of("r"), "ana", "on it", h.rules, h.settings, h.clock.now());
  ASSERT_TRUE(acked.ok());
  ASSERT_EQ(acked.value().notifications.size(), 1u);
  EXPECT_EQ(body_to_json(acked.value().notifications[0].body)["requests"][0]["body"]["body"],
            "**Acknowledged** by ana: on it");
  h.store(acked.value().state);
  auto resolved =
      resolve_by_hand(*h.of("r"), "ana", "fixed the client", h.rules, h.settings, h.clock.now());
  ASSERT_TRUE(resolved.ok());
  ASSERT_EQ(resolved.value().notifications.size(), 1u);
  const json close = body_to_json(resolved.value().notifications[0].body)["requests"];
  ASSERT_EQ(close.size(), 2u);
  EXPECT_EQ(close[0]["path"], "/repos/octo-org/storage/issues/{issue}/comments");
  EXPECT_NE(close[0]["body"]["body"].get<std::string>().find("by ana.\n\n> fixed the client"),
            std::string::npos);
  EXPECT_EQ(close[1]["method"], "PATCH");
  EXPECT_EQ(close[1]["path"], "/repos/octo-org/storage/issues/{issue}");
  EXPECT_EQ(close[1]["body"], json({{"state", "closed"}, {"state_reason", "completed"}}));
}

TEST(AlertPayloads, AnEmailSubjectBeyondAsciiIsAnEncodedWord) {
  Harness h;
  h.settings.channels = {Channel{.name = "mail",
                                 .type = ChannelType::kEmail,
                                 .to = {"ops@example.com"},
                                 .from = "r2watch@example.com"}};
  h.rules = {error_rule("r", 5, 0, Severity::kCritical)};
  CheckResult r = h.run({errors("fotos-\xc3\xa9t\xc3\xa9", 50)});
  ASSERT_EQ(r.notifications.size(), 1u);
  const json mail = body_to_json(r.notifications[0].body);
  std::string subject = mail["subject"];
  std::string raw = mail["raw"];
  EXPECT_NE(raw.find("Subject: " + encode_header_value(subject) + "\r\n"), std::string::npos);
  EXPECT_NE(raw.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_EQ(raw.find("\xc3"), std::string::npos) << "the message itself is 7-bit";
}

TEST(AlertQuery, NumbersFromQueryTextAreDigitsOnlyAndChecked) {
  EXPECT_EQ(query_number("0"), 0);
  EXPECT_EQ(query_number("500"), 500);
  EXPECT_EQ(query_number("999999"), 999999);
  for (std::string_view bad : {"", "-1", "1.5", "ten", " 5", "1000000", "+3"}) {
    EXPECT_EQ(query_number(bad), -1) << bad;
  }
  EXPECT_FALSE(check_page("limit", query_number("500")).has_value());
  EXPECT_TRUE(check_page("limit", query_number("0")).has_value());
  EXPECT_FALSE(check_page("offset", query_number("0")).has_value());
  auto e = check_page("offset", query_number("x"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "invalid_query");
  EXPECT_EQ(e->field, "offset");
  EXPECT_FALSE(check_notifications_limit(query_number("1000")).has_value());
  EXPECT_TRUE(check_notifications_limit(query_number("1001")).has_value());
}

}  // namespace
}  // namespace r2w::alerts
