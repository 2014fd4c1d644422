// One token of one stream through the model (generation): see ckernels.h for the layouts.
//
// A step is a short list of operations (the recurrent layers, then the decoder). Each operation is
// a matrix-vector product over all its weights followed by the cell's elementwise update, done per
// block of 32 output units: the packed weights of a block hold every gate row of those units, so a
// block's new h and c are finished in registers and threads need to meet only between operations.
// The threads of a team claim the blocks one at a time (see "Team" below for how they wait, and
// how they step aside when another process keeps a core busy).
#include "ckernels.h"
#include "ck_math.h"
#include "stream_layout.h"
#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define MAX_THREADS 8

int64_t ck_stream_packed_count(int32_t kind, int64_t units, int64_t inputs, int64_t recurrent) {
    return block_count(units) * block_size(kind, inputs, recurrent);
}

int64_t ck_stream_table_row_count(int32_t kind, int64_t units) {
    return block_count(units) * gate_count(kind) * BW;
}

void ck_stream_pack(int32_t kind, int64_t units, int64_t inputs, int64_t recurrent, const float *w_ih,
                    const float *w_hh, const float *b_ih, const float *b_hh, float *dst) {
    const int g = gate_count(kind), na = accumulator_count(kind);
    const int64_t blocks = block_count(units), size = block_size(kind, inputs, recurrent);
    memset(dst, 0, (size_t)(blocks * size) * sizeof(float));
    for (int64_t blk = 0; blk < blocks; blk++) {
        float *p = dst + blk * size;
        int64_t j0 = blk * BW, width = units - j0 < BW ? units - j0 : BW;
        for (int q = 0; q < na; q++)
            for (int64_t j = 0; j < width; j++) {
                int64_t row = (kind == CK_STREAM_GRU && q == 3 ? 2 : q) * units + j0 + j;
                float bias;
                if (kind == CK_STREAM_LINEAR) bias = b_ih[row];
                else if (kind == CK_STREAM_GRU && q == 2) bias = b_ih[row];       // b_in
                else if (kind == CK_STREAM_GRU && q == 3) bias = b_hh[row];       // b_hn
                else bias = b_ih[row] + b_hh[row];
                p[q * BW + j] = bias;
            }
        p += na * BW;
        for (int64_t k = 0; k < inputs; k++, p += g * BW)
            for (int q = 0; q < g; q++)
                for (int64_t j = 0; j < width; j++) p[q * BW + j] = w_ih[(q * units + j0 + j) * inputs + k];
        for (int64_t k = 0; k < recurrent; k++, p += g * BW)
            for (int q = 0; q < g; q++)
                for (int64_t j = 0; j < width; j++) p[q * BW + j] = w_hh[(q * units + j0 + j) * recurrent + k];
    }
}

void ck_stream_pack_table(int32_t kind, int64_t units, int64_t rows, const float *src, float *dst) {
    const int g = gate_count(kind);
    const int64_t blocks = block_count(units), width = ck_stream_table_row_count(kind, units);
    memset(dst, 0, (size_t)(rows * width) * sizeof(float));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t blk = 0; blk < blocks; blk++)
            for (int q = 0; q < g; q++)
                for (int64_t j = 0; j < BW && blk * BW + j < units; j++)
                    dst[r * width + (blk * g + q) * BW + j] = src[r * g * units + q * units + blk * BW + j];
}

int32_t ck_stream_to_f16(const float *src, int64_t count, uint16_t *dst) {
    int32_t representable = 1;
    for (int64_t i = 0; i < count; i++) {
        _Float16 h = (_Float16)src[i];
        float back = (float)h;
        if (back - back != 0) representable = 0;  // overflowed to ±∞ (or NaN)
        memcpy(dst + i, &h, 2);
    }
    return representable;
}

// MARK: Block kernels

