// Hand-written CPU kernels for the per-step work of the recurrent layers, in C so that they can be
// compiled for AVX-512 (chosen at run time when the CPU has it) while the package itself builds for
// the baseline x86-64 target.
//
// Packed matrices: a K×N operand B of C = A·B is stored as ceil(N/16) column panels; panel p holds
// columns 16p..<16p+16 as K rows of 16 contiguous values (columns past N are zero). Packing a weight
// matrix once and reusing it for every step of a window saves the repacking a BLAS library does on
// every call, which dominates when A has only a few dozen rows.
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdint.h>

/// Columns per packed panel.
#define CK_PANEL_WIDTH 16

/// Number of elements a packed K×N matrix occupies: ceil(N/16)·16·K.
int64_t ck_packed_count(int64_t k, int64_t n);

/// Packs B (K×N) into `dst` (ck_packed_count(k, n) elements). When `transposed` is 0, `src` is B
/// itself, row-major with row stride `ld`; when 1, `src` is Bᵀ (N×K, row stride `ld`), e.g. a PyTorch
/// weight matrix W (out×in) for C = A·Wᵀ.
void ck_spack(const float *src, int64_t ld, int32_t transposed, int64_t k, int64_t n, float *dst);
void ck_dpack(const double *src, int64_t ld, int32_t transposed, int64_t k, int64_t n, double *dst);

/// The GEMM engine (gemm.c): C[0..<m, 0..<n] = op(A)·op(B) (accumulate = 0) or C += op(A)·op(B)
/// (accumulate = 1), row-major; op(A) is m×k — A[i·lda + kk], or A[kk·lda + i] when transA — and
/// op(B) is k×n — B[kk·ldb + j], or B[j·ldb + kk] when transB. Every element of C is one chain of
/// fused multiply-adds over kk = 0…k−1 (on every kernel, portable included), starting from 0 or
/// from C's value: its bits do not depend on m, n, the position of the element, how a caller
/// splits rows or columns between calls or threads, or which kernel the CPU runs.
void ck_sgemm(int32_t transA, int32_t transB, int64_t m, int64_t n, int64_t k, const float *a,
              int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int32_t accumulate);
void ck_dgemm(int32_t transA, int32_t transB, int64_t m, int64_t n, int64_t k, const double *a,
              int64_t lda, const double *b, int64_t ldb, double *c, int64_t ldc, int32_t accumulate);

/// The same product with B pre-packed (ck_spack; N ≥ n columns) and A not transposed; the first
/// column of C corresponds to panel `panel0` of B (so a caller can compute a block of columns that
/// starts at a multiple of 16). Bit-identical to ck_sgemm on the same operands.
void ck_sgemm_packed(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                     const float *packed, int64_t panel0, float *c, int64_t ldc, int32_t accumulate);
void ck_dgemm_packed(int64_t m, int64_t n, int64_t k, const double *a, int64_t lda,
                     const double *packed, int64_t panel0, double *c, int64_t ldc, int32_t accumulate);

/// Operand precision of the f32 products. CK_OPERANDS_F32: A and B as stored. CK_OPERANDS_BF16:
/// bf16 × bf16 products accumulated in f32 (mixed precision), the arithmetic of AVX512-BF16's
/// vdpbf16ps on every CPU: each element of A and B is rounded to bfloat16 (ck_round_bf16) and a
/// subnormal result flushed to a zero of its sign; k is taken in pairs (0, 1), (2, 3), …, a last
/// lone k paired with a zero; per pair C[i][j] becomes F(F(C + a[k+1]·b[k+1]) + a[k]·b[k]), each
/// addition rounded once (a product of two bf16 values is exact in f32), F flushing a subnormal
/// result to a zero of its sign (C, when accumulated into, is flushed first). CPUs with AVX512-BF16
/// run the dot-product kernel, others emulate it bit for bit (see ck_bf16_dot_kernel). Same
/// determinism contract as ck_sgemm.
enum { CK_OPERANDS_F32 = 0, CK_OPERANDS_BF16 = 1 };
/// x rounded to the nearest bfloat16 (ties to even), as an f32 whose low 16 bits are 0; ±inf stay,
/// finite values past bf16's largest round to ±inf, every NaN becomes the quiet NaN 0x7FC00000.
float ck_round_bf16(float x);
/// dst[i] = ck_round_bf16(src[i]) for i < count (dst may be src).
void ck_round_bf16_array(const float *src, float *dst, int64_t count);
/// ck_sgemm with the operand precision `operands`.
void ck_sgemm_ex(int32_t operands, int32_t transA, int32_t transB, int64_t m, int64_t n, int64_t k,
                 const float *a, int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                 int32_t accumulate);
/// ck_spack, or for CK_OPERANDS_BF16 B packed as bf16 pairs (in the first half of the same
/// ck_packed_count floats), to be multiplied only by ck_sgemm_packed_ex(CK_OPERANDS_BF16, …).
void ck_spack_ex(int32_t operands, const float *src, int64_t ld, int32_t transposed, int64_t k, int64_t n,
                 float *dst);
