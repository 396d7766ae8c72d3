#include "wasm-bindings/codec/alerts.h"

#include <utility>

namespace r2w::codec {

using alerts::AlertState;
using alerts::Rule;

namespace {

std::string join(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : std::string(prefix) + "." + std::string(name);
}

Error fail(std::string_view prefix, std::string_view name, const std::string& msg) {
  std::string f = join(prefix, name);
  return invalid_field(f, f + " " + msg);
}

Json time_or_null(const std::optional<TimePoint>& t) { return t ? Json(to_epoch_ms(*t)) : Json(); }

Json labels_json(const std::map<std::string, std::string>& labels) {
  Json l = Json::object();
  for (const auto& [k, v] : labels) l[k] = v;
  return l;
}

Json mute_json(const alerts::Mute& m) {
  return m.reason == alerts::MuteReason::kNone ? Json() : Json(alerts::mute_text(m));
}

Json scope_json(const alerts::Scope& s) {
  return {{"bucket", s.bucket}, {"prefix", s.prefix}, {"user", s.user}};
}

}  // namespace

// ---- rules ----

Result<Rule> rule_from_json(const Json& j, const Rule& base, std::string_view prefix) {
  if (!j.is_object()) {
    std::string f = prefix.empty() ? "rule" : std::string(prefix);
    return invalid_field(f, f + " must be an object");
  }
  alerts::RuleDraft d;
  d.rule = base;
  Rule& r = d.rule;
  d.id = r.id;
  d.type = std::string(alerts::rule_type_name(r.type));
  FieldReader in(j, std::string(prefix));
  in.read_string("id", d.id);
  in.read_string("name", r.name);
  in.read_string("description", r.description);
  in.read_string("type", d.type);
  in.read_number("threshold", r.threshold, 0, alerts::kMaxRuleThreshold,
                 /*min_exclusive=*/false);  // FieldReader's own API (codec/json.h)
  in.read_string("comparison", d.comparison);
  in.read_duration("window_ms", r.window, alerts::kMinRuleWindow, alerts::kMaxRuleWindow);
  in.read_duration("for_ms", r.for_duration, Duration(0), alerts::kMaxRuleFor);
  bool has_scope = in.has("scope");
  in.read_string("severity", d.severity);
  bool has_labels = in.has("labels");
  in.read_bool("enabled", r.enabled);
  in.read_string("statistic", d.statistic);
  in.read_uint("min_calls", r.min_calls, 0, alerts::kMaxRuleMinCalls);
  bool has_repeat = in.has("repeat_interval_ms");
  bool has_actions = in.has("actions");
  bool has_channels = in.has("channels");
  if (auto e = in.finish()) return *e;
  if (has_scope) {
    FieldReader s(j["scope"], join(prefix, "scope"));
    alerts::Scope scope;
    s.read_string("bucket", scope.bucket);
    s.read_string("prefix", scope.prefix);
    s.read_string("user", scope.user);
    if (auto e = s.finish()) return *e;
    d.scope = scope;
  }
  if (has_labels) {
    const Json& l = j["labels"];
    if (!l.is_object()) return fail(prefix, "labels", "must be an object of strings");
    std::map<std::string, std::string> labels;
    for (const auto& item : l.items()) {
      if (!item.value().is_string()) {
        return fail(prefix, "labels." + item.key(), "must be a string of at most 256 characters");
      }
      labels[item.key()] = item.value().get<std::string>();
    }
    d.labels = std::move(labels);
  }
  if (has_repeat) {
    if (j["repeat_interval_ms"].is_null()) {
      r.repeat_interval.reset();
    } else {
      FieldReader rr(j, std::string(prefix));
      Duration v(0);
      rr.read_duration("repeat_interval_ms", v, alerts::kMinRuleRepeat, alerts::kMaxRuleRepeat);
      if (!rr.ok()) return *rr.finish();
      r.repeat_interval = v;
    }
  }
  if (has_actions) {
    FieldReader a(j["actions"], join(prefix, "actions"));
    a.read_bool("force_breaker_open", r.actions.force_breaker_open);
    a.read_bool("notify_user", r.actions.notify_user);
    if (auto e = a.finish()) return *e;
  }
  if (has_channels) {
    const Json& c = j["channels"];
    if (!c.is_array())
      return fail(prefix, "channels", "must be a list of at most 20 channel names");
    std::vector<std::string> channels;
    for (size_t i = 0; i < c.size(); ++i) {
      if (!c[i].is_string()) {
        return fail(prefix, "channels[" + std::to_string(i) + "]", "must be a channel name");
      }
      channels.push_back(c[i].get<std::string>());
    }
    d.channels = std::move(channels);
  }
  return alerts::complete_rule(std::move(d), prefix);
}

Result<Rule> new_rule_from_json(const Json& j, std::string_view fallback_id) {
  if (!j.is_object()) return invalid_field("rule", "rule must be an object");
  if (!j.contains("type")) return invalid_field("type", "type is required");
  if (!j.contains("name")) return invalid_field("name", "name is required");
  std::optional<alerts::RuleType> type;
  if (j["type"].is_string()) type = alerts::parse_rule_type(j["type"].get<std::string>());
  if (!j.contains("threshold") && !(type && !alerts::needs_threshold(*type))) {
    return invalid_field("threshold", "threshold is required");
  }
  Rule base;
  base.id = std::string(fallback_id);
  if (type) {
    base.type = *type;
    base.statistic = alerts::default_statistic(*type);
  }
  return rule_from_json(j, base);
}

Json rule_to_json(const Rule& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"description", r.description},
          {"type", alerts::rule_type_name(r.type)},
          {"threshold", r.threshold},
          {"comparison", alerts::comparison_name(r.comparison)},
          {"window_ms", r.window.count()},
          {"for_ms", r.for_duration.count()},
          {"scope", scope_json(r.scope)},
          {"severity", alerts::severity_name(r.severity)},
          {"labels", labels_json(r.labels)},
          {"enabled", r.enabled},
          {"statistic", alerts::statistic_name(r.statistic)},
          {"min_calls", r.min_calls},
          {"repeat_interval_ms", r.repeat_interval ? Json(r.repeat_interval->count()) : Json()},
          {"actions",
           {{"force_breaker_open", r.actions.force_breaker_open},
            {"notify_user", r.actions.notify_user}}},
          {"channels", r.channels},
          {"metric", alerts::metric_of(r)}};
}

