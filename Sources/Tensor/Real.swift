import CBLAS
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
        cblas_sgemm(CblasRowMajor, transposeFlag(transA), transposeFlag(transB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
    @inline(__always) public static func kernelExp(_ x: Float) -> Float { FastMath.exp(x) }
    @inline(__always) public static func kernelTanh(_ x: Float) -> Float { FastMath.tanh(x) }
    @inline(__always) public static func kernelLog(_ x: Float) -> Float { Foundation.log(x) }
}

extension Double: Real {
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor, transposeFlag(transA), transposeFlag(transB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
    @inline(__always) public static func kernelExp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func kernelTanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inline(__always) public static func kernelLog(_ x: Double) -> Double { Foundation.log(x) }
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
