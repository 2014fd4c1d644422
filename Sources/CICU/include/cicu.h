// C shim over ICU4C. The public header uses only <stdint.h> types so that Swift modules importing it
// never see ICU's own headers (see Package.swift for why).
//
// Conventions: text is UTF-16 (`uint16_t`) with explicit lengths in code units; `status` receives ICU's
// UErrorCode (0 = success, > 0 = failure, < 0 = warning). Functions that write into a caller's buffer
// return the length the full result needs, so a caller whose buffer was too small (status 15,
// U_BUFFER_OVERFLOW_ERROR) can grow it and call again.
#ifndef CICU_H
#define CICU_H
#include <stdint.h>

/// Writes ICU's version as "MAJOR.MINOR" into `buffer` (NUL-terminated, at most `capacity` bytes).
void cicu_version(char *buffer, int32_t capacity);

/// Writes ICU's name for an error code (for example "U_BUFFER_OVERFLOW_ERROR") into `buffer`.
void cicu_error_name(int32_t status, char *buffer, int32_t capacity);

// MARK: Normalization (unorm2). `form`: 1 = NFC, 2 = NFKC.

/// Normalizes `source[0..<length]` into `destination`; returns the normalized length.
int32_t cicu_normalize(int32_t form, const uint16_t *source, int32_t length,
                       uint16_t *destination, int32_t capacity, int32_t *status);

/// Length of the longest prefix of `source` that is certainly already normalized (quick check "yes").
int32_t cicu_normalized_prefix(int32_t form, const uint16_t *source, int32_t length, int32_t *status);

/// 1 when `codePoint` always has a normalization boundary before it, whatever precedes it.
int32_t cicu_has_boundary_before(int32_t form, int32_t codePoint);

// MARK: Case folding (full, default mappings)

/// Case-folds `source` into `destination`; returns the folded length.
int32_t cicu_fold_case(const uint16_t *source, int32_t length, uint16_t *destination, int32_t capacity,
                       int32_t *status);

// MARK: UTF conversions (input must be well-formed; ICU substitutes U+FFFD otherwise)

/// Converts UTF-8 to UTF-16; returns the UTF-16 length.
int32_t cicu_utf8_to_utf16(const uint8_t *source, int32_t length, uint16_t *destination, int32_t capacity,
                           int32_t *status);

/// Converts UTF-16 to UTF-8; returns the UTF-8 length.
int32_t cicu_utf16_to_utf8(const uint16_t *source, int32_t length, uint8_t *destination, int32_t capacity,
                           int32_t *status);

// MARK: Break iteration (ubrk)

/// An ICU break iterator; not thread-safe, use one per thread.
typedef struct cicu_breaker cicu_breaker;

/// Opens a break iterator. `kind`: 0 = extended grapheme clusters, 1 = words (root locale rules, with
/// ICU's dictionaries for Thai, Lao, Khmer, Burmese, Chinese and Japanese). NULL on failure.
cicu_breaker *cicu_breaker_open(int32_t kind, int32_t *status);

/// Closes a break iterator from `cicu_breaker_open` (NULL is ignored).
void cicu_breaker_close(cicu_breaker *breaker);

/// Segments `text[0..<length]` and writes every boundary after 0, in increasing order and ending with
/// `length`, into `boundaries`; returns the number of boundaries (at most `length`). `capacity` must be at
/// least `length`, otherwise status is set to U_BUFFER_OVERFLOW_ERROR.
int32_t cicu_breaker_boundaries(cicu_breaker *breaker, const uint16_t *text, int32_t length,
                                int32_t *boundaries, int32_t capacity, int32_t *status);

#endif
