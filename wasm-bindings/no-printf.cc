// r2watch.wasm links no printf (its formatter is 10 KB of code that nothing of ours needs).
// The only callers left are libc++abi's last words before an abort ("terminating", "pure
// virtual function called"): these write their format text as it is, then the module traps.
// Built into the wasm module only; `make wasm-size` checks the link map for printf.
#include <cstdarg>
#include <cstdio>

extern "C" int vfprintf(FILE* stream, const char* format, va_list) { return fputs(format, stream); }

extern "C" int fprintf(FILE* stream, const char* format, ...) { return fputs(format, stream); }
