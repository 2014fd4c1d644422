import Foundation
import Testing
import Tensor
@testable import NeuralNet

/// Save/restore exactness of optimizer state, and the command-line optimizer config builder.
@Suite struct OptimStateTests {
    static func layout() -> ParameterLayout {
        var layout = ParameterLayout()
        layout.add("w", shape: [4, 5])
        layout.add("b", shape: [3])
        return layout
    }

    /// Deterministic pseudo-random gradients for step `k` (includes some large values so clipping fires).
    static func fillGradients(_ set: ParameterSet<Float>, step k: Int) {
        for i in 0..<set.gradients.count {
            let x = sin(Double(i * 7 + k * 13) * 0.37) * (k % 3 == 1 ? 4 : 0.5)
            set.gradients[i] = Float(x)
        }
    }

    static func fresh() -> ParameterSet<Float> {
        let set = ParameterSet<Float>(layout: layout())
        for i in 0..<set.values.count { set.values[i] = Float(cos(Double(i))) }
        return set
    }

    static let configs: [OptimizerConfig] = [
        .sgd(learningRate: 0.1),
        .sgd(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3),
        .sgd(learningRate: 0.1, momentum: 0.5, dampening: 0.2),
        .charRNN,
        .rmsprop(learningRate: 1e-2, momentum: 0.9, centered: true, weightDecay: 1e-2),
        .adam(learningRate: 3e-3, weightDecay: 1e-2),
        .adamw(learningRate: 3e-3, beta1: 0.3, beta2: 0.99),
    ]

    /// 8 steps straight vs 4 steps, save (JSON + buffer arrays), restore into a new optimizer, 4 more:
    /// parameters and every moment must be bit-identical. Includes a skipped non-finite step.
    @Test(arguments: configs)
    func restoreThenStepIsBitIdentical(config: OptimizerConfig) throws {
        let clipping = GradientClipping(maxNorm: 3, maxValue: 2)
        let lrs = (0..<8).map { config.learningRate * (1 - Double($0) * 0.1) }

        let straightParams = Self.fresh()
        let straight = try Optimizer<Float>(config: config, layout: Self.layout(), clipping: clipping)
        for k in 0..<8 {
            Self.fillGradients(straightParams, step: k)
            if k == 2 { straightParams.gradients[3] = .nan }
            straight.step(straightParams, learningRate: lrs[k])
        }

        let params = Self.fresh()
        var optimizer = try Optimizer<Float>(config: config, layout: Self.layout(), clipping: clipping)
        for k in 0..<8 {
            if k == 4 {
                let json = try JSONEncoder().encode(optimizer.state)
                let state = try JSONDecoder().decode(OptimizerState.self, from: json)
                var buffers: [String: [Float]] = [:]
                for (name, buffer) in optimizer.stateBuffers { buffers[name] = buffer.array }
                optimizer = try Optimizer<Float>(restoring: state, layout: Self.layout(), buffers: buffers)
                #expect(optimizer.stepCount == 3 && optimizer.skippedSteps == 1)
            }
            Self.fillGradients(params, step: k)
            if k == 2 { params.gradients[3] = .nan }
            optimizer.step(params, learningRate: lrs[k])
        }
        #expect(params.values.array.map(\.bitPattern) == straightParams.values.array.map(\.bitPattern))
        #expect(optimizer.stateBuffers.map(\.name) == straight.stateBuffers.map(\.name))
        for (a, b) in zip(optimizer.stateBuffers, straight.stateBuffers) {
            #expect(a.buffer.array.map(\.bitPattern) == b.buffer.array.map(\.bitPattern), "\(a.name)")
        }
        #expect(optimizer.state == straight.state)
        // The run really moved the parameters.
        #expect(params.values.array != Self.fresh().values.array)
    }

