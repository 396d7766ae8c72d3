#pragma once

// The reports domain's codec: a report's input lists, its period and sections, the
// subscriptions and their targets, and the bodies a rendered report is sent with.
#include <string>
#include <string_view>
#include <vector>

#include "core/common/civil-date.h"
#include "core/common/time.h"
#include "core/reports/period.h"
#include "core/reports/render.h"
#include "core/reports/report.h"
#include "core/reports/subscription.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::codec {

// {type, period, first_day, last_day, days, from_ms, to_ms, r2_key}.
Json period_json(const reports::Period& p);
// {"type", "period"} -> the period; errors name the field.
Result<reports::Period> period_from_json(const Json& in);
// performance, errors, alerts, storage, recommendations.
Json report_sections_json(const reports::Report& r);
// The report's input lists ("operations", "statuses", "alerts", "storage", "pending_uploads",
// "budgets", "pricing") into `out`, whose period is set; each error names the row and field.
Status report_lists_from_json(const Json& in, reports::ReportInput& out);
// The cost section's headline figures out of cost_report's answer.
reports::CostHeadline cost_headline_from_json(const Json& cost, YearMonth month);

// The latest usage snapshot (.r2watch/metrics/r2_usage.json) of a report: its period, storage
// section, performance totals and the month's cost to date.
Json usage_snapshot_json(const reports::Report& report, const reports::CostHeadline& headline,
                         const Json& storage, TimePoint now);

// {"channels": [the alert settings' channels], "email": {"to": [...], "from"}} -> the targets.
std::vector<reports::Target> targets_from_json(const Json& in);
// {"subscriptions": [{"report_type", "channels": [name, ...]}]}: types and unknown fields are
// refused here, the rules (reports::check_subscription) are the core's.
Result<std::vector<reports::Subscription>> subscriptions_from_json(
    const Json& request, const std::vector<reports::Target>& targets);
Json subscriptions_json(const std::vector<reports::Subscription>& subs);

// Slack's Block Kit objects of the report's blocks.
Json slack_blocks_json(const std::vector<reports::SlackBlock>& blocks);
// email: {from, to, subject, text, html, raw} (raw: reports::mime);
Json email_body(const reports::Rendered& r, const std::string& from,
                const std::vector<std::string>& to, TimePoint now);
// slack: an incoming-webhook message {text, blocks};
Json slack_body(const reports::Rendered& r);
// github: {"requests": [one POST /repos/<repository>/issues, opens_issue]}: each report is an
// issue of its own, labelled r2watch-report and its type.
Json github_body(const reports::Rendered& r, const std::string& repository,
                 reports::ReportType type);

}  // namespace r2w::codec
