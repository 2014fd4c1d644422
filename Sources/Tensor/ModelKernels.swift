

/// Embedding and dropout kernels (pre-specialized for Float and Double).
public enum ModelKernels {
    /// `out[r] = table[ids[r]]` (rows of `cols`).
    public static func gatherRows<S: Real>(
        table: UnsafePointer<S>, cols: Int, ids: UnsafePointer<Int32>, rows: Int,
        into out: UnsafeMutablePointer<S>
    ) {
        S._gatherRows(table: table, cols: cols, ids: ids, rows: rows, into: out)
    }

    /// `table[ids[r]] += rowsIn[r]` (rows of `cols`), in row order.
    public static func scatterAddRows<S: Real>(
        _ rowsIn: UnsafePointer<S>, cols: Int, ids: UnsafePointer<Int32>, rows: Int,
        into table: UnsafeMutablePointer<S>
    ) {
        S._scatterAddRows(rowsIn, cols: cols, ids: ids, rows: rows, into: table)
    }

    /// Fills `mask` with an inverted-dropout mask: each element independently 0 with probability
    /// `p` (when `rng.nextFloat() < p`) and 1/(1−p) otherwise, drawing one float per element.
    public static func dropoutMask<S: Real>(
        _ mask: UnsafeMutablePointer<S>, count: Int, p: Double, rng: inout RNG
    ) {
        S._dropoutMask(mask, count: count, p: p, rng: &rng)
    }
}
