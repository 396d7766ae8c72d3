#include "core/alerts/settings.h"

#include <algorithm>
#include <cstdlib>

#include "core/alerts/text.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::alerts {

using json = r2w::Json;

namespace {

constexpr int64_t kMaxEpochMs = INT64_C(1) << 50;

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool is_secret_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Result<std::vector<Duration>> durations(const json& j, const std::string& field) {
  if (!j.is_array() || j.size() > 10) {
    return invalid_field(field, field + " must be a list of at most 10 durations in ms");
  }
  std::vector<Duration> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& v = j[i];
    std::string f = field + "[" + std::to_string(i) + "]";
    if (!v.is_number_integer() || v.get<int64_t>() < 60'000 ||
        v.get<int64_t>() > 7 * 86'400'000LL) {
      return invalid_field(f, f + " must be a whole number of ms from 60000 to 604800000");
    }
    Duration d(v.get<int64_t>());
    if (!out.empty() && d <= out.back())
      return invalid_field(f, f + " must be after the level before");
    out.push_back(d);
  }
  return out;
}

}  // namespace

std::string_view channel_type_name(ChannelType t) {
  switch (t) {
    case ChannelType::kWebhook:
      return "webhook";
    case ChannelType::kSlack:
      return "slack";
    case ChannelType::kPagerDuty:
      return "pagerduty";
    case ChannelType::kEmail:
      return "email";
    case ChannelType::kAlertmanager:
      return "alertmanager";
    case ChannelType::kGithub:
      return "github";
  }
  return "webhook";
}

std::optional<ChannelType> parse_channel_type(std::string_view name) {
  for (ChannelType t : {ChannelType::kWebhook, ChannelType::kSlack, ChannelType::kPagerDuty,
                        ChannelType::kEmail, ChannelType::kAlertmanager, ChannelType::kGithub}) {
    if (channel_type_name(t) == name) return t;
  }
  return std::nullopt;
}

bool is_github_repository(std::string_view repository) {
  size_t slash = repository.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view owner = repository.substr(0, slash), name = repository.substr(slash + 1);
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (owner.empty() || owner.size() > 39 || owner.front() == '-' || owner.back() == '-') {
    return false;
  }
  if (!std::all_of(owner.begin(), owner.end(), [&](char c) { return alnum(c) || c == '-'; })) {
    return false;
  }
  if (name.empty() || name.size() > 100 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '.' || c == '-' || c == '_'; });
}

std::vector<std::string> github_labels(const Channel& c, Severity severity) {
  auto it = c.labels_by_severity.find(severity);
  if (it != c.labels_by_severity.end()) return it->second;
  return {"r2watch", "severity:" + std::string(severity_name(severity))};
}

std::string mask_url(std::string_view url) {
  size_t scheme = url.find("://");
  size_t host_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t host_end = url.find_first_of("/?#", host_start);
  std::string head(url.substr(0, host_end == std::string_view::npos ? url.size() : host_end));
  std::string tail = url.size() > 4 ? std::string(url.substr(url.size() - 4)) : "";
  if (host_end == std::string_view::npos) return head;
  return head + "/…" + tail;
}

std::optional<Error> restore_masked_urls(json& request, const json& current) {
  if (!request.is_object()) return std::nullopt;
  auto requested = request.find("channels");
  if (requested == request.end() || !requested->is_array()) return std::nullopt;
  const json* stored =
      current.is_object() && current.contains("channels") && current["channels"].is_array()
          ? &current["channels"]
          : nullptr;
  for (size_t i = 0; i < requested->size(); ++i) {
    json& c = (*requested)[i];
    if (!c.is_object() || !c.contains("url") || !c["url"].is_string()) continue;
    bool restored = false;
    for (size_t k = 0; stored && k < stored->size() && !restored; ++k) {
      const json& old = (*stored)[k];
      if (old.is_object() && c.contains("name") && old.value("name", json()) == c["name"] &&
          old.contains("url") && old["url"].is_string() &&
          mask_url(old["url"].get<std::string>()) == c["url"]) {
        c["url"] = old["url"];
        restored = true;
      }
    }
    const std::string url = c["url"].get<std::string>();
    if (!restored && url.find("/…") != std::string::npos && mask_url(url) == url) {
      std::string p = "channels[" + std::to_string(i) + "].url";
      return invalid_field(p, p + " is a masked URL: send the full URL");
    }
  }
  return std::nullopt;
}

