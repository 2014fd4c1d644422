// Starts libFuzzer from a Swift `main.swift` (SwiftPM gives every executable target its own `main`,
// which would hide libFuzzer's). The fuzz target defines LLVMFuzzerTestOneInput with @_cdecl.
#ifndef CFUZZDRIVER_H
#define CFUZZDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// The fuzz target's entry point: one input of `size` bytes; returns 0.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/// Runs libFuzzer with the process's arguments (libFuzzer's flags and corpus directories) on
/// LLVMFuzzerTestOneInput; returns libFuzzer's exit status.
int charrnn_fuzz_main(int argc, char **argv);
#endif
