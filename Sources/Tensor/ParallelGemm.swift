import Dispatch

/// GEMM split into independent blocks of C that run concurrently on our own threads, each block a
/// single-threaded BLAS call.
///
/// Why: OpenBLAS's own threading keeps its workers spinning (`sched_yield`) between calls; in a
/// recurrence that alternates many small GEMMs with elementwise kernels and stream-split work, the
/// spinning workers competed with ours for the 2 cores (perf: ~30% of cycles in `__schedule` /
/// `sched_yield`). With OpenBLAS at 1 thread and the parallelism here, idle threads block instead.
/// Every element of C is computed by the same kind of call over the same k-range, so results do
/// not depend on the thread count.
public enum ParallelGemm {
    /// Below this many multiply-adds a GEMM runs in one piece (dispatch costs a few µs).
    public static let minimumWorkPerThread = 1 << 20

    /// Same contract as `Real.gemm`; splits C's rows (or columns, when there are fewer rows than
    /// threads' worth) into `threads` blocks.
    public static func gemm<S: Real>(
        threads: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: S, a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int,
        beta: S, c: UnsafeMutablePointer<S>, ldc: Int
    ) {
        // One row (a matrix–vector product) is bound by reading B, not by arithmetic: splitting
        // it pays from a smaller size on.
        let work = m == 1 ? n * k * 4 : m * n * k
        let pieces = min(threads, max(1, work / minimumWorkPerThread))
        if pieces < 2 {
            S.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                   b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let splitRows = m >= n
        let extent = splitRows ? m : n
        // Block boundaries rounded to multiples of 16 so vector kernels see aligned widths.
        let bounds = (0...pieces).map { i in i == pieces ? extent : (i * extent / pieces) / 16 * 16 }
        let box = PointerBox(a: a, b: b, c: c)
        BLAS.singleThreaded {
            DispatchQueue.concurrentPerform(iterations: pieces) { i in
                let lo = bounds[i], count = bounds[i + 1] - lo
                if count <= 0 { return }
                if splitRows {
                    // Rows lo..<lo+count of op(A) and of C.
                    S.gemm(transA: transA, transB: transB, m: count, n: n, k: k, alpha: alpha,
                           a: box.a + (transA ? lo : lo * lda), lda: lda, b: box.b, ldb: ldb,
                           beta: beta, c: box.c + lo * ldc, ldc: ldc)
                } else {
                    // Columns lo..<lo+count of op(B) and of C.
                    S.gemm(transA: transA, transB: transB, m: m, n: count, k: k, alpha: alpha,
                           a: box.a, lda: lda, b: box.b + (transB ? lo * ldb : lo), ldb: ldb,
                           beta: beta, c: box.c + lo, ldc: ldc)
                }
            }
        }
    }
}

/// Raw pointers handed to worker threads that write disjoint blocks.
private struct PointerBox<S>: @unchecked Sendable {
    let a: UnsafePointer<S>, b: UnsafePointer<S>, c: UnsafeMutablePointer<S>
}