Duration backoff(const Settings& s, uint32_t failures) {
  Duration d = s.backoff_base;
  for (uint32_t i = 1; i < failures && d < s.backoff_max; ++i) d *= 2;
  return std::min(d, s.backoff_max);
}

Result<EmailDefaults> email_defaults_from_vars(std::string_view to, std::string_view from) {
  EmailDefaults d;
  auto trimmed = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  };
  std::string_view rest = to;
  while (!trimmed(rest).empty()) {
    size_t comma = rest.find(',');
    std::string_view one = trimmed(rest.substr(0, comma));
    if (!is_email_address(one) || d.to.size() == 20) {
      return invalid_field("EMAIL_TO",
                           "EMAIL_TO must be 1 to 20 email addresses separated by commas");
    }
    d.to.emplace_back(one);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::string_view sender = trimmed(from);
  if (!sender.empty() && !is_email_address(sender)) {
    return invalid_field("EMAIL_FROM", "EMAIL_FROM must be the sender's email address");
  }
  d.from = std::string(sender);
  return d;
}

Result<Settings> settings_from_json(const json& j, InlineUrlCheck url_check,
                                    const EmailDefaults& email_defaults) {
  Settings s;
  s.email_defaults = email_defaults;
  if (j.is_null()) return s;
  FieldReader r(j);
  bool has_channels = r.has("channels");
  bool has_escalation = r.has("escalation_after_ms");
  r.read_uint("max_notices_per_type_per_hour", s.max_notices_per_type_per_hour, 1, 1000);
  r.read_duration("repeat_interval_ms", s.repeat_interval, Duration(60'000),
                  Duration(7LL * 86'400'000));
  bool has_inhibit = r.has("inhibit");
  r.read_uint("max_attempts", s.max_attempts, 1, 20);
  r.read_duration("backoff_base_ms", s.backoff_base, Duration(1'000), Duration(3'600'000));
  r.read_duration("backoff_max_ms", s.backoff_max, Duration(1'000), Duration(86'400'000));
  r.read_string("dashboard_url", s.dashboard_url);
  if (auto e = r.finish()) return *e;
  if (s.backoff_max < s.backoff_base) {
    return invalid_field("backoff_max_ms", "backoff_max_ms must be at least backoff_base_ms");
  }
  if (!s.dashboard_url.empty() && !s.dashboard_url.starts_with("https://") &&
      !s.dashboard_url.starts_with("http://")) {
    return invalid_field("dashboard_url", "dashboard_url must be an http(s) URL");
  }
  if (has_escalation) {
    auto d = durations(j["escalation_after_ms"], "escalation_after_ms");
    if (!d.ok()) return d.error();
    s.escalation_after = d.value();
  }
  if (has_inhibit) {
    const json& list = j["inhibit"];
    if (!list.is_array() || list.size() > 10) {
      return invalid_field("inhibit", "inhibit must be a list of at most 10 rules");
    }
    s.inhibit.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      std::string p = "inhibit[" + std::to_string(i) + "]";
      FieldReader ir(list[i], p);
      std::string source = "critical";
      ir.read_string("source_severity", source);
      bool has_targets = ir.has("target_severities");
      bool has_equal = ir.has("equal");
      if (auto e = ir.finish()) return *e;
      InhibitRule rule;
      auto src = parse_severity(source);
      if (!src)
        return invalid_field(p + ".source_severity", p + ".source_severity must be a severity");
      rule.source_severity = *src;
      if (has_targets) {
        const json& t = list[i]["target_severities"];
        if (!t.is_array())
          return invalid_field(p + ".target_severities", p + ".target_severities must be a list");
        rule.target_severities.clear();
        for (const json& v : t) {
          auto sev = v.is_string() ? parse_severity(v.get<std::string>()) : std::nullopt;
          if (!sev || *sev >= rule.source_severity) {
            return invalid_field(p + ".target_severities",
                                 p + ".target_severities must be severities below the source's");
          }
          rule.target_severities.push_back(*sev);
        }
      }
      if (has_equal) {
        const json& e = list[i]["equal"];
        if (!e.is_array())
          return invalid_field(p + ".equal", p + ".equal must be a list of label names");
        rule.equal.clear();
        for (const json& v : e) {
          if (!v.is_string())
            return invalid_field(p + ".equal", p + ".equal must be a list of label names");
          rule.equal.push_back(v.get<std::string>());
        }
      }
      s.inhibit.push_back(rule);
    }
  }
  if (has_channels) {
    const json& list = j["channels"];
    if (!list.is_array() || list.size() > 50) {
      return invalid_field("channels", "channels must be a list of at most 50 channels");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      std::string p = "channels[" + std::to_string(i) + "]";
      FieldReader cr(list[i], p);
      Channel c;
      std::string type, min_severity;
      cr.read_string("name", c.name);
      cr.read_string("type", type);
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
      cr.read_string("min_severity", min_severity);
      cr.read_uint("escalation_level", c.escalation_level, 0, 10);
      cr.read_bool("enabled", c.enabled);
      if (auto e = cr.finish()) return *e;
      if (!is_name(c.name))
        return invalid_field(p + ".name", p + ".name must be 1 to 64 of a-z, 0-9, _ and -");
      for (size_t k = 0; k < i; ++k) {
        if (s.channels[k].name == c.name)
          return invalid_field(p + ".name", p + ".name is used twice");
      }
      auto t = parse_channel_type(type);
      if (!t) {
        return invalid_field(
            p + ".type",
            p + ".type must be webhook, slack, pagerduty, email, alertmanager or github");
      }
      c.type = *t;
      if (!min_severity.empty()) {
        auto sev = parse_severity(min_severity);
        if (!sev) return invalid_field(p + ".min_severity", p + ".min_severity must be a severity");
        c.min_severity = *sev;
      }
      if (c.escalation_level > s.escalation_after.size()) {
        return invalid_field(
            p + ".escalation_level",
            p + ".escalation_level must be at most the number of escalation levels (" +
                std::to_string(s.escalation_after.size()) + ")");
      }
      if (c.type == ChannelType::kGithub) {
        if (!c.url.empty() || !c.url_secret.empty()) {
          return invalid_field(p + (c.url.empty() ? ".url_secret" : ".url"),
                               p + ": a github channel takes api_url (default " +
                                   std::string(kGithubApiUrl) + "), not url or url_secret");
        }
        if (!is_github_repository(c.repository)) {
          return invalid_field(p + ".repository",
                               p + ".repository must be owner/name, like octo-org/storage");
        }
        if (!is_secret_name(c.token_secret)) {
          return invalid_field(p + ".token_secret",
                               p + ".token_secret must name the Worker secret holding the token "
                                   "(A-Z, 0-9, _), like GITHUB_TOKEN");
        }
        if (has_api_url) {
          if (api_url.empty() || api_url.size() > 2048) {
            return invalid_field(p + ".api_url", p + ".api_url must be a URL");
          }
          if (url_check != InlineUrlCheck::kNone) {
            TargetCheck check = check_target(api_url, url_check == InlineUrlCheck::kProduction);
            if (!check.allowed)
              return invalid_field(p + ".api_url", p + ".api_url is refused: " + check.reason);
          }
        }
        c.url = has_api_url ? api_url : std::string(kGithubApiUrl);
        while (c.url.size() > 1 && c.url.back() == '/') c.url.pop_back();
        if (has_labels) {
          const json& labels = list[i]["labels_by_severity"];
          std::string f = p + ".labels_by_severity";
          if (!labels.is_object()) {
            return invalid_field(f, f + " must map severities to lists of labels");
          }
          for (const auto& [sev_name, names] : labels.items()) {
            auto sev = parse_severity(sev_name);
            if (!sev) return invalid_field(f + "." + sev_name, f + " keys must be severities");
            if (!names.is_array() || names.size() > 10) {
              return invalid_field(f + "." + sev_name,
                                   f + "." + sev_name + " must be a list of at most 10 labels");
            }
            std::vector<std::string> out;
            for (const json& l : names) {
              if (!l.is_string() || l.get<std::string>().empty() ||
                  l.get<std::string>().size() > 50) {
                return invalid_field(f + "." + sev_name,
                                     f + "." + sev_name + " labels must be 1 to 50 characters");
              }
              out.push_back(l.get<std::string>());
            }
            c.labels_by_severity[*sev] = std::move(out);
          }
        }
      } else {
        if (has_api_url || !c.repository.empty() || !c.token_secret.empty() || has_labels) {
          std::string f = has_api_url               ? "api_url"
                          : !c.repository.empty()   ? "repository"
                          : !c.token_secret.empty() ? "token_secret"
                                                    : "labels_by_severity";
          return invalid_field(p + "." + f, p + "." + f + " is only for github channels");
        }
      }
      if (!c.url.empty() && !c.url_secret.empty()) {
        return invalid_field(p + ".url", p + ".url and url_secret may not both be given");
      }
      if (!c.url.empty() && c.type != ChannelType::kGithub && url_check != InlineUrlCheck::kNone) {
        if (c.url.size() > 2048) return invalid_field(p + ".url", p + ".url is too long");
        // Checked for the environment it is stored in (each has its own database); checked again
        // when sending.
        TargetCheck check = check_target(c.url, url_check == InlineUrlCheck::kProduction);
        if (!check.allowed)
          return invalid_field(p + ".url", p + ".url is refused: " + check.reason);
      }
      if (!c.url_secret.empty() && !is_secret_name(c.url_secret)) {
        return invalid_field(p + ".url_secret",
                             p + ".url_secret must be a secret name (A-Z, 0-9, _)");
      }
      if (!c.routing_key_secret.empty() && !is_secret_name(c.routing_key_secret)) {
        return invalid_field(p + ".routing_key_secret",
                             p + ".routing_key_secret must be a secret name (A-Z, 0-9, _)");
      }
      if (c.type == ChannelType::kPagerDuty && c.routing_key_secret.empty()) {
        return invalid_field(p + ".routing_key_secret",
                             p + ".routing_key_secret is required for pagerduty");
      }
      if (c.type == ChannelType::kEmail) {
        const json& to = has_to ? list[i]["to"] : json::array();
        if (!to.is_array() || to.size() > 20) {
          return invalid_field(p + ".to", p + ".to must be a list of at most 20 addresses");
        }
        for (const json& a : to) {
          if (!a.is_string() || !is_email_address(a.get<std::string>())) {
            return invalid_field(p + ".to",
                                 p + ".to must hold email addresses like ops@example.com");
          }
          c.to.push_back(a.get<std::string>());
        }
        const bool storing = url_check != InlineUrlCheck::kNone;
        if (storing && c.to.empty() && email_defaults.to.empty()) {
          return invalid_field(p + ".to",
                               p + ".to is required for email (EMAIL_TO is not set): a list of "
                                   "1 to 20 addresses");
        }
        if (!c.from.empty() && !is_email_address(c.from)) {
          return invalid_field(
              p + ".from",
              p + ".from must be the sender's email address, like r2watch@example.com");
        }
        if (storing && c.from.empty() && email_defaults.from.empty()) {
          return invalid_field(p + ".from",
                               p + ".from is required for email (EMAIL_FROM is not set): the "
                                   "sender's address, like r2watch@example.com");
        }
      } else {
        if (has_to) return invalid_field(p + ".to", p + ".to is only for email channels");
        if (c.type != ChannelType::kPagerDuty && c.type != ChannelType::kGithub && c.url.empty() &&
            c.url_secret.empty()) {
          return invalid_field(p + ".url_secret", p + ".url or url_secret is required");
        }
      }
      if (c.type == ChannelType::kPagerDuty && c.url.empty() && c.url_secret.empty()) {
        c.url = std::string(kPagerDutyEventsUrl);
      }
      s.channels.push_back(std::move(c));
    }
  }
  return s;
}

json settings_to_json(const Settings& s, bool masked) {
  json channels = json::array();
  for (const Channel& c : s.channels) {
    json o = {{"name", c.name},
              {"type", channel_type_name(c.type)},
              {"min_severity", severity_name(c.min_severity)},
              {"escalation_level", c.escalation_level},
              {"enabled", c.enabled}};
    if (c.type == ChannelType::kGithub) {
      // The API's address is no secret (the token is, and stays in its Worker secret).
      o["api_url"] = c.url;
      o["repository"] = c.repository;
      o["token_secret"] = c.token_secret;
      if (!c.labels_by_severity.empty()) {
        json labels = json::object();
        for (const auto& [sev, names] : c.labels_by_severity) labels[severity_name(sev)] = names;
        o["labels_by_severity"] = labels;
      }
    } else if (!c.url.empty()) {
      o["url"] = masked ? mask_url(c.url) : c.url;
    }
    if (!c.url_secret.empty()) o["url_secret"] = c.url_secret;
    if (!c.routing_key_secret.empty()) o["routing_key_secret"] = c.routing_key_secret;
    if (c.type == ChannelType::kEmail) {
      o["to"] = c.to;
      o["from"] = c.from;
    }
    channels.push_back(o);
  }
  json escalation = json::array();
  for (Duration d : s.escalation_after) escalation.push_back(d.count());
  json inhibit = json::array();
  for (const InhibitRule& r : s.inhibit) {
    json targets = json::array();
    for (Severity t : r.target_severities) targets.push_back(severity_name(t));
    inhibit.push_back({{"source_severity", severity_name(r.source_severity)},
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

Result<Silence> silence_from_json(const json& j, std::string_view id, TimePoint now) {
  Silence s;
  s.id = std::string(id);
  FieldReader r(j);
  Duration starts(to_epoch_ms(now)), ends(0);
  r.read_string("id", s.id);
  r.read_string("kind", s.kind);
  r.read_duration("starts_at_ms", starts, Duration(0), Duration(kMaxEpochMs));
  r.read_duration("ends_at_ms", ends, Duration(0), Duration(kMaxEpochMs));
  bool has_matchers = r.has("matchers");
  r.read_string("comment", s.comment);
  r.read_string("created_by", s.created_by);
  // `active` is answered (silence_to_json), not set: what was read back is accepted when it
  // agrees with the time range.
  bool has_active = r.has("active");
  bool active = false;
  r.read_bool("active", active);
  if (auto e = r.finish()) return *e;
  if (s.kind != "silence" && s.kind != "maintenance") {
    return invalid_field("kind", "kind must be silence or maintenance");
  }
  if (!j.contains("ends_at_ms")) return invalid_field("ends_at_ms", "ends_at_ms is required");
  if (ends <= starts) return invalid_field("ends_at_ms", "ends_at_ms must be after starts_at_ms");
  if (s.comment.empty() || s.comment.size() > 1024) {
    return invalid_field("comment", "comment is required (at most 1024 characters)");
  }
  if (s.created_by.empty() || s.created_by.size() > 256) {
    return invalid_field("created_by", "created_by (the author) is required");
  }
  s.starts_at = TimePoint(starts);
  s.ends_at = TimePoint(ends);
  if (has_active && active != (s.starts_at <= now && now < s.ends_at)) {
    return invalid_field("active", "active must agree with starts_at_ms and ends_at_ms");
  }
  if (!has_matchers || !j["matchers"].is_array() || j["matchers"].empty() ||
      j["matchers"].size() > 20) {
    return invalid_field("matchers", "matchers must be a list of 1 to 20 matchers");
  }
  for (size_t i = 0; i < j["matchers"].size(); ++i) {
    std::string p = "matchers[" + std::to_string(i) + "]";
    FieldReader mr(j["matchers"][i], p);
    Matcher m;
    std::string op = "=";
    mr.read_string("name", m.name);
    mr.read_string("value", m.value);
    mr.read_string("op", op);
    if (auto e = mr.finish()) return *e;
    if (m.name.empty()) return invalid_field(p + ".name", p + ".name is required");
    if (op != "=" && op != "!=") return invalid_field(p + ".op", p + ".op must be = or !=");
    m.equal = op == "=";
    s.matchers.push_back(std::move(m));
  }
  return s;
}

Result<std::vector<Silence>> silences_from_json(const json& j, std::string_view field) {
  std::vector<Silence> out;
  if (j.is_null()) return out;
  if (!j.is_array())
    return invalid_field(std::string(field), std::string(field) + " must be an array");
  for (size_t i = 0; i < j.size(); ++i) {
    json copy = j[i];
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

json silence_to_json(const Silence& s, TimePoint now) {
  json matchers = json::array();
  for (const Matcher& m : s.matchers) {
    matchers.push_back({{"name", m.name}, {"value", m.value}, {"op", m.equal ? "=" : "!="}});
  }
  return {{"id", s.id},
          {"kind", s.kind},
          {"starts_at_ms", to_epoch_ms(s.starts_at)},
          {"ends_at_ms", to_epoch_ms(s.ends_at)},
          {"matchers", matchers},
          {"comment", s.comment},
          {"created_by", s.created_by},
          {"active", s.starts_at <= now && now < s.ends_at}};
}

bool matches(const Silence& s, const std::map<std::string, std::string>& labels, TimePoint now) {
  if (now < s.starts_at || now >= s.ends_at) return false;
  for (const Matcher& m : s.matchers) {
    auto it = labels.find(m.name);
    std::string_view value = it == labels.end() ? std::string_view() : std::string_view(it->second);
    if ((value == m.value) != m.equal) return false;
  }
  return true;
}

}  // namespace r2w::alerts
