#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/time.h"
#include "core/cost/money.h"
#include "core/reports/report.h"

namespace r2w::reports {

// The cost section's headline figures (the cost engine's report of the period).
struct CostHeadline {
  std::string month;                       // "2026-11"
  cost::Money month_to_date;               // the month's bill to the period's last day
  std::optional<cost::Money> period_cost;  // the period's own cost at list price, when known
  std::optional<double> change_pct;        // against the period before, when known
};

// One block of a Slack message: a header (plain text), a context line or a section (both
// mrkdwn). The codec writes them as Slack's Block Kit objects.
struct SlackBlock {
  enum class Kind : uint8_t { kHeader, kContext, kSection };
  Kind kind = Kind::kSection;
  std::string text;
};

// One report as people read it: a subject, plain text, HTML, GitHub markdown and Slack blocks,
// all from the same figures.
struct Rendered {
  std::string subject;  // "[r2watch] Weekly report 2026-W48"
  std::string title;    // the subject without "[r2watch] " (Slack's header, the title)
  std::string text;
  std::string html;
  std::string markdown;
  std::vector<SlackBlock> slack_blocks;
};

// `link` is the dashboard's address of the report ("" = none).
Rendered render_report(const Report& r, const CostHeadline& cost, std::string_view link);

// The email's raw form: multipart/alternative MIME (text and HTML, base64 parts), its
// Message-ID and boundary derived from the subject, recipients and `now`. The bodies the Worker
// sends per channel type are the codec's (wasm-bindings/codec/reports.h).
std::string mime(const Rendered& r, const std::string& from, const std::vector<std::string>& to,
                 TimePoint now);

// The labels of a report's GitHub issue: r2watch-report and its type.
std::vector<std::string> github_labels(ReportType type);

}  // namespace r2w::reports