Result<std::vector<Rule>> rules_from_json(const Json& j, std::string_view field) {
  if (!j.is_array())
    return invalid_field(std::string(field), std::string(field) + " must be an array");
  std::vector<Rule> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    std::string prefix = std::string(field) + "[" + std::to_string(i) + "]";
    Json copy = j[i];
    if (copy.is_object()) copy.erase("metric");  // written by rule_to_json, derived
    Rule base;
    if (copy.is_object() && copy.contains("type") && copy["type"].is_string()) {
      if (auto t = alerts::parse_rule_type(copy["type"].get<std::string>())) base.type = *t;
    }
    auto r = rule_from_json(copy, base, prefix);
    if (!r.ok()) return r.error();
    out.push_back(std::move(r).value());
  }
  return out;
}

// ---- settings ----

namespace {

// A list of strings; `message` when it is not a list, `item_message` for an item that is not a
// string (both about `field`).
Result<std::vector<std::string>> strings(const Json& j, const std::string& field,
                                         const std::string& message,
                                         const std::string& item_message) {
  if (!j.is_array()) return invalid_field(field, field + " " + message);
  std::vector<std::string> out;
  out.reserve(j.size());
  for (const Json& v : j) {
    if (!v.is_string()) return invalid_field(field, field + " " + item_message);
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

Result<alerts::Settings> settings_from_json(const Json& j, alerts::InlineUrlCheck url_check,
                                            const alerts::EmailDefaults& email_defaults) {
  alerts::SettingsDraft d;
  if (j.is_null()) {
    alerts::Settings s;
    s.email_defaults = email_defaults;
    return s;
  }
  alerts::Settings& s = d.settings;
  FieldReader r(j);
  bool has_channels = r.has("channels");
  bool has_escalation = r.has("escalation_after_ms");
  r.read_uint("max_notices_per_type_per_hour", s.max_notices_per_type_per_hour, 1,
              alerts::kMaxNoticesPerTypePerHour);
  r.read_duration("repeat_interval_ms", s.repeat_interval, alerts::kMinRepeatInterval,
                  alerts::kMaxRepeatInterval);
  bool has_inhibit = r.has("inhibit");
  r.read_uint("max_attempts", s.max_attempts, 1, alerts::kMaxDeliveryAttempts);
  r.read_duration("backoff_base_ms", s.backoff_base, alerts::kMinBackoff, alerts::kMaxBackoffBase);
  r.read_duration("backoff_max_ms", s.backoff_max, alerts::kMinBackoff, alerts::kMaxBackoff);
  r.read_string("dashboard_url", s.dashboard_url);
  if (auto e = r.finish()) return *e;
  if (has_escalation) {
    const Json& list = j["escalation_after_ms"];
    const std::string field = "escalation_after_ms";
    if (!list.is_array()) {
      return invalid_field(field, field + " must be a list of at most 10 durations in ms");
    }
    std::vector<int64_t> values;
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_number_integer()) {
        std::string f = field + "[" + std::to_string(i) + "]";
        return invalid_field(f, f + " must be a whole number of ms from 60000 to 604800000");
      }
      values.push_back(list[i].get<int64_t>());
    }
    d.escalation_after_ms = std::move(values);
  }
  if (has_inhibit) {
    const Json& list = j["inhibit"];
    if (!list.is_array()) {
      return invalid_field("inhibit", "inhibit must be a list of at most 10 rules");
    }
    std::vector<alerts::InhibitDraft> rules;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string p = "inhibit[" + std::to_string(i) + "]";
      alerts::InhibitDraft rule;
      FieldReader ir(list[i], p);
      ir.read_string("source_severity", rule.source_severity);
      bool has_targets = ir.has("target_severities");
      bool has_equal = ir.has("equal");
      if (auto e = ir.finish()) return *e;
      if (has_targets) {
        auto t = strings(list[i]["target_severities"], p + ".target_severities", "must be a list",
                         "must be severities below the source's");
        if (!t.ok()) return t.error();
        rule.target_severities = std::move(t).value();
      }
      if (has_equal) {
        auto e = strings(list[i]["equal"], p + ".equal", "must be a list of label names",
                         "must be a list of label names");
        if (!e.ok()) return e.error();
        rule.equal = std::move(e).value();
      }
      rules.push_back(std::move(rule));
    }
    d.inhibit = std::move(rules);
  }
  if (has_channels) {
    const Json& list = j["channels"];
    if (!list.is_array()) {
      return invalid_field("channels", "channels must be a list of at most 50 channels");
    }
    std::vector<alerts::ChannelDraft> channels;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string p = "channels[" + std::to_string(i) + "]";
      alerts::ChannelDraft cd;
      alerts::Channel& c = cd.channel;
      FieldReader cr(list[i], p);
      cr.read_string("name", c.name);
      cr.read_string("type", cd.type);
      cr.read_string("url", c.url);
      cr.read_string("url_secret", c.url_secret);
      cr.read_string("routing_key_secret", c.routing_key_secret);
      bool has_to = cr.has("to");
      cr.read_string("from", c.from);
      std::string api_url;
      bool has_api_url = cr.has("api_url");
      cr.read_string("api_url", api_url);
      cr.read_string("repository", c.repository);
      cr.read_string("token_secret", c.token_secret);
      bool has_labels = cr.has("labels_by_severity");
      cr.read_string("min_severity", cd.min_severity);
      cr.read_uint("escalation_level", c.escalation_level, 0, alerts::kMaxEscalationLevels);
      cr.read_bool("enabled", c.enabled);
      if (auto e = cr.finish()) return *e;
      if (has_api_url) cd.api_url = api_url;
      if (has_to) {
        auto to = strings(list[i]["to"], p + ".to", "must be a list of at most 20 addresses",
                          "must hold email addresses like ops@example.com");
        if (!to.ok()) return to.error();
        cd.to = std::move(to).value();
      }
      if (has_labels) {
        const Json& labels = list[i]["labels_by_severity"];
        std::string f = p + ".labels_by_severity";
        if (!labels.is_object()) {
          return invalid_field(f, f + " must map severities to lists of labels");
        }
        std::vector<std::pair<std::string, std::vector<std::string>>> by_severity;
        for (const auto& item : labels.items()) {
          std::string g = f + "." + item.key();
          if (!item.value().is_array()) {
            return invalid_field(g, g + " must be a list of at most 10 labels");
          }
          auto names = strings(item.value(), g, "must be a list of at most 10 labels",
                               "labels must be 1 to 50 characters");
          if (!names.ok()) return names.error();
          by_severity.emplace_back(item.key(), std::move(names).value());
        }
        cd.labels_by_severity = std::move(by_severity);
      }
      channels.push_back(std::move(cd));
    }
    d.channels = std::move(channels);
  }
  return alerts::complete_settings(std::move(d), url_check, email_defaults);
}

