// Matrix products with bf16 operands (CK_OPERANDS_BF16; the contract is in ckernels.h).
//
// The arithmetic is that of AVX512-BF16's dot-product instruction (vdpbf16ps), and every kernel
// computes it bit for bit: each operand is rounded to bf16 (nearest, ties to even) and a subnormal
// bf16 becomes a zero of its sign; the inner index is taken in pairs (0, 1), (2, 3), …, a last lone
// k paired with a zero; per pair an element of C becomes F(F(C + a[k+1]·b[k+1]) + a[k]·b[k]), each
// addition rounded once (the products are exact in f32) and F flushing a subnormal result to a zero
// of its sign; C, when accumulated into, is flushed first. (Measured on a Zen 4 against 6 million
// random and near-subnormal cases: the instruction takes the odd element of a pair first.)
//
// Layout: B is packed as 16-column panels of bf16 pairs, one 32-bit word per column and pair
// (b[2q][j] in the low half, b[2q+1][j] in the high half), ⌈kc/2⌉ words per column: half the bytes
// of f32. A is packed per call: as words of bf16 pairs for the dot-product kernel, or as f32 values
// (kc rounded up to even, the pad zero) for the kernels that emulate it with fused multiply-adds
// (AVX2 with the MXCSR's flush-to-zero and denormals-are-zero modes, or portable C with an explicit
// flush) on CPUs without AVX512-BF16. Blocking and the row-block split are gemm.c's, so a row's bits
// do not depend on the call's shape or its split between threads, here either.
#include "gemm_internal.h"
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <string.h>

// Inner-dimension slice of the bf16 products: a pair of B panels at KCB = 512 takes the 16 KiB
// that one f32 pair takes at KC = 256. Even, so pairs never straddle two slices.
#ifndef KCB
#define KCB 512
#endif

// MARK: Kernel selection

static _Thread_local int32_t forceEmulation = 0;

void ck_force_bf16_emulation(int32_t on) { forceEmulation = on; }

int32_t ck_bf16_dot_kernel(void) {
    static int32_t cached = -1;
    if (cached < 0) cached = ck_has_bf16() && __builtin_cpu_supports("avx512f") ? 1 : 0;
    return cached && !forceEmulation && ck_gemm_isa() == CK_ISA_AVX512;
}

// MARK: Rounding and packing

// The bf16 bits of x as the products read them: rounded (bf16_round_bits), a subnormal result
// flushed to a zero of its sign.
static inline uint32_t bf16_bits(float x) {
    uint32_t bits = bf16_round_bits(x);
    return (bits & 0x7F80u) == 0 ? bits & 0x8000u : bits;
}
static inline float bf16_value(uint32_t bits) {
    uint32_t u = bits << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

// bf16_bits of 16 values at once, in the low half of each 32-bit lane.
AVX512 static inline __m512i bf16_bits16(__m512 x) {
    const __m512i u = _mm512_castps_si512(x);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i bits = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)),
                                                  _mm512_set1_epi32(0x7F800000));
    bits = _mm512_mask_mov_epi32(bits, nan, _mm512_set1_epi32(0x7FC0));
    const __mmask16 subnormal = _mm512_testn_epi32_mask(bits, _mm512_set1_epi32(0x7F80));
    return _mm512_mask_and_epi32(bits, subnormal, bits, _mm512_set1_epi32(0x8000));
}

// dst[i] = bf16_bits(src[i]) for i < count, as 16-bit values (so word q of dst is the pair 2q, 2q+1).
AVX512 static void bf16_row_avx512(const float *src, int64_t count, uint16_t *dst) {
    int64_t i = 0;
    for (; i + 16 <= count; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtepi32_epi16(bf16_bits16(_mm512_loadu_ps(src + i))));
    if (i < count) {
        const __mmask16 m = tile_mask(count, i);
        _mm256_mask_storeu_epi16(dst + i, m, _mm512_cvtepi32_epi16(bf16_bits16(_mm512_maskz_loadu_ps(m, src + i))));
    }
}