/// The cell update of one block from its summed gate pre-activations `a` (accumulator q of unit j
/// at a[q·32 + j]); writes h, c and the outputs of units j0 ..< j0 + width.
INLINE void finish_block(const ck_stream_op *op, int64_t j0, int64_t width, const float *restrict a,
                         const float *h_prev, float *h_next) {
    float *c = op->c, *o0 = op->out[0], *o1 = op->out[1];
    const float *x = op->x;
    float value[BW];
    switch (op->kind) {
    case CK_STREAM_LSTM:
        SAFE_LOOP
        for (int64_t j = 0; j < width; j++) {
            float i = fast_sigmoid(a[j]), f = fast_sigmoid(a[BW + j]), g = fast_tanh(a[2 * BW + j]),
                  o = fast_sigmoid(a[3 * BW + j]);
            float cj = f * c[j0 + j] + i * g;
            c[j0 + j] = cj;
            value[j] = o * fast_tanh(cj);
        }
        break;
    case CK_STREAM_GRU:
        SAFE_LOOP
        for (int64_t j = 0; j < width; j++) {
            float r = fast_sigmoid(a[j]), z = fast_sigmoid(a[BW + j]);
            float n = fast_tanh(a[2 * BW + j] + r * a[3 * BW + j]);
            value[j] = (1 - z) * n + z * h_prev[j0 + j];
        }
        break;
    case CK_STREAM_RNN:
        SAFE_LOOP
        for (int64_t j = 0; j < width; j++) value[j] = fast_tanh(a[j]);
        break;
    default:  // CK_STREAM_LINEAR
        for (int64_t j = 0; j < width; j++) o0[j0 + j] = a[j];
        return;
    }
    for (int64_t j = 0; j < width; j++) {
        h_next[j0 + j] = value[j];
        float out = op->residual ? value[j] + x[j0 + j] : value[j];
        if (o0) o0[j0 + j] = out;
        if (o1) o1[j0 + j] = out;
    }
}

/// Sums block `blk`'s pre-activations: biases, the table row, then inputs and recurrent columns in
/// increasing order (the same order on every path). G, NA and HALF are constants after inlining,
/// so the 2·NA accumulators stay in registers and the weight loads are plain (f32) or converting
/// (f16) loads.
__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma,f16c"), always_inline)) static inline __m512
load16(const int HALF, const void *base, int64_t index) {
    if (HALF) return _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)((const uint16_t *)base + index)));
    return _mm512_load_ps((const float *)base + index);
}

__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma,f16c"), always_inline)) static inline void
block_avx512(const int G, const int NA, const int HALF, const ck_stream_op *op, int64_t blk,
             const float *trow, const float *h_prev, float *restrict a_out) {
    const void *p = op->packed;
    int64_t at = blk * block_size(op->kind, op->inputs, op->recurrent);
    __m512 acc[4][2];
    for (int q = 0; q < NA; q++) {
        acc[q][0] = load16(HALF, p, at + q * BW);
        acc[q][1] = load16(HALF, p, at + q * BW + 16);
    }
    at += NA * BW;
    if (trow) {
        const float *t = trow + blk * G * BW;
        for (int q = 0; q < G; q++) {
            acc[q][0] = _mm512_add_ps(acc[q][0], _mm512_load_ps(t + q * BW));
            acc[q][1] = _mm512_add_ps(acc[q][1], _mm512_load_ps(t + q * BW + 16));
        }
    }
    const float *x = op->x;
    for (int64_t k = 0; k < op->inputs; k++, at += G * BW) {
        __m512 v = _mm512_set1_ps(x[k]);
        for (int q = 0; q < G; q++) {
            acc[q][0] = _mm512_fmadd_ps(v, load16(HALF, p, at + q * BW), acc[q][0]);
            acc[q][1] = _mm512_fmadd_ps(v, load16(HALF, p, at + q * BW + 16), acc[q][1]);
        }
    }
    for (int64_t k = 0; k < op->recurrent; k++, at += G * BW) {
        __m512 v = _mm512_set1_ps(h_prev[k]);
        for (int q = 0; q < G; q++) {
            int d = recurrent_accumulator(G, NA, q);  // GRU: W_hn·h apart from W_in·x
            acc[d][0] = _mm512_fmadd_ps(v, load16(HALF, p, at + q * BW), acc[d][0]);
            acc[d][1] = _mm512_fmadd_ps(v, load16(HALF, p, at + q * BW + 16), acc[d][1]);
        }
    }
    for (int q = 0; q < NA; q++) {
        _mm512_store_ps(a_out + q * BW, acc[q][0]);
        _mm512_store_ps(a_out + q * BW + 16, acc[q][1]);
    }
}

__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma,f16c"))) static void
sums_avx512(const ck_stream_op *op, int64_t blk, const float *trow, const float *h_prev, float *a) {
    const int half = op->precision == CK_STREAM_F16;
    switch (op->kind) {
    case CK_STREAM_LSTM:
        if (half) block_avx512(4, 4, 1, op, blk, trow, h_prev, a); else block_avx512(4, 4, 0, op, blk, trow, h_prev, a);
        break;
    case CK_STREAM_GRU:
        if (half) block_avx512(3, 4, 1, op, blk, trow, h_prev, a); else block_avx512(3, 4, 0, op, blk, trow, h_prev, a);
        break;
    default:
        if (half) block_avx512(1, 1, 1, op, blk, trow, h_prev, a); else block_avx512(1, 1, 0, op, blk, trow, h_prev, a);
        break;
    }
}

