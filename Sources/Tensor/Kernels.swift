/// Elementwise and row-wise kernels over raw row-major matrices.
///
/// Each kernel is generic over `Real` and pre-specialized for `Float` and `Double`
/// (`@_specialize`), so a call from unspecialized generic code still runs the concrete, vectorized
/// loop. Shapes are given as `rows × cols` with a row stride when a matrix may be a column slice.
public enum Kernels {
    /// Copies `row` (`cols` elements) into each of the `rows` rows of `matrix` (stride `cols`).
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func broadcastRows<S: Real>(
        _ row: UnsafePointer<S>, into matrix: UnsafeMutablePointer<S>, rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let out = matrix + r * cols
            for j in 0..<cols { out[j] = row[j] }
        }
    }

    /// Writes `a + b` (two rows of `cols` elements) into each of the `rows` rows of `matrix`.
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func broadcastRowSum<S: Real>(
        _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, into matrix: UnsafeMutablePointer<S>,
        rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let out = matrix + r * cols
            for j in 0..<cols { out[j] = a[j] + b[j] }
        }
    }

    /// `sums[j] += Σ_r matrix[r, j]` for a rows×cols matrix with stride `cols`.
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func addColumnSums<S: Real>(
        _ matrix: UnsafePointer<S>, rows: Int, cols: Int, into sums: UnsafeMutablePointer<S>
    ) {
        for r in 0..<rows {
            let row = matrix + r * cols
            for j in 0..<cols { sums[j] += row[j] }
        }
    }

    /// Copies a rows×cols block: `dst[r, j] = src[r, j]` with row strides `srcStride`, `dstStride`.
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func copy<S: Real>(
        _ src: UnsafePointer<S>, srcStride: Int, into dst: UnsafeMutablePointer<S>, dstStride: Int,
        rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let s = src + r * srcStride, d = dst + r * dstStride
            for j in 0..<cols { d[j] = s[j] }
        }
    }

    /// Adds a rows×cols block: `dst[r, j] += src[r, j]` with row strides `srcStride`, `dstStride`.
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func add<S: Real>(
        _ src: UnsafePointer<S>, srcStride: Int, into dst: UnsafeMutablePointer<S>, dstStride: Int,
        rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let s = src + r * srcStride, d = dst + r * dstStride
            for j in 0..<cols { d[j] += s[j] }
        }
    }

    /// `out[i] = a[i] + b[i]` for `count` elements (`out` may alias `a` or `b`).
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func sum<S: Real>(
        _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, into out: UnsafeMutablePointer<S>, count: Int
    ) {
        for i in 0..<count { out[i] = a[i] + b[i] }
    }

    /// `x[i] *= factor[i]` for `count` elements.
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func multiply<S: Real>(
        _ x: UnsafeMutablePointer<S>, by factor: UnsafePointer<S>, count: Int
    ) {
        for i in 0..<count { x[i] *= factor[i] }
    }

    /// Σ x[i]², accumulated in Double.
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func sumOfSquares<S: Real>(_ x: UnsafePointer<S>, count: Int) -> Double {
        // Blocks of 256 summed in S (vectorizable), then in Double: error ~ 256 ulp(S) worst case
        // per block, far below what a norm is used for.
        var total = 0.0
        var start = 0
        while start < count {
            let end = Swift.min(start + 256, count)
            var partial: S = 0
            for i in start..<end { partial += x[i] * x[i] }
            total += Double(partial)
            start = end
        }
        return total
    }

    /// Fused softmax cross-entropy, forward. For each of `rows` rows of `logits` (rows×cols):
    /// `logSumExp[r] = m + log Σ_j exp(logits[r, j] − m)` with m the row maximum (stable), and the
    /// row's loss `logSumExp[r] − logits[r, targets[r]]`. Returns the sum of row losses (Double).
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func softmaxCrossEntropy<S: Real>(
        logits: UnsafePointer<S>, rows: Int, cols: Int, targets: UnsafePointer<Int32>,
        logSumExp: UnsafeMutablePointer<S>
    ) -> Double {
        var total = 0.0
        for r in 0..<rows {
            let row = logits + r * cols
            var m = row[0]
            for j in 1..<cols { m = Swift.max(m, row[j]) }
            var s: S = 0
            for j in 0..<cols { s += S.kernelExp(row[j] - m) }
            let lse = m + S.kernelLog(s)
            logSumExp[r] = lse
            total += Double(lse - row[Int(targets[r])])
        }
        return total
    }

    /// Fused softmax cross-entropy, backward for one block of rows:
    /// `grad[r, j] = scale · (exp(logits[r, j] − logSumExp[r]) − [j == targets[r]])`.
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func softmaxCrossEntropyBackward<S: Real>(
        logits: UnsafePointer<S>, rows: Int, cols: Int, targets: UnsafePointer<Int32>,
        logSumExp: UnsafePointer<S>, scale: S, grad: UnsafeMutablePointer<S>
    ) {
        for r in 0..<rows {
            let row = logits + r * cols, out = grad + r * cols
            let lse = logSumExp[r]
            for j in 0..<cols { out[j] = scale * S.kernelExp(row[j] - lse) }
            out[Int(targets[r])] -= scale
        }
    }

    /// Applies `kernelExp` in place to `count` elements (used by tests and benchmarks of FastMath).
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func exp<S: Real>(_ x: UnsafeMutablePointer<S>, count: Int) {
        for i in 0..<count { x[i] = S.kernelExp(x[i]) }
    }

    /// Applies `kernelTanh` in place to `count` elements.
    @_specialize(where S == Float) @_specialize(where S == Double)
    public static func tanh<S: Real>(_ x: UnsafeMutablePointer<S>, count: Int) {
        for i in 0..<count { x[i] = S.kernelTanh(x[i]) }
    }
}