// dst[j] = bf16_bits(lo[j]) | bf16_bits(hi[j]) << 16 for j < count (hi NULL: zero).
AVX512 static void bf16_pairs_avx512(const float *lo, const float *hi, int64_t count, uint32_t *dst) {
    for (int64_t j = 0; j < count; j += 16) {
        const __mmask16 m = tile_mask(count, j);
        __m512i w = bf16_bits16(_mm512_maskz_loadu_ps(m, lo + j));
        if (hi) w = _mm512_or_si512(w, _mm512_slli_epi32(bf16_bits16(_mm512_maskz_loadu_ps(m, hi + j)), 16));
        _mm512_mask_storeu_epi32(dst + j, m, w);
    }
}

// Whether the packing loops may use the AVX-512 conversions (the same bits as bf16_bits; the
// portable path, forced in tests, takes the scalar loops).
static int32_t has_avx512bw_vl(void) {
    static int32_t cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    }
    return cached;
}
static inline int32_t simd_packing(void) { return ck_gemm_isa() == CK_ISA_AVX512 && has_avx512bw_vl(); }

// Packs rows k0..<k0+kc (k0 even) and columns j0..<j0+nc of op(B) into panels of `pairs` words ×
// 16 columns: panel p at dst + p·16·pairs, word q·16 + j holding columns j0+16p+j of rows k0+2q
// (low half) and k0+2q+1 (high half), zero past kc and nc. op(B)[kk][j] is src[kk·ld + j], or
// src[j·ld + kk] when `transposed`.
static void pack_b_pairs(const float *src, int64_t ld, int32_t transposed, int64_t k0, int64_t kc, int64_t j0,
                         int64_t nc, int64_t pairs, uint32_t *dst) {
    int64_t panels = (nc + NR - 1) / NR, kp = (kc + 1) / 2;
    const int32_t simd = simd_packing();
    for (int64_t p = 0; p < panels; p++) {
        uint32_t *panel = dst + p * NR * pairs;
        int64_t jp = j0 + p * NR, width = nc - p * NR < NR ? nc - p * NR : NR;
        if (transposed && simd) {
            // A column of op(B) is a contiguous source row: convert it whole, its 16-bit values
            // read as words are the column's pairs.
            uint32_t column[KCB / 2 + 1];
            for (int64_t j = 0; j < width; j++) {
                const float *col = src + (jp + j) * ld + k0;
                for (int64_t q0 = 0; q0 < kp; q0 += KCB / 2) {
                    int64_t piece = kp - q0 < KCB / 2 ? kp - q0 : KCB / 2, values = 2 * piece;
                    if (2 * q0 + values > kc) values = kc - 2 * q0;
                    bf16_row_avx512(col + 2 * q0, values, (uint16_t *)column);
                    if (values & 1) ((uint16_t *)column)[values] = 0;
                    for (int64_t q = 0; q < piece; q++) panel[(q0 + q) * NR + j] = column[q];
                }
            }
            for (int64_t q = 0; q < kp; q++)
                for (int64_t j = width; j < NR; j++) panel[q * NR + j] = 0;
        } else if (simd) {
            for (int64_t q = 0; q < kp; q++) {
                const float *s0 = src + (k0 + 2 * q) * ld + jp;
                bf16_pairs_avx512(s0, 2 * q + 1 < kc ? s0 + ld : NULL, width, panel + q * NR);
                for (int64_t j = width; j < NR; j++) panel[q * NR + j] = 0;
            }
        } else if (transposed) {
            for (int64_t j = 0; j < width; j++) {
                const float *col = src + (jp + j) * ld + k0;
                for (int64_t q = 0; q < kp; q++) {
                    uint32_t hi = 2 * q + 1 < kc ? bf16_bits(col[2 * q + 1]) : 0;
                    panel[q * NR + j] = bf16_bits(col[2 * q]) | hi << 16;
                }
            }
            for (int64_t q = 0; q < kp; q++)
                for (int64_t j = width; j < NR; j++) panel[q * NR + j] = 0;
        } else {
            for (int64_t q = 0; q < kp; q++) {
                uint32_t *row = panel + q * NR;
                const float *s0 = src + (k0 + 2 * q) * ld + jp;
                const float *s1 = 2 * q + 1 < kc ? s0 + ld : NULL;
                for (int64_t j = 0; j < width; j++) row[j] = bf16_bits(s0[j]) | (s1 ? bf16_bits(s1[j]) << 16 : 0);
                for (int64_t j = width; j < NR; j++) row[j] = 0;
            }
        }
    }
}

