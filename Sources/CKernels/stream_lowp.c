// Low-precision copies of the one-stream engine's packed weights (bfloat16 and per-row int8), and
// their way back to f32 (for tests). Layouts: ckernels.h (CK_STREAM_BF16, CK_STREAM_INT8).
//
// Int8 rows: a row is the weights of one gate row of one unit over the inputs (a row of w_ih), or
// over the recurrent columns (a row of w_hh); in the packed f32 layout its values are the entries
// at q·32 + j of every column's G·32 group, so the scales sit beside the biases of the block and
// the kernels apply each one once, after the row's sum.
#include "ckernels.h"
#include "stream_layout.h"
#include <math.h>
#include <string.h>

int64_t ck_stream_lowp_count(int32_t precision, int32_t kind, int64_t units, int64_t inputs, int64_t recurrent) {
    return block_count(units) * lowp_block_bytes(precision, kind, inputs, recurrent);
}

static inline int is_finite(float x) { return x - x == 0; }

/// bfloat16 bits of ck_round_bf16(w).
static inline uint16_t bf16_bits(float w) {
    float r = ck_round_bf16(w);
    uint32_t u;
    memcpy(&u, &r, 4);
    return (uint16_t)(u >> 16);
}

/// Quantizes `columns` columns of one block's f32 weights `w` (each G·32 values) to int8 at `q`,
/// with the row scales written to `scale` (G·32). Returns 0 when a weight is not finite.
static int quantize_rows(const float *w, int64_t columns, int g, int8_t *q, float *scale) {
    for (int64_t r = 0; r < (int64_t)g * BW; r++) {
        float largest = 0;
        for (int64_t k = 0; k < columns; k++) {
            float a = fabsf(w[k * g * BW + r]);
            if (!is_finite(a)) return 0;
            if (a > largest) largest = a;
        }
        float s = largest / 127.0f;
        scale[r] = s;
        for (int64_t k = 0; k < columns; k++) {
            // The quotient in double, so that |w − s·q| ≤ s/2 holds for the f32 scale as stored.
            double v = s > 0 ? round((double)w[k * g * BW + r] / (double)s) : 0;
            q[k * g * BW + r] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
        }
    }
    return 1;
}

int32_t ck_stream_to_lowp(int32_t precision, int32_t kind, int64_t units, int64_t inputs, int64_t recurrent,
                          const float *packed, void *dst) {
    const int g = gate_count(kind), na = accumulator_count(kind);
    const int64_t blocks = block_count(units), size = block_size(kind, inputs, recurrent);
    const int64_t bytes = lowp_block_bytes(precision, kind, inputs, recurrent);
    const int64_t header = lowp_header_floats(precision, kind), weights = (inputs + recurrent) * g * BW;
    for (int64_t blk = 0; blk < blocks; blk++) {
        const float *p = packed + blk * size;
        uint8_t *b = (uint8_t *)dst + blk * bytes;
        float *head = (float *)b;
        memcpy(head, p, (size_t)na * BW * sizeof(float));
        for (int64_t i = 0; i < na * BW; i++)
            if (!is_finite(head[i])) return 0;
        const float *w = p + na * BW;
        if (precision == CK_STREAM_INT8) {
            int8_t *q = (int8_t *)(b + 4 * header);
            if (!quantize_rows(w, inputs, g, q, head + na * BW)) return 0;
            if (!quantize_rows(w + inputs * g * BW, recurrent, g, q + inputs * g * BW, head + (na + g) * BW))
                return 0;
        } else {
            uint16_t *h = (uint16_t *)(b + 4 * header);
            for (int64_t i = 0; i < weights; i++) {
                if (!is_finite(w[i]) || !is_finite(ck_round_bf16(w[i]))) return 0;
                h[i] = bf16_bits(w[i]);
            }
        }
    }
    return 1;
}

void ck_stream_dequantize(int32_t precision, int32_t kind, int64_t units, int64_t inputs, int64_t recurrent,
                          const void *src, float *dst) {
    const int64_t count = ck_stream_packed_count(kind, units, inputs, recurrent);
    if (precision == CK_STREAM_F32) { memcpy(dst, src, (size_t)count * sizeof(float)); return; }
    if (precision == CK_STREAM_F16) {
        for (int64_t i = 0; i < count; i++) dst[i] = (float)((const _Float16 *)src)[i];
        return;
    }
    const int g = gate_count(kind), na = accumulator_count(kind);
    const int64_t blocks = block_count(units), size = block_size(kind, inputs, recurrent);
    const int64_t bytes = lowp_block_bytes(precision, kind, inputs, recurrent);
    const int64_t header = lowp_header_floats(precision, kind), weights = (inputs + recurrent) * g * BW;
    for (int64_t blk = 0; blk < blocks; blk++) {
        const uint8_t *b = (const uint8_t *)src + blk * bytes;
        const float *head = (const float *)b;
        float *p = dst + blk * size;
        memcpy(p, head, (size_t)na * BW * sizeof(float));
        float *w = p + na * BW;
        for (int64_t i = 0; i < weights; i++) {
            int64_t k = i / (g * BW), r = i % (g * BW);
            if (precision == CK_STREAM_INT8) {
                float s = head[(k < inputs ? na : na + g) * BW + r];
                w[i] = s * (float)((const int8_t *)(b + 4 * header))[i];
            } else {
                uint32_t u = (uint32_t)((const uint16_t *)(b + 4 * header))[i] << 16;
                memcpy(w + i, &u, 4);
            }
        }
    }
}

void ck_stream_unpack(int32_t kind, int64_t units, int64_t inputs, int64_t recurrent, const float *packed,
                      float *w_ih, float *w_hh) {
    const int g = gate_count(kind), na = accumulator_count(kind);
    const int64_t size = block_size(kind, inputs, recurrent);
    for (int64_t blk = 0; blk < block_count(units); blk++) {
        const float *p = packed + blk * size + na * BW;
        int64_t j0 = blk * BW, width = units - j0 < BW ? units - j0 : BW;
        for (int64_t k = 0; k < inputs; k++, p += g * BW)
            for (int q = 0; q < g; q++)
                for (int64_t j = 0; j < width; j++)
                    if (w_ih) w_ih[(q * units + j0 + j) * inputs + k] = p[q * BW + j];
        for (int64_t k = 0; k < recurrent; k++, p += g * BW)
            for (int q = 0; q < g; q++)
                for (int64_t j = 0; j < width; j++)
                    if (w_hh) w_hh[(q * units + j0 + j) * recurrent + k] = p[q * BW + j];
    }
}
