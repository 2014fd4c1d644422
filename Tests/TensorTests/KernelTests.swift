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
