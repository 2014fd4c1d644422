// The GEMM engine: every matrix product of the package (see ckernels.h for the contract).
//
// Structure (after the BLIS design): C is computed in blocks of NC columns; for each block the
// inner dimension is walked in slices of KC; each slice of B is packed into 16-column panels
// (KC rows × 16 contiguous values, zero-padded), each MC-row block of A into row micro-panels
// (KC × R values, R ≤ MR rows interleaved), and a register-blocked micro-kernel computes an R-row
// × 16-column tile of C per call (32 columns, two panels, with AVX-512). A micro-panel of B is
// contiguous (16 KiB at KC = 256), so it stays in L1 while the row blocks of A pass over it. A
// pre-packed B (ck_spack) skips the B packing: its panels hold all K rows, so a KC slice is a
// pointer offset.
//
// Determinism by construction: every element C[i][j] is one chain of fused multiply-adds over
// k = 0, 1, …, K−1, starting from 0 (or from C[i][j] when accumulating). A KC slice ends by
// storing the running sum into C and the next slice reloads it, which is exact in f32, so
// neither the blocking nor the tile an element lands in, nor the kernel (AVX-512, AVX2+FMA, or
// the portable one, which calls fmaf), changes a single bit. How a caller splits rows or
// columns between calls or threads does not either.
#include "gemm_internal.h"
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// MARK: Kernel selection

// Per thread, so that a test forcing the portable kernels does not change what concurrently
// running code computes.
static _Thread_local int32_t forcePortable = 0;

static int32_t detected_isa(void) {
    static int32_t cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) cached = CK_ISA_AVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) cached = CK_ISA_AVX2;
        else cached = CK_ISA_PORTABLE;
    }
    return cached;
}

int32_t ck_gemm_isa(void) { return forcePortable ? CK_ISA_PORTABLE : detected_isa(); }
void ck_force_portable(int32_t on) { forcePortable = on; }

// MARK: Packing

float ck_round_bf16(float x) {
    uint32_t u = bf16_round_bits(x) << 16;
    float r;
    memcpy(&r, &u, sizeof r);
    return r;
}

void ck_round_bf16_array(const float *src, float *dst, int64_t count) {
    for (int64_t i = 0; i < count; i++) dst[i] = ck_round_bf16(src[i]);
}

int64_t ck_packed_count(int64_t k, int64_t n) { return (n + NR - 1) / NR * NR * k; }

// Packs rows k0..<k0+kc and columns j0..<j0+nc of op(B) into panels of `rows` rows × 16 values:
// panel p at dst + p·16·rows, row r of it holding columns j0+16p… (zero past nc). op(B)[kk][j] is
// src[kk·ld + j], or src[j·ld + kk] when `transposed`.
// A full panel of a transposed B: panel[kk·16 + j] = col_j[kk] for the 16 columns j of B that are
// the rows src + j·ld (kk < kc). f32 in 4 × 4 blocks (SSE, every x86-64 has it); f64 one by one.
static inline void transpose_panel_f32(const float *src, int64_t ld, int64_t kc, float *panel) {
    int64_t kk = 0;
    for (; kk + 4 <= kc; kk += 4)
        for (int j = 0; j < NR; j += 4) {
            __m128 r0 = _mm_loadu_ps(src + (j + 0) * ld + kk), r1 = _mm_loadu_ps(src + (j + 1) * ld + kk);
            __m128 r2 = _mm_loadu_ps(src + (j + 2) * ld + kk), r3 = _mm_loadu_ps(src + (j + 3) * ld + kk);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(panel + (kk + 0) * NR + j, r0);
            _mm_storeu_ps(panel + (kk + 1) * NR + j, r1);
            _mm_storeu_ps(panel + (kk + 2) * NR + j, r2);
            _mm_storeu_ps(panel + (kk + 3) * NR + j, r3);
        }
    for (; kk < kc; kk++)
        for (int j = 0; j < NR; j++) panel[kk * NR + j] = src[j * ld + kk];
}
static inline void transpose_panel_f64(const double *src, int64_t ld, int64_t kc, double *panel) {
    for (int j = 0; j < NR; j++)
        for (int64_t kk = 0; kk < kc; kk++) panel[kk * NR + j] = src[j * ld + kk];
}