    @Test func stateBufferNamesFollowPyTorch() throws {
        func names(_ c: OptimizerConfig) throws -> [String] {
            try Optimizer<Float>(config: c, layout: Self.layout()).stateBuffers.map(\.name)
        }
        #expect(try names(.sgd(learningRate: 1)) == [])
        #expect(try names(.sgd(learningRate: 1, momentum: 0.9)) == ["momentum_buffer"])
        #expect(try names(.charRNN) == ["square_avg"])
        #expect(try names(.rmsprop(learningRate: 1, momentum: 0.5, centered: true))
                == ["square_avg", "momentum_buffer", "grad_avg"])
        #expect(try names(.adam(learningRate: 1)) == ["exp_avg", "exp_avg_sq"])
        #expect(try names(.adamw(learningRate: 1)) == ["exp_avg", "exp_avg_sq"])
        let o = try Optimizer<Float>(config: .adam(learningRate: 1), layout: Self.layout())
        #expect(o.stateBuffers.allSatisfy { $0.buffer.count == Self.layout().totalCount })
    }

    @Test func restoreRejectsMismatchedState() throws {
        let o = try Optimizer<Float>(config: .adam(learningRate: 1e-3), layout: Self.layout())
        let n = Self.layout().totalCount
        let good: [String: [Float]] = ["exp_avg": Array(repeating: 0, count: n), "exp_avg_sq": Array(repeating: 0, count: n)]
        _ = try Optimizer<Float>(restoring: o.state, layout: Self.layout(), buffers: good)

        func message(_ state: OptimizerState, _ buffers: [String: [Float]], layout: ParameterLayout = Self.layout()) -> String {
            do {
                _ = try Optimizer<Float>(restoring: state, layout: layout, buffers: buffers)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        var missing = good; missing["exp_avg_sq"] = nil
        #expect(message(o.state, missing) == "optimizer state: missing buffer 'exp_avg_sq'")
        var short = good; short["exp_avg"] = [1, 2]
        #expect(message(o.state, short) == "optimizer state: buffer 'exp_avg' has 2 elements, expected \(n)")
        var extra = good; extra["momentum_buffer"] = []
        #expect(message(o.state, extra) == "optimizer state: unexpected buffer 'momentum_buffer'")
        var other = Self.layout(); other.add("c", shape: [2])
        #expect(message(o.state, good, layout: other)
                == "optimizer state: saved for \(n) parameters, the model has \(n + 2)")
        var renamed = o.state; renamed.bufferNames = ["m", "v"]
        #expect(message(renamed, good).hasPrefix("optimizer state: buffers [\"m\", \"v\"] do not match adam's"))
    }

    @Test func configFromCommandLineValues() throws {
        let sgd = try OptimizerConfig(optimizer: "sgd", learningRate: 0.5, momentum: 0.9, nesterov: true, weightDecay: 1e-4)
        #expect(sgd == .sgd(learningRate: 0.5, momentum: 0.9, nesterov: true, weightDecay: 1e-4))
        #expect(try OptimizerConfig(optimizer: "rmsprop") == .charRNN)
        #expect(try OptimizerConfig(optimizer: "RMSProp", alpha: 0.9).alpha == 0.9)
        let adam = try OptimizerConfig(optimizer: "adam", learningRate: 1e-3, betas: "0.8, 0.99", eps: 1e-6)
        #expect(adam == .adam(learningRate: 1e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6))
        #expect(try OptimizerConfig(optimizer: "adamw") == .adamw(learningRate: 2e-3, weightDecay: 1e-2))
        let data = try JSONEncoder().encode(adam)
        #expect(try JSONDecoder().decode(OptimizerConfig.self, from: data) == adam)
    }

    @Test(arguments: [
        ("lion", "--optimizer: unknown optimizer 'lion', expected sgd, rmsprop, adam or adamw"),
        ("adam+momentum", "--momentum: not used by --optimizer adam"),
        ("rmsprop+nesterov", "--nesterov: not used by --optimizer rmsprop"),
        ("sgd+nesterov", "--nesterov: needs --momentum > 0 and zero dampening"),
        ("sgd+betas", "--betas: not used by --optimizer sgd"),
        ("adam+badbetas", "--betas: expected 'BETA1,BETA2' (e.g. 0.9,0.999), got '0.9'"),
        ("adam+beta1", "--betas: must be in [0, 1) for beta1, got 1.0"),
        ("adam+lr", "--lr: must be a finite number > 0, got -1.0"),
        ("sgd+eps", "--eps: not used by --optimizer sgd"),
        ("adamw+wd", "--weight-decay: must be a finite number >= 0, got -0.1"),
    ])
    func configErrorsAreOneLine(input: String, expected: String) {
        let make: () throws -> OptimizerConfig = {
            switch input {
            case "lion": try OptimizerConfig(optimizer: "lion")
            case "adam+momentum": try OptimizerConfig(optimizer: "adam", momentum: 0.9)
            case "rmsprop+nesterov": try OptimizerConfig(optimizer: "rmsprop", nesterov: true)
            case "sgd+nesterov": try OptimizerConfig(optimizer: "sgd", nesterov: true)
            case "sgd+betas": try OptimizerConfig(optimizer: "sgd", betas: "0.9,0.99")
            case "adam+badbetas": try OptimizerConfig(optimizer: "adam", betas: "0.9")
            case "adam+beta1": try OptimizerConfig(optimizer: "adam", betas: "1,0.99")
            case "adam+lr": try OptimizerConfig(optimizer: "adam", learningRate: -1)
            case "sgd+eps": try OptimizerConfig(optimizer: "sgd", eps: 1e-8)
            default: try OptimizerConfig(optimizer: "adamw", weightDecay: -0.1)
            }
        }
        do {
            _ = try make()
            Issue.record("\(input) accepted")
        } catch {
            #expect("\(error)" == expected)
        }
    }
}
