import Tensor

/// Embedding and dropout kernels (pre-specialized for Float and Double).
enum ModelKernels {
    /// `out[r] = table[ids[r]]` (rows of `cols`).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func gatherRows<S: Real>(
        table: UnsafePointer<S>, cols: Int, ids: UnsafePointer<Int32>, rows: Int,
        into out: UnsafeMutablePointer<S>
    ) {
        for r in 0..<rows {
            let src = table + Int(ids[r]) * cols, dst = out + r * cols
            for j in 0..<cols { dst[j] = src[j] }
        }
    }

    /// `table[ids[r]] += rowsIn[r]` (rows of `cols`), in row order.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func scatterAddRows<S: Real>(
        _ rowsIn: UnsafePointer<S>, cols: Int, ids: UnsafePointer<Int32>, rows: Int,
        into table: UnsafeMutablePointer<S>
    ) {
        for r in 0..<rows {
            let src = rowsIn + r * cols, dst = table + Int(ids[r]) * cols
            for j in 0..<cols { dst[j] += src[j] }
        }
    }

    /// Fills `mask` with an inverted-dropout mask: each element independently 0 with probability
    /// `p` (when `rng.nextFloat() < p`) and 1/(1−p) otherwise, drawing one float per element.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func dropoutMask<S: Real>(
        _ mask: UnsafeMutablePointer<S>, count: Int, p: Double, rng: inout RNG
    ) {
        let keep = S(1 / (1 - p)), threshold = Float(p)
        for i in 0..<count { mask[i] = rng.nextFloat() < threshold ? 0 : keep }
    }
}
