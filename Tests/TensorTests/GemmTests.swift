import CKernels
import Testing
@testable import Tensor

/// The GEMM engine (`Real.gemm`, `ParallelGemm`, `PackedMatrix`) against a Double reference on odd
/// shapes, and its determinism: a row's bits do not depend on the call's shape, the split between
/// calls or threads, or the kernel the CPU runs.
@Suite(.serialized) struct GemmTests {
    /// A product's operands, stored as the transpose flags say.
    struct Operands {
        let m: Int, n: Int, k: Int, transA: Bool, transB: Bool
        let a: [Float], b: [Float], c0: [Float]
        var lda: Int { transA ? m : k }
        var ldb: Int { transB ? k : n }

        init(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, seed: UInt64) {
            self.m = m; self.n = n; self.k = k; self.transA = transA; self.transB = transB
            var rng = RNG(seed: seed)
            a = (0..<(m * k)).map { _ in rng.nextFloat() * 2 - 1 }
            b = (0..<(k * n)).map { _ in rng.nextFloat() * 2 - 1 }
            c0 = (0..<(m * n)).map { _ in rng.nextFloat() * 2 - 1 }
        }

        func opA(_ i: Int, _ p: Int) -> Float { transA ? a[p * m + i] : a[i * k + p] }
        func opB(_ p: Int, _ j: Int) -> Float { transB ? b[j * k + p] : b[p * n + j] }

        /// op(A)·op(B) (+ C₀) in Double.
        func reference(accumulate: Bool) -> [Double] {
            var c = [Double](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n {
                var s = accumulate ? Double(c0[i * n + j]) : 0
                for p in 0..<k { s += Double(opA(i, p)) * Double(opB(p, j)) }
                c[i * n + j] = s
            } }
            return c
        }

