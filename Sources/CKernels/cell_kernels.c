// Float cell kernels, and the column sums of their bias gradients: see ckernels.h. Each kernel
// body is written once as plain loops in an always-inline function and instantiated three times:
// inside an AVX-512 function (the compiler vectorizes the loops 16 lanes wide), an AVX2+FMA one
// (8 lanes) and a portable one; the GEMM engine's choice for the calling thread (`ck_gemm_isa`)
// picks one.
#include "ckernels.h"
#include <string.h>

#include "ck_math.h"

// MARK: Bodies

INLINE void lstm_forward_body(int64_t batch, int64_t h, float *restrict gates, const float *c_prev,
                              float *c, float *restrict tanh_c, float *restrict h_out) {
    // Four loops per row, each with few constants live (one fused loop spilled registers on
    // AVX2): σ over i and f (adjacent), tanh over g, σ over o; then the state update.
    // Every element goes through the same operations as in one pass, so the bits are the same.
    for (int64_t b = 0; b < batch; b++) {
        float *i = gates + b * 4 * h, *f = i + h, *g = i + 2 * h, *o = i + 3 * h;
        const float *cp = c_prev + b * h;
        float *co = c + b * h, *tc = tanh_c + b * h, *ho = h_out + b * h;
        SAFE_LOOP
        for (int64_t j = 0; j < 2 * h; j++) i[j] = fast_sigmoid(i[j]);
        SAFE_LOOP
        for (int64_t j = 0; j < h; j++) g[j] = fast_tanh(g[j]);
        SAFE_LOOP
        for (int64_t j = 0; j < h; j++) o[j] = fast_sigmoid(o[j]);
        SAFE_LOOP
        for (int64_t j = 0; j < h; j++) {
            float cj = f[j] * cp[j] + i[j] * g[j];
            float t = fast_tanh(cj);
            co[j] = cj; tc[j] = t; ho[j] = o[j] * t;
        }
    }
}

INLINE void lstm_backward_body(int64_t batch, int64_t h, const float *restrict d_out,
                               const float *restrict dh_carry, float *restrict dc_carry,
                               const float *restrict gates, const float *restrict c_prev,
                               const float *restrict tanh_c, float *restrict d_gates,
                               float *restrict dh, float *restrict dc) {
    for (int64_t b = 0; b < batch; b++) {
        const float *i = gates + b * 4 * h, *f = i + h, *g = i + 2 * h, *o = i + 3 * h;
        float *di = d_gates + b * 4 * h, *df = di + h, *dg = di + 2 * h, *dO = di + 3 * h;
        int64_t r = b * h;
        SAFE_LOOP
        for (int64_t j = 0; j < h; j++) {
            float tc = tanh_c[r + j];
            float dhj = d_out[r + j] + dh_carry[r + j];
            float dcj = dc_carry[r + j] + dhj * o[j] * (1 - tc * tc);
            dh[r + j] = dhj;
            dc[r + j] = dcj;
            dO[j] = dhj * tc * o[j] * (1 - o[j]);
            di[j] = dcj * g[j] * i[j] * (1 - i[j]);
            df[j] = dcj * c_prev[r + j] * f[j] * (1 - f[j]);
            dg[j] = dcj * i[j] * (1 - g[j] * g[j]);
            dc_carry[r + j] = dcj * f[j];
        }
    }
}

INLINE void gru_forward_body(int64_t batch, int64_t h, float *restrict gx, const float *restrict gh,
                             const float *h_prev, float *h_out) {
    for (int64_t b = 0; b < batch; b++) {
        float *r = gx + b * 3 * h, *z = r + h, *n = r + 2 * h;
        const float *hr = gh + b * 3 * h, *hz = hr + h, *hn = hr + 2 * h;
        const float *hp = h_prev + b * h;
        float *ho = h_out + b * h;
        // As in the LSTM, separate loops: σ over r and z (adjacent), then n and the state update.
        SAFE_LOOP
        for (int64_t j = 0; j < 2 * h; j++) r[j] = fast_sigmoid(r[j] + hr[j]);
        SAFE_LOOP
        for (int64_t j = 0; j < h; j++) {
            float zj = z[j];
            float nj = fast_tanh(n[j] + r[j] * hn[j]);
            float out = (1 - zj) * nj + zj * hp[j];
            n[j] = nj;
            ho[j] = out;
        }
    }
}