// Packs rows i0..<i0+mc and inner indices k0..<k0+kc of op(A) into one micro-panel per row block
// (gemm.c's split). `words` (dot-product kernel): the block of R rows at dst + (first row − i0)·kp
// words, pair q of row r at r·kp + q (A as stored, each row converted in one pass) or, transposed,
// at q·R + r (each pair of source rows converted in one pass), as the kernels' `rs` says. Otherwise f32: the
// block at dst + (first row − i0)·2kp floats, index kk·R + r, the pad (kk = kc when kc is odd)
// zero. op(A)[i][kk] is src[i·ld + kk], or src[kk·ld + i] when `transposed`.
static void pack_a_bf16(const float *src, int64_t ld, int32_t transposed, int64_t i0, int64_t mc, int64_t k0,
                        int64_t kc, int32_t words, void *dst) {
    int64_t starts[MC / MR + 2], blocks = row_blocks(mc, starts), kp = (kc + 1) / 2;
    const int32_t simd = simd_packing();
    if (words && transposed && simd) {
        uint32_t pairs[MC];
        for (int64_t q = 0; q < kp; q++) {
            const float *s0 = src + (k0 + 2 * q) * ld + i0;
            bf16_pairs_avx512(s0, 2 * q + 1 < kc ? s0 + ld : NULL, mc, pairs);
            for (int64_t bi = 0; bi < blocks; bi++) {
                int64_t r0 = starts[bi], rows = starts[bi + 1] - r0;
                memcpy((uint32_t *)dst + r0 * kp + q * rows, pairs + r0, (size_t)rows * sizeof(uint32_t));
            }
        }
        return;
    }
    if (words && !transposed) {
        for (int64_t r = 0; r < mc; r++) {
            const float *row = src + (i0 + r) * ld + k0;
            uint32_t *out = (uint32_t *)dst + r * kp;
            if (simd) bf16_row_avx512(row, kc, (uint16_t *)out);
            else
                for (int64_t q = 0; q < kc / 2; q++) out[q] = bf16_bits(row[2 * q]) | bf16_bits(row[2 * q + 1]) << 16;
            if (kc & 1) out[kp - 1] = bf16_bits(row[kc - 1]);
        }
        return;
    }
    for (int64_t bi = 0; bi < blocks; bi++) {
        int64_t r0 = starts[bi], rows = starts[bi + 1] - r0;
        if (words) {
            uint32_t *panel = (uint32_t *)dst + r0 * kp;
            for (int64_t q = 0; q < kp; q++) {
                const float *s0 = src + (k0 + 2 * q) * ld + i0 + r0, *s1 = s0 + ld;
                int32_t second = 2 * q + 1 < kc;
                for (int64_t r = 0; r < rows; r++)
                    panel[q * rows + r] = bf16_bits(s0[r]) | (second ? bf16_bits(s1[r]) << 16 : 0);
            }
        } else {
            float *panel = (float *)dst + r0 * 2 * kp;
            for (int64_t kk = 0; kk < kc; kk++) {
                if (transposed) {
                    const float *s = src + (k0 + kk) * ld + i0 + r0;
                    for (int64_t r = 0; r < rows; r++) panel[kk * rows + r] = bf16_value(bf16_bits(s[r]));
                } else {
                    const float *s = src + (i0 + r0) * ld + k0 + kk;
                    for (int64_t r = 0; r < rows; r++) panel[kk * rows + r] = bf16_value(bf16_bits(s[r * ld]));
                }
            }
            if (kc & 1)
                for (int64_t r = 0; r < rows; r++) panel[kc * rows + r] = 0;
        }
    }
}

// MARK: Micro-kernels
// kern(R, kp, ap, rs, bp, next, c, ldc, width, init): C[0..<R][0..<width] of the tile at `c` (row
// stride ldc) becomes the pairwise chain above over kp pairs, from C (flushed) when `init`, else
// from +0. B's pair q of column j is bp[q·16 + j] (j < 16) or bp[next + q·16 + j − 16]; the dot
// kernel's pair q of row r is ap[q·R + r] when rs = 1, else ap[r·rs + q] (the f32 layout of the
// emulations is always q-major).

