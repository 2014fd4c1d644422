import Testing
@testable import Tensor

/// `PackedMatrix.multiply` against a Double reference of the same product, for shapes with row
/// and column remainders, both packing orientations, accumulation, column blocks, threads, and
/// both the AVX-512 and the portable kernel.
@Suite(.serialized) struct PackedMatrixTests {
    /// Reference C = A·B in Double; B given as k×n (`bT` false) or n×k (`bT` true).
    static func reference(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int, bT: Bool) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += Double(a[i * k + p]) * Double(bT ? b[j * k + p] : b[p * n + j]) }
            c[i * n + j] = s
        } }
        return c
    }

    static func check(m: Int, k: Int, n: Int, transposed: Bool, accumulate: Bool, threads: Int,
                      columns: Range<Int>? = nil) {
        var rng = RNG(seed: UInt64(m * 1000 + k * 10 + n))
        let a = (0..<(m * k)).map { _ in rng.nextFloat() * 2 - 1 }
        let b = (0..<(k * n)).map { _ in rng.nextFloat() * 2 - 1 }
        let c0 = (0..<(m * n)).map { _ in rng.nextFloat() * 2 - 1 }
        let packed = PackedMatrix<Float>()
        b.withUnsafeBufferPointer { packed.pack($0.baseAddress!, ld: transposed ? k : n, transposed: transposed, k: k, n: n) }
        var c = c0
        a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                packed.multiply(m: m, a: ap.baseAddress!, lda: k, into: cp.baseAddress!, ldc: n,
                                accumulate: accumulate, columns: columns, threads: threads)
            }
        }
        let ref = reference(a, b, m: m, k: k, n: n, bT: transposed)
        let cols = columns ?? 0..<n
        var worst = 0.0
        for i in 0..<m { for j in 0..<n {
            let got = Double(c[i * n + j])
            if cols.contains(j) {
                let want = ref[i * n + j] + (accumulate ? Double(c0[i * n + j]) : 0)
                worst = max(worst, abs(got - want) / (1 + abs(want)))
            } else {
                #expect(c[i * n + j] == c0[i * n + j], "column \(j) outside the block was written")
            }
        } }
        // Float sums of k terms of size ≤ 1: error grows like k·ε.
        #expect(worst < Double(k) * 1.2e-7, "m \(m) k \(k) n \(n): worst \(worst)")
    }

    @Test(arguments: [false, true])
    func matchesReference(portable: Bool) {
        KernelFeatures.forcePortable(portable)
        defer { KernelFeatures.forcePortable(false) }
        for (m, k, n) in [(1, 1, 1), (25, 128, 512), (50, 64, 96), (7, 33, 45), (13, 200, 31), (6, 5, 64), (31, 17, 70)] {
            for transposed in [false, true] {
                for accumulate in [false, true] {
                    Self.check(m: m, k: k, n: n, transposed: transposed, accumulate: accumulate, threads: 1)
                }
            }
        }
        Self.check(m: 50, k: 256, n: 1024, transposed: true, accumulate: true, threads: 2)
        Self.check(m: 9, k: 40, n: 100, transposed: false, accumulate: false, threads: 1, columns: 32..<77)
    }

    /// A row's result is the same whether it is computed alone, in a block of rows, or with its
    /// columns split between threads.
    @Test func rowResultsIndependentOfSplit() {
        let m = 25, k = 96, n = 200
        var rng = RNG(seed: 7)
        let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let b = (0..<(k * n)).map { _ in rng.nextFloat() - 0.5 }
        let packed = PackedMatrix<Float>()
        b.withUnsafeBufferPointer { packed.pack($0.baseAddress!, ld: n, transposed: false, k: k, n: n) }
        var whole = [Float](repeating: 0, count: m * n), pieces = whole
        a.withUnsafeBufferPointer { ap in
            whole.withUnsafeMutableBufferPointer { packed.multiply(m: m, a: ap.baseAddress!, lda: k, into: $0.baseAddress!, ldc: n, accumulate: false) }
            pieces.withUnsafeMutableBufferPointer { cp in
                for i in 0..<m {
                    packed.multiply(m: 1, a: ap.baseAddress! + i * k, lda: k, into: cp.baseAddress! + i * n, ldc: n,
                                    accumulate: false, columns: 0..<96)
                    packed.multiply(m: 1, a: ap.baseAddress! + i * k, lda: k, into: cp.baseAddress! + i * n, ldc: n,
                                    accumulate: false, columns: 96..<n)
                }
            }
        }
        #expect(whole == pieces)
    }

    @Test func doublePackedMatchesReference() {
        let m = 11, k = 19, n = 41
        var rng = RNG(seed: 3)
        let a = (0..<(m * k)).map { _ in rng.nextDouble() - 0.5 }
        let bT = (0..<(n * k)).map { _ in rng.nextDouble() - 0.5 }
        let packed = PackedMatrix<Double>()
        bT.withUnsafeBufferPointer { packed.pack($0.baseAddress!, ld: k, transposed: true, k: k, n: n) }
        var c = [Double](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { packed.multiply(m: m, a: ap.baseAddress!, lda: k, into: $0.baseAddress!, ldc: n, accumulate: false) }
        }
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += a[i * k + p] * bT[j * k + p] }
            #expect(abs(c[i * n + j] - s) < 1e-13)
        } }
    }
}
