import CKernels
import Testing
@testable import Tensor

/// A transposed A of more than MC = 96 rows is packed a whole KC slice at a time (one pass over each
/// source row) instead of one MC block at a time: the panels, and so every bit of C, must be those of
/// the same product computed in calls of at most 96 rows, which take the per-block path.
@Suite struct GemmSlicePackingTests {
    @Test(arguments: [OperandPrecision.f32, .bf16])
    func aTransposedAOfManyRowsGivesTheBitsOfItsRowBlocks(operands: OperandPrecision) {
        // 250 rows: blocks of 96, 96 and 58; k past one KC slice (256), n past one 16-column panel.
        for (m, n, k) in [(250, 37, 300), (97, 16, 5), (400, 3, 513)] {
            let ops = GemmTests.Operands(m: m, n: n, k: k, transA: true, transB: false, seed: UInt64(m + n + k))
            for accumulate in [false, true] {
                var whole = ops.c0, pieces = ops.c0
                Float.gemm(operands: operands, transA: true, transB: false, m: m, n: n, k: k, a: ops.a, lda: ops.lda,
                           b: ops.b, ldb: ops.ldb, c: &whole, ldc: n, accumulate: accumulate)
                ops.a.withUnsafeBufferPointer { a in
                    pieces.withUnsafeMutableBufferPointer { c in
                        for lo in stride(from: 0, to: m, by: 96) {
                            let rows = min(96, m - lo)
                            Float.gemm(operands: operands, transA: true, transB: false, m: rows, n: n, k: k,
                                       a: a.baseAddress! + lo, lda: ops.lda, b: ops.b, ldb: ops.ldb,
                                       c: c.baseAddress! + lo * n, ldc: n, accumulate: accumulate)
                        }
                    }
                }
                #expect(whole == pieces, "\(m)×\(n)×\(k) \(operands) accumulate \(accumulate)")
                // And the product is the product (the Double reference within f32 rounding of k terms).
                if operands == .f32 {
                    let reference = ops.reference(accumulate: accumulate)
                    let worst = zip(whole, reference).map { abs(Double($0) - $1) }.max() ?? 0
                    #expect(worst <= Double(k + 1) * 0x1p-23 * Double(k), "\(m)×\(n)×\(k): \(worst)")
                }
            }
        }
    }
}
