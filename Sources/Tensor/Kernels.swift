/// Elementwise and row-wise kernels over raw row-major matrices.
///
/// Each kernel is generic over `Real` and pre-specialized for `Float` and `Double`
/// (`@_specialize`), so a call from unspecialized generic code still runs the concrete, vectorized
/// loop. Shapes are given as `rows × cols` with a row stride when a matrix may be a column slice.
public enum Kernels {
    /// Copies `row` (`cols` elements) into each of the `rows` rows of `matrix` (stride `cols`).
    public static func broadcastRows<S: Real>(
        _ row: UnsafePointer<S>, into matrix: UnsafeMutablePointer<S>, rows: Int, cols: Int
    ) {
        S._broadcastRows(row, into: matrix, rows: rows, cols: cols)
    }

    /// Writes `a + b` (two rows of `cols` elements) into each of the `rows` rows of `matrix`.
    public static func broadcastRowSum<S: Real>(
        _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, into matrix: UnsafeMutablePointer<S>,
        rows: Int, cols: Int
    ) {
        S._broadcastRowSum(a, b, into: matrix, rows: rows, cols: cols)
    }

    /// `sums[j] += Σ_r matrix[r, j]` for a rows×cols matrix with row stride `stride` (default `cols`).
    public static func addColumnSums<S: Real>(
        _ matrix: UnsafePointer<S>, rows: Int, cols: Int, stride: Int? = nil, into sums: UnsafeMutablePointer<S>
    ) {
        S._addColumnSums(matrix, rows: rows, cols: cols, stride: stride ?? cols, into: sums, alsoInto: nil)
    }

    /// `broadcastRows` with the rows split between up to `threads` threads (`ParallelChunks`).
    public static func broadcastRows<S: Real>(
        _ row: UnsafePointer<S>, into matrix: UnsafeMutablePointer<S>, rows: Int, cols: Int, threads: Int
    ) {
        ParallelChunks.run(extent: rows, itemCost: cols, threads: threads) { _, r in
            S._broadcastRows(row, into: matrix + r.lowerBound * cols, rows: r.count, cols: cols)
        }
    }

    /// `broadcastRowSum` with the rows split between up to `threads` threads (`ParallelChunks`).
    public static func broadcastRowSum<S: Real>(
        _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, into matrix: UnsafeMutablePointer<S>,
        rows: Int, cols: Int, threads: Int
    ) {
        ParallelChunks.run(extent: rows, itemCost: cols, threads: threads) { _, r in
            S._broadcastRowSum(a, b, into: matrix + r.lowerBound * cols, rows: r.count, cols: cols)
        }
    }

    /// `addColumnSums` of a rows×cols matrix (stride `cols`) with the columns split between up to
    /// `threads` threads; each column is summed in row order, so the result does not depend on them.
    /// With `second`, the same sums are also added into it (one read of the matrix for two
    /// gradients that get the same column sums); each result has the bits of a call of its own.
    public static func addColumnSums<S: Real>(
        _ matrix: UnsafePointer<S>, rows: Int, cols: Int, into sums: UnsafeMutablePointer<S>,
        alsoInto second: UnsafeMutablePointer<S>? = nil, threads: Int
    ) {
        ParallelChunks.run(extent: cols, itemCost: rows, threads: threads) { _, c in
            S._addColumnSums(matrix + c.lowerBound, rows: rows, cols: c.count, stride: cols, into: sums + c.lowerBound,
                             alsoInto: second.map { $0 + c.lowerBound })
        }
    }

    /// Sets `count` elements to `value` (0 by default). Use this and `copy` rather than the
    /// pointer's own `update` in generic code: those copy element by element through value
    /// witnesses when the caller is not specialized.
    public static func fill<S: Real>(_ x: UnsafeMutablePointer<S>, count: Int, value: S = 0) {
        S._fill(x, count: count, value: value)
    }

    /// Copies `count` contiguous elements.
    public static func copy<S: Real>(_ src: UnsafePointer<S>, into dst: UnsafeMutablePointer<S>, count: Int) {
        S._copy(src, srcStride: count, into: dst, dstStride: count, rows: 1, cols: count)
    }

    /// Copies a rows×cols block: `dst[r, j] = src[r, j]` with row strides `srcStride`, `dstStride`.
    public static func copy<S: Real>(
        _ src: UnsafePointer<S>, srcStride: Int, into dst: UnsafeMutablePointer<S>, dstStride: Int,
        rows: Int, cols: Int
    ) {
        S._copy(src, srcStride: srcStride, into: dst, dstStride: dstStride, rows: rows, cols: cols)
    }

    /// Adds a rows×cols block: `dst[r, j] += src[r, j]` with row strides `srcStride`, `dstStride`.
    public static func add<S: Real>(
        _ src: UnsafePointer<S>, srcStride: Int, into dst: UnsafeMutablePointer<S>, dstStride: Int,
        rows: Int, cols: Int
    ) {
        S._add(src, srcStride: srcStride, into: dst, dstStride: dstStride, rows: rows, cols: cols)
    }

    /// `out[i] = a[i] + b[i]` for `count` elements (`out` may alias `a` or `b`).
    public static func sum<S: Real>(
        _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, into out: UnsafeMutablePointer<S>, count: Int
    ) {
        S._sum(a, b, into: out, count: count)
    }

    /// `x[i] *= factor[i]` for `count` elements.
    public static func multiply<S: Real>(
        _ x: UnsafeMutablePointer<S>, by factor: UnsafePointer<S>, count: Int
    ) {
        S._multiply(x, by: factor, count: count)
    }

    /// Σ x[i]², accumulated in Double.
    public static func sumOfSquares<S: Real>(_ x: UnsafePointer<S>, count: Int) -> Double {
        return S._sumOfSquares(x, count: count)
    }

    /// Fused softmax cross-entropy, forward. For each of `rows` rows of `logits` (rows×cols):
    /// `logSumExp[r] = m + log Σ_j exp(logits[r, j] − m)` with m the row maximum (stable), and the
    /// row's loss `logSumExp[r] − logits[r, targets[r]]`. Returns the sum of row losses (Double).
    public static func softmaxCrossEntropy<S: Real>(
        logits: UnsafePointer<S>, rows: Int, cols: Int, targets: UnsafePointer<Int32>,
        logSumExp: UnsafeMutablePointer<S>
    ) -> Double {
        return S._softmaxCrossEntropy(logits: logits, rows: rows, cols: cols, targets: targets, logSumExp: logSumExp)
    }

    /// Fused softmax cross-entropy, backward for one block of rows:
    /// `grad[r, j] = scale · (exp(logits[r, j] − logSumExp[r]) − [j == targets[r]])`.
    public static func softmaxCrossEntropyBackward<S: Real>(
        logits: UnsafePointer<S>, rows: Int, cols: Int, targets: UnsafePointer<Int32>,
        logSumExp: UnsafePointer<S>, scale: S, grad: UnsafeMutablePointer<S>
    ) {
        S._softmaxCrossEntropyBackward(logits: logits, rows: rows, cols: cols, targets: targets, logSumExp: logSumExp, scale: scale, grad: grad)
    }

    /// Applies `kernelExp` in place to `count` elements (used by tests and benchmarks of FastMath).
    public static func exp<S: Real>(_ x: UnsafeMutablePointer<S>, count: Int) {
        S._exp(x, count: count)
    }

    /// Applies `kernelTanh` in place to `count` elements.
    public static func tanh<S: Real>(_ x: UnsafeMutablePointer<S>, count: Int) {
        S._tanh(x, count: count)
    }
}
