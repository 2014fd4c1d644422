// Packed small-M GEMM: see ckernels.h for the layout and contract.
#include "ckernels.h"
#include <immintrin.h>
#include <string.h>

#define NR CK_PANEL_WIDTH
#define MR 6

int64_t ck_packed_count(int64_t k, int64_t n) { return (n + NR - 1) / NR * NR * k; }

#define DEFINE_PACK(NAME, T)                                                                   \
    void NAME(const T *src, int64_t ld, int32_t transposed, int64_t k, int64_t n, T *dst) {   \
        int64_t panels = (n + NR - 1) / NR;                                                    \
        for (int64_t p = 0; p < panels; p++) {                                                 \
            T *panel = dst + p * NR * k;                                                       \
            int64_t j0 = p * NR, width = n - j0 < NR ? n - j0 : NR;                            \
            for (int64_t kk = 0; kk < k; kk++) {                                               \
                T *row = panel + kk * NR;                                                      \
                for (int64_t j = 0; j < width; j++)                                            \
                    row[j] = transposed ? src[(j0 + j) * ld + kk] : src[kk * ld + j0 + j];     \
                for (int64_t j = width; j < NR; j++) row[j] = 0;                               \
            }                                                                                  \
        }                                                                                      \
    }
DEFINE_PACK(ck_spack, float)
DEFINE_PACK(ck_dpack, double)

// Portable kernel (CPUs without AVX-512, and Double): the same per-element order, k ascending;
// a multiply and an add per term where the vector kernel fuses them.
#define DEFINE_PORTABLE(NAME, T)                                                          \
    static void NAME(int64_t m, int64_t n, int64_t k, const T *a, int64_t lda,                 \
                     const T *packed, int64_t panel0, T *c, int64_t ldc, int32_t accumulate) { \
        int64_t panels = (n + NR - 1) / NR;                                                    \
        for (int64_t p = 0; p < panels; p++) {                                                 \
            const T *panel = packed + (panel0 + p) * NR * k;                                   \
            int64_t j0 = p * NR, width = n - j0 < NR ? n - j0 : NR;                            \
            for (int64_t i = 0; i < m; i++) {                                                  \
                T acc[NR];                                                                     \
                for (int64_t j = 0; j < NR; j++) acc[j] = 0;                                   \
                const T *ai = a + i * lda;                                                     \
                for (int64_t kk = 0; kk < k; kk++) {                                           \
                    T av = ai[kk];                                                             \
                    const T *row = panel + kk * NR;                                            \
                    for (int64_t j = 0; j < NR; j++) acc[j] = acc[j] + av * row[j];            \
                }                                                                              \
                T *ci = c + i * ldc + j0;                                                      \
                for (int64_t j = 0; j < width; j++) ci[j] = accumulate ? ci[j] + acc[j] : acc[j]; \
            }                                                                                  \
        }                                                                                      \
    }
DEFINE_PORTABLE(sgemm_portable, float)
DEFINE_PORTABLE(ck_dgemm_portable, double)

void ck_dgemm_packed(int64_t m, int64_t n, int64_t k, const double *a, int64_t lda,
                     const double *packed, int64_t panel0, double *c, int64_t ldc, int32_t accumulate) {
    ck_dgemm_portable(m, n, k, a, lda, packed, panel0, c, ldc, accumulate);
}

// MARK: AVX-512

// One block of R rows (R ≤ MR, a compile-time constant after inlining) × one 32-column panel:
// 2R accumulators in zmm registers, one broadcast per row and two panel loads per k.
__attribute__((target("avx512f"), always_inline)) static inline void
block_avx512(const int R, int64_t k, const float *a, int64_t lda, const float *panel, float *c,
             int64_t ldc, int64_t width, int32_t accumulate) {
    __m512 acc0[MR], acc1[MR];
    for (int r = 0; r < R; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); }
    for (int64_t kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_load_ps(panel + kk * NR), b1 = _mm512_load_ps(panel + kk * NR + 16);
        for (int r = 0; r < R; r++) {
            __m512 av = _mm512_set1_ps(a[r * lda + kk]);
            acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
        }
    }
    __mmask16 m0 = width >= 16 ? 0xFFFF : (__mmask16)((1u << width) - 1);
    __mmask16 m1 = width >= 32 ? 0xFFFF : width <= 16 ? 0 : (__mmask16)((1u << (width - 16)) - 1);
    for (int r = 0; r < R; r++) {
        float *cr = c + r * ldc;
        if (accumulate) {
            acc0[r] = _mm512_add_ps(acc0[r], _mm512_maskz_loadu_ps(m0, cr));
            acc1[r] = _mm512_add_ps(acc1[r], _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, acc0[r]);
        _mm512_mask_storeu_ps(cr + 16, m1, acc1[r]);
    }
}

__attribute__((target("avx512f"))) static void
sgemm_avx512(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *packed,
             int64_t panel0, float *c, int64_t ldc, int32_t accumulate) {
    // Rows in ceil(m/MR) blocks of nearly equal size (25 rows: 5 blocks of 5), so no block is a
    // lone inefficient remainder.
    int64_t blocks = (m + MR - 1) / MR;
    int64_t panels = (n + NR - 1) / NR;
    for (int64_t p = 0; p < panels; p++) {
        const float *panel = packed + (panel0 + p) * NR * k;
        int64_t j0 = p * NR, width = n - j0 < NR ? n - j0 : NR;
        for (int64_t bi = 0; bi < blocks; bi++) {
            int64_t r0 = bi * m / blocks, rows = (bi + 1) * m / blocks - r0;
            const float *ab = a + r0 * lda;
            float *cb = c + r0 * ldc + j0;
            switch (rows) {
            case 1: block_avx512(1, k, ab, lda, panel, cb, ldc, width, accumulate); break;
            case 2: block_avx512(2, k, ab, lda, panel, cb, ldc, width, accumulate); break;
            case 3: block_avx512(3, k, ab, lda, panel, cb, ldc, width, accumulate); break;
            case 4: block_avx512(4, k, ab, lda, panel, cb, ldc, width, accumulate); break;
            case 5: block_avx512(5, k, ab, lda, panel, cb, ldc, width, accumulate); break;
            default: block_avx512(6, k, ab, lda, panel, cb, ldc, width, accumulate); break;
            }
        }
    }
}

// Per thread, so that a test forcing the portable kernels does not change what concurrently running
// code computes.
static _Thread_local int32_t forcePortable = 0;

int32_t ck_has_avx512(void) {
    static int32_t cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return cached && !forcePortable;
}

void ck_force_portable(int32_t on) { forcePortable = on; }

void ck_sgemm_packed(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                     const float *packed, int64_t panel0, float *c, int64_t ldc, int32_t accumulate) {
    if (m <= 0 || n <= 0) return;
    if (ck_has_avx512())
        sgemm_avx512(m, n, k, a, lda, packed, panel0, c, ldc, accumulate);
    else
        sgemm_portable(m, n, k, a, lda, packed, panel0, c, ldc, accumulate);
}
