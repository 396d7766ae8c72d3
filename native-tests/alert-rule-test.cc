// Alert rules, settings, silences and delivery targets: what is accepted, what is refused and
// which field the refusal names.
#include <gtest/gtest.h>

#include "core/alerts/rule.h"
#include "core/alerts/settings.h"
#include "core/alerts/text.h"
#include "native-tests/test-clock.h"

namespace r2w::alerts {
namespace {

using nlohmann::json;

Error create_error(const json& body) {
  auto r = new_rule_from_json(body, "generated");
  EXPECT_FALSE(r.ok()) << body.dump();
  return r.ok() ? Error{} : r.error();
}

TEST(AlertRule, ANewRuleTakesTheDefaultsOfItsType) {
  auto r = new_rule_from_json(json{{"name", "slow p95"}, {"type", "latency"}, {"threshold", 800}},
                              "generated");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().id, "generated");
  EXPECT_EQ(r.value().statistic, Statistic::kAvg);
  EXPECT_EQ(metric_of(r.value()), "latency_avg_ms");
  EXPECT_EQ(r.value().comparison, Comparison::kGt);
  EXPECT_EQ(r.value().window, Duration(300'000));
  EXPECT_EQ(r.value().for_duration, Duration(0));
  EXPECT_EQ(r.value().severity, Severity::kMedium);
  EXPECT_TRUE(r.value().enabled);
}

TEST(AlertRule, EveryFieldIsReadAndWrittenBack) {
  json body = {{"id", "p95-photos"},
               {"name", "p95 of photos"},
               {"type", "latency"},
               {"statistic", "p95"},
               {"threshold", 750.5},
               {"comparison", ">="},
               {"window_ms", 600000},
               {"for_ms", 120000},
               {"scope", {{"bucket", "photos"}, {"prefix", "2026"}, {"user", ""}}},
               {"severity", "high"},
               {"labels", {{"team", "storage"}}},
               {"enabled", false},
               {"min_calls", 20},
               {"repeat_interval_ms", 3600000},
               {"channels", {"ops"}}};
  auto r = new_rule_from_json(body, "x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  json out = rule_to_json(r.value());
  EXPECT_EQ(out["id"], "p95-photos");
  EXPECT_EQ(out["metric"], "latency_p95_ms");
  EXPECT_EQ(out["comparison"], ">=");
  EXPECT_EQ(out["scope"]["bucket"], "photos");
  EXPECT_EQ(out["labels"]["team"], "storage");
  EXPECT_EQ(out["repeat_interval_ms"], 3600000);
  // What was written reads back to the same rule.
  auto again = rules_from_json(json::array({out}), "rules");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(rule_to_json(again.value()[0]), out);
}

TEST(AlertRule, ABadRuleIsRefusedNamingTheField) {
  json ok = {{"name", "n"}, {"type", "error_rate"}, {"threshold", 5}};
  auto with = [&](const char* k, json v) {
    json b = ok;
    b[k] = std::move(v);
    return b;
  };
  EXPECT_EQ(create_error(with("type", "frobnicate")).field, "type");
  EXPECT_EQ(create_error(with("threshold", -1)).field, "threshold");
  EXPECT_EQ(create_error(with("threshold", "5")).field, "threshold");
  EXPECT_EQ(create_error(with("colour", "red")).field, "colour");
  EXPECT_EQ(create_error(with("severity", "urgent")).field, "severity");
  EXPECT_EQ(create_error(with("comparison", "~")).field, "comparison");
  EXPECT_EQ(create_error(with("window_ms", 10)).field, "window_ms");
  EXPECT_EQ(create_error(with("for_ms", -5)).field, "for_ms");
  EXPECT_EQ(create_error(with("statistic", "p95")).field, "statistic");
  EXPECT_EQ(create_error(with("id", "Has Spaces")).field, "id");
  EXPECT_EQ(create_error(with("scope", {{"bucket", "b"}, {"region", "x"}})).field, "scope.region");
  EXPECT_EQ(create_error(with("labels", {{"severity", "x"}})).field, "labels.severity");
  EXPECT_EQ(create_error(with("labels", {{"team", 3}})).field, "labels.team");
  EXPECT_EQ(create_error(with("actions", {{"notify_user", true}})).field, "actions.notify_user");
  EXPECT_EQ(create_error(with("channels", {"OK NO"})).field, "channels[0]");
  EXPECT_EQ(create_error(json{{"name", "n"}, {"threshold", 1}}).field, "type");
  EXPECT_EQ(create_error(json{{"type", "latency"}, {"threshold", 1}}).field, "name");
  EXPECT_EQ(create_error(json{{"type", "latency"}, {"name", "n"}}).field, "threshold");
}

TEST(AlertRule, OnlyErrorRateRulesMayForceTheBreakerOpen) {
  auto yes = new_rule_from_json(json{{"name", "n"},
                                     {"type", "error_rate"},
                                     {"threshold", 5},
                                     {"actions", {{"force_breaker_open", true}}}},
                                "x");
  ASSERT_TRUE(yes.ok());
  EXPECT_TRUE(yes.value().actions.force_breaker_open);
  EXPECT_EQ(create_error(json{{"name", "n"},
                              {"type", "latency"},
                              {"threshold", 5},
                              {"actions", {{"force_breaker_open", true}}}})
                .field,
            "actions.force_breaker_open");
}

TEST(AlertRule, AnUpdateMergesOverTheStoredRule) {
  Rule stored = default_rules()[2];  // high_error_rate
  auto r = rule_from_json(json{{"threshold", 7.5}, {"for_ms", 0}}, stored);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().threshold, 7.5);
  EXPECT_EQ(r.value().for_duration, Duration(0));
  EXPECT_EQ(r.value().severity, Severity::kHigh);
  EXPECT_EQ(r.value().min_calls, 10u);
}

TEST(AlertRule, TheDefaultsAreThoseOfTheOperatingPlan) {
  std::vector<Rule> rules = default_rules();
  ASSERT_EQ(rules.size(), 10u);
  auto find = [&](std::string_view id) -> const Rule& {
    for (const Rule& r : rules) {
      if (r.id == id) return r;
    }
    ADD_FAILURE() << "no default rule " << id;
    return rules[0];
  };
  EXPECT_EQ(find("monthly_cost").threshold, 100);
  EXPECT_EQ(find("monthly_cost").severity, Severity::kHigh);
  EXPECT_EQ(metric_of(find("monthly_cost")), "cost_month_to_date_usd");
  EXPECT_EQ(find("daily_cost_rise").threshold, 50);
  EXPECT_EQ(find("daily_cost_rise").severity, Severity::kMedium);
  EXPECT_EQ(find("high_error_rate").threshold, 5);
  EXPECT_EQ(find("high_error_rate").severity, Severity::kHigh);
  EXPECT_EQ(find("slow_response").threshold, 2000);
  EXPECT_EQ(find("slow_response").severity, Severity::kMedium);
  EXPECT_EQ(find("quota_usage").threshold, 80);
  EXPECT_TRUE(find("quota_usage").actions.notify_user);
  EXPECT_EQ(find("large_upload").threshold, 1e9);
  EXPECT_EQ(find("large_upload").severity, Severity::kLow);
  EXPECT_EQ(find("failed_access").threshold, 10);
  EXPECT_EQ(find("failed_access").severity, Severity::kHigh);
  EXPECT_EQ(find("critical_response_time").threshold, 5000);
  EXPECT_EQ(find("critical_response_time").severity, Severity::kCritical);
  EXPECT_EQ(find("critical_error_rate").threshold, 50);
  EXPECT_EQ(find("critical_error_rate").severity, Severity::kCritical);
  EXPECT_EQ(find("storage_growth").threshold, 50);
  EXPECT_EQ(find("storage_growth").severity, Severity::kLow);
  // Each one is a valid rule as stored.
  json all = json::array();
  for (const Rule& r : rules) all.push_back(rule_to_json(r));
  EXPECT_TRUE(rules_from_json(all, "rules").ok());
}

TEST(AlertTarget, ProductionTakesOnlyPublicHttps) {
  EXPECT_TRUE(check_target("https://hooks.slack.com/services/T/B/x", true).allowed);
  EXPECT_FALSE(check_target("http://hooks.slack.com/services/T/B/x", true).allowed);
  EXPECT_FALSE(check_target("https://127.0.0.1:9000/hook", true).allowed);
  EXPECT_FALSE(check_target("https://localhost/hook", true).allowed);
  for (const char* url :
       {"https://10.1.2.3/", "https://172.16.0.1/", "https://172.31.255.255/x",
        "https://192.168.1.1/", "https://169.254.169.254/latest", "https://0.0.0.0/",
        "https://[fd00::1]/", "https://[fe80::1]/", "https://[::ffff:10.0.0.1]/",
        "https://metadata.internal/", "https://printer.local/", "https://intranet/",
        "ftp://example.com/", "https://user:pw@example.com/"}) {
    EXPECT_FALSE(check_target(url, true).allowed) << url;
    EXPECT_FALSE(check_target(url, false).allowed) << url;
  }
  EXPECT_TRUE(check_target("https://172.32.0.1/", true).allowed);
}

TEST(AlertTarget, DevelopmentAlsoTakesHttpToLocalhost) {
  EXPECT_TRUE(check_target("http://127.0.0.1:9000/hook", false).allowed);
  EXPECT_TRUE(check_target("http://localhost:9000/hook", false).allowed);
  EXPECT_TRUE(check_target("http://[::1]:9000/hook", false).allowed);
  EXPECT_FALSE(check_target("http://example.com/hook", false).allowed);
  EXPECT_TRUE(check_target("https://example.com/hook", false).allowed);
}

TEST(AlertSettings, ChannelsAreValidatedAndInlineUrlsMasked) {
  json body = {{"escalation_after_ms", {600000, 1200000}},
               {"channels",
                {{{"name", "ops"},
                  {"type", "webhook"},
                  {"url", "https://example.com/hooks/secret-token-1234"}},
                 {{"name", "pager"},
                  {"type", "pagerduty"},
                  {"routing_key_secret", "PD_KEY"},
                  {"escalation_level", 1}},
                 {{"name", "mail"},
                  {"type", "email"},
                  {"to", {"ops@example.com"}},
                  {"from", "r2watch@example.com"}}}}};
  auto s = settings_from_json(body);
  ASSERT_TRUE(s.ok()) << s.error().message;
  json view = settings_to_json(s.value(), true);
  EXPECT_EQ(view["channels"][0]["url"], "https://example.com/…1234");
  EXPECT_EQ(settings_to_json(s.value(), false)["channels"][0]["url"],
            "https://example.com/hooks/secret-token-1234");
  EXPECT_EQ(view["escalation_after_ms"], json({600000, 1200000}));

  auto field_of = [](json b) {
    auto r = settings_from_json(b);
    return r.ok() ? std::string("(accepted)") : r.error().field;
  };
  EXPECT_EQ(field_of({{"channels",
                       {{{"name", "a"}, {"type", "webhook"}, {"url", "https://10.0.0.1/x"}}}}}),
            "channels[0].url");
  EXPECT_EQ(field_of({{"channels", {{{"name", "a"}, {"type", "sms"}, {"url_secret", "X"}}}}}),
            "channels[0].type");
  EXPECT_EQ(field_of({{"channels", {{{"name", "a"}, {"type", "pagerduty"}}}}}),
            "channels[0].routing_key_secret");
  EXPECT_EQ(
      field_of(
          {{"channels",
            {{{"name", "a"}, {"type", "webhook"}, {"url_secret", "X"}, {"escalation_level", 1}}}}}),
      "channels[0].escalation_level");
  EXPECT_EQ(field_of({{"channels", {{{"name", "a"}, {"type", "email"}, {"to", {"x@y"}}}}}}),
            "channels[0].from");
  EXPECT_EQ(field_of({{"escalation_after_ms", {600000, 60000}}}), "escalation_after_ms[1]");
  EXPECT_EQ(field_of({{"max_notices_per_type_per_hour", 0}}), "max_notices_per_type_per_hour");
  EXPECT_EQ(field_of({{"secret", "x"}}), "secret");
}

TEST(AlertSettings, AMaskedUrlSentBackKeepsTheStoredOne) {
  json stored = {{"channels",
                  {{{"name", "chat"},
                    {"type", "slack"},
                    {"url", "https://hooks.example.com/services/secret-wxyz"}},
                   {{"name", "pager"}, {"type", "pagerduty"}, {"routing_key_secret", "PD_KEY"}}}}};
  auto s = settings_from_json(stored);
  ASSERT_TRUE(s.ok()) << s.error().message;
  json current = settings_to_json(s.value(), false);
  json request = settings_to_json(s.value(), true);  // what GET answered
  EXPECT_FALSE(restore_masked_urls(request, current));
  auto again = settings_from_json(request);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(settings_to_json(again.value(), false), current);
  // A masked URL that is not the stored one's (another channel's name) is refused.
  json renamed = settings_to_json(s.value(), true);
  renamed["channels"][0]["name"] = "chat2";
  auto refused = restore_masked_urls(renamed, current);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->field, "channels[0].url");
  // Stored settings always load, even a masked URL an older version stored.
  json stored_masked = {
      {"channels",
       {{{"name", "chat"}, {"type", "slack"}, {"url", "https://h.example.com/…wxyz"}}}}};
  EXPECT_TRUE(settings_from_json(stored_masked).ok());
}

TEST(AlertSettings, BackoffDoublesUpToItsMaximum) {
  Settings s;
  EXPECT_EQ(backoff(s, 1), Duration(60'000));
  EXPECT_EQ(backoff(s, 2), Duration(120'000));
  EXPECT_EQ(backoff(s, 3), Duration(240'000));
  EXPECT_EQ(backoff(s, 7), Duration(3'600'000));
  EXPECT_EQ(backoff(s, 30), Duration(3'600'000));
}

TEST(AlertSilence, NeedsAnEndAMatcherACommentAndAnAuthor) {
  testing::FakeClock clock;
  int64_t now = to_epoch_ms(clock.now());
  json ok = {{"ends_at_ms", now + 3'600'000},
             {"matchers", {{{"name", "bucket"}, {"value", "photos"}}}},
             {"comment", "migration"},
             {"created_by", "ana"}};
  auto s = silence_from_json(ok, "s1", clock.now());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s.value().starts_at, clock.now());
  auto field_of = [&](const char* k, json v) {
    json b = ok;
    if (v.is_null()) {
      b.erase(k);
    } else {
      b[k] = v;
    }
    auto r = silence_from_json(b, "s1", clock.now());
    return r.ok() ? std::string("(accepted)") : r.error().field;
  };
  EXPECT_EQ(field_of("ends_at_ms", nullptr), "ends_at_ms");
  EXPECT_EQ(field_of("ends_at_ms", now - 1), "ends_at_ms");
  EXPECT_EQ(field_of("matchers", json::array()), "matchers");
  EXPECT_EQ(field_of("comment", nullptr), "comment");
  EXPECT_EQ(field_of("created_by", nullptr), "created_by");
  EXPECT_EQ(field_of("matchers", {{{"name", "bucket"}, {"value", "x"}, {"op", "=~"}}}),
            "matchers[0].op");
  EXPECT_EQ(field_of("kind", "holiday"), "kind");
  // What the list answers (its derived `active` too), sent back without the id, is accepted.
  json view = silence_to_json(s.value(), clock.now());
  view.erase("id");
  auto again = silence_from_json(view, "s2", clock.now());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(silence_to_json(again.value(), clock.now())["matchers"], view["matchers"]);
  EXPECT_EQ(field_of("active", true), "(accepted)");
  EXPECT_EQ(field_of("active", false), "active");
}

TEST(AlertSilence, MatchesOnlyInsideItsTimeRangeAndOnEveryMatcher) {
  testing::FakeClock clock;
  Silence s{.id = "s",
            .starts_at = clock.now() + Duration(1000),
            .ends_at = clock.now() + Duration(2000),
            .matchers = {{"bucket", "photos", true}, {"severity", "low", false}}};
  std::map<std::string, std::string> labels = {{"bucket", "photos"}, {"severity", "high"}};
  EXPECT_FALSE(matches(s, labels, clock.now() + Duration(999)));
  EXPECT_TRUE(matches(s, labels, clock.now() + Duration(1000)));
  EXPECT_TRUE(matches(s, labels, clock.now() + Duration(1999)));
  EXPECT_FALSE(matches(s, labels, clock.now() + Duration(2000)));
  labels["severity"] = "low";
  EXPECT_FALSE(matches(s, labels, clock.now() + Duration(1500)));
  labels = {{"bucket", "videos"}, {"severity", "high"}};
  EXPECT_FALSE(matches(s, labels, clock.now() + Duration(1500)));
}

TEST(AlertText, NumbersTimesAndHashesAreTheSameInBothBuilds) {
  EXPECT_EQ(format_number(5), "5");
  EXPECT_EQ(format_number(12.345), "12.35");
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_usd(100), "$100.00");
  EXPECT_EQ(format_bytes(1.5e9), "1.5 GB");
  EXPECT_EQ(format_duration(Duration(300'000)), "5 min");
  EXPECT_EQ(format_iso8601(from_epoch_ms(1'780'315'200'123)), "2026-06-01T12:00:00.123Z");
  EXPECT_EQ(format_rfc5322(from_epoch_ms(1'780'315'200'000)), "Mon, 01 Jun 2026 12:00:00 +0000");
  EXPECT_EQ(fnv1a_hex(""), "cbf29ce484222325");
  EXPECT_EQ(fnv1a_hex("a"), "af63dc4c8601ec8c");
}

}  // namespace
}  // namespace r2w::alerts