Json settings_to_json(const alerts::Settings& s, UrlView urls) {
  Json channels = Json::array();
  for (const alerts::Channel& c : s.channels) {
    Json o = {{"name", c.name},
              {"type", alerts::channel_type_name(c.type)},
              {"min_severity", alerts::severity_name(c.min_severity)},
              {"escalation_level", c.escalation_level},
              {"enabled", c.enabled}};
    if (c.type == alerts::ChannelType::kGithub) {
      // The API's address is no secret (the token is, and stays in its Worker secret).
      o["api_url"] = c.url;
      o["repository"] = c.repository;
      o["token_secret"] = c.token_secret;
      if (!c.labels_by_severity.empty()) {
        Json labels = Json::object();
        for (const auto& [sev, names] : c.labels_by_severity) {
          labels[std::string(alerts::severity_name(sev))] = names;
        }
        o["labels_by_severity"] = labels;
      }
    } else if (!c.url.empty()) {
      o["url"] = urls == UrlView::kMasked ? alerts::mask_url(c.url) : c.url;
    }
    if (!c.url_secret.empty()) o["url_secret"] = c.url_secret;
    if (!c.routing_key_secret.empty()) o["routing_key_secret"] = c.routing_key_secret;
    if (c.type == alerts::ChannelType::kEmail) {
      o["to"] = c.to;
      o["from"] = c.from;
    }
    channels.push_back(o);
  }
  Json escalation = Json::array();
  for (Duration d : s.escalation_after) escalation.push_back(d.count());
  Json inhibit = Json::array();
  for (const alerts::InhibitRule& r : s.inhibit) {
    Json targets = Json::array();
    for (alerts::Severity t : r.target_severities) targets.push_back(alerts::severity_name(t));
    inhibit.push_back({{"source_severity", alerts::severity_name(r.source_severity)},
                       {"target_severities", targets},
                       {"equal", r.equal}});
  }
  return {{"channels", channels},
          {"escalation_after_ms", escalation},
          {"max_notices_per_type_per_hour", s.max_notices_per_type_per_hour},
          {"repeat_interval_ms", s.repeat_interval.count()},
          {"inhibit", inhibit},
          {"max_attempts", s.max_attempts},
          {"backoff_base_ms", s.backoff_base.count()},
          {"backoff_max_ms", s.backoff_max.count()},
          {"dashboard_url", s.dashboard_url}};
}

