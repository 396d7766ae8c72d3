#pragma once

// Which engine commands each wasm module registers (issue #14: the module an isolate fetches and
// compiles on a cold start holds the request path only).
//   r2watch.wasm (kRequest): what a storage call, its authentication and quota, the breaker
//     (hot region, shared-breaker sync, the Durable Object's shared breaker), the faults, the
//     minute rollups' ingest and flush and the log line need.
//   r2watch-console.wasm (kConsole): the dashboard's views, the admin API, the crons, reports,
//     alerts, costs, the account, health and the status page. The Worker instantiates it on the
//     first command only it answers (worker-shim/src/engine.js).
// Native builds (tests, fuzzing) and the browser's cost model register every command (kAll).
// Each module has its own Engine; a setting both read is sent to both (settings_commands()).

#include <span>
#include <string_view>

#include "wasm-bindings/commands.h"

namespace r2w::bindings {

enum class Module : uint8_t { kRequest, kConsole, kAll };

using DomainCommands = std::span<const CommandEntry> (*)();

// The domains' command lists a module registers.
std::span<const DomainCommands> module_domains(Module m);
std::string_view module_name(Module m);

// The module this binary is (defined once per linked binary: module-request.cc,
// module-console.cc; module-all.cc in the library for native and browser builds).
Module linked_module();

// Commands that set what an engine keeps between calls and that commands of both modules read
// (metrics settings and own prefix, security settings and secrets, email defaults): the Worker
// sends each one to every module that registers it, and replays them, in order, to a module it
// instantiates later.
std::span<const std::string_view> settings_commands();

// {"module", "commands": [names], "settings": [names]}: what the Worker routes by.
std::string module_info_json(Module m);

}  // namespace r2w::bindings