// AVX2 + FMA + F16C: the same sums, in two halves of 16 units per block (2·NA ymm accumulators
// each, which leaves registers for the loads), in the same order of terms as AVX-512, so the two
// give the same bits.
#define AVX2F16 __attribute__((target("avx2,fma,f16c")))

AVX2F16 __attribute__((always_inline)) static inline __m256 load8(const int HALF, const void *base, int64_t index) {
    if (HALF) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)base + index)));
    return _mm256_loadu_ps((const float *)base + index);
}

AVX2F16 __attribute__((always_inline)) static inline void
half_block_avx2(const int G, const int NA, const int HALF, const ck_stream_op *op, int64_t blk, int64_t half,
                const float *trow, const float *h_prev, float *restrict a_out) {
    const void *p = op->packed;
    const int64_t u = half * 16;
    int64_t at = blk * block_size(op->kind, op->inputs, op->recurrent) + u;
    __m256 acc[4][2];
    for (int q = 0; q < NA; q++) {
        acc[q][0] = load8(HALF, p, at + q * BW);
        acc[q][1] = load8(HALF, p, at + q * BW + 8);
    }
    at += NA * BW;
    if (trow) {
        const float *t = trow + blk * G * BW + u;
        for (int q = 0; q < G; q++) {
            acc[q][0] = _mm256_add_ps(acc[q][0], _mm256_loadu_ps(t + q * BW));
            acc[q][1] = _mm256_add_ps(acc[q][1], _mm256_loadu_ps(t + q * BW + 8));
        }
    }
    const float *x = op->x;
    for (int64_t k = 0; k < op->inputs; k++, at += G * BW) {
        __m256 v = _mm256_set1_ps(x[k]);
        for (int q = 0; q < G; q++) {
            acc[q][0] = _mm256_fmadd_ps(v, load8(HALF, p, at + q * BW), acc[q][0]);
            acc[q][1] = _mm256_fmadd_ps(v, load8(HALF, p, at + q * BW + 8), acc[q][1]);
        }
    }
    for (int64_t k = 0; k < op->recurrent; k++, at += G * BW) {
        __m256 v = _mm256_set1_ps(h_prev[k]);
        for (int q = 0; q < G; q++) {
            int d = recurrent_accumulator(G, NA, q);
            acc[d][0] = _mm256_fmadd_ps(v, load8(HALF, p, at + q * BW), acc[d][0]);
            acc[d][1] = _mm256_fmadd_ps(v, load8(HALF, p, at + q * BW + 8), acc[d][1]);
        }
    }
    for (int q = 0; q < NA; q++) {
        _mm256_storeu_ps(a_out + q * BW + u, acc[q][0]);
        _mm256_storeu_ps(a_out + q * BW + u + 8, acc[q][1]);
    }
}

// Calls HALF_BLOCK(G, NA, FLAG, op, blk, half, trow, h_prev, a) for each half of block `blk`, with the
// cell's gate count G, accumulator count NA and the format flag as compile-time constants, so that the
// always-inline bodies keep their accumulators in registers.
#define DISPATCH_HALF_BLOCKS(HALF_BLOCK, FLAG)                                                       \
    for (int64_t half = 0; half < (width > 16 ? 2 : 1); half++) {                                 \
        switch (op->kind) {                                                                        \
        case CK_STREAM_LSTM:                                                                       \
            if (FLAG) HALF_BLOCK(4, 4, 1, op, blk, half, trow, h_prev, a);                         \
            else HALF_BLOCK(4, 4, 0, op, blk, half, trow, h_prev, a);                              \
            break;                                                                                 \
        case CK_STREAM_GRU:                                                                        \
            if (FLAG) HALF_BLOCK(3, 4, 1, op, blk, half, trow, h_prev, a);                         \
            else HALF_BLOCK(3, 4, 0, op, blk, half, trow, h_prev, a);                              \
            break;                                                                                 \
        default:                                                                                   \
            if (FLAG) HALF_BLOCK(1, 1, 1, op, blk, half, trow, h_prev, a);                         \
            else HALF_BLOCK(1, 1, 0, op, blk, half, trow, h_prev, a);                              \
            break;                                                                                 \
        }                                                                                          \
    }