/// ck_sgemm_packed with the operand precision `operands`; `packed` must come from ck_spack_ex with
/// the same `operands`.
void ck_sgemm_packed_ex(int32_t operands, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                        const float *packed, int64_t panel0, float *c, int64_t ldc, int32_t accumulate);

/// The kernels a thread runs (GEMM, cell updates, one-stream steps, the f32 peak probe).
enum { CK_ISA_PORTABLE = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 };
/// The kernels the calling thread runs: the best the CPU has (AVX2 means AVX2+FMA), or
/// CK_ISA_PORTABLE while `ck_force_portable(1)` is in effect on this thread.
int32_t ck_gemm_isa(void);

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
/// sums[j] += Σ_r matrix[r·stride + j] for j < cols, and the same into `second` unless it is NULL
/// (the two bias gradients of an LSTM or RNN layer, from one read of the matrix). Each column is
/// summed in row order onto its initial value, as separate scalar loops would: the same bits.
void ck_add_column_sums(int64_t rows, int64_t cols, const float *matrix, int64_t stride, float *sums,
                        float *second);
/// e^x and tanh(x) of `count` values (for tests of the approximations as the kernels run them).
void ck_exp(int64_t count, const float *x, float *y);
void ck_tanh(int64_t count, const float *x, float *y);

// MARK: Single-stream step (generation)
// One token of one stream through the model as a list of operations (layers bottom first, then the
// decoder), each split between the threads of a team by blocks of CK_STREAM_BLOCK output units.
//
// Packed operation weights, per block of 32 units (units past the last are zero): the biases (one
// 32-vector per accumulator: LSTM i, f, g, o = b_ih + b_hh; GRU r, z = b_ih + b_hh, then b_in, b_hn;
// RNN b_ih + b_hh; linear b), then for each input column k the G gate rows of the block (G·32
// values), then the same for each recurrent column. w_ih is PyTorch's weight_ih (G·units × inputs),
// w_hh its weight_hh (G·units × recurrent); for a linear operation w_ih is the weight (units ×
// inputs) and b_ih the bias. A table (for layer 0: rows embedding·W_ihᵀ) holds per row the same
// blocks of G·32 input sums.

/// Operation kinds.
enum { CK_STREAM_LSTM = 0, CK_STREAM_GRU = 1, CK_STREAM_RNN = 2, CK_STREAM_LINEAR = 3 };
/// Output units per block.
#define CK_STREAM_BLOCK 32
/// Element types of packed operation weights: f32, IEEE half precision (f16), bfloat16 (bf16) or
/// 8-bit integers with a scale per output row (int8). f32 and f16 use the layout above (f16 holds
/// every value, biases too, as a half). bf16 and int8 use a low-precision layout: per block, the
/// NA·32 biases as f32; for int8 then the scales s of the block's G·32 input rows (of w_ih) and of
/// its G·32 recurrent rows (of w_hh), f32, gate q of unit j at q·32 + j; then the weights in the
/// same order as the f32 layout, 2 bytes (the high half of ck_round_bf16(w)) or 1 byte (q) each.
/// A block is ck_stream_lowp_count bytes / blocks long and starts 32-byte aligned.
enum { CK_STREAM_F32 = 0, CK_STREAM_F16 = 1, CK_STREAM_BF16 = 2, CK_STREAM_INT8 = 3 };

/// Elements of the packed weights of one operation.
int64_t ck_stream_packed_count(int32_t kind, int64_t units, int64_t inputs, int64_t recurrent);
/// Packs an operation's weights into `dst` (ck_stream_packed_count elements, 64-byte aligned).
void ck_stream_pack(int32_t kind, int64_t units, int64_t inputs, int64_t recurrent, const float *w_ih,
                    const float *w_hh, const float *b_ih, const float *b_hh, float *dst);
/// Converts `count` packed f32 values to f16 (round to nearest even); returns 0 when a value does
/// not fit (|x| > 65504, becomes ±∞), else 1.
int32_t ck_stream_to_f16(const float *src, int64_t count, uint16_t *dst);
/// Bytes of an operation's weights in the low-precision layout of `precision` (CK_STREAM_BF16 or
/// CK_STREAM_INT8).
int64_t ck_stream_lowp_count(int32_t precision, int32_t kind, int64_t units, int64_t inputs, int64_t recurrent);
/// Converts packed f32 weights (ck_stream_pack) into the low-precision layout of `precision` at `dst`
/// (ck_stream_lowp_count bytes, 64-byte aligned). bf16: every weight rounded by ck_round_bf16
/// (relative error ≤ 2⁻⁸: 8 significant bits). int8: per row of w_ih and per row of w_hh (of the units of the block),
/// s = max|w| / 127 over the row, q = round(w / s) (nearest, ties away from zero) clamped to
/// [−127, 127], so |w − s·q| ≤ s/2; a row of zeros has s = 0. Biases are copied unchanged. Returns 0
/// (dst then unspecified) when a value is not finite or a bf16 weight rounds to ±∞, else 1.
int32_t ck_stream_to_lowp(int32_t precision, int32_t kind, int64_t units, int64_t inputs, int64_t recurrent,
                          const float *packed, void *dst);
