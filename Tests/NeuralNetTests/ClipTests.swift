import Foundation
import Testing
import Tensor
@testable import NeuralNet

/// Gradient clipping (value, norm, both), non-finite detection and step skipping.
@Suite struct ClipTests {
    static func layout() -> ParameterLayout {
        var layout = ParameterLayout()
        layout.add("a", shape: [2, 3])
        layout.add("b", shape: [5])
        return layout
    }

    static func parameters(_ grads: [Float]) -> ParameterSet<Float> {
        let set = ParameterSet<Float>(layout: layout())
        for i in 0..<set.values.count { set.values[i] = Float(i) * 0.25 - 1 }
        for (i, g) in grads.enumerated() { set.gradients[i] = g }
        return set
    }

    static let grads: [Float] = [0.5, -3, 2, 0.1, -0.2, 7, 0, 1.5, -1.5, 0.25, -9]

    @Test func clipByValueClampsElementwise() {
        let g = AlignedBuffer<Float>(Self.grads)
        let report = GradientClipper.clip(g.pointer, clipping: GradientClipping(maxValue: 1.5))
        #expect(g.array == [0.5, -1.5, 1.5, 0.1, -0.2, 1.5, 0, 1.5, -1.5, 0.25, -1.5])
        #expect(report.clampedCount == 4)
        #expect(report.clipped && report.finite && report.scale == 1)
        let raw = Self.grads.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(report.normBeforeClipping - raw) <= 1e-12 * raw)
    }

    @Test func clipByNormFollowsClipGradNorm() {
        let g = AlignedBuffer<Float>(Self.grads)
        let raw = Self.grads.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let report = GradientClipper.clip(g.pointer, clipping: GradientClipping(maxNorm: 2))
        let coef = 2 / (raw + 1e-6)
        #expect(report.scale == coef && report.clipped && report.clampedCount == 0)
        for (x, y) in zip(g.array, Self.grads) { #expect(x == y * Float(coef)) }
        let after = g.array.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(after <= 2 && after > 2 - 1e-5)
    }

    @Test func normBelowBoundIsUntouched() {
        let g = AlignedBuffer<Float>(Self.grads)
        let report = GradientClipper.clip(g.pointer, clipping: GradientClipping(maxNorm: 100))
        #expect(!report.clipped && report.scale == 1)
        #expect(g.array == Self.grads)
        // clip_grad_norm_'s coef = max/(norm + 1e-6) fires iff norm + 1e-6 > max: at norm == max it
        // still scales by 5/(5 + 1e-6); at max = norm + 1e-6 it does not.
        let exact = AlignedBuffer<Float>([3, 4])
        let atBound = GradientClipper.measure(exact.pointer, clipping: GradientClipping(maxNorm: 5))
        #expect(atBound.clipped && atBound.scale == 5 / (5 + 1e-6))
        let justAbove = GradientClipper.measure(exact.pointer, clipping: GradientClipping(maxNorm: 5 + 1e-6))
        #expect(!justAbove.clipped && justAbove.scale == 1)
    }

    /// Both: the clamp comes first and the norm bound is computed on the clamped gradient.
    @Test func valueClampThenNorm() {
        let g = AlignedBuffer<Float>(Self.grads)
        let report = GradientClipper.clip(g.pointer, clipping: GradientClipping(maxNorm: 2, maxValue: 1.5))
        let clamped: [Float] = [0.5, -1.5, 1.5, 0.1, -0.2, 1.5, 0, 1.5, -1.5, 0.25, -1.5]
        let clampedNorm = clamped.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(report.scale == 2 / (clampedNorm + 1e-6))
        for (x, y) in zip(g.array, clamped) { #expect(x == y * Float(report.scale)) }
        #expect(report.normBeforeClipping > clampedNorm)
    }

    /// The optimizer's fused path (clip folded into the update) equals clipping in place first.
    @Test func fusedClipEqualsInPlaceClip() throws {
        let clipping = GradientClipping(maxNorm: 2, maxValue: 1.5)
        for config in [OptimizerConfig.sgd(learningRate: 0.1, momentum: 0.9, nesterov: true),
                       .charRNN, .adam(learningRate: 1e-2), .adamw(learningRate: 1e-2)] {
            let fused = Self.parameters(Self.grads), separate = Self.parameters(Self.grads)
            let a = try Optimizer<Float>(config: config, layout: Self.layout(), clipping: clipping)
            let b = try Optimizer<Float>(config: config, layout: Self.layout())
            for _ in 0..<3 {
                let ra = a.step(fused)
                let rb = GradientClipper.clip(separate, clipping: clipping)
                b.step(separate)
                #expect(ra == rb)
                for i in 0..<separate.gradients.count { separate.gradients[i] = Self.grads[i] }
            }
            #expect(fused.values.array == separate.values.array, "\(config.kind)")
            #expect(fused.gradients.array == Self.grads, "the fused step must not write the gradients")
        }
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteGradientSkipsStep(bad: Float) throws {
        for config in [OptimizerConfig.sgd(learningRate: 0.1, momentum: 0.9), .charRNN, .adam(learningRate: 1e-2)] {
            let params = Self.parameters(Self.grads)
            let optimizer = try Optimizer<Float>(config: config, layout: Self.layout(),
                                                 clipping: GradientClipping(maxNorm: 1, maxValue: 1))
            optimizer.step(params)
            let values = params.values.array
            let moments = optimizer.stateBuffers.map { $0.buffer.array }
            params.gradients[7] = bad
            let report = optimizer.step(params)
            #expect(!report.finite && !report.clipped)
            #expect(bad.isNaN ? report.normBeforeClipping.isNaN : report.normBeforeClipping == .infinity)
            #expect(params.values.array == values)
            #expect(optimizer.stateBuffers.map { $0.buffer.array } == moments)
            #expect(optimizer.skippedSteps == 1 && optimizer.stepCount == 1)
            #expect(optimizer.state.skippedSteps == 1)
            // The in-place clipper leaves a non-finite gradient alone too.
            #expect(!GradientClipper.clip(params, clipping: GradientClipping(maxNorm: 1)).finite)
            #expect(params.gradients[0] == Self.grads[0])
        }
    }

    /// Large finite Float gradients whose squares overflow Float are still finite in the Double norm.
    @Test func hugeFiniteGradientsAreFinite() {
        let g = AlignedBuffer<Float>([3e30, -4e30])
        let report = GradientClipper.clip(g.pointer, clipping: GradientClipping(maxNorm: 1))
        #expect(report.finite)
        #expect(abs(report.normBeforeClipping - 5e30) <= 1e-6 * 5e30)
        #expect(abs(Double(g[0]) - 0.6) < 1e-6 && abs(Double(g[1]) + 0.8) < 1e-6)
    }

    @Test func rejectsNonPositiveBounds() {
        #expect(throws: OptimConfigError.self) { try GradientClipping(maxNorm: 0).validate() }
        #expect(throws: OptimConfigError.self) { try GradientClipping(maxValue: -1).validate() }
        #expect(throws: OptimConfigError.self) { try GradientClipping(maxNorm: .nan).validate() }
        #expect(throws: OptimConfigError.self) {
            try Optimizer<Float>(config: .charRNN, layout: Self.layout(), clipping: GradientClipping(maxValue: 0))
        }
    }
}