static inline float flush(float x) { return fabsf(x) < FLT_MIN ? copysignf(0.0f, x) : x; }

static void kern_bf16_portable(int R, int64_t kp, const void *apv, int64_t rs, const uint32_t *bp, int64_t next,
                               float *c, int64_t ldc, int64_t width, int32_t init) {
    (void)next, (void)rs;
    const float *ap = apv;
    float acc[MR][NR];
    for (int r = 0; r < R; r++)
        for (int64_t j = 0; j < NR; j++) acc[r][j] = init && j < width ? flush(c[r * ldc + j]) : 0;
    for (int64_t q = 0; q < kp; q++) {
        float lo[NR], hi[NR];
        for (int64_t j = 0; j < NR; j++) {
            lo[j] = bf16_value(bp[q * NR + j] & 0xFFFFu);
            hi[j] = bf16_value(bp[q * NR + j] >> 16);
        }
        for (int r = 0; r < R; r++) {
            float a0 = ap[2 * q * R + r], a1 = ap[(2 * q + 1) * R + r];
            for (int64_t j = 0; j < NR; j++) acc[r][j] = flush(fmaf(a0, lo[j], flush(fmaf(a1, hi[j], acc[r][j]))));
        }
    }
    for (int r = 0; r < R; r++)
        for (int64_t j = 0; j < width; j++) c[r * ldc + j] = acc[r][j];
}

