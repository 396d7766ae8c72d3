#pragma once

// A C function the Worker calls: exported by name from the wasm module; natively (the hot-path
// fuzz target, the native tests) a plain C function. Used by exports.cc, alert-exports.cc and
// module-exports.cc.
#if defined(__wasm__)
#define R2W_EXPORT(name) extern "C" __attribute__((export_name(name)))
#else
#define R2W_EXPORT(name) extern "C"
#endif
