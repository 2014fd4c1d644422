#include "cicu.h"
#include <stdio.h>
#include <stdlib.h>
#include <unicode/uversion.h>
#include <unicode/utypes.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/ubrk.h>

void cicu_version(char *buffer, int32_t capacity) {
    UVersionInfo info;
    u_getVersion(info);
    snprintf(buffer, (size_t)capacity, "%u.%u", (unsigned)info[0], (unsigned)info[1]);
}

void cicu_error_name(int32_t status, char *buffer, int32_t capacity) {
    snprintf(buffer, (size_t)capacity, "%s", u_errorName((UErrorCode)status));
}

static const UNormalizer2 *normalizer(int32_t form, UErrorCode *error) {
    return form == 2 ? unorm2_getNFKCInstance(error) : unorm2_getNFCInstance(error);
}

int32_t cicu_normalize(int32_t form, const uint16_t *source, int32_t length,
                       uint16_t *destination, int32_t capacity, int32_t *status) {
    UErrorCode error = U_ZERO_ERROR;
    const UNormalizer2 *n = normalizer(form, &error);
    int32_t result = 0;
    if (U_SUCCESS(error)) {
        result = unorm2_normalize(n, (const UChar *)source, length, (UChar *)destination, capacity, &error);
    }
    *status = (int32_t)error;
    return result;
}

int32_t cicu_normalized_prefix(int32_t form, const uint16_t *source, int32_t length, int32_t *status) {
    UErrorCode error = U_ZERO_ERROR;
    const UNormalizer2 *n = normalizer(form, &error);
    int32_t result = 0;
    if (U_SUCCESS(error)) {
        result = unorm2_spanQuickCheckYes(n, (const UChar *)source, length, &error);
    }
    *status = (int32_t)error;
    return result;
}

int32_t cicu_has_boundary_before(int32_t form, int32_t codePoint) {
    UErrorCode error = U_ZERO_ERROR;
    const UNormalizer2 *n = normalizer(form, &error);
    if (U_FAILURE(error)) return 0;
    return unorm2_hasBoundaryBefore(n, (UChar32)codePoint) ? 1 : 0;
}

int32_t cicu_fold_case(const uint16_t *source, int32_t length, uint16_t *destination, int32_t capacity,
                       int32_t *status) {
    UErrorCode error = U_ZERO_ERROR;
    int32_t result = u_strFoldCase((UChar *)destination, capacity, (const UChar *)source, length,
                                   U_FOLD_CASE_DEFAULT, &error);
    *status = (int32_t)error;
    return result;
}

int32_t cicu_utf8_to_utf16(const uint8_t *source, int32_t length, uint16_t *destination, int32_t capacity,
                           int32_t *status) {
    UErrorCode error = U_ZERO_ERROR;
    int32_t result = 0;
    u_strFromUTF8WithSub((UChar *)destination, capacity, &result, (const char *)source, length,
                         0xFFFD, NULL, &error);
    *status = (int32_t)error;
    return result;
}

int32_t cicu_utf16_to_utf8(const uint16_t *source, int32_t length, uint8_t *destination, int32_t capacity,
                           int32_t *status) {
    UErrorCode error = U_ZERO_ERROR;
    int32_t result = 0;
    u_strToUTF8WithSub((char *)destination, capacity, &result, (const UChar *)source, length,
                       0xFFFD, NULL, &error);
    *status = (int32_t)error;
    return result;
}

struct cicu_breaker {
    UBreakIterator *iterator;
};

cicu_breaker *cicu_breaker_open(int32_t kind, int32_t *status) {
    UErrorCode error = U_ZERO_ERROR;
    UBreakIterator *iterator = ubrk_open(kind == 1 ? UBRK_WORD : UBRK_CHARACTER, "", NULL, 0, &error);
    *status = (int32_t)error;
    if (U_FAILURE(error) || iterator == NULL) return NULL;
    cicu_breaker *breaker = malloc(sizeof(cicu_breaker));
    if (breaker == NULL) {
        ubrk_close(iterator);
        *status = (int32_t)U_MEMORY_ALLOCATION_ERROR;
        return NULL;
    }
    breaker->iterator = iterator;
    return breaker;
}

void cicu_breaker_close(cicu_breaker *breaker) {
    if (breaker == NULL) return;
    ubrk_close(breaker->iterator);
    free(breaker);
}

int32_t cicu_breaker_boundaries(cicu_breaker *breaker, const uint16_t *text, int32_t length,
                                int32_t *boundaries, int32_t capacity, int32_t *status) {
    UErrorCode error = U_ZERO_ERROR;
    if (capacity < length) {
        *status = (int32_t)U_BUFFER_OVERFLOW_ERROR;
        return 0;
    }
    ubrk_setText(breaker->iterator, (const UChar *)text, length, &error);
    if (U_FAILURE(error)) {
        *status = (int32_t)error;
        return 0;
    }
    int32_t count = 0;
    for (int32_t b = ubrk_next(breaker->iterator); b != UBRK_DONE; b = ubrk_next(breaker->iterator)) {
        if (count < capacity) boundaries[count] = b;
        count += 1;
    }
    // Detach the iterator from the caller's buffer, which may be freed after this call.
    ubrk_setText(breaker->iterator, NULL, 0, &error);
    *status = U_ZERO_ERROR;
    return count;
}
