#pragma once

// The reports domain's codec: the bodies a rendered report is sent with, per channel type.
#include <string>
#include <vector>

#include "core/common/time.h"
#include "core/reports/render.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::codec {

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