std::optional<Error> restore_masked_urls(Json& request, const Json& current) {
  if (!request.is_object()) return std::nullopt;
  auto requested = request.find("channels");
  if (requested == request.end() || !requested->is_array()) return std::nullopt;
  const Json* stored =
      current.is_object() && current.contains("channels") && current["channels"].is_array()
          ? &current["channels"]
          : nullptr;
  for (size_t i = 0; i < requested->size(); ++i) {
    Json& c = (*requested)[i];
    if (!c.is_object() || !c.contains("url") || !c["url"].is_string()) continue;
    bool restored = false;
    for (size_t k = 0; stored && k < stored->size() && !restored; ++k) {
      const Json& old = (*stored)[k];
      if (old.is_object() && c.contains("name") && old.value("name", Json()) == c["name"] &&
          old.contains("url") && old["url"].is_string() &&
          alerts::mask_url(old["url"].get<std::string>()) == c["url"]) {
        c["url"] = old["url"];
        restored = true;
      }
    }
    if (!restored && alerts::is_masked_url(c["url"].get<std::string>())) {
      std::string p = "channels[" + std::to_string(i) + "].url";
      return invalid_field(p, p + " is a masked URL: send the full URL");
    }
  }
  return std::nullopt;
}

// ---- silences ----

Result<alerts::Silence> silence_from_json(const Json& j, std::string_view id, TimePoint now) {
  alerts::SilenceDraft d;
  alerts::Silence& s = d.silence;
  s.id = std::string(id);
  FieldReader r(j);
  Duration starts(0), ends(0);
  const Duration max = Duration(alerts::kMaxSilenceEpochMs);
  r.read_string("id", s.id);
  r.read_string("kind", s.kind);
  bool has_starts = r.has("starts_at_ms");
  r.read_duration("starts_at_ms", starts, Duration(0), max);
  bool has_ends = r.has("ends_at_ms");
  r.read_duration("ends_at_ms", ends, Duration(0), max);
  bool has_matchers = r.has("matchers");
  r.read_string("comment", s.comment);
  r.read_string("created_by", s.created_by);
  // `active` is answered (silence_to_json), not set: what was read back is accepted when it
  // agrees with the time range.
  bool has_active = r.has("active");
  bool active = false;
  r.read_bool("active", active);
  if (auto e = r.finish()) return *e;
  if (has_starts) d.starts_at_ms = starts;
  if (has_ends) d.ends_at_ms = ends;
  if (has_active) d.active = active;
  if (has_matchers && j["matchers"].is_array()) {
    std::vector<alerts::MatcherDraft> matchers;
    const Json& list = j["matchers"];
    for (size_t i = 0; i < list.size() && i < 21; ++i) {
      std::string p = "matchers[" + std::to_string(i) + "]";
      FieldReader mr(list[i], p);
      alerts::MatcherDraft m;
      mr.read_string("name", m.name);
      mr.read_string("value", m.value);
      mr.read_string("op", m.op);
      if (auto e = mr.finish()) return *e;
      matchers.push_back(std::move(m));
    }
    d.matchers = std::move(matchers);
  }
  return alerts::complete_silence(std::move(d), now);
}