#define DEFINE_PACK_B(NAME, T, TRANSPOSE_PANEL)                                                          \
    static void NAME(const T *src, int64_t ld, int32_t transposed, int64_t k0, int64_t kc,          \
                     int64_t j0, int64_t nc, int64_t rows, T *dst) {                                \
        int64_t panels = (nc + NR - 1) / NR, full = nc / NR, tail = nc - full * NR;                 \
        if (transposed) {                                                                           \
            for (int64_t p = 0; p < panels; p++) {                                                  \
                T *panel = dst + p * NR * rows;                                                     \
                int64_t jp = j0 + p * NR, width = p < full ? NR : tail;                             \
                if (width == NR) {                                                                  \
                    TRANSPOSE_PANEL(src + jp * ld + k0, ld, kc, panel);                             \
                    continue;                                                                       \
                }                                                                                   \
                for (int64_t j = 0; j < width; j++) {                                               \
                    const T *col = src + (jp + j) * ld + k0;                                        \
                    for (int64_t kk = 0; kk < kc; kk++) panel[kk * NR + j] = col[kk];               \
                }                                                                                   \
                for (int64_t kk = 0; kk < kc; kk++)                                                 \
                    for (int64_t j = width; j < NR; j++) panel[kk * NR + j] = 0;                    \
            }                                                                                       \
            return;                                                                                 \
        }                                                                                           \
        /* Row kk of the source holds 16 values of every panel: read it once, in order. */          \
        for (int64_t kk = 0; kk < kc; kk++) {                                                       \
            const T *s = src + (k0 + kk) * ld + j0;                                                 \
            T *row = dst + kk * NR;                                                                 \
            for (int64_t p = 0; p < full; p++)                                                      \
                __builtin_memcpy(row + p * NR * rows, s + p * NR, NR * sizeof(T));                  \
            if (tail) {                                                                             \
                T *last = row + full * NR * rows;                                                   \
                for (int64_t j = 0; j < NR; j++) last[j] = j < tail ? s[full * NR + j] : 0;         \
            }                                                                                       \
        }                                                                                           \
    }
DEFINE_PACK_B(pack_b_f32, float, transpose_panel_f32)
DEFINE_PACK_B(pack_b_f64, double, transpose_panel_f64)

void ck_spack(const float *src, int64_t ld, int32_t transposed, int64_t k, int64_t n, float *dst) {
    pack_b_f32(src, ld, transposed, 0, k, 0, n, k, dst);
}
void ck_dpack(const double *src, int64_t ld, int32_t transposed, int64_t k, int64_t n, double *dst) {
    pack_b_f64(src, ld, transposed, 0, k, 0, n, k, dst);
}

// dst[r] = src[r] for r < rows, with the usual block heights (MR, MR − 1) as constants so the
// copies become a few vector moves instead of a loop (the panels of A hold A's own values).
#define COPY_ROW_BLOCK(dst, src, rows)                                                               \
    switch (rows) {                                                                                 \
    case MR: __builtin_memcpy((dst), (src), MR * sizeof *(dst)); break;                             \
    case MR - 1: __builtin_memcpy((dst), (src), (MR - 1) * sizeof *(dst)); break;                   \
    default: __builtin_memcpy((dst), (src), (size_t)(rows) * sizeof *(dst)); break;                 \
    }

// panel[kk·R + r] = s[r·ld + kk] for kk < kc, r < R: R rows of A read side by side.
#define INTERLEAVE_ROWS(R, panel, s, ld, kc)                                                         \
    for (int64_t kk = 0; kk < (kc); kk++)                                                           \
        for (int r_ = 0; r_ < (R); r_++) (panel)[kk * (R) + r_] = (s)[r_ * (ld) + kk];