AVX2F16 static void sums_avx2(const ck_stream_op *op, int64_t blk, int64_t width, const float *trow,
                              const float *h_prev, float *a) {
    DISPATCH_HALF_BLOCKS(half_block_avx2, op->precision == CK_STREAM_F16)
}

// Low-precision weights (bf16, int8; layout in ckernels.h), AVX2 + FMA, per half block like
// sums_avx2. Terms in the same order as the f32 path: biases, the table row, then the inputs and
// the recurrent columns in increasing order. bf16 widens each weight to f32 by a 16-bit shift and
// fuses it into the accumulators. int8 sums Σ x·q of each row into separate accumulators (zero at
// the start of the inputs and again at the start of the recurrent columns) and then adds s times
// that sum to the row's accumulator, once per row and part. No AVX-512 variant: the AVX2 kernels
// run on AVX-512 CPUs too.
AVX2F16 __attribute__((always_inline)) static inline __m256 lowp_load8(const int INT8, const uint8_t *w, int64_t index) {
    if (INT8) return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(w + index))));
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + 2 * index)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

AVX2F16 __attribute__((always_inline)) static inline void
lowp_half_block_avx2(const int G, const int NA, const int INT8, const ck_stream_op *op, int64_t blk, int64_t half,
                     const float *trow, const float *h_prev, float *restrict a_out) {
    const int32_t precision = INT8 ? CK_STREAM_INT8 : CK_STREAM_BF16;
    const uint8_t *b = (const uint8_t *)op->packed + blk * lowp_block_bytes(precision, op->kind, op->inputs, op->recurrent);
    const float *bias = (const float *)b, *s_ih = bias + NA * BW, *s_hh = s_ih + G * BW;
    const uint8_t *w = b + 4 * lowp_header_floats(precision, op->kind);
    const int64_t u = half * 16;
    __m256 acc[4][2], dot[4][2];
    for (int q = 0; q < NA; q++) {
        acc[q][0] = _mm256_loadu_ps(bias + q * BW + u);
        acc[q][1] = _mm256_loadu_ps(bias + q * BW + u + 8);
    }
    if (trow) {
        const float *t = trow + blk * G * BW + u;
        for (int q = 0; q < G; q++) {
            acc[q][0] = _mm256_add_ps(acc[q][0], _mm256_loadu_ps(t + q * BW));
            acc[q][1] = _mm256_add_ps(acc[q][1], _mm256_loadu_ps(t + q * BW + 8));
        }
    }
    int64_t at = u;
    const float *x = op->x;
    if (op->inputs > 0) {
        for (int q = 0; q < G; q++) dot[q][0] = dot[q][1] = _mm256_setzero_ps();
        for (int64_t k = 0; k < op->inputs; k++, at += G * BW) {
            __m256 v = _mm256_set1_ps(x[k]);
            for (int q = 0; q < G; q++) {
                __m256 *d = INT8 ? dot[q] : acc[q];
                d[0] = _mm256_fmadd_ps(v, lowp_load8(INT8, w, at + q * BW), d[0]);
                d[1] = _mm256_fmadd_ps(v, lowp_load8(INT8, w, at + q * BW + 8), d[1]);
            }
        }
        if (INT8)
            for (int q = 0; q < G; q++) {
                acc[q][0] = _mm256_fmadd_ps(_mm256_loadu_ps(s_ih + q * BW + u), dot[q][0], acc[q][0]);
                acc[q][1] = _mm256_fmadd_ps(_mm256_loadu_ps(s_ih + q * BW + u + 8), dot[q][1], acc[q][1]);
            }
    }
    if (op->recurrent > 0) {
        for (int q = 0; q < G; q++) dot[q][0] = dot[q][1] = _mm256_setzero_ps();
        for (int64_t k = 0; k < op->recurrent; k++, at += G * BW) {
            __m256 v = _mm256_set1_ps(h_prev[k]);
            for (int q = 0; q < G; q++) {
                __m256 *d = INT8 ? dot[q] : acc[recurrent_accumulator(G, NA, q)];
                d[0] = _mm256_fmadd_ps(v, lowp_load8(INT8, w, at + q * BW), d[0]);
                d[1] = _mm256_fmadd_ps(v, lowp_load8(INT8, w, at + q * BW + 8), d[1]);
            }
        }
        if (INT8)
            for (int q = 0; q < G; q++) {
                int d = recurrent_accumulator(G, NA, q);
                acc[d][0] = _mm256_fmadd_ps(_mm256_loadu_ps(s_hh + q * BW + u), dot[q][0], acc[d][0]);
                acc[d][1] = _mm256_fmadd_ps(_mm256_loadu_ps(s_hh + q * BW + u + 8), dot[q][1], acc[d][1]);
            }
    }
    for (int q = 0; q < NA; q++) {
        _mm256_storeu_ps(a_out + q * BW + u, acc[q][0]);
        _mm256_storeu_ps(a_out + q * BW + u + 8, acc[q][1]);
    }
}