Result<std::vector<alerts::Silence>> silences_from_json(const Json& j, std::string_view field) {
  std::vector<alerts::Silence> out;
  if (j.is_null()) return out;
  if (!j.is_array())
    return invalid_field(std::string(field), std::string(field) + " must be an array");
  for (size_t i = 0; i < j.size(); ++i) {
    Json copy = j[i];
    if (copy.is_object()) copy.erase("active");
    auto s = silence_from_json(copy, "", TimePoint(Duration(0)));
    if (!s.ok()) {
      Error e = s.error();
      std::string p = std::string(field) + "[" + std::to_string(i) + "]";
      e.field = p + "." + e.field;
      e.message = p + "." + e.message;
      return e;
    }
    out.push_back(std::move(s).value());
  }
  return out;
}

Json silence_to_json(const alerts::Silence& s, TimePoint now) {
  Json matchers = Json::array();
  for (const alerts::Matcher& m : s.matchers) {
    matchers.push_back({{"name", m.name}, {"value", m.value}, {"op", m.equal ? "=" : "!="}});
  }
  return {{"id", s.id},
          {"kind", s.kind},
          {"starts_at_ms", to_epoch_ms(s.starts_at)},
          {"ends_at_ms", to_epoch_ms(s.ends_at)},
          {"matchers", matchers},
          {"comment", s.comment},
          {"created_by", s.created_by},
          {"active", alerts::is_active(s, now)}};
}

// ---- alert states ----

namespace {
constexpr int64_t kMaxStateEpochMs = INT64_C(1) << 50;
}  // namespace

