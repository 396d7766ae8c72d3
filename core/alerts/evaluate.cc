#include "core/alerts/evaluate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/alerts/payloads.h"
#include "core/alerts/round.h"
#include "core/alerts/text.h"

namespace r2w::alerts {

namespace {

constexpr Duration kHour = Duration(3'600'000);

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

void new_episode(AlertState& s, TimePoint now) {
  s.alert_id = s.fingerprint.substr(0, 12) + "-" + std::to_string(to_epoch_ms(now));
  s.pending_since = now;
  s.fired_at.reset();
  s.resolved_at.reset();
  s.acknowledged_at.reset();
  s.acknowledged_by.clear();
  s.ack_note.clear();
  s.resolved_by = ResolvedBy{};
  s.resolve_note.clear();
  s.escalation_level = 0;
  s.notified_level = -1;
  s.muted_by = Mute{};
}

// Copies the rule's fields into an alert; whether any of them changed (so the stored state
// names the rule as it is now).
bool copy_rule(AlertState& s, const Rule& rule) {
  auto labels = alert_labels(rule, s.scope);
  bool changed = s.rule_id != rule.id || s.rule_name != rule.name || s.type != rule.type ||
                 s.severity != rule.severity || s.threshold != rule.threshold || s.labels != labels;
  s.rule_id = rule.id;
  s.rule_name = rule.name;
  s.type = rule.type;
  s.severity = rule.severity;
  s.threshold = rule.threshold;
  s.labels = std::move(labels);
  return changed;
}

// Moves one alert's state for this round's condition. Returns whether the status changed.
enum class Condition : uint8_t { kClear, kHolds };

bool step(AlertState& s, const Rule* rule, Condition held, TimePoint now) {
  const bool condition = held == Condition::kHolds;
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
        s.resolved_by.resolver =
            rule && rule->enabled ? Resolver::kConditionCleared : Resolver::kRuleGone;
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
  a.muted_by = Mute{};
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

std::string mute_text(const Mute& m) {
  switch (m.reason) {
    case MuteReason::kNone:
      return "";
    case MuteReason::kSilence:
      return "silence:" + m.silence_id;
    case MuteReason::kMaintenance:
      return "maintenance:" + m.silence_id;
    case MuteReason::kInhibited:
      return "inhibited";
    case MuteReason::kFlapping:
      return "flapping";
    case MuteReason::kSuppressed:
      return "suppressed";
  }
  return "";
}

std::string resolved_by_text(const ResolvedBy& r) {
  switch (r.resolver) {
    case Resolver::kNobody:
      return "";
    case Resolver::kConditionCleared:
      return "r2watch";
    case Resolver::kRuleGone:
      return "rule";
    case Resolver::kPerson:
      return r.person;
  }
  return "";
}

ResolvedBy parse_resolved_by(std::string_view text) {
  if (text.empty()) return ResolvedBy{};
  if (text == "r2watch") return ResolvedBy{.resolver = Resolver::kConditionCleared};
  if (text == "rule") return ResolvedBy{.resolver = Resolver::kRuleGone};
  return ResolvedBy{.resolver = Resolver::kPerson, .person = std::string(text)};
}

bool reserved_actor_name(std::string_view name) {
  return parse_resolved_by(name).resolver != Resolver::kPerson;
}

std::optional<Mute> parse_mute(std::string_view text) {
  if (text.empty()) return Mute{};
  if (text == "inhibited") return Mute{.reason = MuteReason::kInhibited};
  if (text == "flapping") return Mute{.reason = MuteReason::kFlapping};
  if (text == "suppressed") return Mute{.reason = MuteReason::kSuppressed};
  for (auto [prefix, reason] :
       {std::pair{std::string_view("silence:"), MuteReason::kSilence},
        std::pair{std::string_view("maintenance:"), MuteReason::kMaintenance}}) {
    if (text.starts_with(prefix)) {
      return Mute{.reason = reason, .silence_id = std::string(text.substr(prefix.size()))};
    }
  }
  return std::nullopt;
}

SeriesKey key_of(const Series& s) {
  return SeriesKey{.metric = s.metric, .scope = s.scope, .window = s.window, .natural = s.natural};
}

namespace {

std::string scope_text(std::string_view metric, Duration window, const Scope& scope) {
  std::string k = series_key(metric, window);
  for (const std::string* s : {&scope.bucket, &scope.prefix, &scope.user}) {
    k += '\x1f';
    k += *s;
  }
  return k;
}

bool condition_of(const Rule& rule, double value, double samples) {
  return (!is_rate(rule.type) ||
          samples >= static_cast<double>(std::max<uint32_t>(rule.min_calls, 1))) &&
         compare(value, rule.comparison, rule.threshold);
}

}  // namespace

void Round::set_rules(std::vector<Rule> rules) {
  rules_ = std::move(rules);
  rule_by_id_.clear();
  rule_index_.clear();
  for (size_t i = 0; i < rules_.size(); ++i) {
    rule_by_id_[rules_[i].id] = &rules_[i];
    rule_index_[rules_[i].id] = static_cast<uint32_t>(i);
  }
  rules_version_++;
  has_rules_ = true;
  stale_ = true;
}

uint32_t Round::add_key(const SeriesKey& key) {
  uint32_t i = static_cast<uint32_t>(keys_.size());
  keys_.push_back(key);
  by_scope_[scope_text(key.metric, key.window, key.scope)].push_back(i);
  details_.emplace_back();
  values_.push_back(std::numeric_limits<double>::quiet_NaN());
  samples_.push_back(0);
  stale_ = true;
  return i;
}

std::optional<uint32_t> Round::intern(const SeriesKey& key) {
  if (table_ == KeyTable::kEachSeries) {
    if (keys_.size() >= kMaxSeriesKeys) return std::nullopt;
    return add_key(key);
  }
  std::string text = scope_text(key.metric, key.window, key.scope);
  text += key.natural ? "\x1fn" : "\x1f-";
  auto it = key_index_.find(text);
  if (it != key_index_.end()) return it->second;
  if (keys_.size() >= kMaxSeriesKeys) return std::nullopt;
  uint32_t i = add_key(key);
  key_index_.emplace(std::move(text), i);
  return i;
}

void Round::clear_keys() {
  keys_.clear();
  key_index_.clear();
  by_scope_.clear();
  values_.clear();
  samples_.clear();
  details_.clear();
  detailed_.clear();
  stale_ = true;
}

void Round::set_detail(uint32_t i, std::string detail) {
  if (i >= details_.size()) return;
  if (details_[i].empty() && !detail.empty()) detailed_.push_back(i);
  details_[i] = std::move(detail);
}

void Round::restore(std::vector<AlertState> states, Ledger ledger, uint64_t generation) {
  slots_.clear();
  order_.clear();
  slots_.reserve(states.size() * 2 + 16);
  for (AlertState& s : states) {
    std::string fp = s.fingerprint;
    auto [it, inserted] = slots_.try_emplace(std::move(fp));
    if (!inserted) continue;  // the first of a fingerprint counts
    it->second.state = std::move(s);
    order_.push_back(&it->second);
  }
  ledger_ = std::move(ledger);
  generation_ = generation;
  stale_ = true;
}

void Round::forget() {
  slots_.clear();
  order_.clear();
  ledger_ = Ledger{};
  generation_.reset();
  stale_ = true;
}

const AlertState* Round::state(const std::string& fingerprint) const {
  auto it = slots_.find(fingerprint);
  return it == slots_.end() ? nullptr : &it->second.state;
}

void Round::link(Slot& slot, uint32_t rule, uint32_t key) {
  slot.rule = static_cast<int32_t>(rule);
  slot.key = static_cast<int32_t>(key);
  linked_[rule][key] = &slot;
}

void Round::unlink(Slot& slot) {
  if (slot.rule >= 0 && static_cast<size_t>(slot.rule) < linked_.size()) {
    auto& m = linked_[static_cast<size_t>(slot.rule)];
    auto it = m.find(static_cast<uint32_t>(slot.key));
    if (it != m.end() && it->second == &slot) m.erase(it);
  }
  slot.rule = -1;
  slot.key = -1;
}

// Which keys each rule reads (by metric and window, and bucket when it names one), and which
// held state each (rule, key) is.
void Round::rebuild() {
  std::unordered_map<std::string, std::vector<uint32_t>> by_metric, by_bucket;
  for (uint32_t i = 0; i < keys_.size(); ++i) {
    std::string m = series_key(keys_[i].metric, keys_[i].window);
    by_bucket[m + '\x1f' + keys_[i].scope.bucket].push_back(i);
    by_metric[std::move(m)].push_back(i);
  }
  matches_.assign(rules_.size(), {});
  linked_.assign(rules_.size(), {});
  for (size_t r = 0; r < rules_.size(); ++r) {
    const Rule& rule = rules_[r];
    std::string m = series_key(metric_of(rule), uses_window(rule.type) ? rule.window : Duration(0));
    const auto& index = rule.scope.bucket.empty() ? by_metric : by_bucket;
    auto it = index.find(rule.scope.bucket.empty() ? m : m + '\x1f' + rule.scope.bucket);
    if (it == index.end()) continue;
    for (uint32_t k : it->second) {
      Series probe{.metric = keys_[k].metric, .scope = keys_[k].scope, .natural = keys_[k].natural};
      if (scope_matches(rule, probe)) matches_[r].push_back(k);
    }
  }
  for (Slot* slot : order_) {
    slot->rule = -1;
    slot->key = -1;
    auto r = rule_index_.find(slot->state.rule_id);
    if (r == rule_index_.end()) continue;
    const Rule& rule = rules_[r->second];
    auto keys = by_scope_.find(scope_text(
        metric_of(rule), uses_window(rule.type) ? rule.window : Duration(0), slot->state.scope));
    if (keys == by_scope_.end()) continue;
    for (uint32_t k : keys->second) {
      Series probe{.metric = keys_[k].metric, .scope = keys_[k].scope, .natural = keys_[k].natural};
      if (!scope_matches(rule, probe) || linked_[r->second].contains(k)) continue;
      link(*slot, r->second, k);
      break;
    }
  }
  stale_ = false;
}

CheckResult check(const CheckInput& in) {
  Round round(KeyTable::kEachSeries);
  round.set_rules(in.rules);
  round.set_settings(in.settings);
  round.restore(in.states, in.ledger, 0);
  return round.run(RoundInput{.series = &in.series,
                              .silences = &in.silences,
                              .user_emails = &in.user_emails,
                              .now = in.now});
}

CheckResult Round::run(const RoundInput& in) {
  CheckResult out;
  const TimePoint now = in.now;
  const Settings& settings = settings_;
  const uint64_t round = ++round_;
  static const std::vector<Silence> kNoSilences;
  static const std::map<std::string, std::string> kNoEmails;
  const std::vector<Silence>& silences = in.silences ? *in.silences : kNoSilences;
  const std::map<std::string, std::string>& user_emails =
      in.user_emails ? *in.user_emails : kNoEmails;

  // This round's computed figures join the key table's.
  if (in.series) {
    for (const Series& s : *in.series) {
      auto k = intern(key_of(s));
      if (!k) continue;
      values_[*k] = s.value;
      samples_[*k] = static_cast<double>(s.samples);
      set_detail(*k, s.detail);
    }
  }
  if (stale_) rebuild();
  for (double v : values_) out.series += std::isnan(v) ? 0 : 1;
  const double* values = values_.data();
  const double* samples = samples_.data();
  static const std::string kNoDetail;
  auto detail_of = [&](uint32_t k) -> const std::string& {
    return k < details_.size() ? details_[k] : kNoDetail;
  };
  const std::unordered_map<std::string, const Rule*>& rules = rule_by_id_;

  auto visit = [&](Slot& slot, const Rule& rule, uint32_t k, Condition held) {
    AlertState& a = slot.state;
    slot.seen = round;
    bool copied = false;
    if (slot.copied != rules_version_) {
      copied = copy_rule(a, rule);
      slot.copied = rules_version_;
    }
    const bool was_manual = a.manually_resolved;
    bool moved = step(a, &rule, held, now);
    const std::string& detail = detail_of(k);
    if (moved || copied || was_manual != a.manually_resolved) {
      slot.touched = round;
      slot.changed = round;
    } else if (a.value != values[k] || a.detail != detail) {
      slot.touched = round;
    }
    a.value = values[k];
    a.detail = detail;
    if (moved && a.status == Status::kFiring && rule.actions.force_breaker_open) {
      out.actions.push_back(Action{ActionType::kForceBreakerOpen, a.alert_id, rule.id});
    }
  };

  // 1. Conditions of every enabled rule over its matching series: where the condition holds
  // (a state is found or made), then the rule's held states whose condition cleared.
  for (size_t r = 0; r < rules_.size(); ++r) {
    const Rule& rule = rules_[r];
    if (!rule.enabled) continue;
    out.rules_evaluated++;
    auto& linked = linked_[r];
    // condition_of(), with the rule's parts read once (this loop runs over every match).
    const bool rate = is_rate(rule.type);
    const double min_samples = static_cast<double>(std::max<uint32_t>(rule.min_calls, 1));
    const Comparison comparison = rule.comparison;
    const double threshold = rule.threshold;
    for (uint32_t k : matches_[r]) {
      double v = values[k];
      if (std::isnan(v)) continue;
      out.series_matched++;
      if (rate && !(samples[k] >= min_samples)) continue;
      if (comparison == Comparison::kGt ? !(v > threshold) : !compare(v, comparison, threshold)) {
        continue;
      }
      Slot* slot = nullptr;
      if (!linked.empty()) {
        auto it = linked.find(k);
        if (it != linked.end()) slot = it->second;
      }
      if (!slot) {
        std::string fp = fingerprint_of(rule, keys_[k].scope);
        auto [it, inserted] = slots_.try_emplace(fp);
        slot = &it->second;
        if (inserted) {
          slot->state.fingerprint = std::move(fp);
          slot->state.scope = keys_[k].scope;
          order_.push_back(slot);
        }
        if (slot->rule < 0) link(*slot, static_cast<uint32_t>(r), k);
      }
      visit(*slot, rule, k, Condition::kHolds);
    }
    for (auto& [k, slot] : linked) {
      double v = values[k];
      if (std::isnan(v) || slot->seen == round || condition_of(rule, v, samples[k])) continue;
      visit(*slot, rule, k, Condition::kClear);
    }
  }
  // The rule of a held state: the one it was matched through, else by its id.
  auto rule_of = [&](const Slot& slot) -> const Rule* {
    if (slot.rule >= 0) return &rules_[static_cast<size_t>(slot.rule)];
    auto it = rules.find(slot.state.rule_id);
    return it == rules.end() ? nullptr : it->second;
  };
  // 2. Alerts whose rule found no figure this round (no data, rule disabled or removed).
  for (Slot* slot : order_) {
    if (slot->seen == round) continue;
    AlertState& a = slot->state;
    const Rule* rule = rule_of(*slot);
    bool copied = false;
    if (rule && rule->enabled && slot->copied != rules_version_) {
      copied = copy_rule(a, *rule);
      slot->copied = rules_version_;
    }
    const bool was_manual = a.manually_resolved;
    if (step(a, rule, Condition::kClear, now) || copied || was_manual != a.manually_resolved) {
      slot->touched = round;
      slot->changed = round;
    }
  }

  // 3. Inhibition: sources are firing alerts of each rule's source severity.
  std::vector<std::set<std::vector<std::string>>> sources(settings.inhibit.size());
  auto label_tuple = [](const AlertState& a, const std::vector<std::string>& names) {
    std::vector<std::string> t;
    for (const std::string& name : names) {
      auto it = a.labels.find(name);
      t.push_back(it == a.labels.end() ? "" : it->second);
    }
    return t;
  };
  if (!settings.inhibit.empty()) {
    for (const Slot* slot : order_) {
      const AlertState& a = slot->state;
      if (a.status != Status::kFiring) continue;
      for (size_t i = 0; i < settings.inhibit.size(); ++i) {
        if (a.severity == settings.inhibit[i].source_severity) {
          sources[i].insert(label_tuple(a, settings.inhibit[i].equal));
        }
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
  auto silenced_by = [&](const AlertState& a) -> Mute {
    for (const Silence& s : silences) {
      if (matches(s, a.labels, now)) {
        return Mute{
            .reason = s.kind == "maintenance" ? MuteReason::kMaintenance : MuteReason::kSilence,
            .silence_id = s.id};
      }
    }
    return Mute{};
  };

  // 4. Notices due, most severe first (so suppression keeps the ones that matter).
  std::vector<Slot*> candidates;
  for (Slot* slot : order_) {
    const AlertState& a = slot->state;
    if (a.status == Status::kFiring || a.heard == Heard::kFiring) candidates.push_back(slot);
  }
  std::stable_sort(candidates.begin(), candidates.end(), [](const Slot* x, const Slot* y) {
    return x->state.severity > y->state.severity;
  });
  Ledger& ledger = ledger_;
  for (auto& [type, times] : ledger.notices_by_type) {
    out.ledger_changed |=
        std::erase_if(times, [&](TimePoint t) { return t <= now - kHour || t > now; }) > 0;
  }
  std::vector<Notice> notices;
  for (Slot* slot : candidates) {
    AlertState* a = &slot->state;
    const Rule* rule = rule_of(*slot);
    Mute before_muted = a->muted_by;
    if (a->status != Status::kFiring || a->manually_resolved) {
      if (a->heard == Heard::kFiring) {
        uint32_t level = static_cast<uint32_t>(std::max(a->notified_level, 0));
        notices.push_back(Notice{a, "resolved", 0, level});
        slot->touched = round;
        slot->changed = round;
      }
      continue;
    }
    Mute muted = silenced_by(*a);
    if (muted.reason == MuteReason::kNone && inhibited(*a)) {
      muted = Mute{.reason = MuteReason::kInhibited};
    }
    const bool is_muted = muted.reason != MuteReason::kNone;
    Duration repeat = repeat_of(rule, settings);
    std::string kind;
    uint32_t level_min = 0, level_max = a->escalation_level;
    if (a->heard != Heard::kFiring) {
      if (a->last_firing_notice && now - *a->last_firing_notice < repeat) {
        a->muted_by = Mute{.reason = MuteReason::kFlapping};
      } else if (is_muted) {
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
        if (is_muted) {
          a->muted_by = muted;
        } else {
          kind = "escalation";
          level_min = a->escalation_level + 1;
          level_max = target;
        }
      } else if (!a->acknowledged_at && a->last_firing_notice &&
                 now - *a->last_firing_notice >= repeat) {
        if (is_muted) {
          a->muted_by = muted;
        } else {
          kind = "repeat";
        }
      } else if (!is_muted && a->muted_by.reason != MuteReason::kNone) {
        a->muted_by = Mute{};
      }
    }
    if (!kind.empty()) {
      std::vector<TimePoint>& sent = ledger.notices_by_type[std::string(rule_type_name(a->type))];
      if (sent.size() >= settings.max_notices_per_type_per_hour) {
        a->muted_by = Mute{.reason = MuteReason::kSuppressed};
        kind.clear();
      } else {
        sent.push_back(now);
        out.ledger_changed = true;
      }
    }
    if (!kind.empty()) {
      if (kind == "escalation") a->escalation_level = level_max;
      notices.push_back(Notice{a, kind, level_min, level_max});
      slot->touched = round;
      slot->changed = round;
    }
    if (a->muted_by != before_muted) {
      slot->touched = round;
      slot->changed = round;
    }
  }
  for (Notice& notice : notices) record_notice(*notice.alert, notice.kind, notice.level_max, now);
  build_notifications(notices, rules, settings, now, out.notifications);

  // 5. Users told of their quota (automated response of quota rules).
  for (const Notice& notice : notices) {
    if (notice.kind != "firing" || notice.alert->type != RuleType::kQuotaUsage) continue;
    auto it = rules.find(notice.alert->rule_id);
    if (it == rules.end() || !it->second->actions.notify_user || notice.alert->scope.user.empty())
      continue;
    auto email = user_emails.find(notice.alert->scope.user);
    std::string from = "r2watch@localhost";
    for (const Channel& c : settings.channels) {
      if (c.type == ChannelType::kEmail && c.enabled) {
        from = c.from;
        break;
      }
    }
    Channel user_channel{.name = "user:" + notice.alert->scope.user,
                         .type = ChannelType::kEmail,
                         .to = {email == user_emails.end() ? "" : email->second},
                         .from = from};
    Notification u;
    u.channel = user_channel.name;
    u.type = ChannelType::kEmail;
    u.kind = "user";
    u.key = "user:" + notice.alert->fingerprint + ":" + std::to_string(notice.alert->notices);
    u.alert_ids = {notice.alert->alert_id};
    u.body = build_body(user_channel, "user", {notice.alert}, settings, now);
    if (u.body.email) u.body.email->text = user_notice_text(*notice.alert);
    u.body.user = notice.alert->scope.user;
    out.notifications.push_back(std::move(u));
  }

  // 6. What to store, what to forget.
  std::vector<Slot*> kept;
  kept.reserve(order_.size());
  std::vector<std::string> gone;
  for (Slot* slot : order_) {
    AlertState& a = slot->state;
    const bool touched = slot->touched == round;
    bool forgettable =
        (a.status == Status::kInactive ||
         (a.status == Status::kResolved && !a.manually_resolved)) &&
        a.heard != Heard::kFiring &&
        (!a.last_firing_notice || now - *a.last_firing_notice >= settings.repeat_interval) &&
        (!a.resolved_at || now - *a.resolved_at >= kHour);
    if (a.status == Status::kFiring) out.firing++;
    if (a.status == Status::kPending) out.pending++;
    if (forgettable && !touched) {
      out.dropped.push_back(a.fingerprint);
      continue;
    }
    kept.push_back(slot);
    if (touched) {
      a.updated_at = now;
      out.changed.push_back(a);
      out.changes.push_back(slot->changed == round ? Change::kState : Change::kValueOnly);
    }
  }
  if (kept.size() != order_.size()) {
    order_ = std::move(kept);
    for (const std::string& fp : out.dropped) {
      auto it = slots_.find(fp);
      if (it == slots_.end()) continue;
      unlink(it->second);
      slots_.erase(it);
    }
  }
  out.ledger = ledger;

  // The next round starts without figures.
  std::fill(values_.begin(), values_.end(), std::numeric_limits<double>::quiet_NaN());
  for (uint32_t k : detailed_) details_[k].clear();
  detailed_.clear();
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
  s.resolved_by = ResolvedBy{.resolver = Resolver::kPerson, .person = by};
  s.resolve_note = note;
  s.muted_by = Mute{};
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

std::optional<Error> check_visible(const AlertState& s, const Caller& caller) {
  if (caller.role == CallerRole::kUser && s.scope.user != caller.user) {
    return Error{.code = "not_found", .message = "no alert with id " + s.alert_id, .field = "id"};
  }
  return std::nullopt;
}

Result<std::string> manual_actor(const Caller& caller, const ManualRequest& request) {
  std::string by = request.by.value_or(caller.user.empty() ? "operator" : caller.user);
  if (request.note.size() > 2048) {
    return invalid_field("note", "note must be at most 2048 characters");
  }
  if (by.empty() || by.size() > 256) return invalid_field("by", "by must be 1 to 256 characters");
  if (reserved_actor_name(by)) {
    return invalid_field("by", "by must name a person: \"r2watch\" and \"rule\" stand for r2watch");
  }
  if (caller.role == CallerRole::kUser && by != caller.user) {
    return invalid_field(
        "by", "by must be you (" + caller.user + "): only an admin acts for someone else");
  }
  return by;
}

std::string_view delivery_status_name(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kSent:
      return "sent";
    case DeliveryStatus::kRetry:
      return "retry";
    case DeliveryStatus::kFailed:
      return "failed";
  }
  return "failed";
}

Result<DeliveryOutcome> delivery_outcome(const Settings& settings, uint64_t attempt,
                                         AttemptResult result, TimePoint now) {
  if (attempt < 1 || attempt > kMaxDeliveryAttemptNumber) {
    return invalid_field("attempt", "attempt must be a whole number from 1");
  }
  if (result == AttemptResult::kDelivered) return DeliveryOutcome{.status = DeliveryStatus::kSent};
  uint32_t n = static_cast<uint32_t>(attempt);
  if (n >= settings.max_attempts) return DeliveryOutcome{.status = DeliveryStatus::kFailed};
  return DeliveryOutcome{.status = DeliveryStatus::kRetry,
                         .next_attempt_at = now + backoff(settings, n)};
}

std::optional<Error> check_page(std::string_view name, int64_t n) {
  const bool limit = name == "limit";
  const int64_t min = limit ? 1 : 0;
  const int64_t max = limit ? kMaxAlertPageLimit : kMaxAlertPageOffset;
  if (n < min || n > max) {
    std::string k(name);
    return Error{.code = "invalid_query",
                 .message = k + " must be a whole number up to " + std::to_string(max),
                 .field = k};
  }
  return std::nullopt;
}

DeliveryPlan delivery_plan(TimePoint now) {
  return DeliveryPlan{.due_by = now, .lease_expired_before = now - kSendingLease};
}

int64_t query_number(std::string_view text) {
  if (text.empty() || text.size() > 6) return -1;
  int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::optional<Error> check_notifications_limit(int64_t n) {
  if (n < 1 || n > kMaxNotificationsLimit) {
    return Error{.code = "invalid_query",
                 .message = "limit must be a whole number from 1 to 1000",
                 .field = "limit"};
  }
  return std::nullopt;
}

std::string_view action_type_name(ActionType t) {
  switch (t) {
    case ActionType::kForceBreakerOpen:
      return "force_breaker_open";
  }
  return "force_breaker_open";
}

}  // namespace r2w::alerts