AVX2F16 static void lowp_sums_avx2(const ck_stream_op *op, int64_t blk, int64_t width, const float *trow,
                                   const float *h_prev, float *a) {
    DISPATCH_HALF_BLOCKS(lowp_half_block_avx2, op->precision == CK_STREAM_INT8)
}

/// The portable version of `lowp_sums_avx2`: the same terms in the same order, a multiply and an
/// add each.
static void lowp_sums_portable(const ck_stream_op *op, int64_t blk, const float *trow, const float *h_prev,
                               float *a) {
    const int g = gate_count(op->kind), na = accumulator_count(op->kind);
    const int int8 = op->precision == CK_STREAM_INT8;
    const uint8_t *b = (const uint8_t *)op->packed + blk * lowp_block_bytes(op->precision, op->kind, op->inputs, op->recurrent);
    const float *bias = (const float *)b, *s_ih = bias + na * BW, *s_hh = s_ih + g * BW;
    const uint8_t *w = b + 4 * lowp_header_floats(op->precision, op->kind);
    float dot[4 * BW];
    for (int64_t i = 0; i < na * BW; i++) a[i] = bias[i];
    if (trow)
        for (int64_t i = 0; i < g * BW; i++) a[i] = a[i] + trow[blk * g * BW + i];
    int64_t at = 0;
    for (int part = 0; part < 2; part++) {
        const int64_t columns = part == 0 ? op->inputs : op->recurrent;
        const float *values = part == 0 ? op->x : h_prev;
        if (columns == 0) continue;
        for (int64_t i = 0; i < g * BW; i++) dot[i] = 0;
        for (int64_t k = 0; k < columns; k++, at += g * BW) {
            float v = values[k];
            for (int q = 0; q < g; q++) {
                float *d = int8 ? dot + q * BW : a + (part == 0 ? q : recurrent_accumulator(g, na, q)) * BW;
                for (int64_t j = 0; j < BW; j++) {
                    int64_t i = at + q * BW + j;
                    float weight;
                    if (int8) weight = (float)((const int8_t *)w)[i];
                    else { uint32_t bits = (uint32_t)((const uint16_t *)w)[i] << 16; memcpy(&weight, &bits, 4); }
                    d[j] = d[j] + v * weight;
                }
            }
        }
        if (int8)
            for (int q = 0; q < g; q++) {
                float *d = a + (part == 0 ? q : recurrent_accumulator(g, na, q)) * BW;
                const float *s = (part == 0 ? s_ih : s_hh) + q * BW;
                for (int64_t j = 0; j < BW; j++) d[j] = d[j] + s[j] * dot[q * BW + j];
            }
    }
}

/// Weight `index` of an operation's packed weights, as f32.
static inline float weight_at(const ck_stream_op *op, int64_t index) {
    if (op->precision == CK_STREAM_F16) return (float)((const _Float16 *)op->packed)[index];
    return ((const float *)op->packed)[index];
}

/// The portable version of `block_avx512`: the same order of terms, a multiply and an add each.
static void sums_portable(const ck_stream_op *op, int64_t blk, const float *trow, const float *h_prev,
                          float *a) {
    const int g = gate_count(op->kind), na = accumulator_count(op->kind);
    int64_t at = blk * block_size(op->kind, op->inputs, op->recurrent);
    for (int64_t i = 0; i < na * BW; i++) a[i] = weight_at(op, at + i);
    at += na * BW;
    if (trow)
        for (int64_t i = 0; i < g * BW; i++) a[i] = a[i] + trow[blk * g * BW + i];
    for (int64_t k = 0; k < op->inputs; k++, at += g * BW) {
        float v = op->x[k];
        for (int64_t i = 0; i < g * BW; i++) a[i] = a[i] + v * weight_at(op, at + i);
    }
    for (int64_t k = 0; k < op->recurrent; k++, at += g * BW) {
        float v = h_prev[k];
        for (int q = 0; q < g; q++) {
            float *d = a + recurrent_accumulator(g, na, q) * BW;
            for (int64_t j = 0; j < BW; j++) d[j] = d[j] + v * weight_at(op, at + q * BW + j);
        }
    }
}

