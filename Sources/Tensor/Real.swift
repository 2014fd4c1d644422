import CKernels
import Foundation

/// The scalar types the numerical engine runs on: `Float` for training and inference, `Double` for
/// finite-difference gradient checks.
///
/// Every requirement here is a *dispatch point*: generic layer code (which the compiler may leave
/// unspecialized when it is called from another module) calls these per-array operations once per
/// matrix, and each conformance runs concrete, vectorized code. Per-element work never goes through
/// a generic witness.
public protocol Real: BinaryFloatingPoint, Sendable, RealKernels {
    /// Row-major C = op(A)·op(B), or C += op(A)·op(B) when `accumulate`, where op(A) is m×k, op(B)
    /// is k×n and C is m×n; `lda`, `ldb`, `ldc` are the row strides (in elements) of A, B, C as
    /// stored (A is k×m when `transA`, B is n×k when `transB`). Runs the package's own GEMM engine
    /// (`ck_sgemm`/`ck_dgemm`): every element is one fused multiply-add chain over k in increasing
    /// order, starting from 0 or from C's value, so its bits depend only on its row of op(A) and
    /// column of op(B) — never on m, n, how a caller splits the product, the threads, the CPU's
    /// kernel (AVX-512, AVX2, portable) or the environment.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        c: UnsafeMutablePointer<Self>, ldc: Int, accumulate: Bool)

    /// `gemm` with the operands' precision: `.bf16` rounds every element of A and B to bfloat16
    /// (round to nearest even) before the product, which is then computed as `gemm` computes it
    /// (f32 accumulation; for `Double`, double accumulation of the rounded values — the reference
    /// the f32 path is tested against). `.f32` is `gemm`.
    static func gemm(
        operands: OperandPrecision, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        c: UnsafeMutablePointer<Self>, ldc: Int, accumulate: Bool)

    /// e^x as used by the kernels. `Double`: libm. `Float`: the vectorizable approximation
    /// `FastMath.exp` (max relative error below 4e-7 for x in [−87, 88]; see `FastMath`).
    static func kernelExp(_ x: Self) -> Self
    /// tanh(x) as used by the kernels (`Double`: libm; `Float`: `FastMath.tanh`).
    static func kernelTanh(_ x: Self) -> Self
    /// Natural logarithm (libm; not in inner loops).
    static func kernelLog(_ x: Self) -> Self

    /// Packs B (k×n) into panel layout (see `PackedMatrix`): `src` is B (row stride `ld`) or, when
    /// `transposed`, Bᵀ (n×k, row stride `ld`).
    static func _pack(_ src: UnsafePointer<Self>, ld: Int, transposed: Bool, k: Int, n: Int,
                      operands: OperandPrecision, into dst: UnsafeMutablePointer<Self>)
    /// C[m×n] (+)= A[m×k]·B with B packed, starting at panel `panel0` (see `PackedMatrix`); A is
    /// rounded to `operands` (B keeps the precision it was packed with).
    static func _gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int,
                            packed: UnsafePointer<Self>, panel0: Int,
                            c: UnsafeMutablePointer<Self>, ldc: Int, accumulate: Bool, operands: OperandPrecision)
}

extension Real {
    /// The logistic function 1 / (1 + e^(−x)) built on `kernelExp`.
    @inline(__always)
    public static func kernelSigmoid(_ x: Self) -> Self { 1 / (1 + kernelExp(-x)) }
}

