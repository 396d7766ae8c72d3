#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/alerts/alert.h"
#include "core/alerts/figures.h"
#include "core/alerts/rule.h"
#include "core/alerts/settings.h"
#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::alerts {

// Notices of one rule type in the last hour, for suppression (a versioned value kept by the
// Worker between rounds).
struct Ledger {
  std::map<std::string, std::vector<TimePoint>> notices_by_type;
};

// An automated response for the Worker (or the engine) to carry out.
struct Action {
  std::string type;  // force_breaker_open
  std::string alert_id;
  std::string rule_id;
};

struct CheckInput {
  std::vector<Rule> rules;
  std::vector<Series> series;
  std::vector<AlertState> states;
  std::vector<Silence> silences;
  Settings settings;
  Ledger ledger;
  std::map<std::string, std::string> user_emails;  // quota users' addresses
  TimePoint now;
};

struct CheckResult {
  std::vector<AlertState> changed;   // states to store (new or different)
  std::vector<std::string> dropped;  // fingerprints whose state carries nothing any more
  std::vector<Notification> notifications;
  std::vector<Action> actions;
  Ledger ledger;
  uint32_t rules_evaluated = 0;
  uint32_t series_matched = 0;
  uint32_t firing = 0;
  uint32_t pending = 0;
};

// One evaluation round. Pure: the same input gives the same output.
CheckResult check(const CheckInput& in);

// Acknowledge / resolve by hand, with a note. Refused (code "conflict") when the alert is not
// firing (ack) or neither pending nor firing (resolve). Both stop escalation; resolve tells the
// channels that heard of the alert, ack tells PagerDuty.
struct ManualResult {
  AlertState state;
  std::vector<Notification> notifications;
};
Result<ManualResult> acknowledge(AlertState s, const std::string& by, const std::string& note,
                                 const std::vector<Rule>& rules, const Settings& settings,
                                 TimePoint now);
Result<ManualResult> resolve_by_hand(AlertState s, const std::string& by, const std::string& note,
                                     const std::vector<Rule>& rules, const Settings& settings,
                                     TimePoint now);

// A test notification to one channel (a made-up alert, kind "test").
Result<Notification> test_notification(const Settings& settings, const std::string& channel,
                                       TimePoint now);

}  // namespace r2w::alerts