AVX512 static void finish_avx512(const ck_stream_op *op, int64_t j0, int64_t width, const float *a,
                                 const float *h_prev, float *h_next) {
    finish_block(op, j0, width, a, h_prev, h_next);
}
AVX2 static void finish_avx2(const ck_stream_op *op, int64_t j0, int64_t width, const float *a,
                             const float *h_prev, float *h_next) {
    finish_block(op, j0, width, a, h_prev, h_next);
}
static void finish_portable(const ck_stream_op *op, int64_t j0, int64_t width, const float *a,
                            const float *h_prev, float *h_next) {
    finish_block(op, j0, width, a, h_prev, h_next);
}

/// Blocks `first ..< end` of `op` for `token` at `parity`, on the kernels of `isa` (ck_gemm_isa).
static void run_blocks(const ck_stream_op *op, int64_t first, int64_t end, int32_t token, int32_t parity,
                       int32_t isa) {
    const float *trow = op->table ? op->table + (int64_t)token * ck_stream_table_row_count(op->kind, op->units) : 0;
    const float *h_prev = op->h[parity];
    float *h_next = op->h[1 - parity];
    _Alignas(64) float a[4 * BW];
    for (int64_t blk = first; blk < end; blk++) {
        int64_t j0 = blk * BW, width = op->units - j0 < BW ? op->units - j0 : BW;
        if (op->precision == CK_STREAM_BF16 || op->precision == CK_STREAM_INT8) {
            if (isa == CK_ISA_PORTABLE) {
                lowp_sums_portable(op, blk, trow, h_prev, a);
                finish_portable(op, j0, width, a, h_prev, h_next);
            } else {
                lowp_sums_avx2(op, blk, width, trow, h_prev, a);
                finish_avx2(op, j0, width, a, h_prev, h_next);
            }
        } else if (isa == CK_ISA_AVX512) {
            sums_avx512(op, blk, trow, h_prev, a);
            finish_avx512(op, j0, width, a, h_prev, h_next);
        } else if (isa == CK_ISA_AVX2) {
            sums_avx2(op, blk, width, trow, h_prev, a);
            finish_avx2(op, j0, width, a, h_prev, h_next);
        } else {
            sums_portable(op, blk, trow, h_prev, a);
            finish_portable(op, j0, width, a, h_prev, h_next);
        }
    }
}

// MARK: Team
//
// The blocks of all operations of a step are numbered in order (op 0's blocks, then op 1's, …) as
// tickets. Threads claim tickets one at a time (compare-and-swap on `next`), and before running a
// block of op i wait until every block of op i−1 is finished, so a thread that is slow or
// descheduled holds up at most the block it is running: the others take the rest. Waits spin for
// a bounded time (WAIT_SPINS pauses, tens of µs) and then sleep on a futex. Tickets and the
// finished count only grow (a job's tickets are base ..< base + blocks), so nothing is reset
// between steps. A block's bits do not depend on which thread runs it.
//
// When another process keeps a core busy, two threads can be slower than one: the worker is
// descheduled while it holds a block, or shares a core with the caller. So the caller measures:
// its steps come in periods of STEP_PERIOD, run with the team or alone, and it keeps the team only
// while its last period was clearly faster (see next_period). Spin-waits pause briefly, then yield the core,
// then sleep.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the futex word is the low half of a 64-bit counter"
#endif

#define MAX_OPS 64
#define WAIT_SPINS 2048
#define WORKER_SPINS (1 << 14)
#define STEP_PERIOD 128
#define MAX_INTERVAL 64

typedef struct {
    _Alignas(64) atomic_llong value;
} padded_counter;

/// What a step asks: written by the caller between two increments of `seq` (odd while writing).
typedef struct {
    const ck_stream_op *ops;
    int32_t count, token, parity, isa;
    long long base;
    int64_t prefix[MAX_OPS + 1];  // op i's blocks are tickets base + prefix[i] ..< base + prefix[i + 1]
} stream_job;

