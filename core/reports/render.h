#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/time.h"
#include "core/cost/money.h"
#include "core/reports/report.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::reports {

// The cost section's headline figures (the cost engine's report of the period).
struct CostHeadline {
  std::string month;                       // "2026-11"
  cost::Money month_to_date;               // the month's bill to the period's last day
  std::optional<cost::Money> period_cost;  // the period's own cost at list price, when known
  std::optional<double> change_pct;        // against the period before, when known
};

// One report as people read it: a subject, plain text, HTML, GitHub markdown and Slack blocks,
// all from the same figures.
struct Rendered {
  std::string subject;  // "[r2watch] Weekly report 2026-W48"
  std::string text;
  std::string html;
  std::string markdown;
  r2w::Json slack_blocks;
};

// `link` is the dashboard's address of the report ("" = none).
Rendered render_report(const Report& r, const CostHeadline& cost, std::string_view link);

// The bodies the Worker sends, per channel type (the alert channels' shapes):
// email: {from, to, subject, text, html, raw} (raw: multipart/alternative MIME, base64 parts);
r2w::Json email_body(const Rendered& r, const std::string& from, const std::vector<std::string>& to,
                     TimePoint now);
// slack: an incoming-webhook message {text, blocks};
r2w::Json slack_body(const Rendered& r);
// github: {"requests": [one POST /repos/<repository>/issues, opens_issue]}: each report is an
// issue of its own, labelled r2watch-report and its type.
r2w::Json github_body(const Rendered& r, const std::string& repository, ReportType type);

}  // namespace r2w::reports
