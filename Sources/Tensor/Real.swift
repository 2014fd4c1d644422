import CBLAS
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
    /// Row-major `C = alpha · op(A) · op(B) + beta · C` (BLAS gemm), where op(A) is m×k, op(B) is k×n,
    /// C is m×n; `lda`, `ldb`, `ldc` are the row strides (in elements) of A, B, C as stored.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

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
                      into dst: UnsafeMutablePointer<Self>)
    /// C[m×n] (+)= A[m×k]·B with B packed, starting at panel `panel0` (see `PackedMatrix`).
    static func _gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int,
                            packed: UnsafePointer<Self>, panel0: Int,
                            c: UnsafeMutablePointer<Self>, ldc: Int, accumulate: Bool)
}

extension Real {
    /// The logistic function 1 / (1 + e^(−x)) built on `kernelExp`.
    @inline(__always)
    public static func kernelSigmoid(_ x: Self) -> Self { 1 / (1 + kernelExp(-x)) }
}

@inline(__always)
private func transposeFlag(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: Real {
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if m == 1 && n * k >= 1 << 19 {
            // One row against a large B (generation with one stream, H ≥ 512): a matrix–vector
            // product, which BLAS runs straight from B's storage instead of packing B as gemm
            // does (measured 1.5× faster sampling at H = 512, slower at H ≤ 256).
            cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                        alpha, b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, transposeFlag(transA), transposeFlag(transB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
    @inline(__always) public static func kernelExp(_ x: Float) -> Float { FastMath.exp(x) }
    @inline(__always) public static func kernelTanh(_ x: Float) -> Float { FastMath.tanh(x) }
    @inline(__always) public static func kernelLog(_ x: Float) -> Float { Foundation.log(x) }
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
                             into dst: UnsafeMutablePointer<Float>) {
        ck_spack(src, Int64(ld), transposed ? 1 : 0, Int64(k), Int64(n), dst)
    }
    public static func _gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                   packed: UnsafePointer<Float>, panel0: Int,
                                   c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        ck_sgemm_packed(Int64(m), Int64(n), Int64(k), a, Int64(lda), packed, Int64(panel0), c, Int64(ldc),
                        accumulate ? 1 : 0)
    }
}

extension Double: Real {
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if m == 1 && n * k >= 1 << 19 {
            // One row against a large B (generation with one stream, H ≥ 512): a matrix–vector
            // product, which BLAS runs straight from B's storage instead of packing B as gemm
            // does (measured 1.5× faster sampling at H = 512, slower at H ≤ 256).
            cblas_dgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                        alpha, b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
            return
        }
        cblas_dgemm(CblasRowMajor, transposeFlag(transA), transposeFlag(transB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
    @inline(__always) public static func kernelExp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func kernelTanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inline(__always) public static func kernelLog(_ x: Double) -> Double { Foundation.log(x) }
    public static func _pack(_ src: UnsafePointer<Double>, ld: Int, transposed: Bool, k: Int, n: Int,
                             into dst: UnsafeMutablePointer<Double>) {
        ck_dpack(src, Int64(ld), transposed ? 1 : 0, Int64(k), Int64(n), dst)
    }
    public static func _gemmPacked(m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int,
                                   packed: UnsafePointer<Double>, panel0: Int,
                                   c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        ck_dgemm_packed(Int64(m), Int64(n), Int64(k), a, Int64(lda), packed, Int64(panel0), c, Int64(ldc),
                        accumulate ? 1 : 0)
    }
}

/// OpenBLAS process-wide settings.
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses for every later call (process-wide).
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS limited to one thread (for BLAS calls made concurrently from
    /// several threads of our own), then restores the previous count.
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let saved = openblas_get_num_threads()
        if saved == 1 { return try body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(saved) }
        return try body()
    }
}
