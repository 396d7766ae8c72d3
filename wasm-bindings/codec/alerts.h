#pragma once

// The alerts domain's JSON: rules, settings, silences, alert states and the notice ledger
// (codec/alerts.cc); notifications, their bodies and the figures of a round
// (codec/alerts-bodies.cc). The core (core/alerts/) decides on plain structs; this reads and
// writes them, refusing bad types and unknown fields naming the field.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/alerts/evaluate.h"
#include "core/alerts/figures.h"
#include "core/alerts/round.h"
#include "core/alerts/rule.h"
#include "core/alerts/settings.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::codec {

// Rules. `base` supplies the values of absent fields (a PUT merges over the stored rule).
Result<alerts::Rule> rule_from_json(const Json& j, const alerts::Rule& base,
                                    std::string_view prefix = "");
// A new rule: `type` is required and picks the type's defaults (statistic, comparison).
Result<alerts::Rule> new_rule_from_json(const Json& j, std::string_view fallback_id);
Json rule_to_json(const alerts::Rule& rule);
// Stored rules (as rule_to_json wrote them); a stored rule that no longer parses is refused
// naming `rules[i]`.
Result<std::vector<alerts::Rule>> rules_from_json(const Json& j, std::string_view field);

// Settings (null: the defaults).
Result<alerts::Settings> settings_from_json(
    const Json& j, alerts::InlineUrlCheck url_check = alerts::InlineUrlCheck::kProduction,
    const alerts::EmailDefaults& email_defaults = {});
enum class UrlView : uint8_t { kFull, kMasked };
Json settings_to_json(const alerts::Settings& s, UrlView urls);
// A settings update holds what GET answered: a channel's `url` in `request` equal to the
// masked form of the `current` (stored) channel of that name's url is replaced by that stored
// url, so sending back a masked URL keeps the real one. Any other masked URL in the request is
// refused (channels[i].url). Only requests are checked: stored settings always load.
std::optional<Error> restore_masked_urls(Json& request, const Json& current);

// Silences.
Result<alerts::Silence> silence_from_json(const Json& j, std::string_view id, TimePoint now);
Result<std::vector<alerts::Silence>> silences_from_json(const Json& j, std::string_view field);
Json silence_to_json(const alerts::Silence& s, TimePoint now);

// Alert states (schema-versioned, kept by the Worker) and their history-row view.
Json state_to_json(const alerts::AlertState& s);
Result<alerts::AlertState> state_from_json(const Json& j);
Result<std::vector<alerts::AlertState>> states_from_json(const Json& j, std::string_view field);
Json alert_view(const alerts::AlertState& s);
Json ledger_to_json(const alerts::Ledger& l);
Result<alerts::Ledger> ledger_from_json(const Json& j);

// What a round must gather, and from when.
Json needs_to_json(const alerts::FigureNeeds& n);
Json cost_window_json(const alerts::CostWindow& w);
// Adds "operation_ranges", "cost_window", "growth_since_ms", "failed_access_since_ms" and
// "requests_since_ms" (each where the round needs it) to a plan.
void add_read_windows(Json& plan, const alerts::ReadWindows& w);

// Notifications and their bodies (codec/alerts-bodies.cc).
Json notification_to_json(const alerts::Notification& n);
Json body_to_json(const alerts::NotificationBody& b);

// The figures the Worker gathered (see alert_check): types checked here, ranges in the core.
Result<alerts::Figures> figures_from_json(const Json& j);
// The kept round's key table (alert_round_keys): [{"metric", "bucket"?, "prefix"?, "user"?,
// "window_ms"?, "natural"?}], errors naming keys[i]; and a round's sentences of keys,
// [[key index, "sentence"]] (an index below `key_count`), errors naming details[i].
Result<std::vector<alerts::SeriesKey>> series_keys_from_json(const Json& list);
Result<std::vector<std::pair<uint32_t, std::string>>> key_details_from_json(const Json& list,
                                                                            uint32_t key_count);

}  // namespace r2w::codec