Json state_to_json(const AlertState& s) {
  Json labels = labels_json(s.labels);
  const char* heard = s.heard == alerts::Heard::kFiring     ? "firing"
                      : s.heard == alerts::Heard::kResolved ? "resolved"
                                                            : "nothing";
  return {
      {"v", alerts::kAlertStateSchema},
      {"fingerprint", s.fingerprint},
      {"alert_id", s.alert_id},
      {"rule_id", s.rule_id},
      {"rule_name", s.rule_name},
      {"type", alerts::rule_type_name(s.type)},
      {"severity", alerts::severity_name(s.severity)},
      {"scope", {{"bucket", s.scope.bucket}, {"prefix", s.scope.prefix}, {"user", s.scope.user}}},
      {"labels", labels},
      {"status", alerts::status_name(s.status)},
      {"value", s.value},
      {"threshold", s.threshold},
      {"detail", s.detail},
      {"pending_since_ms", time_or_null(s.pending_since)},
      {"fired_at_ms", time_or_null(s.fired_at)},
      {"resolved_at_ms", time_or_null(s.resolved_at)},
      {"acknowledged_at_ms", time_or_null(s.acknowledged_at)},
      {"acknowledged_by", s.acknowledged_by},
      {"ack_note", s.ack_note},
      {"resolved_by", alerts::resolved_by_text(s.resolved_by)},
      {"resolve_note", s.resolve_note},
      {"manually_resolved", s.manually_resolved},
      {"heard", heard},
      {"last_firing_notice_ms", time_or_null(s.last_firing_notice)},
      {"notified_level", s.notified_level},
      {"escalation_level", s.escalation_level},
      {"notices", s.notices},
      {"muted_by", mute_json(s.muted_by)},
      {"updated_at_ms", to_epoch_ms(s.updated_at)}};
}