// Packs rows i0..<i0+mc (mc ≤ MC) and inner indices k0..<k0+kc of op(A) into micro-panels, one
// per row block: the block of R rows at dst + (first row − i0)·kc, holding kc groups of R values
// (index kk·R + r). op(A)[i][kk] is src[i·ld + kk], or src[kk·ld + i] when `transposed`.
#define DEFINE_PACK_A(NAME, T)                                                                           \
    static void NAME(const T *src, int64_t ld, int32_t transposed, int64_t i0, int64_t mc,          \
                     int64_t k0, int64_t kc, T *dst) {                                              \
        int64_t starts[MC / MR + 2], blocks = row_blocks(mc, starts);                               \
        if (transposed) {                                                                           \
            /* Row kk of the source holds all mc values of that k: read it once, in order. */       \
            for (int64_t kk = 0; kk < kc; kk++) {                                                   \
                const T *s = src + (k0 + kk) * ld + i0;                                             \
                for (int64_t bi = 0; bi < blocks; bi++) {                                           \
                    int64_t r0 = starts[bi], rows = starts[bi + 1] - r0;                            \
                    COPY_ROW_BLOCK(dst + r0 * kc + kk * rows, s + r0, rows)                         \
                }                                                                                   \
            }                                                                                       \
            return;                                                                                 \
        }                                                                                           \
        for (int64_t bi = 0; bi < blocks; bi++) {                                                   \
            int64_t r0 = starts[bi], rows = starts[bi + 1] - r0;                                    \
            T *panel = dst + r0 * kc;                                                               \
            /* Reads `rows` rows side by side, writes the panel in order. */                        \
            const T *s = src + (i0 + r0) * ld + k0;                                                 \
            switch (rows) {                                                                         \
            case MR: INTERLEAVE_ROWS(MR, panel, s, ld, kc) break;                                   \
            case MR - 1: INTERLEAVE_ROWS(MR - 1, panel, s, ld, kc) break;                           \
            default:                                                                                \
                for (int64_t kk = 0; kk < kc; kk++)                                                 \
                    for (int64_t r = 0; r < rows; r++) panel[kk * rows + r] = s[r * ld + kk];       \
            }                                                                                       \
        }                                                                                           \
    }
DEFINE_PACK_A(pack_a_f32, float)
DEFINE_PACK_A(pack_a_f64, double)

