// Native builds (tests, fuzzing) and the browser's cost model register every engine command.
#include "wasm-bindings/modules.h"

namespace r2w::bindings {

Module linked_module() { return Module::kAll; }

}  // namespace r2w::bindings