// AVX2 + FMA, 16 columns: the widened pair halves, the odd k first, with the MXCSR flushing
// subnormal inputs and results (FTZ | DAZ) for the duration of the call.
__attribute__((target("avx2,fma"), always_inline)) static inline void
kern_bf16_avx2_rows(const int R, int64_t kp, const float *ap, const uint32_t *bp, float *c, int64_t ldc,
                    int64_t width, int32_t init) {
    __m256 acc0[MR], acc1[MR];
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width - 8), lane);
    const __m256i high = _mm256_set1_epi32((int)0xFFFF0000u);
    const __m256 zero = _mm256_setzero_ps();
    for (int r = 0; r < R; r++) {
        // C + 0 under DAZ is C flushed (and −0 stays −0).
        acc0[r] = init ? _mm256_add_ps(_mm256_maskload_ps(c + r * ldc, m0), _mm256_set1_ps(-0.0f)) : zero;
        acc1[r] = init ? _mm256_add_ps(_mm256_maskload_ps(c + r * ldc + 8, m1), _mm256_set1_ps(-0.0f)) : zero;
    }
    for (int64_t q = 0; q < kp; q++) {
        _mm_prefetch((const char *)(bp + (q + PREFETCH_ROWS) * NR), _MM_HINT_T0);
        // The odd halves first, then the even ones from a second (L1) load of the same words: 12
        // accumulators, two B vectors and a broadcast fit the 16 registers.
        const __m256i *w = (const __m256i *)(bp + q * NR);
        __m256 hi0 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_loadu_si256(w), high));
        __m256 hi1 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_loadu_si256(w + 1), high));
        for (int r = 0; r < R; r++) {
            __m256 a1 = _mm256_broadcast_ss(ap + (2 * q + 1) * R + r);
            acc0[r] = _mm256_fmadd_ps(a1, hi0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(a1, hi1, acc1[r]);
        }
        __m256 lo0 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_loadu_si256(w), 16));
        __m256 lo1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_loadu_si256(w + 1), 16));
        for (int r = 0; r < R; r++) {
            __m256 a0 = _mm256_broadcast_ss(ap + 2 * q * R + r);
            acc0[r] = _mm256_fmadd_ps(a0, lo0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(a0, lo1, acc1[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm256_maskstore_ps(c + r * ldc, m0, acc0[r]);
        _mm256_maskstore_ps(c + r * ldc + 8, m1, acc1[r]);
    }
}

__attribute__((target("avx2,fma"))) static void
kern_bf16_avx2(int R, int64_t kp, const void *ap, int64_t rs, const uint32_t *bp, int64_t next, float *c,
               int64_t ldc, int64_t width, int32_t init) {
    (void)next, (void)rs;
    const unsigned int mxcsr = _mm_getcsr();
    _mm_setcsr(mxcsr | 0x8040u);  // flush to zero (bit 15), denormals are zero (bit 6)
    DISPATCH_ROWS(R, kern_bf16_avx2_rows, kp, ap, bp, c, ldc, width, init)
    _mm_setcsr(mxcsr);
}

// AVX512-BF16: R rows × 16·P columns (P = 1 or 2 panels), one vdpbf16ps per row, panel and pair.
__attribute__((target("avx512f,avx512bf16"), always_inline)) static inline void
kern_bf16_dot_rows(const int R, const int P, int64_t kp, const uint32_t *ap, int64_t rs, const uint32_t *bp,
                   const uint32_t *bq, float *c, int64_t ldc, int64_t width, int32_t init) {
    // Pair q of row r at ap[q·qs + r·rs]: qs = R when rs = 1 (pairs of a k side by side), else 1.
    const int64_t qs = rs == 1 ? R : 1;
    __m512 acc0[MR], acc1[MR];
    const __mmask16 m0 = tile_mask(width, 0), m1 = tile_mask(width, 16);
    for (int r = 0; r < R; r++) {
        acc0[r] = init ? _mm512_maskz_loadu_ps(m0, c + r * ldc) : _mm512_setzero_ps();
        acc1[r] = init && P == 2 ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
    }
    for (int64_t q = 0; q < kp; q++) {
        _mm_prefetch((const char *)(bp + (q + PREFETCH_ROWS) * NR), _MM_HINT_T0);
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + q * NR), b1 = b0;
        if (P == 2) {
            _mm_prefetch((const char *)(bq + (q + PREFETCH_ROWS) * NR), _MM_HINT_T0);
            b1 = (__m512bh)_mm512_loadu_si512(bq + q * NR);
        }
        for (int r = 0; r < R; r++) {
            __m512bh a = (__m512bh)_mm512_set1_epi32((int)ap[q * qs + r * rs]);
            acc0[r] = _mm512_dpbf16_ps(acc0[r], a, b0);
            if (P == 2) acc1[r] = _mm512_dpbf16_ps(acc1[r], a, b1);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm512_mask_storeu_ps(c + r * ldc, m0, acc0[r]);
        if (P == 2) _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc1[r]);
    }
}

#define DOT_ROWS_2(R, ...) kern_bf16_dot_rows(R, 2, __VA_ARGS__)
#define DOT_ROWS_1(R, ...) kern_bf16_dot_rows(R, 1, __VA_ARGS__)

__attribute__((target("avx512f,avx512bf16"))) static void
kern_bf16_dot(int R, int64_t kp, const void *ap, int64_t rs, const uint32_t *bp, int64_t next, float *c,
              int64_t ldc, int64_t width, int32_t init) {
    DISPATCH_ROWS(R, DOT_ROWS_2, kp, ap, rs, bp, bp + next, c, ldc, width, init)
}
__attribute__((target("avx512f,avx512bf16"))) static void
kern_bf16_dot_narrow(int R, int64_t kp, const void *ap, int64_t rs, const uint32_t *bp, int64_t next, float *c,
                     int64_t ldc, int64_t width, int32_t init) {
    (void)next;
    DISPATCH_ROWS(R, DOT_ROWS_1, kp, ap, rs, bp, bp, c, ldc, width, init)
}

// MARK: Driver

typedef void (*kernel_bf16)(int, int64_t, const void *, int64_t, const uint32_t *, int64_t, float *, int64_t,
                            int64_t, int32_t);

static _Thread_local void *packA = NULL, *packB = NULL;
static _Thread_local size_t packABytes = 0, packBBytes = 0;

// `b` is either a pre-packed B (packed = 1; panels of ⌈k/2⌉ words, the block starting at panel
// `panel0`) or op(B) as stored (ldb, transB).
static void drive(int32_t transA, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, int32_t packed,
                  const void *b, int64_t ldb, int32_t transB, int64_t panel0, float *c, int64_t ldc,
                  int32_t accumulate) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate)
            for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
    kernel_bf16 kern, narrow;
    int32_t words = ck_bf16_dot_kernel();
    int64_t kernelWidth;
    if (words) { kern = kern_bf16_dot; narrow = kern_bf16_dot_narrow; kernelWidth = 2 * NR; }
    else if (ck_gemm_isa() != CK_ISA_PORTABLE) { kern = narrow = kern_bf16_avx2; kernelWidth = NR; }
    else { kern = narrow = kern_bf16_portable; kernelWidth = NR; }
    int64_t kcMax = k < KCB ? k : KCB, kpMax = (kcMax + 1) / 2, mcMax = m < MC ? m : MC, kpAll = (k + 1) / 2;
    // Words: kp per row; f32: 2·kp per row.
    void *ap = ck_workspace(&packA, &packABytes, (size_t)(mcMax * kpMax * (words ? 1 : 2)) * 4);
    uint32_t *bp = packed ? NULL
                          : ck_workspace(&packB, &packBBytes, (size_t)(((n < NC ? n : NC) + NR - 1) / NR * NR * kpMax) * 4);
    for (int64_t jc = 0; jc < n; jc += NC) {
        int64_t nc = n - jc < NC ? n - jc : NC, panels = (nc + NR - 1) / NR;
        for (int64_t pc = 0; pc < k; pc += KCB) {
            int64_t kc = k - pc < KCB ? k - pc : KCB, kp = (kc + 1) / 2;
            const uint32_t *bblock;
            int64_t panelStride;
            if (packed) {
                bblock = (const uint32_t *)b + (panel0 + jc / NR) * NR * kpAll + pc / 2 * NR;
                panelStride = NR * kpAll;
            } else {
                pack_b_pairs(b, ldb, transB, pc, kc, jc, nc, kp, bp);
                bblock = bp;
                panelStride = NR * kp;
            }
            int32_t init = pc > 0 || accumulate;
            for (int64_t ic = 0; ic < m; ic += MC) {
                int64_t mc = m - ic < MC ? m - ic : MC, blocks = (mc + MR - 1) / MR;
                pack_a_bf16(a, lda, transA, ic, mc, pc, kc, words, ap);
                for (int64_t p = 0; p < panels; p += kernelWidth / NR) {
                    int64_t j = p * NR, width = nc - j < kernelWidth ? nc - j : kernelWidth;
                    kernel_bf16 tileKernel = width > NR ? kern : narrow;
                    const uint32_t *bpanel = bblock + p * panelStride;
                    for (int64_t bi = 0; bi < blocks; bi++) {
                        int64_t r0 = block_start(bi, blocks, mc);
                        int rows = (int)(block_start(bi + 1, blocks, mc) - r0);
                        // The next tile of C, which the next call reads or writes.
                        if (bi + 1 < blocks)
                            for (int r = 0; r < MR; r++)
                                __builtin_prefetch(c + (ic + r0 + rows + r) * ldc + jc + j, 1);
                        const void *apBlock = words ? (const void *)((const uint32_t *)ap + r0 * kp)
                                                    : (const void *)((const float *)ap + r0 * 2 * kp);
                        tileKernel(rows, kp, apBlock, words && !transA ? kp : 1, bpanel, panelStride,
                                   c + (ic + r0) * ldc + jc + j, ldc, width, init);
                    }
                }
            }
        }
    }
}

void ck_bf16_gemm(int32_t transA, int32_t transB, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                  const float *b, int64_t ldb, float *c, int64_t ldc, int32_t accumulate) {
    drive(transA, m, n, k, a, lda, 0, b, ldb, transB, 0, c, ldc, accumulate);
}

void ck_bf16_pack(const float *src, int64_t ld, int32_t transposed, int64_t k, int64_t n, float *dst) {
    pack_b_pairs(src, ld, transposed, 0, k, 0, n, (k + 1) / 2, (uint32_t *)dst);
}

void ck_bf16_gemm_packed(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *packed,
                         int64_t panel0, float *c, int64_t ldc, int32_t accumulate) {
    drive(0, m, n, k, a, lda, 1, packed, 0, 0, panel0, c, ldc, accumulate);
}