extension Float: Real {
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        ck_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), a, Int64(lda), b, Int64(ldb),
                 c, Int64(ldc), accumulate ? 1 : 0)
    }
    public static func gemm(
        operands: OperandPrecision, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        ck_sgemm_ex(operands.kernelCode, transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), a, Int64(lda),
                    b, Int64(ldb), c, Int64(ldc), accumulate ? 1 : 0)
    }
    @inline(__always) public static func kernelExp(_ x: Float) -> Float { FastMath.exp(x) }
    @inline(__always) public static func kernelTanh(_ x: Float) -> Float { FastMath.tanh(x) }
    @inline(__always) public static func kernelLog(_ x: Float) -> Float { Foundation.log(x) }
    public static func _addColumnSums(_ matrix: UnsafePointer<Float>, rows: Int, cols: Int, stride: Int,
                                      into sums: UnsafeMutablePointer<Float>, alsoInto second: UnsafeMutablePointer<Float>?) {
        ck_add_column_sums(Int64(rows), Int64(cols), matrix, Int64(stride), sums, second)
    }
    // Cell kernels: the C versions (AVX-512 when available) of the generic loops in RealKernels.
    public static func _lstmForward(batch: Int, hidden h: Int, gates: UnsafeMutablePointer<Float>,
                                    cPrev: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                                    tanhC: UnsafeMutablePointer<Float>, hOut: UnsafeMutablePointer<Float>) {
        ck_lstm_forward(Int64(batch), Int64(h), gates, cPrev, c, tanhC, hOut)
    }
    public static func _lstmBackward(batch: Int, hidden h: Int, dOut: UnsafePointer<Float>,
                                     dhCarry: UnsafePointer<Float>, dcCarry: UnsafeMutablePointer<Float>,
                                     gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                     tanhC: UnsafePointer<Float>, dGates: UnsafeMutablePointer<Float>,
                                     dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>) {
        ck_lstm_backward(Int64(batch), Int64(h), dOut, dhCarry, dcCarry, gates, cPrev, tanhC, dGates, dh, dc)
    }
    public static func _gruForward(batch: Int, hidden h: Int, gx: UnsafeMutablePointer<Float>,
                                   gh: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
                                   hOut: UnsafeMutablePointer<Float>) {
        ck_gru_forward(Int64(batch), Int64(h), gx, gh, hPrev, hOut)
    }
    public static func _gruBackward(batch: Int, hidden h: Int, dOut: UnsafePointer<Float>,
                                    dhCarry: UnsafeMutablePointer<Float>, gates: UnsafePointer<Float>,
                                    gh: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
                                    dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>,
                                    dh: UnsafeMutablePointer<Float>) {
        ck_gru_backward(Int64(batch), Int64(h), dOut, dhCarry, gates, gh, hPrev, dGx, dGh, dh)
    }
    public static func _rnnForward(count: Int, pre: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>) {
        ck_rnn_forward(Int64(count), pre, hOut)
    }
    public static func _pack(_ src: UnsafePointer<Float>, ld: Int, transposed: Bool, k: Int, n: Int,
                             operands: OperandPrecision, into dst: UnsafeMutablePointer<Float>) {
        ck_spack_ex(operands.kernelCode, src, Int64(ld), transposed ? 1 : 0, Int64(k), Int64(n), dst)
    }
    public static func _gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                   packed: UnsafePointer<Float>, panel0: Int,
                                   c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, operands: OperandPrecision) {
        ck_sgemm_packed_ex(operands.kernelCode, Int64(m), Int64(n), Int64(k), a, Int64(lda), packed, Int64(panel0),
                           c, Int64(ldc), accumulate ? 1 : 0)
    }
}

extension Double: Real {
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool
    ) {
        ck_dgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), a, Int64(lda), b, Int64(ldb),
                 c, Int64(ldc), accumulate ? 1 : 0)
    }
    public static func gemm(
        operands: OperandPrecision, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool
    ) {
        guard operands == .bf16 else {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                 accumulate: accumulate)
            return
        }
        // The reference: rounded copies of the operands (dense, row stride = their width).
        let aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n
        let roundedA = OperandPrecision.bf16Copy(a, rows: aRows, cols: aCols, ld: lda)
        let roundedB = OperandPrecision.bf16Copy(b, rows: bRows, cols: bCols, ld: ldb)
        ck_dgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), roundedA, Int64(max(aCols, 1)),
                 roundedB, Int64(max(bCols, 1)), c, Int64(ldc), accumulate ? 1 : 0)
    }
    @inline(__always) public static func kernelExp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func kernelTanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inline(__always) public static func kernelLog(_ x: Double) -> Double { Foundation.log(x) }
    public static func _pack(_ src: UnsafePointer<Double>, ld: Int, transposed: Bool, k: Int, n: Int,
                             operands: OperandPrecision, into dst: UnsafeMutablePointer<Double>) {
        if operands == .bf16 {
            let rows = transposed ? n : k, cols = transposed ? k : n
            let rounded = OperandPrecision.bf16Copy(src, rows: rows, cols: cols, ld: ld)
            ck_dpack(rounded, Int64(max(cols, 1)), transposed ? 1 : 0, Int64(k), Int64(n), dst)
        } else {
            ck_dpack(src, Int64(ld), transposed ? 1 : 0, Int64(k), Int64(n), dst)
        }
    }
    public static func _gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int,
                                   packed: UnsafePointer<Double>, panel0: Int,
                                   c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool, operands: OperandPrecision) {
        if operands == .bf16 {
            let rounded = OperandPrecision.bf16Copy(a, rows: m, cols: k, ld: lda)
            ck_dgemm_packed(Int64(m), Int64(n), Int64(k), rounded, Int64(max(k, 1)), packed, Int64(panel0), c,
                            Int64(ldc), accumulate ? 1 : 0)
        } else {
            ck_dgemm_packed(Int64(m), Int64(n), Int64(k), a, Int64(lda), packed, Int64(panel0), c, Int64(ldc),
                            accumulate ? 1 : 0)
        }
    }
}