        /// The engine's result, in one call (threads 1) or split by `ParallelGemm`.
        func product(accumulate: Bool, threads: Int = 1) -> [Float] {
            var c = c0
            if threads == 1 {
                Float.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                           c: &c, ldc: n, accumulate: accumulate)
            } else {
                ParallelGemm.gemm(threads: threads, transA: transA, transB: transB, m: m, n: n, k: k, a: a,
                                  lda: lda, b: b, ldb: ldb, c: &c, ldc: n, accumulate: accumulate)
            }
            return c
        }
    }

    /// Shapes: 1×1×1, K = 1, primes, non-multiples of the 6-row / 16- and 32-column tiles, and
    /// sizes past the KC = 256, MC = 96 and NC = 2048 blocks.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 7, 1), (7, 1, 5), (5, 7, 3), (13, 17, 1), (6, 16, 8), (31, 37, 41), (2, 33, 257),
        (97, 45, 300), (101, 67, 13), (3, 2051, 5), (50, 512, 128),
    ]

    static let transposes: [(Bool, Bool)] = [(false, false), (false, true), (true, false), (true, true)]

    @Test(arguments: transposes)
    func matchesDoubleReference(transA: Bool, transB: Bool) {
        for (m, n, k) in Self.shapes {
            let ops = Operands(m: m, n: n, k: k, transA: transA, transB: transB, seed: UInt64(m * 7919 + n * 31 + k))
            for accumulate in [false, true] {
                let got = ops.product(accumulate: accumulate), want = ops.reference(accumulate: accumulate)
                let worst = zip(got, want).map { abs(Double($0) - $1) / (1 + abs($1)) }.max() ?? 0
                // Float sums of k terms of size ≤ 1: the error grows like k·ε.
                #expect(worst < Double(k + 1) * 1.2e-7, "\(m)×\(n)×\(k) accumulate \(accumulate): \(worst)")
            }
        }
    }

    @Test func doubleMatchesReference() {
        for (m, n, k) in [(1, 1, 1), (7, 33, 300), (13, 5, 2)] {
            for (transA, transB) in Self.transposes {
                let ops = Operands(m: m, n: n, k: k, transA: transA, transB: transB, seed: 3)
                let a = ops.a.map(Double.init), b = ops.b.map(Double.init)
                var c = ops.c0.map(Double.init)
                Double.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: ops.lda, b: b, ldb: ops.ldb,
                            c: &c, ldc: n, accumulate: true)
                let want = ops.reference(accumulate: true)
                #expect(zip(c, want).allSatisfy { abs($0 - $1) < 1e-14 * Double(k + 1) })
            }
        }
    }

    @Test func zeroInnerDimensionClearsOrKeeps() {
        let ops = Operands(m: 3, n: 4, k: 0, transA: false, transB: false, seed: 1)
        #expect(ops.product(accumulate: false) == [Float](repeating: 0, count: 12))
        #expect(ops.product(accumulate: true) == ops.c0)
    }

    /// Each row and column computed alone (or in blocks at arbitrary, unaligned positions) is bit
    /// for bit the same as inside the whole product: nothing depends on m, n or a tile position.
    @Test(arguments: transposes)
    func rowsAndColumnsDoNotDependOnTheCall(transA: Bool, transB: Bool) {
        let ops = Operands(m: 23, n: 70, k: 270, transA: transA, transB: transB, seed: 11)
        for accumulate in [false, true] {
            let whole = ops.product(accumulate: accumulate)
            for rows in [0..<1, 5..<12, 13..<23] {
                var c = Array(ops.c0[(rows.lowerBound * ops.n)..<(rows.upperBound * ops.n)])
                ops.a.withUnsafeBufferPointer { a in
                    Float.gemm(transA: transA, transB: transB, m: rows.count, n: ops.n, k: ops.k,
                               a: a.baseAddress! + (transA ? rows.lowerBound : rows.lowerBound * ops.lda), lda: ops.lda,
                               b: ops.b, ldb: ops.ldb, c: &c, ldc: ops.n, accumulate: accumulate)
                }
                #expect(c == Array(whole[(rows.lowerBound * ops.n)..<(rows.upperBound * ops.n)]), "rows \(rows)")
            }
            for cols in [0..<1, 3..<20, 33..<70] {
                var c = ops.c0
                ops.b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { cp in
                        Float.gemm(transA: transA, transB: transB, m: ops.m, n: cols.count, k: ops.k, a: ops.a, lda: ops.lda,
                                   b: b.baseAddress! + (transB ? cols.lowerBound * ops.ldb : cols.lowerBound), ldb: ops.ldb,
                                   c: cp.baseAddress! + cols.lowerBound, ldc: ops.n, accumulate: accumulate)
                    }
                }
                for i in 0..<ops.m { for j in cols {
                    #expect(c[i * ops.n + j] == whole[i * ops.n + j], "column \(j)")
                } }
            }
        }
    }

    /// Threads 1, 2 and 3 give the same bits, splitting rows (m ≥ n) or columns.
    @Test(arguments: transposes)
    func threadCountsAgreeBitForBit(transA: Bool, transB: Bool) {
        for (m, n, k) in [(300, 90, 120), (40, 400, 200)] {
            let ops = Operands(m: m, n: n, k: k, transA: transA, transB: transB, seed: 9)
            #expect(m * n * k >= 3 * ParallelGemm.minimumWorkPerThread)
            let one = ops.product(accumulate: true)
            #expect(ops.product(accumulate: true, threads: 2) == one)
            #expect(ops.product(accumulate: true, threads: 3) == one)
        }
    }

    /// Every kernel computes the same chain of fused multiply-adds: the portable kernel (fmaf)
    /// equals the one this CPU runs, bit for bit.
    @Test func portableKernelEqualsTheVectorKernel() {
        for (m, n, k) in [(7, 45, 300), (50, 512, 64), (1, 33, 1)] {
            for (transA, transB) in Self.transposes {
                let ops = Operands(m: m, n: n, k: k, transA: transA, transB: transB, seed: 21)
                let vector = ops.product(accumulate: true)
                KernelFeatures.forcePortable(true)
                let portable = ops.product(accumulate: true)
                KernelFeatures.forcePortable(false)
                #expect(portable == vector, "\(m)×\(n)×\(k) \(transA) \(transB)")
            }
        }
    }

    /// A pre-packed B gives the bits of the same product with B as stored.
    @Test func packedMatrixEqualsGemm() {
        for (m, n, k, transposed) in [(25, 2048, 512, true), (7, 70, 300, false), (1, 1, 1, true)] {
            let ops = Operands(m: m, n: n, k: k, transA: false, transB: transposed, seed: 4)
            let packed = PackedMatrix<Float>()
            ops.b.withUnsafeBufferPointer { packed.pack($0.baseAddress!, ld: ops.ldb, transposed: transposed, k: k, n: n) }
            for accumulate in [false, true] {
                var c = ops.c0
                ops.a.withUnsafeBufferPointer { a in
                    c.withUnsafeMutableBufferPointer { cp in
                        packed.multiply(m: m, a: a.baseAddress!, lda: k, into: cp.baseAddress!, ldc: n,
                                        accumulate: accumulate)
                    }
                }
                #expect(c == ops.product(accumulate: accumulate), "\(m)×\(n)×\(k)")
            }
        }
    }

    @Test func reportsItsKernel() {
        let isa = ck_gemm_isa()
        #expect((0...2).contains(isa))
        KernelFeatures.forcePortable(true)
        #expect(ck_gemm_isa() == 0)
        KernelFeatures.forcePortable(false)
    }
}
