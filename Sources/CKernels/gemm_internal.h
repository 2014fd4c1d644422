// Shared by the GEMM engine's files (gemm.c: f32 and f64; gemm_bf16.c: bf16 operands): the blocking
// parameters, the row-block split, tile masks and the bf16 rounding. Not part of the package's C
// interface.
#ifndef CK_GEMM_INTERNAL_H
#define CK_GEMM_INTERNAL_H
#include "ckernels.h"
#include <stddef.h>
#include <stdint.h>

#define NR CK_PANEL_WIDTH   // columns per packed B panel (16)
#define MR 6                // most rows per micro-kernel call
#ifndef KC
#define KC 256              // inner-dimension slice (even: bf16 pairs never straddle two slices)
#endif
#ifndef MC
#define MC 96               // rows of A packed at a time (16 micro-panels of 6)
#endif
#define NC 2048             // columns of B packed at a time (128 panels)
#define PREFETCH_ROWS 16    // rows of a B panel the kernels prefetch ahead

// Rows of A are cut into ceil(m/MR) blocks of nearly equal size (25 rows: 5 blocks of 5), so no
// block is a lone inefficient remainder. Block `bi` of `blocks` over `m` rows starts here:
static inline int64_t block_start(int64_t bi, int64_t blocks, int64_t m) { return bi * m / blocks; }

// The row blocks of an mc-row block of A (mc ≤ MC): returns ceil(mc/MR); block bi is rows
// starts[bi] ..< starts[bi + 1] (block_start's split, computed once instead of per k).
static inline int64_t row_blocks(int64_t mc, int64_t starts[MC / MR + 2]) {
    int64_t blocks = (mc + MR - 1) / MR;
    for (int64_t bi = 0; bi <= blocks; bi++) starts[bi] = block_start(bi, blocks, mc);
    return blocks;
}

// Calls BODY(rows, …) with the row count R as a compile-time constant (1…MR), so that the
// accumulator arrays of the always-inline kernel bodies become registers.
#define DISPATCH_ROWS(R, BODY, ...)                                                                \
    switch (R) {                                                                                   \
    case 1: BODY(1, __VA_ARGS__); break;                                                           \
    case 2: BODY(2, __VA_ARGS__); break;                                                           \
    case 3: BODY(3, __VA_ARGS__); break;                                                           \
    case 4: BODY(4, __VA_ARGS__); break;                                                           \
    case 5: BODY(5, __VA_ARGS__); break;                                                           \
    default: BODY(MR, __VA_ARGS__); break;                                                         \
    }

// The 16 lanes of columns first..<first+16 of a tile `width` columns wide that lie inside it, as
// an AVX-512 write mask (bit j: column first + j).
static inline uint16_t tile_mask(int64_t width, int64_t first) {
    int64_t w = width - first;
    return w >= 16 ? 0xFFFF : w <= 0 ? 0 : (uint16_t)((1u << w) - 1);
}

// The high 16 bits of x rounded to bfloat16 (nearest, ties to even; every NaN the quiet NaN 0x7FC0),
// branch-free so that loops over it vectorize: ck_round_bf16's arithmetic.
static inline uint32_t bf16_round_bits(float x) {
    uint32_t u;
    __builtin_memcpy(&u, &x, sizeof u);
    return (u & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FC0u : (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
}

// A 64-byte aligned per-thread buffer of at least `bytes`, grown on demand and kept for the
// thread's lifetime (`buffer`/`capacity` are the caller's _Thread_local slots).
void *ck_workspace(void **buffer, size_t *capacity, size_t bytes);

// The products of gemm_bf16.c (CK_OPERANDS_BF16), called by the entry points in gemm.c.
void ck_bf16_gemm(int32_t transA, int32_t transB, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                  const float *b, int64_t ldb, float *c, int64_t ldc, int32_t accumulate);
void ck_bf16_pack(const float *src, int64_t ld, int32_t transposed, int64_t k, int64_t n, float *dst);
void ck_bf16_gemm_packed(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *packed,
                         int64_t panel0, float *c, int64_t ldc, int32_t accumulate);
#endif
