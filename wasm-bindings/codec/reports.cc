#include "wasm-bindings/codec/reports.h"

namespace r2w::codec {

Json slack_blocks_json(const std::vector<reports::SlackBlock>& blocks) {
  Json out = Json::array();
  for (const reports::SlackBlock& b : blocks) {
    switch (b.kind) {
      case reports::SlackBlock::Kind::kHeader:
        out.push_back({{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", b.text}}}});
        break;
      case reports::SlackBlock::Kind::kContext:
        out.push_back({{"type", "context"},
                       {"elements", Json::array({{{"type", "mrkdwn"}, {"text", b.text}}})}});
        break;
      case reports::SlackBlock::Kind::kSection:
        out.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", b.text}}}});
        break;
    }
  }
  return out;
}

Json email_body(const reports::Rendered& r, const std::string& from,
                const std::vector<std::string>& to, TimePoint now) {
  return {{"from", from},   {"to", to},       {"subject", r.subject},
          {"text", r.text}, {"html", r.html}, {"raw", reports::mime(r, from, to, now)}};
}

Json slack_body(const reports::Rendered& r) {
  return {{"text", r.subject}, {"blocks", slack_blocks_json(r.slack_blocks)}};
}

Json github_body(const reports::Rendered& r, const std::string& repository,
                 reports::ReportType type) {
  Json labels = Json::array();
  for (const std::string& l : reports::github_labels(type)) labels.push_back(l);
  return {{"requests",
           Json::array({{{"method", "POST"},
                         {"path", "/repos/" + repository + "/issues"},
                         {"body", {{"title", r.title}, {"body", r.markdown}, {"labels", labels}}},
                         {"opens_issue", true}}})}};
}

}  // namespace r2w::codec
