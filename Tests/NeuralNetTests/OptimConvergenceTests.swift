import Foundation
import Testing
import Tensor
@testable import NeuralNet

/// Behavior beyond the fixtures: each optimizer, driven by a schedule, minimizes an ill-conditioned
/// quadratic f(p) = ½ Σ cᵢ (pᵢ − tᵢ)², and the whole training-loop API fits together.
@Suite struct OptimConvergenceTests {
    static let curvature: [Double] = [1, 10, 0.5, 3, 7, 0.8]
    static let target: [Double] = [1, -2, 0.5, 3, -1, 0.25]

    static func loss(_ p: ParameterSet<Float>) -> Double {
        (0..<p.values.count).reduce(0.0) { s, i in
            let d = Double(p.values[i]) - target[i]
            return s + 0.5 * curvature[i] * d * d
        }
    }

    @Test(arguments: [
        (OptimizerConfig.sgd(learningRate: 0.05, momentum: 0.9, nesterov: true), "constant"),
        (.charRNN.with(learningRate: 0.05), "step:100:0.3"),
        (.adam(learningRate: 0.1), "cosine:0.001"),
        (.adamw(learningRate: 0.1, weightDecay: 1e-4), "exp:0.9"),
        (.rmsprop(learningRate: 0.01, momentum: 0.5, centered: true), "plateau:0.5:2"),
    ])
    func minimizesQuadratic(config: OptimizerConfig, schedule: String) throws {
        var layout = ParameterLayout()
        layout.add("w", shape: [2, 2])
        layout.add("b", shape: [2])
        let params = ParameterSet<Float>(layout: layout)
        let optimizer = try Optimizer<Float>(config: config, layout: layout, clipping: GradientClipping(maxNorm: 5))
        var scheduler = try LRScheduler(config: .parse(schedule, warmup: 10),
                                        baseLearningRate: config.learningRate, totalSteps: 600)
        let initial = Self.loss(params)
        var clippedSteps = 0
        for step in 0..<600 {
            let epoch = step / 60
            for i in 0..<params.gradients.count {
                params.gradients[i] = Float(Self.curvature[i] * (Double(params.values[i]) - Self.target[i]))
            }
            let report = optimizer.step(params, learningRate: scheduler.learningRate(step: step, epoch: epoch))
            #expect(report.finite)
            if report.clipped { clippedSteps += 1 }
            if step % 60 == 59 { scheduler.recordValidation(loss: Self.loss(params)) }
        }
        let final = Self.loss(params)
        #expect(final < 1e-3 * initial, "\(config): loss \(initial) → \(final)")
        #expect(clippedSteps > 0, "the initial gradient norm exceeds 5, so clipping must fire")
        #expect(optimizer.stepCount == 600 && optimizer.skippedSteps == 0)
    }

    @Test func descriptionIsOneLine() {
        #expect(OptimizerConfig.charRNN.description == "rmsprop lr=0.002 alpha=0.95 eps=1e-08 weight_decay=0.0")
        #expect(OptimizerConfig.sgd(learningRate: 0.1, momentum: 0.9, nesterov: true).description
                == "sgd lr=0.1 momentum=0.9 nesterov weight_decay=0.0")
    }
}

extension OptimizerConfig {
    func with(learningRate: Double) -> OptimizerConfig {
        var c = self
        c.learningRate = learningRate
        return c
    }
}
