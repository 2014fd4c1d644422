// Hand-written CPU kernels for the per-step work of the recurrent layers, in C so that they can be
// compiled for AVX-512 (chosen at run time when the CPU has it) while the package itself builds for
// the baseline x86-64 target.
//
// Packed matrices: a K×N operand B of C = A·B is stored as ceil(N/32) column panels; panel p holds
// columns 32p..<32p+32 as K rows of 32 contiguous values (columns past N are zero). Packing a weight
// matrix once and reusing it for every step of a window saves the repacking a BLAS library does on
// every call, which dominates when A has only a few dozen rows.
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdint.h>

/// Columns per packed panel.
#define CK_PANEL_WIDTH 32

/// Number of elements a packed K×N matrix occupies: ceil(N/32)·32·K.
int64_t ck_packed_count(int64_t k, int64_t n);

/// Packs B (K×N) into `dst` (ck_packed_count(k, n) elements). When `transposed` is 0, `src` is B
/// itself, row-major with row stride `ld`; when 1, `src` is Bᵀ (N×K, row stride `ld`), e.g. a PyTorch
/// weight matrix W (out×in) for C = A·Wᵀ.
void ck_spack(const float *src, int64_t ld, int32_t transposed, int64_t k, int64_t n, float *dst);
void ck_dpack(const double *src, int64_t ld, int32_t transposed, int64_t k, int64_t n, double *dst);

/// C[0..<m, 0..<n] = A·B (accumulate = 0) or C += A·B (accumulate = 1), where A is m×k (row stride
/// `lda`), B is packed k×N (N ≥ n) and the first column of C corresponds to panel `panel0` of B
/// (so a caller can compute a block of columns that starts at a multiple of 32). Every element of C
/// is summed over k in increasing order (fused multiply-adds on AVX-512), whatever m, n and panel0 are: the
/// result of a row does not depend on how rows or columns are split between calls.
void ck_sgemm_packed(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                     const float *packed, int64_t panel0, float *c, int64_t ldc, int32_t accumulate);
void ck_dgemm_packed(int64_t m, int64_t n, int64_t k, const double *a, int64_t lda,
                     const double *packed, int64_t panel0, double *c, int64_t ldc, int32_t accumulate);

// MARK: Float cell kernels
// The per-step elementwise work of the three cells, with the math and layouts documented on the
// Swift side (Tensor.CellKernels): gate block rows of G·H values, gate k of stream b at
// [b·G·H + k·H + j]. e^x and tanh use the same approximations as Tensor.FastMath (same constants
// and branches), vectorized 16 lanes wide on AVX-512.

void ck_lstm_forward(int64_t batch, int64_t h, float *gates, const float *c_prev, float *c,
                     float *tanh_c, float *h_out);
void ck_lstm_backward(int64_t batch, int64_t h, const float *d_out, const float *dh_carry,
                      float *dc_carry, const float *gates, const float *c_prev, const float *tanh_c,
                      float *d_gates, float *dh, float *dc);
void ck_gru_forward(int64_t batch, int64_t h, float *gx, const float *gh, const float *h_prev,
                    float *h_out);
void ck_gru_backward(int64_t batch, int64_t h, const float *d_out, float *dh_carry,
                     const float *gates, const float *gh, const float *h_prev, float *d_gx,
                     float *d_gh, float *dh);
void ck_rnn_forward(int64_t count, const float *pre, float *h_out);
/// e^x and tanh(x) of `count` values (for tests of the approximations as the kernels run them).
void ck_exp(int64_t count, const float *x, float *y);
void ck_tanh(int64_t count, const float *x, float *y);

/// 1 when the kernels run their AVX-512 versions on this CPU, 0 when they run the portable ones.
int32_t ck_has_avx512(void);
/// Forces the portable kernels (1) or restores automatic selection (0); for tests.
void ck_force_portable(int32_t on);

#endif
