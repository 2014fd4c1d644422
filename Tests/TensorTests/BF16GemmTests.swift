import CKernels
import Foundation
import Testing
@testable import Tensor

/// Mixed-precision products (`OperandPrecision.bf16`): the rounding itself, and the products
/// against a scalar reference of the documented dot-product arithmetic (bit for bit, on every
/// kernel) and a Double reference of the rounded operands, with the f32 engine's determinism on
/// every path.
extension GemmTests.Operands {
    init(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, a: [Float], b: [Float], c0: [Float]) {
        self.m = m; self.n = n; self.k = k; self.transA = transA; self.transB = transB
        self.a = a; self.b = b; self.c0 = c0
    }
}

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

    /// `body` on this CPU's bf16 kernel, on the emulation of the dot-product kernel, and on the
    /// portable kernel (the same kernel twice on a CPU without AVX512-BF16).
    static func onEveryKernel<T>(_ body: () -> T) -> (native: T, emulated: T, portable: T) {
        let native = body()
        KernelFeatures.forceBF16Emulation(true)
        defer { KernelFeatures.forceBF16Emulation(false) }
        let emulated = body()
        KernelFeatures.forcePortable(true)
        defer { KernelFeatures.forcePortable(false) }
        return (native, emulated, body())
    }

    static func bf16Product(_ ops: Operands, accumulate: Bool, threads: Int = 1) -> [Float] {
        var c = ops.c0
        ParallelGemm.gemm(threads: threads, operands: .bf16, transA: ops.transA, transB: ops.transB, m: ops.m, n: ops.n,
                          k: ops.k, a: ops.a, lda: ops.lda, b: ops.b, ldb: ops.ldb, c: &c, ldc: ops.n, accumulate: accumulate)
        return c
    }

    /// An operand as the bf16 kernels read it: rounded to nearest even, a subnormal result a zero of its sign.
    static func operand(_ x: Float) -> Float { flushed(OperandPrecision.roundedToBF16(x)) }
    static func flushed(_ x: Float) -> Float { x.isSubnormal ? Float(signOf: x, magnitudeOf: 0) : x }

    /// The documented arithmetic (ckernels.h, CK_OPERANDS_BF16), one scalar at a time: k in pairs,
    /// the odd one first, each step one fused multiply-add whose subnormal result is flushed.
    static func dotProductReference(_ ops: Operands, accumulate: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: ops.m * ops.n)
        for i in 0..<ops.m { for j in 0..<ops.n {
            var acc: Float = accumulate ? flushed(ops.c0[i * ops.n + j]) : 0
            for p in stride(from: 0, to: ops.k, by: 2) {
                let a1 = p + 1 < ops.k ? operand(ops.opA(i, p + 1)) : 0, b1 = p + 1 < ops.k ? operand(ops.opB(p + 1, j)) : 0
                acc = flushed(acc.addingProduct(a1, b1))
                acc = flushed(acc.addingProduct(operand(ops.opA(i, p)), operand(ops.opB(p, j))))
            }
            c[i * ops.n + j] = acc
        } }
        return c
    }

    /// The bf16 product is the documented dot-product arithmetic bit for bit, on every shape and
    /// transpose, on this CPU's kernel (AVX512-BF16's vdpbf16ps where the CPU has it); and it is
    /// within f32 accumulation error of the exact (Double) product of the rounded operands.
    @Test(arguments: GemmTests.transposes)
    func equalsTheDotProductArithmetic(transA: Bool, transB: Bool) {
        for (m, n, k) in GemmTests.shapes {
            let ops = Operands(m: m, n: n, k: k, transA: transA, transB: transB, seed: UInt64(m * 131 + n * 7 + k))
            for accumulate in [false, true] {
                let got = Self.bf16Product(ops, accumulate: accumulate)
                #expect(got.map(Self.bits) == Self.dotProductReference(ops, accumulate: accumulate).map(Self.bits),
                        "\(m)×\(n)×\(k) \(transA) \(transB) accumulate \(accumulate) on \(KernelFeatures.kernelName(operands: .bf16))")
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

    /// The edges of the arithmetic — subnormal operands and accumulators of both signs, products and
    /// sums that underflow, signed zeros, infinities, odd k — on the dot-product kernel, its AVX2
    /// emulation and the portable one: each equal to the reference bit for bit. (On a CPU without
    /// AVX512-BF16 the first two are the same kernel.)
    @Test func edgeCasesAgreeOnEveryKernel() {
        var rng = RNG(seed: 41)
        func value() -> Float {
            let x = rng.nextFloat() * 2 - 1
            switch rng.next() % 40 {
            case 0: return x * 0x1p-128                     // subnormal in bf16 and f32
            case 1: return x * 0x1p-62                      // products near the smallest normal
            case 2: return x * 0x1p-64
            case 3: return -0.0
            case 4: return 0
            case 5: return x < 0 ? -.infinity : .infinity
            default: return x
            }
        }
        for (m, n, k) in [(7, 33, 9), (13, 17, 64), (6, 48, 3), (25, 80, 257), (9, 40, 1031)] {  // 1031: three 512-k slices
            for (transA, transB) in GemmTests.transposes {
                let ops = Operands(m: m, n: n, k: k, transA: transA, transB: transB,
                                   a: (0..<(m * k)).map { _ in value() }, b: (0..<(k * n)).map { _ in value() },
                                   c0: (0..<(m * n)).map { _ in value() })
                for accumulate in [false, true] {
                    let want = Self.dotProductReference(ops, accumulate: accumulate).map(Self.bits)
                    let (native, emulated, portable) = Self.onEveryKernel { Self.bf16Product(ops, accumulate: accumulate) }
                    let label = "\(m)×\(n)×\(k) \(transA) \(transB) accumulate \(accumulate)"
                    #expect(native.map(Self.bits) == want, "\(label) \(KernelFeatures.kernelName(operands: .bf16))")
                    #expect(emulated.map(Self.bits) == want, "\(label) emulated")
                    #expect(portable.map(Self.bits) == want, "\(label) portable")
                }
            }
        }
    }

    /// A CPU with AVX512-BF16 runs the dot-product kernel.
    @Test func theDotProductKernelRunsWhereTheCPUHasIt() {
        let name = KernelFeatures.kernelName(operands: .bf16)
        #expect(name == (KernelFeatures.bf16 && KernelFeatures.kernelName == "avx512" ? "bf16-avx512bf16" : "bf16-emulated-\(KernelFeatures.kernelName)"))
        KernelFeatures.forceBF16Emulation(true)
        #expect(KernelFeatures.kernelName(operands: .bf16) == "bf16-emulated-\(KernelFeatures.kernelName)")
        KernelFeatures.forceBF16Emulation(false)
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

    /// Determinism: threads 1 = 2 = 3, portable kernel = emulation = dot-product kernel, packed = unpacked.
    @Test func deterministicOnEveryPath() {
        for (m, n, k) in [(97, 45, 300), (50, 512, 128), (3, 2051, 5)] {
            for (transA, transB) in GemmTests.transposes {
                let ops = Operands(m: m, n: n, k: k, transA: transA, transB: transB, seed: 5)
                let one = Self.bf16Product(ops, accumulate: true)
                #expect(Self.bf16Product(ops, accumulate: true, threads: 2) == one)
                #expect(Self.bf16Product(ops, accumulate: true, threads: 3) == one)
                let (_, emulated, portable) = Self.onEveryKernel { Self.bf16Product(ops, accumulate: true) }
                #expect(emulated == one, "\(m)×\(n)×\(k) \(transA) \(transB) emulated")
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