Result<AlertState> state_from_json(const Json& j) {
  auto bad = [](const std::string& f) {
    return invalid_field(f, f + " is missing or of the wrong type in a stored alert state");
  };
  if (!j.is_object()) return bad("state");
  if (!j.contains("v") || j["v"] != alerts::kAlertStateSchema) {
    return invalid_field("v", "v (the alert state schema version) must be " +
                                  std::to_string(alerts::kAlertStateSchema));
  }
  AlertState s;
  std::string resolved_by;
  auto text = [&](const char* name, std::string& out) {
    if (!j.contains(name) || !j[name].is_string()) return false;
    out = j[name].get<std::string>();
    return true;
  };
  auto time = [&](const char* name, std::optional<TimePoint>& out) {
    if (!j.contains(name)) return false;
    if (j[name].is_null()) return true;
    if (!j[name].is_number_integer() || j[name].get<int64_t>() < 0 ||
        j[name].get<int64_t>() > kMaxStateEpochMs) {
      return false;
    }
    out = from_epoch_ms(j[name].get<int64_t>());
    return true;
  };
  for (auto [name, out] :
       {std::pair{"fingerprint", &s.fingerprint}, std::pair{"alert_id", &s.alert_id},
        std::pair{"rule_id", &s.rule_id}, std::pair{"rule_name", &s.rule_name},
        std::pair{"detail", &s.detail}, std::pair{"acknowledged_by", &s.acknowledged_by},
        std::pair{"ack_note", &s.ack_note}, std::pair{"resolved_by", &resolved_by},
        std::pair{"resolve_note", &s.resolve_note}}) {
    if (!text(name, *out)) return bad(name);
  }
  if (s.fingerprint.empty()) return bad("fingerprint");
  s.resolved_by = alerts::parse_resolved_by(resolved_by);
  // Absent when nothing was held back (null; "" in states stored before it was).
  if (!j.contains("muted_by")) return bad("muted_by");
  if (!j["muted_by"].is_null()) {
    auto mute = j["muted_by"].is_string() ? alerts::parse_mute(j["muted_by"].get<std::string>())
                                          : std::nullopt;
    if (!mute) return bad("muted_by");
    s.muted_by = *mute;
  }
  for (auto [name, out] :
       {std::pair{"pending_since_ms", &s.pending_since}, std::pair{"fired_at_ms", &s.fired_at},
        std::pair{"resolved_at_ms", &s.resolved_at},
        std::pair{"acknowledged_at_ms", &s.acknowledged_at},
        std::pair{"last_firing_notice_ms", &s.last_firing_notice}}) {
    if (!time(name, *out)) return bad(name);
  }
  std::string type, severity, status, heard;
  if (!text("type", type) || !alerts::parse_rule_type(type)) return bad("type");
  s.type = *alerts::parse_rule_type(type);
  if (!text("severity", severity) || !alerts::parse_severity(severity)) return bad("severity");
  s.severity = *alerts::parse_severity(severity);
  if (!text("status", status) || !alerts::parse_status(status)) return bad("status");
  s.status = *alerts::parse_status(status);
  if (!text("heard", heard) || (heard != "firing" && heard != "resolved" && heard != "nothing")) {
    return bad("heard");
  }
  s.heard = heard == "firing"     ? alerts::Heard::kFiring
            : heard == "resolved" ? alerts::Heard::kResolved
                                  : alerts::Heard::kNothing;
  if (!j.contains("scope") || !j["scope"].is_object()) return bad("scope");
  const Json& sc = j["scope"];
  for (auto [name, out] :
       {std::pair{"bucket", &s.scope.bucket}, std::pair{"prefix", &s.scope.prefix},
        std::pair{"user", &s.scope.user}}) {
    if (!sc.contains(name) || !sc[name].is_string()) return bad(std::string("scope.") + name);
    *out = sc[name].get<std::string>();
  }
  if (!j.contains("labels") || !j["labels"].is_object()) return bad("labels");
  for (const auto& item : j["labels"].items()) {
    if (!item.value().is_string()) return bad("labels." + item.key());
    s.labels[item.key()] = item.value().get<std::string>();
  }
  for (auto [name, out] : {std::pair{"value", &s.value}, std::pair{"threshold", &s.threshold}}) {
    if (!j.contains(name) || !j[name].is_number()) return bad(name);
    *out = j[name].get<double>();
  }
  if (!j.contains("manually_resolved") || !j["manually_resolved"].is_boolean()) {
    return bad("manually_resolved");
  }
  s.manually_resolved = j["manually_resolved"].get<bool>();
  if (!j.contains("notified_level") || !j["notified_level"].is_number_integer() ||
      j["notified_level"].get<int64_t>() < -1 || j["notified_level"].get<int64_t>() > 10) {
    return bad("notified_level");
  }
  s.notified_level = static_cast<int32_t>(j["notified_level"].get<int64_t>());
  if (!j.contains("escalation_level") || !j["escalation_level"].is_number_unsigned() ||
      j["escalation_level"].get<uint64_t>() > 10) {
    return bad("escalation_level");
  }
  s.escalation_level = static_cast<uint32_t>(j["escalation_level"].get<uint64_t>());
  if (!j.contains("notices") || !j["notices"].is_number_unsigned()) return bad("notices");
  s.notices = j["notices"].get<uint64_t>();
  std::optional<TimePoint> updated;
  if (!time("updated_at_ms", updated) || !updated) return bad("updated_at_ms");
  s.updated_at = *updated;
  return s;
}

Result<std::vector<AlertState>> states_from_json(const Json& j, std::string_view field) {
  std::vector<AlertState> out;
  if (j.is_null()) return out;
  if (!j.is_array())
    return invalid_field(std::string(field), std::string(field) + " must be an array");
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    auto s = state_from_json(j[i]);
    if (!s.ok()) {
      Error e = s.error();
      std::string p = std::string(field) + "[" + std::to_string(i) + "]";
      e.field = p + "." + e.field;
      e.message = p + "." + e.message;
      return e;
    }
    out.push_back(std::move(s).value());
  }
  return out;
}

Json ledger_to_json(const alerts::Ledger& l) {
  Json by_type = Json::object();
  for (const auto& [type, times] : l.notices_by_type) {
    Json list = Json::array();
    for (TimePoint t : times) list.push_back(to_epoch_ms(t));
    by_type[type] = list;
  }
  return {{"v", 1}, {"notices_by_type", by_type}};
}

