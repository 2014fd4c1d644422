import CKernels
import Dispatch

/// A k×n matrix B stored once in the panel layout of the small-M GEMM kernel, for products
/// C = A·B where A has few rows (the B streams of one recurrent step) and B is reused for many
/// products (a recurrent weight matrix over the T steps of a window).
///
/// Layout: the GEMM engine's B panels (`ck_spack`): ceil(n/16) panels of 16 columns, each k rows of
/// 16 contiguous values, zero-padded. `multiply` runs the same engine as `Real.gemm` (AVX-512,
/// AVX2+FMA or portable kernel, chosen at run time) and gives the same bits as `Real.gemm` on the
/// unpacked B: every element of C is one fused multiply-add chain over k in increasing order, so a
/// row's result does not depend on how rows or columns are split between calls or threads.
public final class PackedMatrix<Scalar: Real>: @unchecked Sendable {
    /// Columns per panel; column blocks passed to `multiply` start at multiples of this.
    public static var panelWidth: Int { Int(CK_PANEL_WIDTH) }

    /// Rows (the inner dimension of A·B).
    public private(set) var k = 0
    /// Columns.
    public private(set) var n = 0
    /// The precision of the products: with `.bf16` B was rounded when packed and each A is rounded
    /// as `multiply` packs it (see `OperandPrecision`).
    public private(set) var operands = OperandPrecision.f32
    private var storage = AlignedBuffer<Scalar>(count: 0)

    public init() {}

    /// Packs B (k×n). `source` is B, row-major with row stride `ld`, or, when `transposed`, Bᵀ
    /// (n×k, row stride `ld`; e.g. a weight W of shape out×in for products A·Wᵀ). Reallocates only
    /// when the packing needs more room than it has (so matrices of two shapes can take turns).
    /// `operands` fixes the precision of every product with this packing.
    public func pack(_ source: UnsafePointer<Scalar>, ld: Int, transposed: Bool, k: Int, n: Int,
                     operands: OperandPrecision = .f32) {
        let count = Int(ck_packed_count(Int64(k), Int64(n)))
        if count > storage.count { storage = AlignedBuffer(count: count) }
        self.k = k; self.n = n
        self.operands = operands
        Scalar._pack(source, ld: ld, transposed: transposed, k: k, n: n, operands: operands,
                     into: storage.pointer.baseAddress!)
    }

    /// The address of the packed storage (for tests that check a window allocates nothing).
    public var storageAddress: UnsafeRawPointer { UnsafeRawPointer(storage.pointer.baseAddress!) }

    /// C[0..<m, columns] = A·B[:, columns] (or += when `accumulate`). A is m×k with row stride `lda`;
    /// `c` points at C[0, 0] (row stride `ldc`). `columns.lowerBound` must be a multiple of
    /// `panelWidth`. With `threads` > 1 and enough work, the panels are split between threads.
    public func multiply(
        m: Int, a: UnsafePointer<Scalar>, lda: Int, into c: UnsafeMutablePointer<Scalar>, ldc: Int,
        accumulate: Bool, columns: Range<Int>? = nil, threads: Int = 1
    ) {
        let cols = columns ?? 0..<n
        precondition(cols.lowerBound % Self.panelWidth == 0 && cols.upperBound <= n, "packed column block")
        let panels = (cols.count + Self.panelWidth - 1) / Self.panelWidth
        let pieces = min(threads, panels, max(1, m * cols.count * k / ParallelGemm.minimumWorkPerThread))
        if pieces < 2 {
            run(m: m, a: a, lda: lda, c: c, ldc: ldc, accumulate: accumulate, columns: cols)
            return
        }
        let box = PackedCall(a: a, c: c)
        DispatchQueue.concurrentPerform(iterations: pieces) { i in
            let lo = cols.lowerBound + i * panels / pieces * Self.panelWidth
            let hi = min(cols.upperBound, cols.lowerBound + (i + 1) * panels / pieces * Self.panelWidth)
            self.run(m: m, a: box.a, lda: lda, c: box.c, ldc: ldc, accumulate: accumulate, columns: lo..<hi)
        }
    }

    private func run(m: Int, a: UnsafePointer<Scalar>, lda: Int, c: UnsafeMutablePointer<Scalar>, ldc: Int,
                     accumulate: Bool, columns: Range<Int>) {
        if columns.isEmpty || m == 0 { return }
        Scalar._gemmPacked(m: m, n: columns.count, k: k, a: a, lda: lda,
                           packed: storage.pointer.baseAddress!, panel0: columns.lowerBound / Self.panelWidth,
                           c: c + columns.lowerBound, ldc: ldc, accumulate: accumulate, operands: operands)
    }
}

private struct PackedCall<S>: @unchecked Sendable {
    let a: UnsafePointer<S>, c: UnsafeMutablePointer<S>
}
