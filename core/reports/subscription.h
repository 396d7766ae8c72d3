#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/common/result.h"
#include "core/reports/period.h"

namespace r2w::reports {

// A channel a report can go to: a configured alert channel, or the built-in "email" (EMAIL_TO /
// EMAIL_FROM) when no channel has that name.
struct Target {
  std::string name;
  std::string type;  // "email", "slack", "github", "webhook", ... (the alert channel's type)
  std::vector<std::string> to;
  std::string from;
  std::string repository;
};

// The alert channels (`channels`) and the built-in email's addresses: the targets a report can
// name. An alert channel named "email" takes the built-in one's place.
std::vector<Target> report_targets(std::vector<Target> channels, std::vector<std::string> email_to,
                                   std::string email_from);

// The target named `name`, or nullptr.
const Target* find_target(const std::vector<Target>& targets, const std::string& name);

// Whether a channel type takes reports: email, slack, github and webhook do.
bool takes_reports(const std::string& type);

// The limits of the subscriptions: one per report type, at most 32 channels each.
inline constexpr size_t kMaxSubscriptions = 3;
inline constexpr size_t kMaxSubscriptionChannels = 32;

// One subscription as sent: {"report_type", "channels": [name, ...]}.
struct Subscription {
  std::string report_type;
  std::vector<std::string> channels;
};

// The rules of the subscriptions, checked one after the other (`field` of the one at i is
// "subscriptions[i]"): a report type of daily, weekly or monthly, each at most once; every
// channel known among `targets` and of a type that takes reports. Errors name the field
// ("subscriptions[1].channels[0]").
std::optional<Error> check_subscription(const Subscription& s, size_t index,
                                        const std::vector<Subscription>& earlier,
                                        const std::vector<Target>& targets);

// The targets a report of `type` goes to, in the order of the subscription's channels (every
// subscription checked by check_subscription against `targets`).
std::vector<Target> report_recipients(const std::vector<Subscription>& subs,
                                      const std::vector<Target>& targets, ReportType type);

// The id of a period's report in the alert outbox ("report:weekly:2026-W48"): the same for
// every run of the period, so a re-run delivers nothing twice.
std::string report_notification_id(const Period& p);

// The dashboard's address of the report: `dashboard_url` (trailing slashes dropped) +
// "/reports/<type>/<label>"; "" when there is no dashboard address.
std::string report_link(std::string dashboard_url, const Period& p);

}  // namespace r2w::reports
