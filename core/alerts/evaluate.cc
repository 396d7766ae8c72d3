#include "core/alerts/evaluate.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/alerts/payloads.h"
#include "core/alerts/text.h"

namespace r2w::alerts {

using json = r2w::Json;

namespace {

constexpr Duration kHour = Duration(3'600'000);
constexpr int64_t kMaxEpochMs = INT64_C(1) << 50;

std::string series_key(std::string_view metric, Duration window) {
  std::string k(metric);
  k += '@';
  k += std::to_string(window.count());
  return k;
}

std::string fingerprint_of(const Rule& rule, const Scope& scope) {
  std::string text = rule.id;
  for (const std::string* s : {&scope.bucket, &scope.prefix, &scope.user}) {
    text += '\x1f';
    text += *s;
  }
  return fnv1a_hex(text);
}

bool scope_matches(const Rule& rule, const Series& s) {
  const Scope& r = rule.scope;
  if (!r.bucket.empty() && s.scope.bucket != r.bucket) return false;
  if (!r.prefix.empty() ? s.scope.prefix != r.prefix : (!s.scope.prefix.empty() && !s.natural)) {
    return false;
  }
  if (!r.user.empty() ? s.scope.user != r.user : (!s.scope.user.empty() && !s.natural)) {
    return false;
  }
  if (r.prefix.empty() && r.user.empty() && !s.natural) {
    // A coarser or finer series than the metric's own (one bucket's share of the cost): only a
    // rule naming the bucket reads it.
    return !r.bucket.empty() && s.scope.prefix.empty() && s.scope.user.empty();
  }
  return true;
}

bool is_rate(RuleType t) { return t == RuleType::kErrorRate || t == RuleType::kLatency; }

Duration repeat_of(const Rule* rule, const Settings& settings) {
  return rule && rule->repeat_interval ? *rule->repeat_interval : settings.repeat_interval;
}

json time_or_null(const std::optional<TimePoint>& t) { return t ? json(to_epoch_ms(*t)) : json(); }

void new_episode(AlertState& s, TimePoint now) {
  s.alert_id = s.fingerprint.substr(0, 12) + "-" + std::to_string(to_epoch_ms(now));
  s.pending_since = now;
  s.fired_at.reset();
  s.resolved_at.reset();
  s.acknowledged_at.reset();
  s.acknowledged_by.clear();
  s.ack_note.clear();
  s.resolved_by.clear();
  s.resolve_note.clear();
  s.escalation_level = 0;
  s.notified_level = -1;
  s.muted_by.clear();
}

void copy_rule(AlertState& s, const Rule& rule) {
  s.rule_id = rule.id;
  s.rule_name = rule.name;
  s.type = rule.type;
  s.severity = rule.severity;
  s.threshold = rule.threshold;
  s.labels = alert_labels(rule, s.scope);
}

// Moves one alert's state for this round's condition. Returns whether the status changed.
bool step(AlertState& s, const Rule* rule, bool condition, TimePoint now) {
  Status before = s.status;
  switch (s.status) {
    case Status::kInactive:
    case Status::kResolved:
      if (!condition) {
        if (s.manually_resolved) s.manually_resolved = false;  // cleared: may fire again
        break;
      }
      if (s.status == Status::kResolved && s.manually_resolved) break;
      new_episode(s, now);
      if (rule && rule->for_duration <= Duration(0)) {
        s.status = Status::kFiring;
        s.fired_at = now;
      } else {
        s.status = Status::kPending;
      }
      break;
    case Status::kPending:
      if (!condition) {
        s.status = Status::kInactive;
      } else if (rule && s.pending_since && now - *s.pending_since >= rule->for_duration) {
        s.status = Status::kFiring;
        s.fired_at = now;
      }
      break;
    case Status::kFiring:
      if (!condition) {
        s.status = Status::kResolved;
        s.resolved_at = now;
        s.resolved_by = rule && rule->enabled ? "r2watch" : "rule";
        s.resolve_note =
            rule && rule->enabled ? "the condition cleared" : "the rule was removed or disabled";
      }
      break;
  }
  return s.status != before;
}

struct Notice {
  AlertState* alert;
  std::string kind;
  uint32_t level_min;
  uint32_t level_max;
};

std::vector<const Channel*> channels_for(const Settings& settings, const Rule* rule,
                                         const AlertState& a, uint32_t level_min,
                                         uint32_t level_max) {
  std::vector<const Channel*> out;
  for (const Channel& c : settings.channels) {
    if (!c.enabled || a.severity < c.min_severity) continue;
    if (c.escalation_level < level_min || c.escalation_level > level_max) continue;
    if (rule && !rule->channels.empty() &&
        std::find(rule->channels.begin(), rule->channels.end(), c.name) == rule->channels.end()) {
      continue;
    }
    out.push_back(&c);
  }
  return out;
}

// Groups notices by (channel, kind) into notifications; PagerDuty and GitHub get one per alert.
void build_notifications(const std::vector<Notice>& notices,
                         const std::unordered_map<std::string, const Rule*>& rules,
                         const Settings& settings, TimePoint now, std::vector<Notification>& out) {
  struct Group {
    const Channel* channel;
    std::string kind;
    std::vector<const AlertState*> alerts;
    std::vector<std::string> keys;
  };
  std::map<std::pair<std::string, std::string>, Group> groups;
  std::vector<std::pair<std::string, std::string>> order;
  for (const Notice& n : notices) {
    auto it = rules.find(n.alert->rule_id);
    const Rule* rule = it == rules.end() ? nullptr : it->second;
    std::string key = n.alert->fingerprint + ":" + std::to_string(n.alert->notices);
    for (const Channel* c : channels_for(settings, rule, *n.alert, n.level_min, n.level_max)) {
      std::string group_kind = n.kind;
      std::pair<std::string, std::string> g{c->name, group_kind};
      // PagerDuty and GitHub: one event (one issue) per alert.
      if (c->type == ChannelType::kPagerDuty || c->type == ChannelType::kGithub) {
        g.second += "/" + n.alert->fingerprint;
      }
      auto [pos, inserted] = groups.try_emplace(g, Group{c, n.kind, {}, {}});
      if (inserted) order.push_back(g);
      pos->second.alerts.push_back(n.alert);
      pos->second.keys.push_back(key);
    }
  }
  for (const auto& g : order) {
    Group& group = groups.at(g);
    std::vector<std::string> keys = group.keys;
    std::sort(keys.begin(), keys.end());
    std::string joined;
    for (const std::string& k : keys) joined += k + ",";
    Notification n;
    n.channel = group.channel->name;
    n.type = group.channel->type;
    n.kind = group.kind;
    n.key = n.kind + ":" + n.channel + ":" + fnv1a_hex(joined);
    for (const AlertState* a : group.alerts) n.alert_ids.push_back(a->alert_id);
    n.body = build_body(*group.channel, n.kind, group.alerts, settings, now);
    if (n.type == ChannelType::kAlertmanager) n.path = "/api/v2/alerts";
    if (n.type == ChannelType::kPagerDuty) n.secret_field = "routing_key";
    out.push_back(std::move(n));
  }
}

void record_notice(AlertState& a, const std::string& kind, uint32_t level_max, TimePoint now) {
  a.notices++;
  a.muted_by.clear();
  if (kind == "resolved") {
    a.heard = Heard::kResolved;
    return;
  }
  if (kind == "firing" || kind == "repeat") a.last_firing_notice = now;
  if (kind == "firing") a.heard = Heard::kFiring;
  a.notified_level = std::max<int32_t>(a.notified_level, static_cast<int32_t>(level_max));
}

std::string user_notice_text(const AlertState& a) {
  return "Your r2watch storage is at " + format_number(a.value) + "% of its quota (" + a.detail +
         "). Delete files you no longer need or ask for a larger quota.";
}

}  // namespace

std::string_view status_name(Status s) {
  switch (s) {
    case Status::kInactive:
      return "inactive";
    case Status::kPending:
      return "pending";
    case Status::kFiring:
      return "firing";
    case Status::kResolved:
      return "resolved";
  }
  return "inactive";
}

std::optional<Status> parse_status(std::string_view name) {
  for (Status s : {Status::kInactive, Status::kPending, Status::kFiring, Status::kResolved}) {
    if (status_name(s) == name) return s;
  }
  return std::nullopt;
}

json state_to_json(const AlertState& s) {
  json labels = json::object();
  for (const auto& [k, v] : s.labels) labels[k] = v;
  const char* heard = s.heard == Heard::kFiring     ? "firing"
                      : s.heard == Heard::kResolved ? "resolved"
                                                    : "nothing";
  return {
      {"v", kAlertStateSchema},
      {"fingerprint", s.fingerprint},
      {"alert_id", s.alert_id},
      {"rule_id", s.rule_id},
      {"rule_name", s.rule_name},
      {"type", rule_type_name(s.type)},
      {"severity", severity_name(s.severity)},
      {"scope", {{"bucket", s.scope.bucket}, {"prefix", s.scope.prefix}, {"user", s.scope.user}}},
      {"labels", labels},
      {"status", status_name(s.status)},
      {"value", s.value},
      {"threshold", s.threshold},
      {"detail", s.detail},
      {"pending_since_ms", time_or_null(s.pending_since)},
      {"fired_at_ms", time_or_null(s.fired_at)},
      {"resolved_at_ms", time_or_null(s.resolved_at)},
      {"acknowledged_at_ms", time_or_null(s.acknowledged_at)},
      {"acknowledged_by", s.acknowledged_by},
      {"ack_note", s.ack_note},
      {"resolved_by", s.resolved_by},
      {"resolve_note", s.resolve_note},
      {"manually_resolved", s.manually_resolved},
      {"heard", heard},
      {"last_firing_notice_ms", time_or_null(s.last_firing_notice)},
      {"notified_level", s.notified_level},
      {"escalation_level", s.escalation_level},
      {"notices", s.notices},
      {"muted_by", s.muted_by},
      {"updated_at_ms", to_epoch_ms(s.updated_at)}};
}

Result<AlertState> state_from_json(const json& j) {
  auto bad = [](const std::string& f) {
    return invalid_field(f, f + " is missing or of the wrong type in a stored alert state");
  };
  if (!j.is_object()) return bad("state");
  if (!j.contains("v") || j["v"] != kAlertStateSchema) {
    return invalid_field(
        "v", "v (the alert state schema version) must be " + std::to_string(kAlertStateSchema));
  }
  AlertState s;
  auto text = [&](const char* name, std::string& out) {
    if (!j.contains(name) || !j[name].is_string()) return false;
    out = j[name].get<std::string>();
    return true;
  };
  auto time = [&](const char* name, std::optional<TimePoint>& out) {
    if (!j.contains(name)) return false;
    if (j[name].is_null()) return true;
    if (!j[name].is_number_integer() || j[name].get<int64_t>() < 0 ||
        j[name].get<int64_t>() > kMaxEpochMs) {
      return false;
    }
    out = from_epoch_ms(j[name].get<int64_t>());
    return true;
  };
  for (auto [name, out] :
       {std::pair{"fingerprint", &s.fingerprint}, std::pair{"alert_id", &s.alert_id},
        std::pair{"rule_id", &s.rule_id}, std::pair{"rule_name", &s.rule_name},
        std::pair{"detail", &s.detail}, std::pair{"acknowledged_by", &s.acknowledged_by},
        std::pair{"ack_note", &s.ack_note}, std::pair{"resolved_by", &s.resolved_by},
        std::pair{"resolve_note", &s.resolve_note}, std::pair{"muted_by", &s.muted_by}}) {
    if (!text(name, *out)) return bad(name);
  }
  if (s.fingerprint.empty()) return bad("fingerprint");
  for (auto [name, out] :
       {std::pair{"pending_since_ms", &s.pending_since}, std::pair{"fired_at_ms", &s.fired_at},
        std::pair{"resolved_at_ms", &s.resolved_at},
        std::pair{"acknowledged_at_ms", &s.acknowledged_at},
        std::pair{"last_firing_notice_ms", &s.last_firing_notice}}) {
    if (!time(name, *out)) return bad(name);
  }
  std::string type, severity, status, heard;
  if (!text("type", type) || !parse_rule_type(type)) return bad("type");
  s.type = *parse_rule_type(type);
  if (!text("severity", severity) || !parse_severity(severity)) return bad("severity");
  s.severity = *parse_severity(severity);
  if (!text("status", status) || !parse_status(status)) return bad("status");
  s.status = *parse_status(status);
  if (!text("heard", heard) || (heard != "firing" && heard != "resolved" && heard != "nothing")) {
    return bad("heard");
  }
  s.heard = heard == "firing"     ? Heard::kFiring
            : heard == "resolved" ? Heard::kResolved
                                  : Heard::kNothing;
  if (!j.contains("scope") || !j["scope"].is_object()) return bad("scope");
  const json& sc = j["scope"];
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

Result<std::vector<AlertState>> states_from_json(const json& j, std::string_view field) {
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

json ledger_to_json(const Ledger& l) {
  json by_type = json::object();
  for (const auto& [type, times] : l.notices_by_type) {
    json list = json::array();
    for (TimePoint t : times) list.push_back(to_epoch_ms(t));
    by_type[type] = list;
  }
  return {{"v", 1}, {"notices_by_type", by_type}};
}

Result<Ledger> ledger_from_json(const json& j) {
  Ledger l;
  if (j.is_null()) return l;
  if (!j.is_object() || j.value("v", 0) != 1 || !j.contains("notices_by_type") ||
      !j["notices_by_type"].is_object()) {
    return invalid_field("ledger", "ledger must be a version 1 notice ledger");
  }
  for (const auto& item : j["notices_by_type"].items()) {
    if (!item.value().is_array()) return invalid_field("ledger", "ledger lists must be arrays");
    for (const json& t : item.value()) {
      if (!t.is_number_integer()) return invalid_field("ledger", "ledger times must be ms");
      l.notices_by_type[item.key()].push_back(from_epoch_ms(t.get<int64_t>()));
    }
  }
  return l;
}

json notification_to_json(Notification n) {
  json out = json::object();
  out["key"] = std::move(n.key);
  out["channel"] = std::move(n.channel);
  out["channel_type"] = channel_type_name(n.type);
  out["kind"] = std::move(n.kind);
  out["alert_ids"] = std::move(n.alert_ids);
  out["body"] = std::move(n.body);
  if (!n.path.empty()) out["path"] = n.path;
  if (!n.secret_field.empty()) out["secret_field"] = n.secret_field;
  return out;
}

json alert_view(const AlertState& s) {
  json labels = json::object();
  for (const auto& [k, v] : s.labels) labels[k] = v;
  return {{"id", s.alert_id},
          {"fingerprint", s.fingerprint},
          {"rule_id", s.rule_id},
          {"name", s.rule_name},
          {"type", rule_type_name(s.type)},
          {"severity", severity_name(s.severity)},
          {"state", status_name(s.status)},
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
          {"resolved_by", s.resolved_by},
          {"resolve_note", s.resolve_note},
          {"escalation_level", s.escalation_level},
          {"muted_by", s.muted_by},
          {"updated_at_ms", to_epoch_ms(s.updated_at)}};
}

CheckResult check(const CheckInput& in) {
  CheckResult out;
  const TimePoint now = in.now;
  const Settings& settings = in.settings;

  std::unordered_map<std::string, std::vector<const Series*>> index;
  index.reserve(64);
  for (const Series& s : in.series) index[series_key(s.metric, s.window)].push_back(&s);

  std::unordered_map<std::string, const Rule*> rules;
  for (const Rule& r : in.rules) rules[r.id] = &r;

  std::unordered_map<std::string, AlertState> states;
  states.reserve(in.states.size() * 2 + 16);
  std::vector<std::string> order;  // fingerprints in a stable order
  for (const AlertState& s : in.states) {
    if (states.emplace(s.fingerprint, s).second) order.push_back(s.fingerprint);
  }
  std::unordered_set<std::string> seen, touched;
  std::unordered_set<std::string> rules_with_states;
  for (const AlertState& s : in.states) rules_with_states.insert(s.rule_id);

  // 1. Conditions of every enabled rule over its matching series.
  for (const Rule& rule : in.rules) {
    if (!rule.enabled) continue;
    out.rules_evaluated++;
    auto it =
        index.find(series_key(metric_of(rule), uses_window(rule.type) ? rule.window : Duration(0)));
    if (it == index.end()) continue;
    for (const Series* s : it->second) {
      if (!scope_matches(rule, *s)) continue;
      out.series_matched++;
      bool condition =
          (!is_rate(rule.type) || s->samples >= std::max<uint64_t>(rule.min_calls, 1)) &&
          compare(s->value, rule.comparison, rule.threshold);
      if (!condition && !rules_with_states.contains(rule.id)) continue;  // nothing to remember
      std::string fp = fingerprint_of(rule, s->scope);
      auto found = states.find(fp);
      if (found == states.end()) {
        if (!condition) continue;  // nothing to remember
        AlertState fresh;
        fresh.fingerprint = fp;
        fresh.scope = s->scope;
        found = states.emplace(fp, std::move(fresh)).first;
        order.push_back(fp);
      }
      AlertState& a = found->second;
      seen.insert(fp);
      copy_rule(a, rule);
      bool moved = step(a, &rule, condition, now);
      if (moved || a.value != s->value || a.detail != s->detail) touched.insert(fp);
      a.value = s->value;
      a.detail = s->detail;
      if (moved && a.status == Status::kFiring && rule.actions.force_breaker_open) {
        out.actions.push_back(Action{"force_breaker_open", a.alert_id, rule.id});
      }
    }
  }
  // 2. Alerts whose rule found no figure this round (no data, rule disabled or removed).
  for (const std::string& fp : order) {
    if (seen.contains(fp)) continue;
    AlertState& a = states.at(fp);
    auto it = rules.find(a.rule_id);
    const Rule* rule = it == rules.end() ? nullptr : it->second;
    if (rule && rule->enabled) copy_rule(a, *rule);
    if (step(a, rule, false, now)) touched.insert(fp);
  }

  // 3. Inhibition: sources are firing alerts of each rule's source severity.
  std::vector<std::set<std::vector<std::string>>> sources(settings.inhibit.size());
  auto label_tuple = [](const AlertState& a, const std::vector<std::string>& names) {
    std::vector<std::string> t;
    for (const std::string& n : names) {
      auto it = a.labels.find(n);
      t.push_back(it == a.labels.end() ? "" : it->second);
    }
    return t;
  };
  for (const std::string& fp : order) {
    const AlertState& a = states.at(fp);
    if (a.status != Status::kFiring) continue;
    for (size_t i = 0; i < settings.inhibit.size(); ++i) {
      if (a.severity == settings.inhibit[i].source_severity) {
        sources[i].insert(label_tuple(a, settings.inhibit[i].equal));
      }
    }
  }
  auto inhibited = [&](const AlertState& a) {
    for (size_t i = 0; i < settings.inhibit.size(); ++i) {
      const InhibitRule& r = settings.inhibit[i];
      if (std::find(r.target_severities.begin(), r.target_severities.end(), a.severity) ==
          r.target_severities.end()) {
        continue;
      }
      if (sources[i].contains(label_tuple(a, r.equal))) return true;
    }
    return false;
  };
  auto silenced_by = [&](const AlertState& a) -> std::string {
    for (const Silence& s : in.silences) {
      if (matches(s, a.labels, now)) return s.kind + ":" + s.id;
    }
    return "";
  };

  // 4. Notices due, most severe first (so suppression keeps the ones that matter).
  std::vector<AlertState*> candidates;
  for (const std::string& fp : order) {
    AlertState& a = states.at(fp);
    bool due = a.status == Status::kFiring || a.heard == Heard::kFiring;
    if (due) candidates.push_back(&a);
  }
  std::stable_sort(
      candidates.begin(), candidates.end(),
      [](const AlertState* x, const AlertState* y) { return x->severity > y->severity; });
  Ledger ledger = in.ledger;
  for (auto& [type, times] : ledger.notices_by_type) {
    std::erase_if(times, [&](TimePoint t) { return t <= now - kHour || t > now; });
  }
  std::vector<Notice> notices;
  for (AlertState* a : candidates) {
    auto it = rules.find(a->rule_id);
    const Rule* rule = it == rules.end() ? nullptr : it->second;
    std::string before_muted = a->muted_by;
    if (a->status != Status::kFiring || a->manually_resolved) {
      if (a->heard == Heard::kFiring) {
        uint32_t level = static_cast<uint32_t>(std::max(a->notified_level, 0));
        notices.push_back(Notice{a, "resolved", 0, level});
      }
      continue;
    }
    std::string muted = silenced_by(*a);
    if (muted.empty() && inhibited(*a)) muted = "inhibited";
    Duration repeat = repeat_of(rule, settings);
    std::string kind;
    uint32_t level_min = 0, level_max = a->escalation_level;
    if (a->heard != Heard::kFiring) {
      if (a->last_firing_notice && now - *a->last_firing_notice < repeat) {
        a->muted_by = "flapping";
      } else if (!muted.empty()) {
        a->muted_by = muted;
      } else {
        kind = "firing";
      }
    } else {
      uint32_t target = 0;
      if (!a->acknowledged_at && a->fired_at) {
        for (Duration after : settings.escalation_after) {
          if (now - *a->fired_at >= after) target++;
        }
      }
      if (target > a->escalation_level) {
        if (!muted.empty()) {
          a->muted_by = muted;
        } else {
          kind = "escalation";
          level_min = a->escalation_level + 1;
          level_max = target;
        }
      } else if (!a->acknowledged_at && a->last_firing_notice &&
                 now - *a->last_firing_notice >= repeat) {
        if (!muted.empty()) {
          a->muted_by = muted;
        } else {
          kind = "repeat";
        }
      } else if (muted.empty() && !a->muted_by.empty()) {
        a->muted_by.clear();
      }
    }
    if (!kind.empty()) {
      std::vector<TimePoint>& sent = ledger.notices_by_type[std::string(rule_type_name(a->type))];
      if (sent.size() >= settings.max_notices_per_type_per_hour) {
        a->muted_by = "suppressed";
        kind.clear();
      } else {
        sent.push_back(now);
      }
    }
    if (!kind.empty()) {
      if (kind == "escalation") a->escalation_level = level_max;
      notices.push_back(Notice{a, kind, level_min, level_max});
    }
    if (a->muted_by != before_muted) touched.insert(a->fingerprint);
  }
  for (Notice& n : notices) {
    record_notice(*n.alert, n.kind, n.level_max, now);
    touched.insert(n.alert->fingerprint);
  }
  build_notifications(notices, rules, settings, now, out.notifications);

  // 5. Users told of their quota (automated response of quota rules).
  for (const Notice& n : notices) {
    if (n.kind != "firing" || n.alert->type != RuleType::kQuotaUsage) continue;
    auto it = rules.find(n.alert->rule_id);
    if (it == rules.end() || !it->second->actions.notify_user || n.alert->scope.user.empty())
      continue;
    auto email = in.user_emails.find(n.alert->scope.user);
    std::string from = "r2watch@localhost";
    for (const Channel& c : settings.channels) {
      if (c.type == ChannelType::kEmail && c.enabled) {
        from = c.from;
        break;
      }
    }
    Channel user_channel{.name = "user:" + n.alert->scope.user,
                         .type = ChannelType::kEmail,
                         .to = {email == in.user_emails.end() ? "" : email->second},
                         .from = from};
    Notification u;
    u.channel = user_channel.name;
    u.type = ChannelType::kEmail;
    u.kind = "user";
    u.key = "user:" + n.alert->fingerprint + ":" + std::to_string(n.alert->notices);
    u.alert_ids = {n.alert->alert_id};
    u.body = build_body(user_channel, "user", {n.alert}, settings, now);
    u.body["text"] = user_notice_text(*n.alert);
    u.body["user"] = n.alert->scope.user;
    out.notifications.push_back(std::move(u));
  }

  // 6. What to store, what to forget.
  for (const std::string& fp : order) {
    AlertState& a = states.at(fp);
    bool forgettable =
        (a.status == Status::kInactive ||
         (a.status == Status::kResolved && !a.manually_resolved)) &&
        a.heard != Heard::kFiring &&
        (!a.last_firing_notice || now - *a.last_firing_notice >= settings.repeat_interval) &&
        (!a.resolved_at || now - *a.resolved_at >= kHour);
    if (a.status == Status::kFiring) out.firing++;
    if (a.status == Status::kPending) out.pending++;
    if (forgettable && !touched.contains(fp)) {
      out.dropped.push_back(fp);
      continue;
    }
    if (touched.contains(fp)) {
      a.updated_at = now;
      out.changed.push_back(a);
    }
  }
  out.ledger = std::move(ledger);
  return out;
}

Result<ManualResult> acknowledge(AlertState s, const std::string& by, const std::string& note,
                                 const std::vector<Rule>& rules, const Settings& settings,
                                 TimePoint now) {
  if (s.status != Status::kFiring || s.manually_resolved) {
    return Error{.code = "conflict",
                 .message = "alert " + s.alert_id + " is " + std::string(status_name(s.status)) +
                            ": only a firing alert can be acknowledged",
                 .field = "id"};
  }
  if (s.acknowledged_at) {
    return Error{.code = "conflict",
                 .message = "alert " + s.alert_id + " is already acknowledged",
                 .field = "id"};
  }
  s.acknowledged_at = now;
  s.acknowledged_by = by;
  s.ack_note = note;
  s.updated_at = now;
  ManualResult out{.state = s, .notifications = {}};
  if (s.heard == Heard::kFiring) {
    // PagerDuty acknowledges the incident; GitHub gets a comment on the alert's issue.
    Settings pagerduty_only = settings;
    std::erase_if(pagerduty_only.channels, [](const Channel& c) {
      return c.type != ChannelType::kPagerDuty && c.type != ChannelType::kGithub;
    });
    std::unordered_map<std::string, const Rule*> by_id;
    for (const Rule& r : rules) by_id[r.id] = &r;
    out.state.notices++;
    std::vector<Notice> notices{Notice{&out.state, "acknowledged", 0,
                                       static_cast<uint32_t>(std::max(s.notified_level, 0))}};
    build_notifications(notices, by_id, pagerduty_only, now, out.notifications);
  }
  return out;
}

Result<ManualResult> resolve_by_hand(AlertState s, const std::string& by, const std::string& note,
                                     const std::vector<Rule>& rules, const Settings& settings,
                                     TimePoint now) {
  if ((s.status != Status::kFiring && s.status != Status::kPending) || s.manually_resolved) {
    return Error{.code = "conflict",
                 .message = "alert " + s.alert_id + " is " + std::string(status_name(s.status)) +
                            ": only a pending or firing alert can be resolved",
                 .field = "id"};
  }
  bool was_heard = s.heard == Heard::kFiring;
  s.status = Status::kResolved;
  s.manually_resolved = true;
  s.resolved_at = now;
  s.resolved_by = by;
  s.resolve_note = note;
  s.muted_by.clear();
  s.updated_at = now;
  ManualResult out{.state = s, .notifications = {}};
  if (was_heard) {
    std::unordered_map<std::string, const Rule*> by_id;
    for (const Rule& r : rules) by_id[r.id] = &r;
    std::vector<Notice> notices{
        Notice{&out.state, "resolved", 0, static_cast<uint32_t>(std::max(s.notified_level, 0))}};
    record_notice(out.state, "resolved", 0, now);
    build_notifications(notices, by_id, settings, now, out.notifications);
  }
  return out;
}

Result<Notification> test_notification(const Settings& settings, const std::string& channel,
                                       TimePoint now) {
  const Channel* c = nullptr;
  for (const Channel& x : settings.channels) {
    if (x.name == channel) c = &x;
  }
  if (!c)
    return Error{.code = "not_found", .message = "no channel named " + channel, .field = "channel"};
  AlertState a;
  a.fingerprint = fnv1a_hex("test\x1f" + channel);
  a.alert_id = "test-" + std::to_string(to_epoch_ms(now));
  a.rule_id = "test";
  a.rule_name = "r2watch test notification";
  a.type = RuleType::kHealthStatus;
  a.severity = Severity::kLow;
  a.status = Status::kFiring;
  a.detail = "a test of channel " + channel + ": no action is needed";
  a.fired_at = now;
  a.pending_since = now;
  a.labels = {
      {"alertname", a.rule_name}, {"rule_id", "test"}, {"severity", "low"}, {"type", "test"}};
  Notification n;
  n.channel = c->name;
  n.type = c->type;
  n.kind = "test";
  n.key = "test:" + c->name + ":" + std::to_string(to_epoch_ms(now));
  n.alert_ids = {a.alert_id};
  n.body = build_body(*c, "test", {&a}, settings, now);
  if (n.type == ChannelType::kAlertmanager) n.path = "/api/v2/alerts";
  if (n.type == ChannelType::kPagerDuty) n.secret_field = "routing_key";
  return n;
}

}  // namespace r2w::alerts