// A transposed A (op(A)[i][kk] = src[kk·ld + i]) with more than MC rows: packs the row blocks of every
// MC-row block of rows 0..<m for inner indices k0..<k0+kc in one pass over the source rows, each read
// once from start to end (per MC block they would be read in 384-byte pieces, one MC block at a time,
// which the hardware prefetchers do not follow). Block `ic` lands at dst + ic·kc exactly as
// PACK_A(…, ic, min(MC, m − ic), …) would put it, so the kernels see the same panels.
#define DEFINE_PACK_A_SLICE(NAME, T)                                                                     \
    static void NAME(const T *src, int64_t ld, int64_t m, int64_t k0, int64_t kc, T *dst) {         \
        /* Every MC block but the last has the same row blocks. */                                  \
        int64_t full[MC / MR + 2], last[MC / MR + 2], lastRows = m - (m - 1) / MC * MC;             \
        int64_t fullBlocks = row_blocks(MC, full), lastBlocks = row_blocks(lastRows, last);         \
        for (int64_t kk = 0; kk < kc; kk++) {                                                       \
            const T *s = src + (k0 + kk) * ld;                                                      \
            for (int64_t ic = 0; ic < m; ic += MC) {                                                \
                int32_t isLast = m - ic <= MC;                                                      \
                const int64_t *starts = isLast ? last : full;                                       \
                int64_t blocks = isLast ? lastBlocks : fullBlocks;                                  \
                T *block = dst + ic * kc;                                                           \
                for (int64_t bi = 0; bi < blocks; bi++) {                                           \
                    int64_t r0 = starts[bi], rows = starts[bi + 1] - r0;                            \
                    COPY_ROW_BLOCK(block + r0 * kc + kk * rows, s + ic + r0, rows)                  \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }
DEFINE_PACK_A_SLICE(pack_a_slice_f32, float)
DEFINE_PACK_A_SLICE(pack_a_slice_f64, double)

// MARK: Micro-kernels
// kern(R, kc, ap, bp, next, c, ldc, width, init): C[0..<R][0..<width] of the tile at `c` (row
// stride ldc) becomes init ? C + Σ : Σ, with Σ the chain over kk < kc of ap[kk·R + r] · B[kk][j],
// where B[kk][j] is bp[kk·16 + j] for j < 16 and bp[next + kk·16 + j − 16] (the next panel)
// beyond. `width` is at most the kernel's column count (16; 32 for AVX-512, which is only called
// with width > 16, so the next panel exists).

#define DEFINE_PORTABLE_KERNEL(NAME, T, FMA)                                                       \
    static void NAME(int R, int64_t kc, const T *ap, const T *bp, int64_t next, T *c, int64_t ldc,  \
                     int64_t width, int32_t init) {                                                 \
        (void)next;                                                                                 \
        T acc[MR][NR];                                                                              \
        for (int r = 0; r < R; r++)                                                                 \
            for (int64_t j = 0; j < NR; j++) acc[r][j] = init && j < width ? c[r * ldc + j] : 0;   \
        for (int64_t kk = 0; kk < kc; kk++) {                                                       \
            const T *brow = bp + kk * NR;                                                           \
            for (int r = 0; r < R; r++) {                                                           \
                T av = ap[kk * R + r];                                                              \
                for (int64_t j = 0; j < NR; j++) acc[r][j] = FMA(av, brow[j], acc[r][j]);           \
            }                                                                                       \
        }                                                                                           \
        for (int r = 0; r < R; r++)                                                                 \
            for (int64_t j = 0; j < width; j++) c[r * ldc + j] = acc[r][j];                         \
    }
DEFINE_PORTABLE_KERNEL(kern_portable_f32, float, fmaf)
DEFINE_PORTABLE_KERNEL(kern_portable_f64, double, fma)

// AVX2 + FMA: R rows × 16 columns in 2R ymm accumulators; one broadcast per row and two B loads
// per k.
__attribute__((target("avx2,fma"), always_inline)) static inline void
kern_avx2_rows(const int R, int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc,
               int64_t width, int32_t init) {
    // 16 columns: one panel.
    __m256 acc0[MR], acc1[MR];
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width - 8), lane);
    for (int r = 0; r < R; r++) {
        if (init && width >= 16) {
            acc0[r] = _mm256_loadu_ps(c + r * ldc);
            acc1[r] = _mm256_loadu_ps(c + r * ldc + 8);
        } else if (init) {
            acc0[r] = _mm256_maskload_ps(c + r * ldc, m0);
            acc1[r] = _mm256_maskload_ps(c + r * ldc + 8, m1);
        } else {
            acc0[r] = _mm256_setzero_ps();
            acc1[r] = _mm256_setzero_ps();
        }
    }
    for (int64_t kk = 0; kk < kc; kk++) {
        // One 64-byte row of the panel per k: fetch the row PREFETCH_ROWS ahead (the first row
        // block of a panel reads it from L2/L3; the others find it in L1).
        _mm_prefetch((const char *)(bp + (kk + PREFETCH_ROWS) * NR), _MM_HINT_T0);
        __m256 b0 = _mm256_loadu_ps(bp + kk * NR), b1 = _mm256_loadu_ps(bp + kk * NR + 8);
        for (int r = 0; r < R; r++) {
            __m256 av = _mm256_broadcast_ss(ap + kk * R + r);
            acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
        }
    }
    if (width >= 16) {
        for (int r = 0; r < R; r++) {
            _mm256_storeu_ps(c + r * ldc, acc0[r]);
            _mm256_storeu_ps(c + r * ldc + 8, acc1[r]);
        }
    } else {
        for (int r = 0; r < R; r++) {
            _mm256_maskstore_ps(c + r * ldc, m0, acc0[r]);
            _mm256_maskstore_ps(c + r * ldc + 8, m1, acc1[r]);
        }
    }
}

__attribute__((target("avx2,fma"))) static void
kern_avx2(int R, int64_t kc, const float *ap, const float *bp, int64_t next, float *c, int64_t ldc,
          int64_t width, int32_t init) {
    (void)next;
    DISPATCH_ROWS(R, kern_avx2_rows, kc, ap, bp, c, ldc, width, init)
}

// AVX-512: R rows × 32 columns in 2R zmm accumulators, the same schedule as AVX2 twice as wide.
__attribute__((target("avx512f"), always_inline)) static inline void
kern_avx512_rows(const int R, int64_t kc, const float *ap, const float *bp, const float *bq,
                 float *c, int64_t ldc, int64_t width, int32_t init) {
    __m512 acc0[MR], acc1[MR];
    const __mmask16 m0 = tile_mask(width, 0), m1 = tile_mask(width, 16);
    for (int r = 0; r < R; r++) {
        if (init) {
            acc0[r] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
            acc1[r] = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);
        } else {
            acc0[r] = _mm512_setzero_ps();
            acc1[r] = _mm512_setzero_ps();
        }
    }
    for (int64_t kk = 0; kk < kc; kk++) {
        _mm_prefetch((const char *)(bp + (kk + PREFETCH_ROWS) * NR), _MM_HINT_T0);  // as in the AVX2 kernel
        _mm_prefetch((const char *)(bq + (kk + PREFETCH_ROWS) * NR), _MM_HINT_T0);
        __m512 b0 = _mm512_loadu_ps(bp + kk * NR), b1 = _mm512_loadu_ps(bq + kk * NR);
        for (int r = 0; r < R; r++) {
            __m512 av = _mm512_set1_ps(ap[kk * R + r]);
            acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm512_mask_storeu_ps(c + r * ldc, m0, acc0[r]);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc1[r]);
    }
}

