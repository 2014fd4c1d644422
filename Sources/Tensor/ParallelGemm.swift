import Dispatch

/// GEMM split into independent blocks of C that run concurrently, each block one call of the
/// package's GEMM engine (`Real.gemm`) on its own thread.
///
/// Every element of C is computed by exactly one call, as one fused multiply-add chain over k
/// (see `Real.gemm`), so the result is bit-identical for every thread count and split.
public enum ParallelGemm {
    /// Below this many multiply-adds a GEMM runs in one piece (dispatch costs a few µs).
    public static let minimumWorkPerThread = 1 << 20

    /// Same contract as `Real.gemm`; splits C's rows (or columns, when there are fewer rows than
    /// columns) into `threads` blocks. `operands` as in `Real.gemm(operands:…)`.
    public static func gemm<S: Real>(
        threads: Int, operands: OperandPrecision = .f32, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int,
        c: UnsafeMutablePointer<S>, ldc: Int, accumulate: Bool
    ) {
        let pieces = min(threads, max(1, m * n * k / minimumWorkPerThread))
        if pieces < 2 {
            S.gemm(operands: operands, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                   c: c, ldc: ldc, accumulate: accumulate)
            return
        }
        let splitRows = m >= n
        let extent = splitRows ? m : n
        // Block boundaries at multiples of the engine's tile sizes (6 rows, 32 columns), so no
        // block ends in a partial tile that the next block has to redo.
        let grain = splitRows ? 6 : 32
        let bounds = (0...pieces).map { i in i == pieces ? extent : (i * extent / pieces) / grain * grain }
        let box = PointerBox(a: a, b: b, c: c)
        DispatchQueue.concurrentPerform(iterations: pieces) { i in
            let lo = bounds[i], count = bounds[i + 1] - lo
            if count <= 0 { return }
            if splitRows {
                // Rows lo..<lo+count of op(A) and of C.
                S.gemm(operands: operands, transA: transA, transB: transB, m: count, n: n, k: k,
                       a: box.a + (transA ? lo : lo * lda), lda: lda, b: box.b, ldb: ldb,
                       c: box.c + lo * ldc, ldc: ldc, accumulate: accumulate)
            } else {
                // Columns lo..<lo+count of op(B) and of C.
                S.gemm(operands: operands, transA: transA, transB: transB, m: m, n: count, k: k,
                       a: box.a, lda: lda, b: box.b + (transB ? lo * ldb : lo), ldb: ldb,
                       c: box.c + lo, ldc: ldc, accumulate: accumulate)
            }
        }
    }
}

/// Raw pointers handed to worker threads that write disjoint blocks.
private struct PointerBox<S>: @unchecked Sendable {
    let a: UnsafePointer<S>, b: UnsafePointer<S>, c: UnsafeMutablePointer<S>
}
