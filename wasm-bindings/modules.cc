// Which engine commands each wasm module registers (see modules.h). Only the list of the linked
// module is referenced in a wasm build, so the linker drops every other command's handler.
#include "wasm-bindings/modules.h"

#include <string>

#include "wasm-bindings/codec/json.h"

namespace r2w::bindings {

namespace {

// The request path, and the health commands that read or change its breaker. (The console also
// registers metrics_ingest and security for the settings its commands read: metrics_configure,
// security_configure.)
constexpr DomainCommands kRequestDomains[] = {
    &breaker_commands,        &health_breaker_commands, &storage_commands,
    &metrics_ingest_commands, &security_commands,       &log_commands,
};

constexpr DomainCommands kConsoleDomains[] = {
    &metrics_ingest_commands,
    &security_commands,
    &security_admin_commands,
    &storage_inventory_commands,
    &metrics_commands,
    &health_commands,
    &cost_commands,
    &alert_commands,
    &ops_commands,
    &account_commands,
    &status_commands,
    &report_commands,
};

constexpr DomainCommands kAllDomains[] = {
    &breaker_commands,
    &storage_commands,
    &storage_inventory_commands,
    &metrics_ingest_commands,
    &security_commands,
    &security_admin_commands,
    &log_commands,
    &metrics_commands,
    &health_breaker_commands,
    &health_commands,
    &cost_commands,
    &alert_commands,
    &ops_commands,
    &account_commands,
    &status_commands,
    &report_commands,
};

constexpr std::string_view kSettingsCommands[] = {"metrics_configure", "security_configure",
                                                  "alert_configure"};

}  // namespace

std::span<const DomainCommands> module_domains(Module m) {
  switch (m) {
    case Module::kRequest:
      return kRequestDomains;
    case Module::kConsole:
      return kConsoleDomains;
    case Module::kAll:
      break;
  }
  return kAllDomains;
}

std::string_view module_name(Module m) {
  switch (m) {
    case Module::kRequest:
      return "r2watch";
    case Module::kConsole:
      return "r2watch-console";
    case Module::kAll:
      break;
  }
  return "all";
}

std::span<const std::string_view> settings_commands() { return kSettingsCommands; }

std::string module_info_json(Module m) {
  r2w::Json commands = r2w::Json::array();
  for (DomainCommands domain : module_domains(m)) {
    for (const CommandEntry& e : domain()) commands.push_back(std::string(e.name));
  }
  r2w::Json settings = r2w::Json::array();
  for (std::string_view name : settings_commands()) settings.push_back(std::string(name));
  return r2w::Json{{"module", std::string(module_name(m))},
                   {"commands", std::move(commands)},
                   {"settings", std::move(settings)}}
      .dump();
}

CommandHandler find_command(std::string_view name) {
  for (DomainCommands domain : module_domains(linked_module())) {
    for (const CommandEntry& e : domain()) {
      if (e.name == name) return e.handler;
    }
  }
  return nullptr;
}

}  // namespace r2w::bindings