struct ck_stream_team {
    int32_t threads;
    pthread_t workers[MAX_THREADS];
    stream_job job;
    padded_counter seq;       // even: `job` is stable; bumped by 2 per published job
    padded_counter next;      // next ticket to claim
    padded_counter finished;  // tickets finished (its low 32 bits are the futex word)
    atomic_int finishWaiters; // threads asleep on `finished`
    atomic_int quit;
    atomic_int sleepers;      // workers waiting on `wake`
    pthread_mutex_t lock;
    pthread_cond_t wake;
    // Caller-only state.
    long long issued;         // tickets of all published jobs
    int32_t solo;             // the current period runs on the caller alone
    int32_t periodLeft;       // steps left in the current period
    int32_t sinceProbe;       // periods since the other mode was last measured
    int32_t interval;         // periods between measurements of the other mode (≥ 1)
    int32_t probing;          // the current period measures the mode not chosen
    double periodStart;       // when the current period began
    double teamStep, soloStep;  // mean seconds per step of the last period of each mode (0: none)
};

static void futex_wait(atomic_llong *word, uint32_t expected) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}
static void futex_wake_all(atomic_llong *word) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

/// One round of a spin-wait: pauses for the first rounds, then yields the core (to a thread of
/// ours or another process that is runnable on it; returns at once when none is).
static inline void spin_round(int64_t round) {
    if (round < 256) cpu_relax();
    else sched_yield();
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/// Waits until `finished` ≥ `target`: spins, then sleeps on the futex.
static void wait_finished(ck_stream_team *team, long long target) {
    atomic_llong *f = &team->finished.value;
    for (int spins = 0; spins < WAIT_SPINS; spins++) {
        if (atomic_load_explicit(f, memory_order_acquire) >= target) return;
        spin_round(spins);
    }
    for (;;) {
        atomic_fetch_add(&team->finishWaiters, 1);
        long long seen = atomic_load(f);
        if (seen >= target) { atomic_fetch_sub(&team->finishWaiters, 1); return; }
        futex_wait(f, (uint32_t)seen);
        atomic_fetch_sub(&team->finishWaiters, 1);
    }
}

/// Claims and runs tickets of `job` until none is left.
static void work(ck_stream_team *team, const stream_job *job) {
    const long long base = job->base, end = base + job->prefix[job->count];
    int32_t op = 0;
    for (;;) {
        long long t = atomic_load_explicit(&team->next.value, memory_order_relaxed);
        if (t >= end) return;
        if (!atomic_compare_exchange_weak(&team->next.value, &t, t + 1)) continue;
        long long local = t - base;
        while (local >= job->prefix[op + 1]) op++;
        // Every block of the previous operation must be done (tickets finish out of order, so
        // count them all).
        long long ready = base + job->prefix[op];
        if (atomic_load_explicit(&team->finished.value, memory_order_acquire) < ready) wait_finished(team, ready);
        int64_t blk = local - job->prefix[op];
        run_blocks(&job->ops[op], blk, blk + 1, job->token, job->parity, job->isa);
        atomic_fetch_add(&team->finished.value, 1);  // seq_cst, ordered before the waiter check
        if (atomic_load(&team->finishWaiters) > 0) futex_wake_all(&team->finished.value);
    }
}

static void *worker_main(void *arg) {
    ck_stream_team *team = arg;
    long long seen = 0;
    stream_job job;
    for (;;) {
        // Spin a little for the next step (generation calls in a tight loop), then sleep.
        int64_t spins = 0;
        long long s;
        while (((s = atomic_load_explicit(&team->seq.value, memory_order_acquire)) == seen || (s & 1)) &&
               !atomic_load(&team->quit)) {
            if (++spins < WORKER_SPINS) { spin_round(spins); continue; }
            pthread_mutex_lock(&team->lock);
            atomic_fetch_add(&team->sleepers, 1);
            while (atomic_load(&team->seq.value) == seen && !atomic_load(&team->quit))
                pthread_cond_wait(&team->wake, &team->lock);
            atomic_fetch_sub(&team->sleepers, 1);
            pthread_mutex_unlock(&team->lock);
        }
        if (atomic_load(&team->quit)) return 0;
        // Copy the job, and keep the copy only if `seq` did not move meanwhile (a caller that
        // published a newer job has finished this one: its tickets are gone).
        memcpy(&job, &team->job, sizeof job);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&team->seq.value, memory_order_relaxed) != s) continue;
        seen = s;
        work(team, &job);
    }
}

ck_stream_team *ck_stream_team_create(int32_t threads) {
    if (threads < 2) return 0;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    ck_stream_team *team = calloc(1, sizeof(ck_stream_team));
    if (!team) return 0;
    team->threads = threads;
    team->interval = 1;
    pthread_mutex_init(&team->lock, 0);
    pthread_cond_init(&team->wake, 0);
    for (int32_t t = 1; t < threads; t++) {
        if (pthread_create(&team->workers[t], 0, worker_main, team) != 0) {
            team->threads = t;  // run with the workers that did start
            break;
        }
    }
    return team;
}