INLINE void gru_backward_body(int64_t batch, int64_t h, const float *restrict d_out,
                              float *restrict dh_carry, const float *restrict gates,
                              const float *restrict gh, const float *restrict h_prev,
                              float *restrict d_gx, float *restrict d_gh, float *restrict dh) {
    for (int64_t b = 0; b < batch; b++) {
        const float *r = gates + b * 3 * h, *z = r + h, *n = r + 2 * h;
        const float *hn = gh + b * 3 * h + 2 * h;
        float *dxr = d_gx + b * 3 * h, *dxz = dxr + h, *dxn = dxr + 2 * h;
        float *dhr = d_gh + b * 3 * h, *dhz = dhr + h, *dhn = dhr + 2 * h;
        int64_t o = b * h;
        SAFE_LOOP
        for (int64_t j = 0; j < h; j++) {
            float dhj = d_out[o + j] + dh_carry[o + j];
            float xn = dhj * (1 - z[j]) * (1 - n[j] * n[j]);
            float xz = dhj * (h_prev[o + j] - n[j]) * z[j] * (1 - z[j]);
            float xr = xn * hn[j] * r[j] * (1 - r[j]);
            dh[o + j] = dhj;
            dxn[j] = xn; dxz[j] = xz; dxr[j] = xr;
            dhr[j] = xr; dhz[j] = xz; dhn[j] = xn * r[j];
            dh_carry[o + j] = dhj * z[j];
        }
    }
}

INLINE void rnn_forward_body(int64_t count, const float *pre, float *h_out) {
    SAFE_LOOP
    for (int64_t i = 0; i < count; i++) h_out[i] = fast_tanh(pre[i]);
}
// Column sums row by row (the matrix streamed in order; the sums, a few KiB, stay in L1), each
// column added in row order.
INLINE void column_sums_body(int64_t rows, int64_t cols, const float *restrict matrix, int64_t stride,
                             float *restrict sums, float *restrict second) {
    for (int64_t r = 0; r < rows; r++) {
        const float *row = matrix + r * stride;
        if (second) {
            SAFE_LOOP
            for (int64_t j = 0; j < cols; j++) { sums[j] += row[j]; second[j] += row[j]; }
        } else {
            SAFE_LOOP
            for (int64_t j = 0; j < cols; j++) sums[j] += row[j];
        }
    }
}
INLINE void exp_body(int64_t count, const float *x, float *y) {
    SAFE_LOOP
    for (int64_t i = 0; i < count; i++) y[i] = fast_exp(x[i]);
}

// MARK: Instantiation and dispatch

#define INSTANTIATE(NAME, BODY, PARAMS, ARGS)                                                  \
    AVX512 static void NAME##_avx512 PARAMS { BODY ARGS; }                                     \
    AVX2 static void NAME##_avx2 PARAMS { BODY ARGS; }                                         \
    static void NAME##_portable PARAMS { BODY ARGS; }                                          \
    void NAME PARAMS {                                                                         \
        switch (ck_gemm_isa()) {                                                               \
        case CK_ISA_AVX512: NAME##_avx512 ARGS; break;                                         \
        case CK_ISA_AVX2: NAME##_avx2 ARGS; break;                                             \
        default: NAME##_portable ARGS; break;                                                  \
        }                                                                                      \
    }

INSTANTIATE(ck_lstm_forward, lstm_forward_body,
            (int64_t batch, int64_t h, float *gates, const float *c_prev, float *c, float *tanh_c,
             float *h_out),
            (batch, h, gates, c_prev, c, tanh_c, h_out))
INSTANTIATE(ck_lstm_backward, lstm_backward_body,
            (int64_t batch, int64_t h, const float *d_out, const float *dh_carry, float *dc_carry,
             const float *gates, const float *c_prev, const float *tanh_c, float *d_gates,
             float *dh, float *dc),
            (batch, h, d_out, dh_carry, dc_carry, gates, c_prev, tanh_c, d_gates, dh, dc))
INSTANTIATE(ck_gru_forward, gru_forward_body,
            (int64_t batch, int64_t h, float *gx, const float *gh, const float *h_prev, float *h_out),
            (batch, h, gx, gh, h_prev, h_out))
INSTANTIATE(ck_gru_backward, gru_backward_body,
            (int64_t batch, int64_t h, const float *d_out, float *dh_carry, const float *gates,
             const float *gh, const float *h_prev, float *d_gx, float *d_gh, float *dh),
            (batch, h, d_out, dh_carry, gates, gh, h_prev, d_gx, d_gh, dh))
INSTANTIATE(ck_rnn_forward, rnn_forward_body, (int64_t count, const float *pre, float *h_out),
            (count, pre, h_out))
INSTANTIATE(ck_add_column_sums, column_sums_body,
            (int64_t rows, int64_t cols, const float *matrix, int64_t stride, float *sums, float *second),
            (rows, cols, matrix, stride, sums, second))
INSTANTIATE(ck_exp, exp_body, (int64_t count, const float *x, float *y), (count, x, y))
INSTANTIATE(ck_tanh, rnn_forward_body, (int64_t count, const float *x, float *y), (count, x, y))
