// Which module this wasm binary is (compiled once per module: R2W_MODULE_CONSOLE for
// r2watch-console.wasm, else r2watch.wasm) and the export that says what it registers.
#include <string>

#include "wasm-bindings/export.h"
#include "wasm-bindings/modules.h"

namespace r2w::bindings {

Module linked_module() {
#if defined(R2W_MODULE_CONSOLE)
  return Module::kConsole;
#else
  return Module::kRequest;
#endif
}

}  // namespace r2w::bindings

// {"module", "commands", "settings"} (modules.h) as NUL-terminated JSON text; the Worker routes
// each command to the module that registers it (worker-shim/src/engine.js).
R2W_EXPORT("r2w_module_info") const char* r2w_module_info() {
  static const std::string info = r2w::bindings::module_info_json(r2w::bindings::linked_module());
  return info.c_str();
}
