#include "core/alerts/settings.h"

#include <algorithm>
#include <cstdlib>

#include "core/alerts/text.h"

namespace r2w::alerts {

namespace {

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

Result<std::vector<Duration>> durations(const std::vector<int64_t>& list,
                                        const std::string& field) {
  if (list.size() > kMaxEscalationLevels) {
    return invalid_field(field, field + " must be a list of at most 10 durations in ms");
  }
  std::vector<Duration> out;
  for (size_t i = 0; i < list.size(); ++i) {
    int64_t v = list[i];
    std::string f = field + "[" + std::to_string(i) + "]";
    if (v < 60'000 || v > 7 * 86'400'000LL) {
      return invalid_field(f, f + " must be a whole number of ms from 60000 to 604800000");
    }
    Duration d(v);
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

bool is_masked_url(std::string_view url) {
  return url.find("/…") != std::string_view::npos && mask_url(url) == url;
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

Result<Settings> complete_settings(SettingsDraft draft, InlineUrlCheck url_check,
                                   const EmailDefaults& email_defaults) {
  Settings s = std::move(draft.settings);
  s.email_defaults = email_defaults;
  if (s.backoff_max < s.backoff_base) {
    return invalid_field("backoff_max_ms", "backoff_max_ms must be at least backoff_base_ms");
  }
  if (!s.dashboard_url.empty() && !s.dashboard_url.starts_with("https://") &&
      !s.dashboard_url.starts_with("http://")) {
    return invalid_field("dashboard_url", "dashboard_url must be an http(s) URL");
  }
  if (draft.escalation_after_ms) {
    auto d = durations(*draft.escalation_after_ms, "escalation_after_ms");
    if (!d.ok()) return d.error();
    s.escalation_after = d.value();
  }
  if (draft.inhibit) {
    if (draft.inhibit->size() > kMaxInhibitRules) {
      return invalid_field("inhibit", "inhibit must be a list of at most 10 rules");
    }
    s.inhibit.clear();
    for (size_t i = 0; i < draft.inhibit->size(); ++i) {
      const InhibitDraft& d = (*draft.inhibit)[i];
      std::string p = "inhibit[" + std::to_string(i) + "]";
      InhibitRule rule;
      auto src = parse_severity(d.source_severity);
      if (!src)
        return invalid_field(p + ".source_severity", p + ".source_severity must be a severity");
      rule.source_severity = *src;
      if (d.target_severities) {
        rule.target_severities.clear();
        for (const std::string& v : *d.target_severities) {
          auto sev = parse_severity(v);
          if (!sev || *sev >= rule.source_severity) {
            return invalid_field(p + ".target_severities",
                                 p + ".target_severities must be severities below the source's");
          }
          rule.target_severities.push_back(*sev);
        }
      }
      if (d.equal) rule.equal = *d.equal;
      s.inhibit.push_back(rule);
    }
  }
  if (draft.channels) {
    if (draft.channels->size() > kMaxChannelCount) {
      return invalid_field("channels", "channels must be a list of at most 50 channels");
    }
    for (size_t i = 0; i < draft.channels->size(); ++i) {
      ChannelDraft& d = (*draft.channels)[i];
      std::string p = "channels[" + std::to_string(i) + "]";
      Channel c = std::move(d.channel);
      const bool has_api_url = d.api_url.has_value();
      const std::string api_url = d.api_url.value_or("");
      const bool has_labels = d.labels_by_severity.has_value();
      const bool has_to = d.to.has_value();
      if (!is_name(c.name))
        return invalid_field(p + ".name", p + ".name must be 1 to 64 of a-z, 0-9, _ and -");
      for (size_t k = 0; k < i; ++k) {
        if (s.channels[k].name == c.name)
          return invalid_field(p + ".name", p + ".name is used twice");
      }
      auto t = parse_channel_type(d.type);
      if (!t) {
        return invalid_field(
            p + ".type",
            p + ".type must be webhook, slack, pagerduty, email, alertmanager or github");
      }
      c.type = *t;
      if (!d.min_severity.empty()) {
        auto sev = parse_severity(d.min_severity);
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
            TargetCheck check = check_target(api_url, url_check == InlineUrlCheck::kProduction
                                                          ? Environment::kProduction
                                                          : Environment::kDevelopment);
            if (!check.allowed)
              return invalid_field(p + ".api_url", p + ".api_url is refused: " + check.reason);
          }
        }
        c.url = has_api_url ? api_url : std::string(kGithubApiUrl);
        while (c.url.size() > 1 && c.url.back() == '/') c.url.pop_back();
        if (has_labels) {
          std::string f = p + ".labels_by_severity";
          for (auto& [sev_name, names] : *d.labels_by_severity) {
            auto sev = parse_severity(sev_name);
            if (!sev) return invalid_field(f + "." + sev_name, f + " keys must be severities");
            if (names.size() > 10) {
              return invalid_field(f + "." + sev_name,
                                   f + "." + sev_name + " must be a list of at most 10 labels");
            }
            for (const std::string& l : names) {
              if (l.empty() || l.size() > 50) {
                return invalid_field(f + "." + sev_name,
                                     f + "." + sev_name + " labels must be 1 to 50 characters");
              }
            }
            c.labels_by_severity[*sev] = std::move(names);
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
        TargetCheck check = check_target(c.url, url_check == InlineUrlCheck::kProduction
                                                    ? Environment::kProduction
                                                    : Environment::kDevelopment);
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
        const std::vector<std::string> to = d.to.value_or(std::vector<std::string>{});
        if (to.size() > 20) {
          return invalid_field(p + ".to", p + ".to must be a list of at most 20 addresses");
        }
        for (const std::string& a : to) {
          if (!is_email_address(a)) {
            return invalid_field(p + ".to",
                                 p + ".to must hold email addresses like ops@example.com");
          }
          c.to.push_back(a);
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

bool is_active(const Silence& s, TimePoint now) { return s.starts_at <= now && now < s.ends_at; }

Result<Silence> complete_silence(SilenceDraft draft, TimePoint now) {
  Silence s = std::move(draft.silence);
  Duration starts = draft.starts_at_ms.value_or(Duration(to_epoch_ms(now)));
  if (s.kind != "silence" && s.kind != "maintenance") {
    return invalid_field("kind", "kind must be silence or maintenance");
  }
  if (!draft.ends_at_ms) return invalid_field("ends_at_ms", "ends_at_ms is required");
  Duration ends = *draft.ends_at_ms;
  if (ends <= starts) return invalid_field("ends_at_ms", "ends_at_ms must be after starts_at_ms");
  if (s.comment.empty() || s.comment.size() > 1024) {
    return invalid_field("comment", "comment is required (at most 1024 characters)");
  }
  if (s.created_by.empty() || s.created_by.size() > 256) {
    return invalid_field("created_by", "created_by (the author) is required");
  }
  s.starts_at = TimePoint(starts);
  s.ends_at = TimePoint(ends);
  if (draft.active && *draft.active != is_active(s, now)) {
    return invalid_field("active", "active must agree with starts_at_ms and ends_at_ms");
  }
  if (!draft.matchers || draft.matchers->empty() || draft.matchers->size() > 20) {
    return invalid_field("matchers", "matchers must be a list of 1 to 20 matchers");
  }
  for (size_t i = 0; i < draft.matchers->size(); ++i) {
    std::string p = "matchers[" + std::to_string(i) + "]";
    MatcherDraft& d = (*draft.matchers)[i];
    Matcher m;
    m.name = std::move(d.name);
    m.value = std::move(d.value);
    if (m.name.empty()) return invalid_field(p + ".name", p + ".name is required");
    if (d.op != "=" && d.op != "!=") return invalid_field(p + ".op", p + ".op must be = or !=");
    m.equal = d.op == "=";
    s.matchers.push_back(std::move(m));
  }
  return s;
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