/// The values the kernels use, back in the packed f32 layout (ck_stream_packed_count elements at
/// `dst`): `src` holds an operation's weights of `precision` (any CK_STREAM_*). int8 weights come
/// back as s·q rounded to f32. For tests.
void ck_stream_dequantize(int32_t precision, int32_t kind, int64_t units, int64_t inputs, int64_t recurrent,
                          const void *src, float *dst);
/// The inverse of ck_stream_pack for the weights: w_ih (G·units × inputs) and w_hh (G·units ×
/// recurrent) from packed f32 weights (either may be NULL to skip it). For tests.
void ck_stream_unpack(int32_t kind, int64_t units, int64_t inputs, int64_t recurrent, const float *packed,
                      float *w_ih, float *w_hh);
/// Elements of one packed table row.
int64_t ck_stream_table_row_count(int32_t kind, int64_t units);
/// Packs `rows` table rows given gate-major (row r: G·units values, gate q of unit j at q·units + j).
void ck_stream_pack_table(int32_t kind, int64_t units, int64_t rows, const float *src, float *dst);

/// One operation of a step; `packed` holds its weights in the layout of `precision` (the table is
/// f32). bf16 and int8 run AVX2 kernels on CPUs with AVX2 (AVX-512 ones included) and the portable
/// ones elsewhere; int8 sums Σ x·q per row in f32 and adds s times that sum once per row. A
/// cell reads x (inputs values, may be NULL when inputs = 0), the table
/// row of the step's token (when table is not NULL) and h[parity] (units values); it writes
/// h[1 − parity], updates c in place (LSTM) and copies the new h (plus x when residual, which needs
/// inputs = units) to out[0] and out[1] when they are not NULL. A linear operation writes
/// bias + W·x to out[0]. Buffers of different operations must not overlap, except that one's out may
/// be a later one's x.
typedef struct ck_stream_op {
    int32_t kind;
    int32_t residual;
    int32_t precision;
    int64_t units, inputs, recurrent;
    const void *packed;
    const float *table;
    const float *x;
    float *h[2];
    float *c;
    float *out[2];
} ck_stream_op;

/// Threads that share the operations of a step: the caller plus workers that claim blocks one at
/// a time, spin a bounded time (tens of µs) when they wait and then sleep; under load from other
/// processes the caller times its steps with the team and alone and keeps the faster (stream_step.c).
/// NULL (run on the caller alone) when threads < 2.
typedef struct ck_stream_team ck_stream_team;
ck_stream_team *ck_stream_team_create(int32_t threads);
void ck_stream_team_destroy(ck_stream_team *team);
/// Threads the team runs on (1 for NULL).
int32_t ck_stream_team_threads(const ck_stream_team *team);
/// Runs `count` operations in order for `token` at `parity` (0 or 1), on the team's threads when
/// `team` is not NULL. Every output value depends only on the inputs, never on the thread count.
void ck_stream_run(ck_stream_team *team, const ck_stream_op *ops, int32_t count, int32_t token,
                   int32_t parity);

// MARK: Peak

/// What `ck_peak_gflops` measures: f32 fused multiply-adds on the GEMM engine's vector width, or
/// bf16 dot products (`vdpbf16ps`, AVX512-BF16 only).
enum { CK_PEAK_F32 = 0, CK_PEAK_BF16 = 1 };
/// 1 when the CPU has AVX512-BF16 dot products.
int32_t ck_has_bf16(void);
/// 1 when the calling thread's CK_OPERANDS_BF16 products run the AVX512-BF16 dot-product kernel;
/// 0 when they run its emulation (AVX2+FMA, or portable while ck_force_portable(1) is in effect).
int32_t ck_bf16_dot_kernel(void);
/// Forces (1) the emulation of the bf16 dot-product kernel on the calling thread, or restores the
/// automatic choice (0); for tests comparing the two.
void ck_force_bf16_emulation(int32_t on);
/// The arithmetic rate, GFLOP/s summed over `threads` threads that each run for about `seconds`:
/// 12 independent chains of vector FMAs (f32; the width of the kernel `ck_gemm_isa` picks) or of
/// bf16 dot products (32 products per instruction, 2 flops each). 0 for bf16 on a CPU without it.
double ck_peak_gflops(int32_t kind, int32_t threads, double seconds);

/// Forces the portable kernels (1) or restores automatic selection (0) for the calling thread (and
/// the single-stream steps it runs); for tests.
void ck_force_portable(int32_t on);

#endif