Result<alerts::Ledger> ledger_from_json(const Json& j) {
  alerts::Ledger l;
  if (j.is_null()) return l;
  if (!j.is_object() || j.value("v", 0) != 1 || !j.contains("notices_by_type") ||
      !j["notices_by_type"].is_object()) {
    return invalid_field("ledger", "ledger must be a version 1 notice ledger");
  }
  for (const auto& item : j["notices_by_type"].items()) {
    if (!item.value().is_array()) return invalid_field("ledger", "ledger lists must be arrays");
    for (const Json& t : item.value()) {
      if (!t.is_number_integer()) return invalid_field("ledger", "ledger times must be ms");
      l.notices_by_type[item.key()].push_back(from_epoch_ms(t.get<int64_t>()));
    }
  }
  return l;
}

Json alert_view(const AlertState& s) {
  Json labels = labels_json(s.labels);
  return {{"id", s.alert_id},
          {"fingerprint", s.fingerprint},
          {"rule_id", s.rule_id},
          {"name", s.rule_name},
          {"type", alerts::rule_type_name(s.type)},
          {"severity", alerts::severity_name(s.severity)},
          {"state", alerts::status_name(s.status)},
          {"bucket", s.scope.bucket},
          {"prefix", s.scope.prefix},
          {"user", s.scope.user},
          {"labels", labels},
          {"value", s.value},
          {"threshold", s.threshold},
          {"detail", s.detail},
          {"started_at_ms", time_or_null(s.pending_since)},
          {"fired_at_ms", time_or_null(s.fired_at)},
          {"resolved_at_ms", time_or_null(s.resolved_at)},
          {"acknowledged_at_ms", time_or_null(s.acknowledged_at)},
          {"acknowledged_by", s.acknowledged_by},
          {"ack_note", s.ack_note},
          {"resolved_by", alerts::resolved_by_text(s.resolved_by)},
          {"resolve_note", s.resolve_note},
          {"escalation_level", s.escalation_level},
          {"muted_by", mute_json(s.muted_by)},
          {"updated_at_ms", to_epoch_ms(s.updated_at)}};
}

Json needs_to_json(const alerts::FigureNeeds& n) {
  Json windows = Json::array(), failed = Json::array(), upload = Json::array(),
       account = Json::array();
  for (Duration d : n.account_windows) account.push_back(d.count());
  for (Duration d : n.operation_windows) windows.push_back(d.count());
  for (Duration d : n.upload_windows) upload.push_back(d.count());
  for (Duration d : n.failed_access_windows) failed.push_back(d.count());
  return {{"operation_windows_ms", windows},
          {"failed_access_windows_ms", failed},
          {"upload_windows_ms", upload},
          {"account", n.account},
          {"account_windows_ms", account},
          {"cost", n.cost},
          {"growth", n.growth},
          {"quotas", n.quotas},
          {"failed_access", n.failed_access},
          {"uploads", n.uploads},
          {"breaker", n.breaker},
          {"health", n.health},
          {"database", n.database},
          {"jobs", n.jobs},
          {"requests", n.requests}};
}

Json cost_window_json(const alerts::CostWindow& w) {
  return {{"date", format_date(w.date)},
          {"month", format_year_month(w.month)},
          {"month_start_ms", to_epoch_ms(w.month_start)},
          {"baseline_from_ms", to_epoch_ms(w.baseline_from)},
          {"from_ms", to_epoch_ms(w.from)}};
}

void add_read_windows(Json& plan, const alerts::ReadWindows& w) {
  Json ranges = Json::array();
  for (const alerts::ReadRange& r : w.operations) {
    ranges.push_back({{"window_ms", r.window.count()},
                      {"from_ms", to_epoch_ms(r.from)},
                      {"to_ms", to_epoch_ms(r.to)}});
  }
  plan["operation_ranges"] = ranges;
  if (w.cost) plan["cost_window"] = cost_window_json(*w.cost);
  if (w.growth_since) plan["growth_since_ms"] = to_epoch_ms(*w.growth_since);
  if (w.failed_access_since) plan["failed_access_since_ms"] = to_epoch_ms(*w.failed_access_since);
  if (w.requests_since) plan["requests_since_ms"] = to_epoch_ms(*w.requests_since);
  if (w.account_until) plan["account_until_ms"] = to_epoch_ms(*w.account_until);
}

}  // namespace r2w::codec