void ck_stream_team_destroy(ck_stream_team *team) {
    if (!team) return;
    pthread_mutex_lock(&team->lock);
    atomic_store(&team->quit, 1);
    pthread_cond_broadcast(&team->wake);
    pthread_mutex_unlock(&team->lock);
    for (int32_t t = 1; t < team->threads; t++) pthread_join(team->workers[t], 0);
    pthread_cond_destroy(&team->wake);
    pthread_mutex_destroy(&team->lock);
    free(team);
}

int32_t ck_stream_team_threads(const ck_stream_team *team) { return team ? team->threads : 1; }

static void run_serial(const ck_stream_op *ops, int32_t count, int32_t token, int32_t parity, int32_t isa) {
    for (int32_t i = 0; i < count; i++) run_blocks(&ops[i], 0, block_count(ops[i].units), token, parity, isa);
}

/// Counts a step and, at the end of a period of STEP_PERIOD steps, records the period's mean
/// step time for its mode and picks the next period's mode: the caller alone, unless the last
/// period with the team was 5 % faster than the last one alone (before both are measured: the
/// team). The mode not chosen is measured again
/// (one probe period) after `interval` periods, which doubles up to MAX_INTERVAL each time a
/// probe confirms the choice.
static void next_period(ck_stream_team *team) {
    if (team->periodLeft > 0) { team->periodLeft--; return; }
    double now = seconds();
    if (team->periodStart > 0) {
        double mean = (now - team->periodStart) / STEP_PERIOD;
        if (team->solo) team->soloStep = mean; else team->teamStep = mean;
        // The team only where it pays: alone unless the team's last period was 5 % faster.
        int32_t preferred = team->soloStep > 0 && team->teamStep > 0 && !(team->teamStep < 0.95 * team->soloStep);
        if (team->probing) {
            team->probing = 0;
            team->sinceProbe = 0;
            if (preferred != team->solo) {
                team->solo = preferred;  // the probed mode lost: back, and probe less often
                team->interval = team->interval < MAX_INTERVAL ? team->interval * 2 : MAX_INTERVAL;
            } else {
                team->interval = 1;      // the probed mode won: keep it
            }
        } else if (preferred != team->solo) {
            team->solo = preferred;      // the current mode fell behind the other's last period
            team->sinceProbe = 0;
            team->interval = 1;
        } else if (team->soloStep == 0 || ++team->sinceProbe >= team->interval) {
            team->solo = !team->solo;    // measure the other mode for one period
            team->probing = 1;
            team->sinceProbe = 0;
        }
    }
    team->periodStart = now;
    team->periodLeft = STEP_PERIOD - 1;
}

void ck_stream_run(ck_stream_team *team, const ck_stream_op *ops, int32_t count, int32_t token,
                   int32_t parity) {
    int32_t isa = ck_gemm_isa();  // the caller's choice (tests may force the portable kernels)
    if (!team || team->threads < 2 || count > MAX_OPS) {
        run_serial(ops, count, token, parity, isa);
        return;
    }
    next_period(team);
    if (team->solo) {
        run_serial(ops, count, token, parity, isa);
        return;
    }
    // Publish the job: seq odd while the fields change, even again once they hold the new job.
    long long s = atomic_load_explicit(&team->seq.value, memory_order_relaxed);
    atomic_store_explicit(&team->seq.value, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    stream_job *job = &team->job;
    job->ops = ops;
    job->count = count;
    job->token = token;
    job->parity = parity;
    job->isa = isa;
    job->base = team->issued;
    job->prefix[0] = 0;
    for (int32_t i = 0; i < count; i++) job->prefix[i + 1] = job->prefix[i] + block_count(ops[i].units);
    long long end = team->issued + job->prefix[count];
    // Sequentially consistent with the sleepers count: a worker that registered as a sleeper before
    // this store is woken below; one that registers after it sees the new `seq` and does not wait.
    atomic_store(&team->seq.value, s + 2);
    if (atomic_load(&team->sleepers) > 0) {
        pthread_mutex_lock(&team->lock);
        pthread_cond_broadcast(&team->wake);
        pthread_mutex_unlock(&team->lock);
    }
    stream_job local;
    memcpy(&local, job, sizeof local);
    work(team, &local);
    wait_finished(team, end);
    team->issued = end;
}
