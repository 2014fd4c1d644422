// C shim over ICU4C. The public header uses only <stdint.h> types so that Swift modules importing it
// never see ICU's own headers (see Package.swift for why).
#ifndef CICU_H
#define CICU_H
#include <stdint.h>

/// Writes ICU's version as "MAJOR.MINOR" into `buffer` (NUL-terminated, at most `capacity` bytes).
void cicu_version(char *buffer, int32_t capacity);

#endif
