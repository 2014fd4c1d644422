// Layout of the one-stream engine's packed operation weights (not public; ckernels.h documents
// the f32 layout, stream_lowp.c the bf16 and int8 ones): shared by the packing code and the kernels.
#ifndef CK_STREAM_LAYOUT_H
#define CK_STREAM_LAYOUT_H
#include "ckernels.h"

#define BW CK_STREAM_BLOCK

/// Gate rows per unit in the weights (G), and accumulators per unit (a GRU keeps the n gate's
/// input and recurrent parts apart, because r scales only the recurrent part).
static inline int gate_count(int32_t kind) {
    return kind == CK_STREAM_LSTM ? 4 : kind == CK_STREAM_GRU ? 3 : 1;
}
static inline int accumulator_count(int32_t kind) { return kind == CK_STREAM_GRU ? 4 : gate_count(kind); }
/// The accumulator that gate q's recurrent rows add into: its own, except the GRU's n gate (3).
static inline int recurrent_accumulator(int g, int na, int q) { return na == 4 && g == 3 && q == 2 ? 3 : q; }

static inline int64_t block_count(int64_t units) { return (units + BW - 1) / BW; }

/// Values of one packed f32 (or f16) block: biases, then G·32 weights per input and per recurrent column.
static inline int64_t block_size(int32_t kind, int64_t inputs, int64_t recurrent) {
    return ((int64_t)accumulator_count(kind) + (inputs + recurrent) * gate_count(kind)) * BW;
}

/// f32 values at the start of a low-precision block (CK_STREAM_BF16 or CK_STREAM_INT8): the NA·32
/// biases, and for int8 the G·32 input-row scales and G·32 recurrent-row scales.
static inline int64_t lowp_header_floats(int32_t precision, int32_t kind) {
    return ((int64_t)accumulator_count(kind) + (precision == CK_STREAM_INT8 ? 2 * gate_count(kind) : 0)) * BW;
}
/// Bytes per weight of a low-precision layout.
static inline int64_t lowp_weight_bytes(int32_t precision) { return precision == CK_STREAM_INT8 ? 1 : 2; }
/// Bytes of one low-precision block: the header, then the weights in the f32 layout's order.
static inline int64_t lowp_block_bytes(int32_t precision, int32_t kind, int64_t inputs, int64_t recurrent) {
    return 4 * lowp_header_floats(precision, kind) +
           (inputs + recurrent) * gate_count(kind) * BW * lowp_weight_bytes(precision);
}

#endif
