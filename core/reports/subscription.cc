#include "core/reports/subscription.h"

namespace r2w::reports {

std::vector<Target> report_targets(std::vector<Target> channels, std::vector<std::string> email_to,
                                   std::string email_from) {
  if (!find_target(channels, "email")) {
    channels.push_back(
        Target{.name = "email", .type = "email", .to = std::move(email_to), .from = email_from});
  }
  return channels;
}

const Target* find_target(const std::vector<Target>& targets, const std::string& name) {
  const Target* found = nullptr;
  for (const Target& t : targets) {
    if (t.name == name) found = &t;  // the last of a name, as the channels list is read
  }
  return found;
}

bool takes_reports(const std::string& type) {
  return type == "email" || type == "slack" || type == "github" || type == "webhook";
}

std::optional<Error> check_subscription(const Subscription& s, size_t index,
                                        const std::vector<Subscription>& earlier,
                                        const std::vector<Target>& targets) {
  std::string p = "subscriptions[" + std::to_string(index) + "]";
  if (!parse_report_type(s.report_type)) {
    return invalid_field(p + ".report_type", "report_type must be daily, weekly or monthly");
  }
  for (const Subscription& e : earlier) {
    if (e.report_type == s.report_type) {
      return invalid_field(p + ".report_type",
                           "report_type " + s.report_type + " is subscribed twice");
    }
  }
  if (s.channels.size() > kMaxSubscriptionChannels) {
    return invalid_field(p + ".channels", "channels must be an array of channel names");
  }
  for (size_t j = 0; j < s.channels.size(); ++j) {
    std::string f = p + ".channels[" + std::to_string(j) + "]";
    const std::string& name = s.channels[j];
    const Target* t = find_target(targets, name);
    if (!t) return invalid_field(f, "no channel is named " + name);
    if (!takes_reports(t->type)) {
      return invalid_field(f, "channel " + name + " is of type " + t->type +
                                  ", which takes no reports (email, slack, github or webhook do)");
    }
  }
  return std::nullopt;
}

std::vector<Target> report_recipients(const std::vector<Subscription>& subs,
                                      const std::vector<Target>& targets, ReportType type) {
  std::vector<Target> out;
  for (const Subscription& s : subs) {
    if (s.report_type != report_type_name(type)) continue;
    for (const std::string& name : s.channels) {
      if (const Target* t = find_target(targets, name)) out.push_back(*t);
    }
  }
  return out;
}

std::string report_notification_id(const Period& p) {
  return "report:" + std::string(report_type_name(p.type)) + ":" + p.label;
}

std::string report_link(std::string base, const Period& p) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.empty()) return "";
  return base + "/reports/" + std::string(report_type_name(p.type)) + "/" + p.label;
}

}  // namespace r2w::reports
