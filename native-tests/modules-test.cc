// The split of the engine's commands between the two wasm modules (wasm-bindings/modules.h):
// every command is in one of them, each module's list is what it reports to the Worker.
#include "wasm-bindings/modules.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "wasm-bindings/codec/json.h"

namespace r2w::bindings {
namespace {

std::set<std::string> names_of(Module m) {
  std::set<std::string> out;
  for (DomainCommands domain : module_domains(m)) {
    for (const CommandEntry& e : domain()) out.insert(std::string(e.name));
  }
  return out;
}

TEST(Modules, EveryCommandIsInOneOfTheTwoModulesAndNoOtherIs) {
  std::set<std::string> all = names_of(Module::kAll);
  std::set<std::string> request = names_of(Module::kRequest);
  std::set<std::string> console = names_of(Module::kConsole);
  EXPECT_EQ(linked_module(), Module::kAll);  // native builds register every command
  for (const std::string& name : all) {
    EXPECT_TRUE(request.contains(name) || console.contains(name)) << name;
  }
  for (const std::string& name : request) EXPECT_TRUE(all.contains(name)) << name;
  for (const std::string& name : console) EXPECT_TRUE(all.contains(name)) << name;
  for (const char* name : {"auth_authenticate", "storage_read_plan", "breaker_sync_take",
                           "metrics_flush_take", "log_line", "health_config_apply"}) {
    EXPECT_TRUE(request.contains(name)) << name;
  }
  for (const char* name : {"alert_check", "cost_bill", "report_build", "metrics_overview"}) {
    EXPECT_FALSE(request.contains(name)) << name;
    EXPECT_TRUE(console.contains(name)) << name;
  }
}

TEST(Modules, SettingsReachEveryModuleThatReadsThem) {
  std::set<std::string> request = names_of(Module::kRequest);
  std::set<std::string> console = names_of(Module::kConsole);
  for (std::string_view name : settings_commands()) {
    EXPECT_TRUE(request.contains(std::string(name)) || console.contains(std::string(name))) << name;
  }
  // The console's alert round reads the security settings, its metrics views the own prefix.
  EXPECT_TRUE(console.contains("security_configure"));
  EXPECT_TRUE(console.contains("metrics_configure"));
}

TEST(Modules, InfoListsTheModulesCommandsAndTheSettings) {
  auto info = parse_json_object(module_info_json(Module::kRequest));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info.value()["module"].get<std::string>(), "r2watch");
  std::set<std::string> listed;
  for (const auto& name : info.value()["commands"]) listed.insert(name.get<std::string>());
  EXPECT_EQ(listed, names_of(Module::kRequest));
  EXPECT_EQ(info.value()["settings"].size(), settings_commands().size());
  auto console = parse_json_object(module_info_json(Module::kConsole));
  ASSERT_TRUE(console.ok());
  EXPECT_EQ(console.value()["module"].get<std::string>(), "r2watch-console");
}

}  // namespace
}  // namespace r2w::bindings