__attribute__((target("avx512f"))) static void
kern_avx512(int R, int64_t kc, const float *ap, const float *bp, int64_t next, float *c, int64_t ldc,
            int64_t width, int32_t init) {
    DISPATCH_ROWS(R, kern_avx512_rows, kc, ap, bp, bp + next, c, ldc, width, init)
}

// MARK: Workspaces

// Per-thread packing buffers, grown on demand and kept for the thread's lifetime (the threads
// are the few long-lived workers of the dispatch pool).
static _Thread_local void *packA = NULL, *packB = NULL;
static _Thread_local size_t packABytes = 0, packBBytes = 0;

void *ck_workspace(void **buffer, size_t *capacity, size_t bytes) {
    if (bytes > *capacity) {
        free(*buffer);
        size_t rounded = (bytes + 63) / 64 * 64;
        *buffer = aligned_alloc(64, rounded);
        if (!*buffer) abort();
        *capacity = rounded;
    }
    return *buffer;
}

// MARK: Driver

typedef void (*kernel_f32)(int, int64_t, const float *, const float *, int64_t, float *, int64_t, int64_t,
                           int32_t);
typedef void (*kernel_f64)(int, int64_t, const double *, const double *, int64_t, double *, int64_t, int64_t,
                           int32_t);

// One driver per scalar type. `b` is either a pre-packed B (packed = 1; full-K panels, the block
// starting at panel `panel0`) or op(B) as stored (ldb, transB).
#define DEFINE_DRIVER(NAME, T, PACK_A, PACK_A_SLICE, PACK_B, KERNEL_T)                             \
    static void NAME(int32_t transA, int64_t m, int64_t n, int64_t k, const T *a, int64_t lda,     \
                     int32_t packed, const T *b, int64_t ldb, int32_t transB, int64_t panel0,       \
                     T *c, int64_t ldc, int32_t accumulate, KERNEL_T kern, KERNEL_T narrow,         \
                     int64_t kernelWidth) {                                                         \
        if (m <= 0 || n <= 0) return;                                                               \
        if (k <= 0) {                                                                               \
            if (!accumulate)                                                                        \
                for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(T));     \
            return;                                                                                 \
        }                                                                                           \
        int64_t kcMax = k < KC ? k : KC, mcMax = m < MC ? m : MC;                                   \
        /* A transposed A of more than MC rows is packed a whole KC slice at a time. */             \
        int32_t wholeSlice = transA && m > MC;                                                      \
        T *ap = ck_workspace(&packA, &packABytes, (size_t)((wholeSlice ? m : mcMax) * kcMax) * sizeof(T)); \
        T *bp = packed ? NULL                                                                       \
                       : ck_workspace(&packB, &packBBytes,                                             \
                                   (size_t)(((n < NC ? n : NC) + NR - 1) / NR * NR * kcMax) * sizeof(T)); \
        for (int64_t jc = 0; jc < n; jc += NC) {                                                    \
            int64_t nc = n - jc < NC ? n - jc : NC, panels = (nc + NR - 1) / NR;                    \
            for (int64_t pc = 0; pc < k; pc += KC) {                                                \
                int64_t kc = k - pc < KC ? k - pc : KC;                                             \
                const T *bblock;                                                                    \
                int64_t panelStride;                                                                \
                if (packed) {                                                                       \
                    bblock = b + (panel0 + jc / NR) * NR * k + pc * NR;                             \
                    panelStride = NR * k;                                                           \
                } else {                                                                            \
                    PACK_B(b, ldb, transB, pc, kc, jc, nc, kc, bp);                                 \
                    bblock = bp;                                                                    \
                    panelStride = NR * kc;                                                          \
                }                                                                                   \
                int32_t init = pc > 0 || accumulate;                                                \
                if (wholeSlice) PACK_A_SLICE(a, lda, m, pc, kc, ap);                                \
                for (int64_t ic = 0; ic < m; ic += MC) {                                            \
                    int64_t mc = m - ic < MC ? m - ic : MC;                                         \
                    const T *apBlock = wholeSlice ? ap + ic * kc : ap;                              \
                    if (!wholeSlice) PACK_A(a, lda, transA, ic, mc, pc, kc, ap);                    \
                    int64_t blocks = (mc + MR - 1) / MR;                                            \
                    for (int64_t p = 0; p < panels; p += kernelWidth / NR) {                        \
                        int64_t j = p * NR;                                                         \
                        int64_t width = nc - j < kernelWidth ? nc - j : kernelWidth;                \
                        /* The wide kernel needs a second panel; a last lone one takes the      */  \
                        /* narrow kernel, which computes the same bits.                         */  \
                        KERNEL_T tileKernel = width > NR ? kern : narrow;                           \
                        const T *bpanel = bblock + p * panelStride;                                 \
                        for (int64_t bi = 0; bi < blocks; bi++) {                                   \
                            int64_t r0 = block_start(bi, blocks, mc);                               \
                            int rows = (int)(block_start(bi + 1, blocks, mc) - r0);                 \
                            /* The next tile of C, which the next call reads or writes.         */  \
                            if (bi + 1 < blocks)                                                    \
                                for (int r = 0; r < MR; r++)                                        \
                                    __builtin_prefetch(c + (ic + r0 + rows + r) * ldc + jc + j, 1);  \
                            tileKernel(rows, kc, apBlock + r0 * kc, bpanel, panelStride,            \
                                       c + (ic + r0) * ldc + jc + j, ldc, width, init);             \
                        }                                                                           \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }
DEFINE_DRIVER(drive_f32, float, pack_a_f32, pack_a_slice_f32, pack_b_f32, kernel_f32)
DEFINE_DRIVER(drive_f64, double, pack_a_f64, pack_a_slice_f64, pack_b_f64, kernel_f64)

// The kernel this thread runs, its column count, and the 16-column kernel for a last lone panel.
static kernel_f32 select_f32(int64_t *width, kernel_f32 *narrow) {
    switch (ck_gemm_isa()) {
    case CK_ISA_AVX512: *width = 2 * NR; *narrow = kern_avx2; return kern_avx512;
    case CK_ISA_AVX2: *width = NR; *narrow = kern_avx2; return kern_avx2;
    default: *width = NR; *narrow = kern_portable_f32; return kern_portable_f32;
    }
}

void ck_sgemm(int32_t transA, int32_t transB, int64_t m, int64_t n, int64_t k, const float *a,
              int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int32_t accumulate) {
    int64_t width;
    kernel_f32 narrow, kern = select_f32(&width, &narrow);
    drive_f32(transA, m, n, k, a, lda, 0, b, ldb, transB, 0, c, ldc, accumulate, kern, narrow, width);
}

void ck_sgemm_ex(int32_t operands, int32_t transA, int32_t transB, int64_t m, int64_t n, int64_t k,
                 const float *a, int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                 int32_t accumulate) {
    if (operands == CK_OPERANDS_BF16) ck_bf16_gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    else ck_sgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

void ck_spack_ex(int32_t operands, const float *src, int64_t ld, int32_t transposed, int64_t k, int64_t n,
                 float *dst) {
    if (operands == CK_OPERANDS_BF16) ck_bf16_pack(src, ld, transposed, k, n, dst);
    else pack_b_f32(src, ld, transposed, 0, k, 0, n, k, dst);
}

void ck_sgemm_packed_ex(int32_t operands, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                        const float *packed, int64_t panel0, float *c, int64_t ldc, int32_t accumulate) {
    if (operands == CK_OPERANDS_BF16) ck_bf16_gemm_packed(m, n, k, a, lda, packed, panel0, c, ldc, accumulate);
    else ck_sgemm_packed(m, n, k, a, lda, packed, panel0, c, ldc, accumulate);
}

void ck_dgemm(int32_t transA, int32_t transB, int64_t m, int64_t n, int64_t k, const double *a,
              int64_t lda, const double *b, int64_t ldb, double *c, int64_t ldc, int32_t accumulate) {
    drive_f64(transA, m, n, k, a, lda, 0, b, ldb, transB, 0, c, ldc, accumulate, kern_portable_f64,
              kern_portable_f64, NR);
}

void ck_sgemm_packed(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                     const float *packed, int64_t panel0, float *c, int64_t ldc, int32_t accumulate) {
    int64_t width;
    kernel_f32 narrow, kern = select_f32(&width, &narrow);
    drive_f32(0, m, n, k, a, lda, 1, packed, 0, 0, panel0, c, ldc, accumulate, kern, narrow, width);
}

void ck_dgemm_packed(int64_t m, int64_t n, int64_t k, const double *a, int64_t lda,
                     const double *packed, int64_t panel0, double *c, int64_t ldc, int32_t accumulate) {
    drive_f64(0, m, n, k, a, lda, 1, packed, 0, 0, panel0, c, ldc, accumulate, kern_portable_f64,
              kern_portable_f64, NR);
}
