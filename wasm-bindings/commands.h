#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/account/figures.h"
#include "core/common/result.h"
#include "core/common/time.h"
#include "wasm-bindings/codec/json.h"

namespace r2w::bindings {

class Engine;

// One JSON command of the engine: parsed input object in, JSON answer or an Error out.
using CommandHandler = Result<r2w::Json> (*)(Engine&, const r2w::Json&, TimePoint);

struct CommandEntry {
  std::string_view name;
  CommandHandler handler;
};

// Each domain lists its commands in its own file (<domain>-commands.cc); which lists a build
// registers is wasm-bindings/modules.h's (one module's in a wasm module, all of them natively);
// `find_command` searches those.
std::span<const CommandEntry> breaker_commands();
std::span<const CommandEntry> storage_commands();
std::span<const CommandEntry> storage_inventory_commands();
std::span<const CommandEntry> metrics_ingest_commands();
std::span<const CommandEntry> metrics_commands();
std::span<const CommandEntry> health_breaker_commands();
std::span<const CommandEntry> health_commands();
std::span<const CommandEntry> cost_commands();
std::span<const CommandEntry> alert_commands();
std::span<const CommandEntry> security_commands();
std::span<const CommandEntry> security_admin_commands();
std::span<const CommandEntry> log_commands();
std::span<const CommandEntry> ops_commands();
std::span<const CommandEntry> account_commands();
std::span<const CommandEntry> status_commands();
std::span<const CommandEntry> report_commands();

// account-commands.cc: the account's usage as cost rows, from {"operations": [operations day
// rows] or "by_class": [the day rows summed by account_reads' grouping], "storage": [storage day
// rows]} (`field` names it in errors), and what the bill says
// of it (source, unclassified action types billed as Class A, unbilled auth failures).
Result<account::AccountUsage> account_usage_from_json(const r2w::Json& j, std::string_view field);
r2w::Json account_usage_notes_json(const account::AccountUsage& u);
CommandHandler find_command(std::string_view name);

// Runs `handler` (null: an unknown command) on JSON input text and writes its answer, or
// {"error": {"code", "message", "field"?, "errors"?}}, to `output`. Returns true on success.
// Never throws: input is parsed without exceptions. Engine::call and the browser build's
// entry point (browser-exports.cc) both answer through it.
bool run_command(CommandHandler handler, Engine& engine, std::string_view command,
                 std::string_view input, TimePoint now, std::string& output);

// Qualifies an error's field with a prefix ("options" + "ema_alpha" -> "options.ema_alpha").
Error prefixed(Error e, const std::string& prefix);

}  // namespace r2w::bindings
