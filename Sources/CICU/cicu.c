#include "cicu.h"
#include <stdio.h>
#include <unicode/uversion.h>

void cicu_version(char *buffer, int32_t capacity) {
    UVersionInfo info;
    u_getVersion(info);
    snprintf(buffer, (size_t)capacity, "%u.%u", (unsigned)info[0], (unsigned)info[1]);
}
