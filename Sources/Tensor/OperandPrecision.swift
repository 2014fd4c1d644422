import CKernels

/// The precision of the operands of a matrix product (mixed precision): `.f32` multiplies the
/// values as stored; `.bf16` rounds every element of both operands to bfloat16 (8 significand
/// bits, round to nearest even) and accumulates the exact products in f32 — what `torch.autocast`
/// with `dtype=torch.bfloat16` does to a CPU matrix product — with the arithmetic of AVX512-BF16's
/// dot-product instruction on every CPU (k in pairs, subnormals flushed; `ckernels.h` has the
/// definition). Everything else (weights, gradients, optimizer moments, cell state, softmax, loss)
/// stays f32.
public enum OperandPrecision: String, Sendable, Codable, CaseIterable, Hashable {
    case f32, bf16

    /// The code the C engine takes (`CK_OPERANDS_F32` / `CK_OPERANDS_BF16`).
    public var kernelCode: Int32 { self == .bf16 ? Int32(CK_OPERANDS_BF16) : Int32(CK_OPERANDS_F32) }

    /// `x` rounded to the nearest bfloat16, ties to even (as an f32 whose low 16 bits are 0); NaN
    /// becomes the quiet NaN, values past bf16's range become ±infinity.
    public static func roundedToBF16(_ x: Float) -> Float { ck_round_bf16(x) }

    /// A dense copy (row stride `cols`) of a rows×cols block with row stride `ld`, each value
    /// rounded to bf16 through f32 (for the `Double` reference path).
    static func bf16Copy<S: BinaryFloatingPoint>(_ source: UnsafePointer<S>, rows: Int, cols: Int, ld: Int) -> [S] {
        var copy = [S](repeating: 0, count: max(rows * cols, 1))
        for r in 0..<rows {
            for c in 0..<cols { copy[r * cols + c] = S(ck_round_bf16(Float(source[r * ld + c]))) }
        }
        return copy
    }
}
