import Foundation
import Testing
@testable import Tensor

@Suite struct KernelTests {
    /// FastMath.exp against libm (Double) over a dense grid of [−87, 88] (1.75M points plus the
    /// ends): max relative error < 4e-7.
    @Test func fastExpErrorBound() {
        var worst = 0.0
        var x: Float = -87
        while x <= 88 {
            let exact = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(FastMath.exp(x)) - exact) / exact)
            x += 1e-4
        }
        #expect(worst < 4e-7, "worst relative error \(worst)")
    }

    /// FastMath.tanh against libm over [−10, 10] in steps of 1e-5 and near zero: max relative error
    /// < 6e-7; exact 0 at 0 and odd symmetry.
    @Test func fastTanhErrorBound() {
        var worst = 0.0
        var x: Float = -10
        while x <= 10 {
            let exact = Foundation.tanh(Double(x))
            if exact != 0 { worst = max(worst, abs(Double(FastMath.tanh(x)) - exact) / abs(exact)) }
            #expect(FastMath.tanh(-x) == -FastMath.tanh(x))
            x += 1e-5
        }
        for tiny: Float in [1e-30, 1e-10, 1e-5, 0.1, 0.2499, 0.25, 0.2501] {
            let exact = Foundation.tanh(Double(tiny))
            worst = max(worst, abs(Double(FastMath.tanh(tiny)) - exact) / exact)
        }
        #expect(FastMath.tanh(0) == 0)
        #expect(worst < 6e-7, "worst relative error \(worst)")
    }

    @Test func softmaxCrossEntropyIsStableAndCorrect() {
        // Huge logits would overflow a naive exp; the loss of row 0 is log(1 + e^-1000·…) ≈ 0.
        let logits: [Double] = [1000, 0, -1000, 1, 2, 3]
        let targets: [Int32] = [0, 2]
        var lse = [Double](repeating: 0, count: 2)
        let total = Kernels.softmaxCrossEntropy(logits: logits, rows: 2, cols: 3, targets: targets, logSumExp: &lse)
        let row1 = Foundation.log(exp(1.0) + exp(2.0) + exp(3.0)) - 3
        #expect(abs(total - row1) < 1e-12)
        var grad = [Double](repeating: 0, count: 6)
        Kernels.softmaxCrossEntropyBackward(logits: logits, rows: 2, cols: 3, targets: targets, logSumExp: lse,
                                            scale: 0.5, grad: &grad)
        #expect(abs(grad[0]) < 1e-12 && grad.allSatisfy { $0.isFinite })
        #expect(abs(grad[3] + grad[4] + grad[5]) < 1e-12)
        #expect(grad[5] < 0 && grad[3] > 0)
    }

    /// The Float column sums (C kernels: this machine's vector kernel and the portable one) add into one or two outputs
    /// with the bits of a plain row-order loop per output, on odd shapes and a row stride wider
    /// than the columns, split between threads or not.
    @Test(arguments: [false, true]) func columnSumsMatchPlainLoopsBitForBit(portable: Bool) {
        KernelFeatures.forcePortable(portable)
        defer { KernelFeatures.forcePortable(false) }
        for (rows, cols) in [(1, 1), (7, 31), (13, 33), (97, 65), (301, 512)] {
            let stride = cols + 3
            let matrix = (0..<(rows * stride)).map { Float(($0 * 7919) % 1000) / 37 - 13.5 }
            let first0 = (0..<cols).map { Float($0) * 0.1 }, second0 = (0..<cols).map { Float($0) * -0.3 }
            var first = first0, second = second0, single = first0
            var expectedFirst = first0, expectedSecond = second0
            for r in 0..<rows {
                for j in 0..<cols { expectedFirst[j] += matrix[r * stride + j] }
                for j in 0..<cols { expectedSecond[j] += matrix[r * stride + j] }
            }
            matrix.withUnsafeBufferPointer { m in
                Kernels.addColumnSums(m.baseAddress!, rows: rows, cols: cols, stride: stride, into: &single)
                first.withUnsafeMutableBufferPointer { f in second.withUnsafeMutableBufferPointer { s in
                    Float._addColumnSums(m.baseAddress!, rows: rows, cols: cols, stride: stride,
                                         into: f.baseAddress!, alsoInto: s.baseAddress!)
                } }
            }
            #expect(single == expectedFirst, "\(rows)×\(cols) one output")
            #expect(first == expectedFirst && second == expectedSecond, "\(rows)×\(cols) two outputs")
            // Dense rows, the columns split between two threads (301 × 512 is large enough to split).
            let dense = (0..<(rows * cols)).map { Float(($0 * 104_729) % 997) / 29 - 17 }
            var a = first0, b = second0, ea = first0, eb = second0
            for r in 0..<rows { for j in 0..<cols { ea[j] += dense[r * cols + j]; eb[j] += dense[r * cols + j] } }
            dense.withUnsafeBufferPointer { m in a.withUnsafeMutableBufferPointer { ap in b.withUnsafeMutableBufferPointer { bp in
                Kernels.addColumnSums(m.baseAddress!, rows: rows, cols: cols, into: ap.baseAddress!,
                                      alsoInto: bp.baseAddress!, threads: 2)
            } } }
            #expect(a == ea && b == eb, "\(rows)×\(cols) dense, 2 threads")
        }
    }

    @Test func orthogonalInitializerIsOrthogonal() {
        var rng = RNG(seed: 5)
        let n = 16
        var q = [Double](repeating: 0, count: n * n)
        q.withUnsafeMutableBufferPointer { Initializers.orthogonal($0.baseAddress!, n: n, rng: &rng) }
        for i in 0..<n { for j in 0..<n {
            var dot = 0.0
            for p in 0..<n { dot += q[i * n + p] * q[j * n + p] }
            #expect(abs(dot - (i == j ? 1 : 0)) < 1e-12)
        }}
    }
}
