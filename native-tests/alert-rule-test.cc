// Alert rules, settings, silences and delivery targets: what is accepted, what is refused and
// which field the refusal names.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "core/account/figures.h"
#include "core/alerts/evaluate.h"
#include "core/alerts/figures.h"
#include "core/alerts/overview-lines.h"
#include "core/alerts/payloads.h"
#include "core/alerts/rule.h"
#include "core/alerts/settings.h"
#include "core/alerts/text.h"
#include "core/common/civil-date.h"
#include "native-tests/test-clock.h"
#include "wasm-bindings/codec/alerts.h"
#include "wasm-bindings/codec/json.h"
#include "wasm-bindings/commands.h"
#include "wasm-bindings/engine.h"

namespace r2w::alerts {
namespace {

using json = r2w::Json;
using namespace r2w::codec;  // the JSON of rules, settings, states and bodies

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
  ASSERT_EQ(rules.size(), 16u);
  auto find = [&](std::string_view id) -> const Rule& {
    for (const Rule& r : rules) {
      if (r.id == id) return r;
    }
    ADD_FAILURE() << "no default rule " << id;
    return rules[0];
  };
  EXPECT_EQ(metric_of(find("job_stale")), "job_missed_runs");
  EXPECT_EQ(metric_of(find("excessive_requests")), "requests_per_hour");
  EXPECT_EQ(find("excessive_requests").threshold, 1000);
  EXPECT_EQ(find("excessive_requests").comparison, Comparison::kGt);
  EXPECT_EQ(find("job_stale").threshold, 2);
  EXPECT_EQ(find("job_stale").comparison, Comparison::kGte);
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
  // On the account's figures.
  EXPECT_EQ(metric_of(find("bucket_request_spike")), "request_spike_pct");
  EXPECT_EQ(find("bucket_request_spike").threshold, 500);
  EXPECT_EQ(metric_of(find("bucket_internal_errors")), "internal_error_rate_pct");
  EXPECT_EQ(find("bucket_internal_errors").window, std::chrono::hours(1));
  EXPECT_EQ(find("abandoned_multipart_uploads").threshold, 10);
  EXPECT_EQ(find("abandoned_multipart_uploads").window, std::chrono::hours(24 * 7));
  EXPECT_EQ(metric_of(find("bucket_storage_growth")), "bucket_storage_growth_pct");
  // Each one is a valid rule as stored.
  json all = json::array();
  for (const Rule& r : rules) all.push_back(rule_to_json(r));
  EXPECT_TRUE(rules_from_json(all, "rules").ok());
}

TEST(AlertTarget, ProductionTakesOnlyPublicHttps) {
  EXPECT_TRUE(
      check_target("https://hooks.slack.com/services/T/B/x", Environment::kProduction).allowed);
  EXPECT_FALSE(
      check_target("http://hooks.slack.com/services/T/B/x", Environment::kProduction).allowed);
  EXPECT_FALSE(check_target("https://127.0.0.1:9000/hook", Environment::kProduction).allowed);
  EXPECT_FALSE(check_target("https://localhost/hook", Environment::kProduction).allowed);
  for (const char* url :
       {"https://10.1.2.3/", "https://172.16.0.1/", "https://172.31.255.255/x",
        "https://192.168.1.1/", "https://169.254.169.254/latest", "https://0.0.0.0/",
        "https://[fd00::1]/", "https://[fe80::1]/", "https://[::ffff:10.0.0.1]/",
        "https://metadata.internal/", "https://printer.local/", "https://intranet/",
        "ftp://example.com/", "https://user:pw@example.com/"}) {
    EXPECT_FALSE(check_target(url, Environment::kProduction).allowed) << url;
    EXPECT_FALSE(check_target(url, Environment::kDevelopment).allowed) << url;
  }
  EXPECT_TRUE(check_target("https://172.32.0.1/", Environment::kProduction).allowed);
}

TEST(AlertTarget, DevelopmentAlsoTakesHttpToLocalhost) {
  EXPECT_TRUE(check_target("http://127.0.0.1:9000/hook", Environment::kDevelopment).allowed);
  EXPECT_TRUE(check_target("http://localhost:9000/hook", Environment::kDevelopment).allowed);
  EXPECT_TRUE(check_target("http://[::1]:9000/hook", Environment::kDevelopment).allowed);
  EXPECT_FALSE(check_target("http://example.com/hook", Environment::kDevelopment).allowed);
  EXPECT_TRUE(check_target("https://example.com/hook", Environment::kDevelopment).allowed);
}

TEST(AlertTarget, EveryInternalAddressFormIsRefusedInBothEnvironments) {
  for (const char* url :
       {// IPv4-mapped, -compatible and translated IPv6
        "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/", "https://[::ffff:a9fe:a9fe]/",
        "https://[64:ff9b::a9fe:a9fe]/", "https://[64:ff9b:1::a]/", "https://[::127.0.0.1]/",
        "https://[::ffff:0:7f00:1]/", "https://[2002:7f00:1::]/", "https://[2001::1]/",
        // unspecified, unique-local, link-local, site-local, multicast, documentation
        "https://[::]/", "https://[fc00::1]/", "https://[FD12:3456::1]/", "https://[fe80::1]/",
        "https://[febf::1]/", "https://[fec0::1]/", "https://[ff02::1]/", "https://[2001:db8::1]/",
        "https://[fe80::1%25eth0]/", "https://[::1:2:3:4:5:6:7:8]/", "https://[1.2.3.4]/",
        // IPv4 in decimal, octal and hex forms, and every non-public range
        "https://2130706433/", "https://0x7f.1/", "https://017700000001/", "https://0x7f000001/",
        "https://127.1/", "https://0177.0.0.1/", "https://127.0.0.01/", "https://3232235777/",
        "https://0xa9.0xfe.0xa9.0xfe/", "https://169.254.169.254./", "https://100.64.0.1/",
        "https://100.127.255.255/", "https://192.0.0.8/", "https://192.0.2.1/",
        "https://198.18.0.1/", "https://198.51.100.7/", "https://203.0.113.9/",
        "https://224.0.0.1/", "https://239.255.255.250/", "https://240.0.0.1/",
        "https://255.255.255.255/", "https://0.0.0.0/", "https://0/", "https://1.2.3.256/",
        "https://1.2.3.4.5/", "https://0x/", "https://09.1.1.1/",
        // names
        "https://router.home.arpa/", "https://db.localdomain/", "https://%31%32%37.0.0.1/",
        "https://ex\u00e4mple.com/", "https://example.com\\@127.0.0.1/",
        "https://example.com@127.0.0.1/", "https://127.0.0.1\t/", "https://example.com:80x/",
        " https://example.com/"}) {
    EXPECT_FALSE(check_target(url, Environment::kProduction).allowed) << url;
    EXPECT_FALSE(check_target(url, Environment::kDevelopment).allowed) << url;
  }
  EXPECT_FALSE(check_target("https://ex\xc3\xa4mple.com/", Environment::kProduction).allowed);
  EXPECT_FALSE(check_target("https://example.com\\evil/", Environment::kProduction).allowed);
  EXPECT_FALSE(check_target("https://a.b.c\t.example.com/", Environment::kProduction).allowed);
  // Loopback in every spelling is refused in production.
  for (const char* url : {"https://[::1]/", "https://[0:0:0:0:0:0:0:1]/", "https://localhost/",
                          "https://api.localhost/", "https://LOCALHOST./", "https://127.0.0.1/",
                          "https://127.255.0.9/"}) {
    EXPECT_FALSE(check_target(url, Environment::kProduction).allowed) << url;
  }
  // Public addresses and names are taken.
  for (const char* url :
       {"https://8.8.8.8/", "https://[2606:4700::1111]/", "https://hooks.slack.com:443/services/x",
        "https://100.128.0.1/", "https://172.15.255.255/", "https://example.com./hook"}) {
    EXPECT_TRUE(check_target(url, Environment::kProduction).allowed)
        << url << ": " << check_target(url, Environment::kProduction).reason;
  }
}

TEST(AlertSettings, StoredSettingsWithANowRefusedUrlStayReadable) {
  json stored = {
      {"channels",
       json::array({{{"name", "hook"}, {"type", "webhook"}, {"url", "https://0x7f.1/hook"}}})}};
  EXPECT_FALSE(settings_from_json(stored).ok());
  EXPECT_FALSE(settings_from_json(stored, InlineUrlCheck::kDevelopment).ok());
  // Read back from storage: readable; the target is refused when sent (check_target).
  auto back = settings_from_json(stored, InlineUrlCheck::kNone);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_FALSE(check_target(back.value().channels[0].url, Environment::kProduction).allowed);
  json local = {{"channels", json::array({{{"name", "hook"},
                                           {"type", "webhook"},
                                           {"url", "http://127.0.0.1:9000/hook"}}})}};
  EXPECT_FALSE(settings_from_json(local).ok());
  EXPECT_TRUE(settings_from_json(local, InlineUrlCheck::kDevelopment).ok());
}

TEST(AlertTarget, DevelopmentTakesPlainLoopbackOnly) {
  EXPECT_TRUE(check_target("http://127.0.0.1:45678/hook", Environment::kDevelopment).allowed);
  EXPECT_TRUE(check_target("http://[0:0:0:0:0:0:0:1]:9000/", Environment::kDevelopment).allowed);
  EXPECT_TRUE(check_target("http://api.localhost:9000/", Environment::kDevelopment).allowed);
  for (const char* url : {"http://2130706433:9000/", "http://0x7f.1/", "http://017700000001/",
                          "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://127.1/",
                          "http://10.0.0.1/", "http://[fd00::1]/"}) {
    EXPECT_FALSE(check_target(url, Environment::kDevelopment).allowed) << url;
  }
}

TEST(AlertTarget, Ipv4AndIpv6ParsingFollowsUrlParsers) {
  EXPECT_EQ(parse_ipv4_host("2130706433")->address, 0x7F000001u);
  EXPECT_EQ(parse_ipv4_host("0x7f.1")->address, 0x7F000001u);
  EXPECT_EQ(parse_ipv4_host("017700000001")->address, 0x7F000001u);
  EXPECT_EQ(parse_ipv4_host("127.0.1")->address, 0x7F000001u);
  EXPECT_TRUE(parse_ipv4_host("127.0.0.1")->canonical);
  EXPECT_FALSE(parse_ipv4_host("127.0.0.01")->canonical);
  EXPECT_FALSE(parse_ipv4_host("256.0.0.1").has_value());
  EXPECT_FALSE(parse_ipv4_host("1.2.3.4.5").has_value());
  auto v6 = parse_ipv6("::ffff:127.0.0.1");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ((*v6)[10], 0xFF);
  EXPECT_EQ((*v6)[12], 127);
  EXPECT_EQ(parse_ipv6("0:0:0:0:0:0:0:1"), parse_ipv6("::1"));
  EXPECT_FALSE(parse_ipv6("1::2::3").has_value());
  EXPECT_FALSE(parse_ipv6("1:2:3:4:5:6:7:8:9").has_value());
  EXPECT_FALSE(parse_ipv6("12345::").has_value());
}

TEST(AlertOverviewLines, TheLowestEnabledRuleOfEachTypeThatApplies) {
  std::vector<Rule> rules = default_rules();
  OverviewLines lines = overview_lines(rules, "r2watch-data", "");
  ASSERT_TRUE(lines.error_rate_pct.has_value());
  EXPECT_EQ(lines.error_rate_pct->threshold, 5);  // high_error_rate, not the breaker's 50
  EXPECT_EQ(lines.error_rate_pct->rule_id, "high_error_rate");
  ASSERT_TRUE(lines.response_ms.has_value());
  EXPECT_EQ(lines.response_ms->threshold, 2000);
  EXPECT_EQ(lines.response_ms->rule_id, "slow_response");
  for (Rule& r : rules) {
    if (r.id == "high_error_rate") r.enabled = false;
    if (r.id == "slow_response") r.threshold = 750;
  }
  lines = overview_lines(rules, "", "");
  EXPECT_EQ(lines.error_rate_pct->threshold, 50);
  EXPECT_EQ(lines.error_rate_pct->rule_id, "critical_error_rate");
  EXPECT_EQ(lines.response_ms->threshold, 750);
  // Rules for another bucket, a prefix, another user, or warning below a value do not apply.
  Rule other = rules.front();
  other.id = "other";
  other.type = RuleType::kErrorRate;
  other.threshold = 1;
  other.enabled = true;
  other.scope.bucket = "photos";
  std::vector<Rule> more = {other};
  other.scope = Scope{.bucket = "", .prefix = "img", .user = ""};
  more.push_back(other);
  other.scope = Scope{.bucket = "", .prefix = "", .user = "bob"};
  more.push_back(other);
  other.scope = Scope{};
  other.comparison = Comparison::kLt;
  more.push_back(other);
  EXPECT_FALSE(overview_lines(more, "r2watch-data", "alice").error_rate_pct.has_value());
  EXPECT_EQ(overview_lines(more, "photos", "").error_rate_pct->threshold, 1);
  EXPECT_EQ(overview_lines(more, "x", "bob").error_rate_pct->threshold, 1);
  EXPECT_FALSE(overview_lines({}, "", "").response_ms.has_value());
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
  json view = settings_to_json(s.value(), UrlView::kMasked);
  EXPECT_EQ(view["channels"][0]["url"], "https://example.com/…1234");
  EXPECT_EQ(settings_to_json(s.value(), UrlView::kFull)["channels"][0]["url"],
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
  EXPECT_EQ(field_of({{"channels", {{{"name", "a"}, {"type", "email"}, {"to", {"x@y.example"}}}}}}),
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
  json current = settings_to_json(s.value(), UrlView::kFull);
  json request = settings_to_json(s.value(), UrlView::kMasked);  // what GET answered
  EXPECT_FALSE(restore_masked_urls(request, current));
  auto again = settings_from_json(request);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(settings_to_json(again.value(), UrlView::kFull), current);
  // A masked URL that is not the stored one's (another channel's name) is refused.
  json renamed = settings_to_json(s.value(), UrlView::kMasked);
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

TEST(AlertSettings, EmailChannelsTakeOnlyRealAddresses) {
  auto field_of = [](json to, json from) {
    json b = {{"channels", {{{"name", "m"}, {"type", "email"}, {"to", to}, {"from", from}}}}};
    auto r = settings_from_json(b);
    return r.ok() ? std::string("(accepted)") : r.error().field;
  };
  EXPECT_EQ(field_of({"ops@example.com", "on-call+r2@mail.example.co.uk"}, "r2watch@example.com"),
            "(accepted)");
  for (const char* bad :
       {"ops", "ops@", "@example.com", "ops@example", "a b@example.com",
        "ops@example.com\r\nBcc: x@evil.example", "<ops@example.com>", "ops@@example.com",
        "ops@-x.example.com", "ops@example..com", ".ops@example.com", "\"ops\"@example.com"}) {
    EXPECT_EQ(field_of({bad}, "r2watch@example.com"), "channels[0].to") << bad;
    EXPECT_EQ(field_of({"ops@example.com"}, bad), "channels[0].from") << bad;
  }
}

TEST(AlertSettings, GithubChannelsNeedARepositoryAndATokenSecret) {
  json gh = {{"name", "gh"},
             {"type", "github"},
             {"repository", "octo-org/storage.ops"},
             {"token_secret", "GITHUB_TOKEN"}};
  auto s = settings_from_json({{"channels", {gh}}});
  ASSERT_TRUE(s.ok()) << s.error().message;
  json view = settings_to_json(s.value(), UrlView::kMasked)["channels"][0];
  EXPECT_EQ(view["api_url"], "https://api.github.com");
  EXPECT_EQ(view["repository"], "octo-org/storage.ops");
  EXPECT_EQ(view["token_secret"], "GITHUB_TOKEN");
  EXPECT_EQ(github_labels(s.value().channels[0], Severity::kCritical),
            (std::vector<std::string>{"r2watch", "severity:critical"}));
  // What was written reads back the same (stored settings are read without the url check).
  auto again =
      settings_from_json(settings_to_json(s.value(), UrlView::kFull), InlineUrlCheck::kNone);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(settings_to_json(again.value(), UrlView::kFull),
            settings_to_json(s.value(), UrlView::kFull));

  json labelled = gh;
  labelled["api_url"] = "https://github.example.com/api/v3/";
  labelled["labels_by_severity"] = {{"critical", {"incident", "p1"}}};
  auto l = settings_from_json({{"channels", {labelled}}});
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l.value().channels[0].url, "https://github.example.com/api/v3");
  EXPECT_EQ(github_labels(l.value().channels[0], Severity::kCritical),
            (std::vector<std::string>{"incident", "p1"}));

  auto field_of = [&](json patch) {
    json c = gh;
    for (auto& [k, v] : patch.items()) {
      if (v.is_null()) {
        c.erase(k);
      } else {
        c[k] = v;
      }
    }
    auto r = settings_from_json({{"channels", {c}}});
    return r.ok() ? std::string("(accepted)") : r.error().field;
  };
  for (const char* bad : {"storage", "octo-org/", "/storage", "octo org/storage", "a/b/c",
                          "-octo/storage", "octo/..", "octo/st?rage"}) {
    EXPECT_EQ(field_of({{"repository", bad}}), "channels[0].repository") << bad;
  }
  EXPECT_EQ(field_of({{"repository", nullptr}}), "channels[0].repository");
  EXPECT_EQ(field_of({{"token_secret", nullptr}}), "channels[0].token_secret");
  EXPECT_EQ(field_of({{"token_secret", "ghp_abc123"}}), "channels[0].token_secret");
  EXPECT_EQ(field_of({{"api_url", "https://10.0.0.1/api"}}), "channels[0].api_url");
  EXPECT_EQ(field_of({{"api_url", "http://api.github.com"}}), "channels[0].api_url");
  EXPECT_EQ(field_of({{"url", "https://api.github.com"}}), "channels[0].url");
  EXPECT_EQ(field_of({{"labels_by_severity", {{"urgent", {"x"}}}}}),
            "channels[0].labels_by_severity.urgent");
  EXPECT_EQ(field_of({{"labels_by_severity", {{"high", "x"}}}}),
            "channels[0].labels_by_severity.high");
  json hook = {{"name", "h"},
               {"type", "webhook"},
               {"url_secret", "HOOK"},
               {"repository", "octo-org/storage"}};
  EXPECT_EQ(settings_from_json({{"channels", {hook}}}).error().field, "channels[0].repository");
}

TEST(AlertText, Base64AndEncodedWordsFollowTheRfcs) {
  // RFC 4648 section 10's test vectors.
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  std::string wrapped = base64(std::string(100, 'a'), Wrap::kMimeLines);
  EXPECT_EQ(wrapped.find("\r\n"), 76u);
  EXPECT_EQ(wrapped.size(), 136u + 2u);
  // Plain ASCII is left alone; anything else becomes encoded words.
  EXPECT_EQ(encode_header_value("[r2watch] errors photos"), "[r2watch] errors photos");
  EXPECT_EQ(encode_header_value("caf\xc3\xa9"), "=?UTF-8?B?Y2Fmw6k=?=");
  // Long text: words of at most 75 characters, never splitting a character (é is 2 bytes).
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "\xc3\xa9";
  std::string encoded = encode_header_value(long_text);
  EXPECT_EQ(encoded, "=?UTF-8?B?" + base64(long_text.substr(0, 44)) + "?=\r\n =?UTF-8?B?" +
                         base64(long_text.substr(44)) + "?=");
  // A line break can never start a header of its own.
  EXPECT_EQ(encode_header_value("a\r\nBcc: x\xc3\xa9"),
            "=?UTF-8?B?" + base64("a  Bcc: x\xc3\xa9") + "?=");
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

TEST(AlertSettings, EmailChannelsWithoutAddressesUseTheWorkersEmailToAndFrom) {
  json bare = {{"channels", {{{"name", "m"}, {"type", "email"}}}}};
  // Without EMAIL_TO / EMAIL_FROM a channel must name its own.
  auto refused = settings_from_json(bare);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "channels[0].to");
  auto defaults =
      email_defaults_from_vars(" ops@example.com, on-call@example.com ", "r2@example.com");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults.value().to,
            (std::vector<std::string>{"ops@example.com", "on-call@example.com"}));
  auto s = settings_from_json(bare, InlineUrlCheck::kProduction, defaults.value());
  ASSERT_TRUE(s.ok()) << s.error().message;
  // Stored without addresses (the defaults are the environment's), and read back as stored.
  json stored = settings_to_json(s.value(), UrlView::kFull);
  EXPECT_EQ(stored["channels"][0]["to"], json::array());
  EXPECT_EQ(stored["channels"][0]["from"], "");
  EXPECT_TRUE(settings_from_json(stored, InlineUrlCheck::kNone).ok());
  // What GET answered, sent back, is accepted.
  EXPECT_TRUE(settings_from_json(settings_to_json(s.value(), UrlView::kMasked),
                                 InlineUrlCheck::kProduction, defaults.value())
                  .ok());
  // Sent to the defaults.
  AlertState a;
  a.severity = Severity::kHigh;
  NotificationBody body = build_body(s.value().channels[0], "firing", {&a}, s.value(),
                                     from_epoch_ms(1'764'460'800'000));
  ASSERT_TRUE(body.email.has_value());
  EXPECT_EQ(body.email->to, (std::vector<std::string>{"ops@example.com", "on-call@example.com"}));
  EXPECT_EQ(body.email->from, "r2@example.com");
  EXPECT_NE(body.email->raw.find("To: ops@example.com, on-call@example.com\r\n"),
            std::string::npos);
  // A channel's own addresses win.
  json own = {{"channels",
               {{{"name", "m"},
                 {"type", "email"},
                 {"to", {"me@example.com"}},
                 {"from", "x@example.com"}}}}};
  auto o = settings_from_json(own, InlineUrlCheck::kProduction, defaults.value());
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(
      build_body(o.value().channels[0], "firing", {&a}, o.value(), from_epoch_ms(1'764'460'800'000))
          .email->to,
      std::vector<std::string>{"me@example.com"});
  // Bad variables are named.
  EXPECT_EQ(email_defaults_from_vars("ops@example.com,nope", "").error().field, "EMAIL_TO");
  EXPECT_EQ(email_defaults_from_vars("", "nope").error().field, "EMAIL_FROM");
  EXPECT_TRUE(email_defaults_from_vars("", "").ok());
}

// The core on its structs (no JSON): drafts are completed and checked here, naming the field.
TEST(AlertCore, ARuleDraftIsCheckedOnItsStruct) {
  RuleDraft d;
  d.rule.name = "Errors";
  d.id = "errors";
  d.type = "error_rate";
  d.labels = std::map<std::string, std::string>{{"team", "storage"}};
  auto ok = complete_rule(d);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok.value().type, RuleType::kErrorRate);
  EXPECT_EQ(ok.value().labels.at("team"), "storage");
  d.labels = std::map<std::string, std::string>{{"severity", "x"}};
  EXPECT_EQ(complete_rule(d, "rules[2]").error().field, "rules[2].labels.severity");
  d.labels.reset();
  d.rule.actions.notify_user = true;
  EXPECT_EQ(complete_rule(d).error().field, "actions.notify_user");
  d.rule.actions.notify_user = false;
  d.channels = std::vector<std::string>{"Bad Name"};
  EXPECT_EQ(complete_rule(d).error().field, "channels[0]");
}

TEST(AlertCore, SettingsAndSilenceDraftsAreCheckedOnTheirStructs) {
  SettingsDraft d;
  d.escalation_after_ms = std::vector<int64_t>{600'000, 300'000};
  EXPECT_EQ(complete_settings(d).error().field, "escalation_after_ms[1]");
  d.escalation_after_ms.reset();
  ChannelDraft c;
  c.channel.name = "mail";
  c.type = "email";
  c.to = std::vector<std::string>{"not-an-address"};
  d.channels = std::vector<ChannelDraft>{c};
  EXPECT_EQ(complete_settings(d).error().field, "channels[0].to");
  SilenceDraft s;
  s.silence.comment = "c";
  s.silence.created_by = "ana";
  s.ends_at_ms = Duration(60'000);
  EXPECT_EQ(complete_silence(s, from_epoch_ms(0)).error().field, "matchers");
  s.matchers = std::vector<MatcherDraft>{{.name = "bucket", .value = "photos", .op = "!="}};
  auto silence = complete_silence(s, from_epoch_ms(0));
  ASSERT_TRUE(silence.ok()) << silence.error().message;
  EXPECT_FALSE(silence.value().matchers[0].equal);
  EXPECT_TRUE(is_active(silence.value(), from_epoch_ms(59'999)));
  EXPECT_FALSE(is_active(silence.value(), from_epoch_ms(60'000)));
}

TEST(AlertCore, TheWindowsARoundReadsComeFromNow) {
  // 2026-03-05: the month started on the 1st; the anomaly's 14 days reach into February.
  CostWindow w = cost_window(CivilDate{2026, 3, 5});
  EXPECT_EQ(format_year_month(w.month), "2026-03");
  EXPECT_EQ(to_epoch_ms(w.month_start), 1'772'323'200'000);
  EXPECT_EQ(to_epoch_ms(w.baseline_from), 1'772'668'800'000 - 14 * 86'400'000LL);
  EXPECT_EQ(w.from, w.baseline_from);
  // Late in a month the month's start is the earlier.
  CostWindow late = cost_window(CivilDate{2026, 3, 28});
  EXPECT_EQ(late.from, late.month_start);
  FigureNeeds needs = needs_of(default_rules());
  TimePoint now = from_epoch_ms(1'772'668'800'000);
  ReadWindows r = read_windows(needs, Duration(300'000), now);
  ASSERT_FALSE(r.operations.empty());
  EXPECT_EQ(r.operations[0].to, now + Duration(1));
  EXPECT_EQ(r.operations[0].from, now - r.operations[0].window);
  ASSERT_TRUE(r.growth_since && r.failed_access_since && r.requests_since && r.cost);
  EXPECT_EQ(*r.growth_since, now - kGrowthLookback);
  EXPECT_EQ(*r.failed_access_since, now - Duration(300'000) - Duration(300'000));
  EXPECT_EQ(*r.requests_since, now - kRequestCountersLookback);
}

TEST(AlertCore, DeliveryRetriesAndWhoMayActAreTheCores) {
  Settings s;
  s.max_attempts = 3;
  TimePoint now = from_epoch_ms(1'000'000);
  auto retry = delivery_outcome(s, 2, AttemptResult::kFailed, now);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry.value().status, DeliveryStatus::kRetry);
  EXPECT_EQ(*retry.value().next_attempt_at, now + Duration(120'000));
  EXPECT_EQ(delivery_outcome(s, 3, AttemptResult::kFailed, now).value().status,
            DeliveryStatus::kFailed);
  EXPECT_EQ(delivery_outcome(s, 0, AttemptResult::kDelivered, now).error().field, "attempt");
  EXPECT_EQ(delivery_plan(now).lease_expired_before, now - kSendingLease);
  AlertState mine;
  mine.scope.user = "ana";
  AlertState theirs;
  theirs.alert_id = "x-1";
  Caller ana{.user = "ana", .role = CallerRole::kUser};
  EXPECT_FALSE(check_visible(mine, ana).has_value());
  EXPECT_EQ(check_visible(theirs, ana)->code, "not_found");
  EXPECT_EQ(manual_actor(ana, ManualRequest{}).value(), "ana");
  EXPECT_EQ(manual_actor(ana, ManualRequest{.by = "bob"}).error().field, "by");
  EXPECT_EQ(manual_actor(Caller{}, ManualRequest{}).value(), "operator");
  EXPECT_EQ(parse_mute("silence:s1")->silence_id, "s1");
  EXPECT_EQ(mute_text(Mute{.reason = MuteReason::kMaintenance, .silence_id = "m"}),
            "maintenance:m");
  EXPECT_FALSE(parse_mute("muted").has_value());
}

// The account's figures made at `at` are the same at any moment before account_figures_until
// (same stored data), and that moment is the first where an hour or a day they read moves.
TEST(AlertFigures, TheAccountFiguresHoldUntilTheHourOrDayTheyReadMoves) {
  constexpr int64_t kHourMs = 3'600'000;
  std::mt19937_64 rng(16);
  const std::vector<Duration> windows = {Duration(kHourMs), Duration(90 * 60'000),
                                         Duration(24 * kHourMs), Duration(7 * 24 * kHourMs)};
  const int64_t base = 1'790'000'000'000;  // late 2026
  std::vector<account::HourTotal> hours;
  std::vector<account::StorageRow> storage;
  for (int64_t h = base - 40 * 24 * kHourMs; h < base + 4 * 24 * kHourMs; h += kHourMs) {
    for (const char* bucket : {"a", "b"}) {
      uint64_t requests = rng() % 1000;
      hours.push_back(
          {from_epoch_ms(h - h % kHourMs), bucket, requests, requests / (1 + rng() % 50)});
    }
  }
  for (int64_t d = -40; d < 4; ++d) {
    for (const char* bucket : {"a", "b"}) {
      storage.push_back({.date = add_days(date_of(from_epoch_ms(base)), d),
                         .bucket = bucket,
                         .payload_bytes = 1'000'000 + rng() % 1'000'000,
                         .pending_uploads = rng() % 4});
    }
  }
  auto key = [&](TimePoint t) {
    std::vector<std::tuple<std::string, std::string, int64_t, double, uint64_t, std::string>> out;
    for (const auto& f : account::alert_figures(hours, storage, windows, t)) {
      out.emplace_back(f.metric, f.bucket, f.window.count(), f.value, f.samples, f.detail);
    }
    return out;
  };
  auto hour_of = [](int64_t t) { return t - (((t % kHourMs) + kHourMs) % kHourMs); };
  for (int i = 0; i < 60; ++i) {
    const int64_t at = base + static_cast<int64_t>(rng() % (3 * 24 * kHourMs));
    const int64_t until = to_epoch_ms(account_figures_until(windows, from_epoch_ms(at)));
    ASSERT_GT(until, at);
    ASSERT_LE(until - at, kHourMs);
    const auto made = key(from_epoch_ms(at));
    ASSERT_FALSE(made.empty());
    for (int64_t t : {at + (until - at) / 3, at + (until - at) / 2, until - 1}) {
      EXPECT_EQ(key(from_epoch_ms(t)), made) << "at " << at << ", then " << t;
    }
    // At `until` an hour the figures read has moved (so the Worker reads them again).
    bool moved = hour_of(until) != hour_of(at);
    for (Duration w : windows) moved |= hour_of(until - w.count()) != hour_of(at - w.count());
    EXPECT_TRUE(moved) << at;
  }
}

// The hours the Worker reads for the account's figures summed per span of alert_reach's
// `segments` (as db/account.js hourlyByBucket sums them, each at its span's start) give the same
// figures as every hour read one by one.
TEST(AlertFigures, TheAccountHoursSummedPerSpanGiveTheSameFigures) {
  constexpr int64_t kHourMs = 3'600'000;
  std::mt19937_64 rng(61);
  const std::vector<Duration> windows = {Duration(15 * 60'000), Duration(kHourMs),
                                         Duration(90 * 60'000), Duration(24 * kHourMs),
                                         Duration(7 * 24 * kHourMs)};
  const int64_t base = 1'790'000'000'000;
  std::vector<account::HourTotal> hours;
  for (int64_t h = base - 40 * 24 * kHourMs; h < base + 4 * 24 * kHourMs; h += kHourMs) {
    for (const char* bucket : {"a", "b", "c"}) {
      if (rng() % 9 == 0) continue;  // hours with no row
      uint64_t requests = rng() % 1000;
      hours.push_back(
          {from_epoch_ms(h - h % kHourMs), bucket, requests, requests / (1 + rng() % 50)});
    }
  }
  auto key = [&](const std::vector<account::HourTotal>& rows, TimePoint t) {
    std::vector<std::tuple<std::string, std::string, int64_t, double, uint64_t, std::string>> out;
    for (const auto& f : account::alert_figures(rows, {}, windows, t)) {
      out.emplace_back(f.metric, f.bucket, f.window.count(), f.value, f.samples, f.detail);
    }
    return out;
  };
  for (int i = 0; i < 40; ++i) {
    const TimePoint at = from_epoch_ms(base + static_cast<int64_t>(rng() % (3 * 24 * kHourMs)));
    const account::AlertReach reach = account::alert_reach(windows, at);
    ASSERT_TRUE(std::is_sorted(reach.segments.begin(), reach.segments.end()));
    EXPECT_TRUE(
        std::binary_search(reach.segments.begin(), reach.segments.end(), reach.hours_since));
    std::map<std::pair<std::string, TimePoint>, account::HourTotal> spans;
    for (const account::HourTotal& h : hours) {
      const bool read =
          h.hour >= reach.hours_since ||
          std::find(reach.hours.begin(), reach.hours.end(), h.hour) != reach.hours.end();
      if (!read) continue;
      auto start = std::upper_bound(reach.segments.begin(), reach.segments.end(), h.hour);
      ASSERT_NE(start, reach.segments.begin());
      account::HourTotal& s = spans[{h.bucket, *std::prev(start)}];
      s.hour = *std::prev(start);
      s.bucket = h.bucket;
      s.requests += h.requests;
      s.internal_errors += h.internal_errors;
    }
    std::vector<account::HourTotal> summed;
    for (const auto& [_, s] : spans) summed.push_back(s);
    EXPECT_LT(summed.size(), hours.size() / 10);
    const auto all = key(hours, at);
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(key(summed, at), all) << to_epoch_ms(at);
  }
}

// The account's rows ({operations, storage} as cost_anomaly takes them) as alert_cost_figures
// takes them: the day rows summed by account_reads' grouping (`classes`, `unbilled`: what the
// Worker's SQL sums by, db/account.js accountUsageByClass), texts named once, rows as flat
// numbers.
json compact(const json& account, const json& classes, const json& unbilled) {
  json out = {{"days", json::array()},
              {"buckets", json::array()},
              {"names", json::array()},
              {"by_class", json::array()},
              {"storage", json::array()}};
  std::map<std::string, std::map<std::string, size_t>> seen;
  auto index = [&](const char* list, const std::string& text) {
    auto [it, added] = seen[list].try_emplace(text, seen[list].size());
    if (added) out[list].push_back(text);
    return it->second;
  };
  // [day, bucket, class ("" unclassified), billed, action_type ("" classified)] -> sums.
  std::map<std::tuple<std::string, std::string, std::string, int, std::string>,
           std::pair<uint64_t, uint64_t>>
      sums;
  for (const json& row : account["operations"]) {
    const std::string action = row[2].get<std::string>();
    const bool known = classes.contains(action);
    int billed = 1;
    for (const json& code : unbilled) {
      if (code == row[3]) billed = 0;
    }
    auto& sum =
        sums[{row[0].get<std::string>(), row[1].get<std::string>(),
              known ? classes[action].get<std::string>() : "", billed, known ? "" : action}];
    sum.first += row[4].get<uint64_t>();
    sum.second += row[5].get<uint64_t>();
  }
  for (const auto& [key, sum] : sums) {
    const auto& [day, bucket, action_class, billed, action] = key;
    for (uint64_t n : {index("days", day), index("buckets", bucket), index("names", action_class),
                       static_cast<size_t>(billed), index("names", action)}) {
      out["by_class"].push_back(n);
    }
    out["by_class"].push_back(sum.first);
    out["by_class"].push_back(sum.second);
  }
  const json& list = account["storage"];
  for (size_t i = 0; i < list.size(); ++i) {
    const json& row = list[i];
    out["storage"].push_back(index("days", row[0].get<std::string>()));
    out["storage"].push_back(index("buckets", row[1].get<std::string>()));
    out["storage"].push_back(index("names", row[2].get<std::string>()));
    for (size_t k = 3; k < row.size(); ++k) out["storage"].push_back(row[k]);
  }
  return out;
}

// alert_cost_figures answers what cost_bill (over the month's rows, as the Worker sent it) and
// cost_anomaly (over every row) answer, the account's rows read once.
TEST(AlertCostFigures, AnswerAsTheBillOfTheMonthAndTheAnomalyOverEveryRow) {
  bindings::Engine engine(from_epoch_ms(1'790'000'000'000));
  auto run = [&](std::string_view command, const json& in) {
    std::string out;
    EXPECT_TRUE(bindings::run_command(bindings::find_command(command), engine, command, in.dump(),
                                      from_epoch_ms(1'790'000'000'000), out))
        << command << ": " << out;
    return json::parse(out);
  };
  const json reads = run("account_reads", {{"usage_from_ms", 0}, {"usage_as_of", "2026-11-30"}});
  const json& classes = reads["usage"]["classes"];
  const json& unbilled = reads["usage"]["unbilled_status_codes"];
  std::mt19937_64 rng(7);
  for (const char* date : {"2026-11-30", "2026-12-03", "2026-12-15"}) {
    const CivilDate day = *parse_date(date);
    json operations = json::array(), month_operations = json::array();
    json storage = json::array(), month_storage = json::array();
    for (int d = -20; d <= 0; ++d) {
      const CivilDate at = add_days(day, d);
      const bool in_month = month_of(at) == month_of(day);
      for (const char* bucket : {"media", "logs"}) {
        for (const char* action :
             {"GetObject", "PutObject", "ListObjects", "DeleteObject", "NewAction"}) {
          for (int code : {200, 403, 404}) {
            json row = json::array({format_date(at), bucket, action, code,
                                    static_cast<uint64_t>(rng() % 2'000'000),
                                    static_cast<uint64_t>(rng() % 50'000'000'000)});
            if (in_month) month_operations.push_back(row);
            operations.push_back(std::move(row));
          }
        }
        json row = json::array({format_date(at), bucket, "standard",
                                static_cast<uint64_t>(rng() % 5'000'000'000'000), 1000,
                                static_cast<uint64_t>(rng() % 100'000), 1});
        if (in_month) month_storage.push_back(row);
        storage.push_back(std::move(row));
      }
    }
    const json account = {{"operations", operations}, {"storage", storage}};
    json figures = run("alert_cost_figures",
                       {{"date", date}, {"account", compact(account, classes, unbilled)}});
    json bill = run("cost_bill",
                    {{"as_of", date},
                     {"account", {{"operations", month_operations}, {"storage", month_storage}}}});
    json anomaly = run("cost_anomaly", {{"date", date}, {"account", account}});
    ASSERT_TRUE(figures.contains("bill")) << figures.dump();
    for (const auto& [key, value] : figures["bill"].items())
      EXPECT_EQ(value, bill[key]) << date << " " << key;
    EXPECT_EQ(figures["anomaly"], anomaly) << date;
    EXPECT_GT(figures["bill"]["month_to_date"]["total_micro_usd"].get<double>(), 0) << date;
  }
  // Refused as the cost commands refuse, naming the field.
  std::string out;
  EXPECT_FALSE(bindings::run_command(
      bindings::find_command("alert_cost_figures"), engine, "alert_cost_figures",
      R"({"date":"2026-11-31","account":{"by_class":[],"storage":[]}})", from_epoch_ms(0), out));
  EXPECT_NE(out.find("\"field\":\"date\""), std::string::npos) << out;
  // A row that names a day, bucket or name the lists do not have, or is cut short.
  for (
      const char* account :
      {R"({"days":["2026-11-01"],"buckets":["a"],"names":["class_a",""],"by_class":[0,1,0,1,1,1,1],"storage":[]})",
       R"({"days":["2026-11-01"],"buckets":["a"],"names":["class_a",""],"by_class":[0,0,0,1,1,1],"storage":[]})",
       R"({"days":["2026-11-01"],"buckets":["a"],"names":["class_a",""],"by_class":[0,0,0,2,1,1,1],"storage":[]})",
       R"({"days":["2026-11-01"],"buckets":["a"],"names":["GetObject",""],"by_class":[0,0,0,1,1,1,1],"storage":[]})",
       R"({"days":["2026-11-01"],"buckets":["a"],"names":["class_a"],"by_class":[],"storage":[0,0,0,1,1,1,1]})"}) {
    out.clear();
    EXPECT_FALSE(bindings::run_command(
        bindings::find_command("alert_cost_figures"), engine, "alert_cost_figures",
        std::string(R"({"date":"2026-11-30","account":)") + account + "}", from_epoch_ms(0), out));
    EXPECT_NE(out.find("\"field\":\"account."), std::string::npos) << out;
  }
}

// alert_round_plan answers alert_plan's plan over the rules of the kept round's last run, and
// is refused naming "rules" before the round holds any.
TEST(AlertRoundPlan, IsThePlanOfTheRulesTheRoundHolds) {
  const TimePoint now = from_epoch_ms(1'790'000'000'000);
  bindings::Engine engine(now);
  auto run = [&](std::string_view command, const std::string& in, bool ok = true) {
    std::string out;
    EXPECT_EQ(bindings::run_command(bindings::find_command(command), engine, command, in, now, out),
              ok)
        << command << ": " << out;
    return json::parse(out);
  };
  EXPECT_EQ(run("alert_round_plan", "{}", false)["error"]["field"], "rules");
  const std::string rules =
      R"([{"id":"errors","name":"Errors","type":"error_rate","threshold":5,"window_ms":600000},)"
      R"({"id":"spike","name":"Spike","type":"request_spike","threshold":100},)"
      R"({"id":"cost","name":"Cost","type":"cost_threshold","threshold":1}])";
  run("alert_round", R"({"generation":1,"silences":[],"figures":{},"settings":null,)"
                     R"("restore":{"states":[],"ledger":null,"generation":0},"rules":)" +
                         rules + "}");
  json held = run("alert_round_plan", "{}");
  EXPECT_EQ(held, run("alert_plan", R"({"rules":)" + rules + "}"));
  EXPECT_TRUE(held["account"].get<bool>());
  EXPECT_TRUE(held["cost"].get<bool>());
}

}  // namespace
}  // namespace r2w::alerts
