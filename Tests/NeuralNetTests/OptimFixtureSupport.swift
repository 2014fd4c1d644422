import Foundation
import Testing
import Tensor
@testable import NeuralNet

/// The PyTorch fixtures written by scripts/make_optim_fixtures.py.
enum OptimFixtures {
    struct Hyper: Decodable {
        var momentum: Double?
        var dampening: Double?
        var nesterov: Bool?
        var weight_decay: Double?
        var alpha: Double?
        var eps: Double?
        var centered: Bool?
        var betas: [Double]?
    }

    struct Step: Decodable {
        var lr: Double
        var raw_grad_norm: Double
        var clip_norm: Double?
        var clipped: Bool
        var params: [Double]
    }

    struct Case: Decodable {
        var name: String
        var optimizer: String
        var hyper: Hyper
        var max_norm: Double?
        var clip_value: Double?
        var steps: [Step]

        /// The Swift configuration equal to the PyTorch constructor call (PyTorch defaults elsewhere).
        func config() throws -> OptimizerConfig {
            let lr = steps[0].lr
            let h = hyper
            switch optimizer {
            case "sgd":
                return .sgd(learningRate: lr, momentum: h.momentum ?? 0, dampening: h.dampening ?? 0,
                            nesterov: h.nesterov ?? false, weightDecay: h.weight_decay ?? 0)
            case "rmsprop":
                return .rmsprop(learningRate: lr, alpha: h.alpha ?? 0.99, eps: h.eps ?? 1e-8,
                                momentum: h.momentum ?? 0, centered: h.centered ?? false,
                                weightDecay: h.weight_decay ?? 0)
            case "adam":
                return .adam(learningRate: lr, beta1: h.betas?[0] ?? 0.9, beta2: h.betas?[1] ?? 0.999,
                             eps: h.eps ?? 1e-8, weightDecay: h.weight_decay ?? 0)
            case "adamw":
                return .adamw(learningRate: lr, beta1: h.betas?[0] ?? 0.9, beta2: h.betas?[1] ?? 0.999,
                              eps: h.eps ?? 1e-8, weightDecay: h.weight_decay ?? 1e-2)
            default:
                throw OptimConfigError(option: "fixture", message: "unknown optimizer \(optimizer)")
            }
        }

        var clipping: GradientClipping { GradientClipping(maxNorm: max_norm, maxValue: clip_value) }
    }

    struct File: Decodable {
        var names: [String]
        var shapes: [[Int]]
        var initial: [Double]
        var grads: [[Double]]
        var cases: [Case]

        var layout: ParameterLayout {
            var layout = ParameterLayout()
            for (name, shape) in zip(names, shapes) { layout.add(name, shape: shape) }
            return layout
        }

        /// A parameter set holding the fixture's initial values.
        func parameters<S: BinaryFloatingPoint & Sendable>(_: S.Type) -> ParameterSet<S> {
            let set = ParameterSet<S>(layout: layout)
            for (i, x) in initial.enumerated() { set.values[i] = S(x) }
            return set
        }

        func setGradients<S>(_ set: ParameterSet<S>, step: Int) {
            for (i, x) in grads[step].enumerated() { set.gradients[i] = S(x) }
        }
    }

    struct ScheduleCase: Decodable {
        var name: String
        var spec: String
        var clock: String
        var base_lr: Double
        var warmup: Int?
        var total_steps: Int?
        var losses: [Double]?
        var lrs: [Double]
    }

    struct ScheduleFile: Decodable {
        var cases: [ScheduleCase]
    }

    static func url(_ name: String) throws -> URL {
        if let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json") { return url }
        return try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
    }

    static func load(_ name: String) throws -> File {
        try JSONDecoder().decode(File.self, from: Data(contentsOf: url(name)))
    }

    static func loadSchedules() throws -> ScheduleFile {
        try JSONDecoder().decode(ScheduleFile.self, from: Data(contentsOf: url("optim_schedules")))
    }
}
