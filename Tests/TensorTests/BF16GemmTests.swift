import CKernels
import Foundation
import Testing
@testable import Tensor

/// Mixed-precision products (`OperandPrecision.bf16`): the rounding itself, and the products
/// against the f32 engine on rounded copies (bit for bit) and a Double reference of the rounded
/// operands, with the f32 engine's determinism on every path.
@Suite(.serialized) struct BF16GemmTests {
    typealias Operands = GemmTests.Operands

    static func bits(_ x: Float) -> UInt32 { x.bitPattern }
    static func float(_ bits: UInt32) -> Float { Float(bitPattern: bits) }

    @Test func roundsToNearestEven() {
        let r = OperandPrecision.roundedToBF16
        #expect(r(1) == 1 && r(-2.5) == -2.5 && r(0) == 0)
        #expect(r(-0.0).sign == .minus && r(-0.0) == 0)
        // bf16 keeps 7 fraction bits: 1 + 2⁻⁷ is representable, 1 + 2⁻⁸ is the midpoint to 1.
        #expect(r(1 + 0x1p-7) == 1 + 0x1p-7)
        #expect(r(1 + 0x1p-8) == 1)                               // tie → even (1.0000000)
        #expect(r(1 + 3 * 0x1p-8) == 1 + 0x1p-6)                  // tie → even (1.0000010)
        #expect(r(1 + 0x1p-8 + 0x1p-20) == 1 + 0x1p-7)            // above the midpoint → up
        #expect(r(1 + 0x1p-8 - 0x1p-22) == 1)                     // below → down
        #expect(r(.infinity) == .infinity && r(-.infinity) == -.infinity)
        #expect(r(.nan).isNaN && Self.bits(r(.nan)) == 0x7FC0_0000 && r(-.nan).isNaN)
        #expect(r(.greatestFiniteMagnitude) == .infinity)        // past bf16's largest value
        #expect(r(Self.float(0x7F7F_0000)) == Self.float(0x7F7F_0000))   // bf16's largest value stays
        // Subnormals round on the same bits: ties to even at the 16th bit.
        #expect(Self.bits(r(Self.float(0x0000_8000))) == 0)
        #expect(Self.bits(r(Self.float(0x0001_8000))) == 0x0002_0000)
        #expect(Self.bits(r(Self.float(0x0001_7FFF))) == 0x0001_0000)
        // Every result has its low 16 bits clear.
        var rng = RNG(seed: 3)
        for _ in 0..<10_000 {
            let x = Self.float(UInt32(truncatingIfNeeded: rng.next()))
            let y = r(x)
            if x.isNaN { #expect(y.isNaN) } else {
                #expect(Self.bits(y) & 0xFFFF == 0)
                // Nearest: no bf16 value lies strictly closer (checked against the two neighbours).
                if y.isFinite && x.isFinite {
                    let down = Self.float(Self.bits(x) & 0xFFFF_0000), up = Self.float((Self.bits(x) & 0xFFFF_0000) &+ 0x1_0000)
                    #expect(y == down || y == up)
                    if up.isFinite { #expect(abs(Double(y) - Double(x)) <= abs(Double(up) - Double(x)) && abs(Double(y) - Double(x)) <= abs(Double(down) - Double(x))) }
                }
            }
        }
    }

    static func rounded(_ values: [Float]) -> [Float] { values.map(OperandPrecision.roundedToBF16) }

    static func bf16Product(_ ops: Operands, accumulate: Bool, threads: Int = 1) -> [Float] {
        var c = ops.c0
        ParallelGemm.gemm(threads: threads, operands: .bf16, transA: ops.transA, transB: ops.transB, m: ops.m, n: ops.n,
                          k: ops.k, a: ops.a, lda: ops.lda, b: ops.b, ldb: ops.ldb, c: &c, ldc: ops.n, accumulate: accumulate)
        return c
    }

    /// The bf16 product is the f32 engine's product of the rounded operands, bit for bit, on every
    /// shape and transpose; and it is within f32 accumulation error of the exact (Double) product
    /// of the rounded operands.
    @Test(arguments: GemmTests.transposes)
    func equalsTheF32EngineOnRoundedOperands(transA: Bool, transB: Bool) {
        for (m, n, k) in GemmTests.shapes {
            let ops = Operands(m: m, n: n, k: k, transA: transA, transB: transB, seed: UInt64(m * 131 + n * 7 + k))
            for accumulate in [false, true] {
                let got = Self.bf16Product(ops, accumulate: accumulate)
                var want = ops.c0
                Float.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: Self.rounded(ops.a), lda: ops.lda,
                           b: Self.rounded(ops.b), ldb: ops.ldb, c: &want, ldc: n, accumulate: accumulate)
                #expect(got == want, "\(m)×\(n)×\(k) \(transA) \(transB) accumulate \(accumulate)")
                // Against Double: |error| ≤ γ_k Σ|a||b| (+ |c₀|), γ_k ≈ k·2⁻²⁴ for f32 accumulation.
                var reference = [Double](repeating: 0, count: m * n), magnitude = reference
                Double.gemm(operands: .bf16, transA: transA, transB: transB, m: m, n: n, k: k,
                            a: ops.a.map(Double.init), lda: ops.lda, b: ops.b.map(Double.init), ldb: ops.ldb,
                            c: &reference, ldc: n, accumulate: false)
                Double.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                            a: Self.rounded(ops.a).map { Double(abs($0)) }, lda: ops.lda,
                            b: Self.rounded(ops.b).map { Double(abs($0)) }, ldb: ops.ldb, c: &magnitude, ldc: n, accumulate: false)
                for i in 0..<(m * n) {
                    let exact = reference[i] + (accumulate ? Double(ops.c0[i]) : 0)
                    let bound = Double(k + 1) * 0x1p-24 * (magnitude[i] + (accumulate ? Double(abs(ops.c0[i])) : 0)) + 1e-30
                    #expect(abs(Double(got[i]) - exact) <= bound, "\(m)×\(n)×\(k) element \(i)")
                }
            }
        }
    }

    /// Rounding the operands loses information: the bf16 product differs from the f32 one, by about
    /// bf16's relative step 2⁻⁸ per operand (so this test fails if `.bf16` silently ran in f32).
    @Test func differsFromF32ByBF16Rounding() {
        let ops = Operands(m: 31, n: 37, k: 41, transA: false, transB: true, seed: 8)
        let bf16 = Self.bf16Product(ops, accumulate: false), f32 = ops.product(accumulate: false)
        #expect(bf16 != f32)
        var magnitude = [Double](repeating: 0, count: 31 * 37)
        Double.gemm(transA: false, transB: true, m: 31, n: 37, k: 41, a: ops.a.map { Double(abs($0)) }, lda: ops.lda,
                    b: ops.b.map { Double(abs($0)) }, ldb: ops.ldb, c: &magnitude, ldc: 37, accumulate: false)
        for i in bf16.indices {
            // Each product a·b carries at most (1 + 2⁻⁸)² − 1 < 2⁻⁷ relative error; plus f32 sums.
            #expect(abs(Double(bf16[i]) - Double(f32[i])) <= (0x1p-7 + 42 * 0x1p-23) * magnitude[i])
        }
    }

    /// Determinism: threads 1 = 2 = 3, portable kernel = vector kernel, packed = unpacked.
    @Test func deterministicOnEveryPath() {
        for (m, n, k) in [(97, 45, 300), (50, 512, 128), (3, 2051, 5)] {
            for (transA, transB) in GemmTests.transposes {
                let ops = Operands(m: m, n: n, k: k, transA: transA, transB: transB, seed: 5)
                let one = Self.bf16Product(ops, accumulate: true)
                #expect(Self.bf16Product(ops, accumulate: true, threads: 2) == one)
                #expect(Self.bf16Product(ops, accumulate: true, threads: 3) == one)
                KernelFeatures.forcePortable(true)
                let portable = Self.bf16Product(ops, accumulate: true)
                KernelFeatures.forcePortable(false)
                #expect(portable == one, "\(m)×\(n)×\(k) \(transA) \(transB)")
            }
        }
        for (m, n, k, transposed) in [(25, 2048, 512, true), (7, 70, 300, false), (1, 1, 1, true)] {
            let ops = Operands(m: m, n: n, k: k, transA: false, transB: transposed, seed: 4)
            let packed = PackedMatrix<Float>()
            ops.b.withUnsafeBufferPointer {
                packed.pack($0.baseAddress!, ld: ops.ldb, transposed: transposed, k: k, n: n, operands: .bf16)
            }
            #expect(packed.operands == .bf16)
            var c = ops.c0
            ops.a.withUnsafeBufferPointer { a in
                c.withUnsafeMutableBufferPointer { cp in
                    packed.multiply(m: m, a: a.baseAddress!, lda: k, into: cp.baseAddress!, ldc: n, accumulate: true, threads: 2)
                }
            }
            #expect(c == Self.bf16Product(ops, accumulate: true), "packed \(m)×\(n)×\(k)")
        }
    }
}
