import Foundation
import Tensor

/// The scalar (non-buffer) state of an `Optimizer`, Codable for `trainer-state.json`. Together with
/// the `Optimizer.stateBuffers` (written to `trainer-state.safetensors`) it restores the optimizer
/// exactly: stepping a restored optimizer gives bit-identical parameters to never having stopped.
public struct OptimizerState: Codable, Sendable, Equatable {
    /// Format version of this struct.
    public var version: Int = 1
    public var config: OptimizerConfig
    public var clipping: GradientClipping
    /// Number of applied (not skipped) steps; Adam's bias-correction t.
    public var stepCount: Int
    /// Number of steps skipped because the gradient was not finite.
    public var skippedSteps: Int
    /// Total number of parameters (each state buffer has this many elements).
    public var parameterCount: Int
    /// Names of the state buffers, in `stateBuffers` order.
    public var bufferNames: [String]
}

/// A first-order optimizer over a `ParameterSet`'s flat buffers, with gradient clipping and
/// non-finite-gradient skipping built into `step`.
///
/// Each step is (1) one read pass over the gradients measuring the global norm, finiteness and the
/// clip factor (`GradientClipper.measure`), then, if the gradient is finite, (2) one fused pass that
/// forms the clipped gradient on the fly and updates the moments and the parameters. The gradients
/// buffer itself is never modified. A non-finite gradient leaves parameters and moments untouched and
/// increments `skippedSteps`.
///
/// Moments are flat buffers with the parameters' layout, named with PyTorch's optimizer-state keys:
/// SGD `momentum_buffer` (if momentum > 0); RMSprop `square_avg`, `momentum_buffer` (if momentum > 0),
/// `grad_avg` (if centered); Adam/AdamW `exp_avg`, `exp_avg_sq`.
/// Slot `k` of a buffer is `buffer.pointer[layout.slots[k].range]`, like the parameters.
public final class Optimizer<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    public let config: OptimizerConfig
    /// Gradient clipping applied at every step (may be changed between steps).
    public var clipping: GradientClipping
    /// Layout of the parameters this optimizer updates.
    public let layout: ParameterLayout
    /// Applied steps so far (skipped steps are not counted).
    public private(set) var stepCount: Int = 0
    /// Steps skipped because the gradient was NaN or infinite.
    public private(set) var skippedSteps: Int = 0
    /// The moment buffers, each `layout.totalCount` scalars, in a fixed order for the configuration.
    public let stateBuffers: [(name: String, buffer: AlignedBuffer<Scalar>)]
    /// Threads the (elementwise) update runs on; results do not depend on it.
    public var threads = 1

    /// A fresh optimizer (zero moments, step 0) for parameters laid out as `layout`.
    /// Throws a one-line `OptimConfigError` if `config` or `clipping` is out of range.
    public init(config: OptimizerConfig, layout: ParameterLayout, clipping: GradientClipping = .none) throws {
        try config.validate()
        try clipping.validate()
        self.config = config
        self.clipping = clipping
        self.layout = layout
        stateBuffers = Optimizer.bufferNames(for: config).map {
            (name: $0, buffer: AlignedBuffer<Scalar>(count: layout.totalCount))
        }
    }

    /// The state-buffer names `config` uses, in `stateBuffers` order.
    public static func bufferNames(for config: OptimizerConfig) -> [String] {
        switch config.kind {
        case .sgd:
            return config.momentum != 0 ? ["momentum_buffer"] : []
        case .rmsprop:
            var names = ["square_avg"]
            if config.momentum > 0 { names.append("momentum_buffer") }
            if config.centered { names.append("grad_avg") }
            return names
        case .adam, .adamw:
            return ["exp_avg", "exp_avg_sq"]
        }
    }

    /// The state buffer called `name`, if this configuration has one.
    public func stateBuffer(named name: String) -> AlignedBuffer<Scalar>? {
        stateBuffers.first { $0.name == name }?.buffer
    }

    /// One optimizer step: measure/clip `parameters.gradients` with `clipping`, then update
    /// `parameters.values` with learning rate `learningRate` (default `config.learningRate`) —
    /// unless the gradient is not finite, in which case nothing changes but `skippedSteps`.
    ///
    /// - Returns: the clip report; `report.finite == false` means the step was skipped.
    @discardableResult
    public func step(_ parameters: ParameterSet<Scalar>, learningRate: Double? = nil) -> ClipReport {
        precondition(parameters.layout == layout, "Optimizer.step: parameter layout differs from the optimizer's")
        let report = GradientClipper.measure(parameters.gradients.pointer, clipping: clipping)
        guard report.finite else {
            skippedSteps += 1
            return report
        }
        apply(parameters, learningRate: learningRate ?? config.learningRate,
              clampValue: clipping.maxValue ?? .infinity, scale: report.scale)
        return report
    }

    /// Updates the parameters with gradient `clamp(g, ±clampValue) · scale`, no measuring and no
    /// finiteness check (the caller's responsibility). `step` is this plus the clip measurement.
    public func apply(_ parameters: ParameterSet<Scalar>, learningRate lr: Double,
                      clampValue: Double = .infinity, scale: Double = 1) {
        precondition(parameters.layout == layout, "Optimizer.apply: parameter layout differs from the optimizer's")
        // Every element's update is independent, so the buffers are updated in chunks concurrently.
        ParallelChunks.run(extent: layout.totalCount, itemCost: 1, threads: threads) { _, r in
            update(elements: r, of: parameters, learningRate: lr, clampValue: clampValue, scale: scale)
        }
        stepCount += 1
    }

    /// The update rule of `config.kind` on the elements `r` of every buffer.
    private func update(elements r: Range<Int>, of parameters: ParameterSet<Scalar>, learningRate lr: Double,
                        clampValue: Double, scale: Double) {
        func slice(_ b: UnsafeMutableBufferPointer<Scalar>) -> UnsafeMutableBufferPointer<Scalar> {
            UnsafeMutableBufferPointer(rebasing: b[r])
        }
        func state(_ name: String) -> UnsafeMutableBufferPointer<Scalar>? { stateBuffer(named: name).map { slice($0.pointer) } }
        let p = slice(parameters.values.pointer), g = slice(parameters.gradients.pointer)
        let t = Double(stepCount + 1)
        let c = config
        switch c.kind {
        case .sgd:
            OptimizerKernels.sgd(
                values: p, gradients: g, momentumBuffer: state("momentum_buffer"),
                firstStep: stepCount == 0, lr: lr, momentum: c.momentum, dampening: c.dampening,
                nesterov: c.nesterov, weightDecay: c.weightDecay, clampValue: clampValue, scale: scale)
        case .rmsprop:
            OptimizerKernels.rmsprop(
                values: p, gradients: g, squareAvg: state("square_avg")!,
                gradAvg: state("grad_avg"),
                momentumBuffer: state("momentum_buffer"),
                lr: lr, alpha: c.alpha, eps: c.eps, momentum: c.momentum, weightDecay: c.weightDecay,
                clampValue: clampValue, scale: scale)
        case .adam, .adamw:
            OptimizerKernels.adam(
                values: p, gradients: g, expAvg: state("exp_avg")!,
                expAvgSq: state("exp_avg_sq")!,
                lr: lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay,
                decoupled: c.kind == .adamw,
                biasCorrection1: 1 - pow(c.beta1, t), biasCorrection2Sqrt: (1 - pow(c.beta2, t)).squareRoot(),
                clampValue: clampValue, scale: scale)
        }
    }

    /// The scalar state to save next to `stateBuffers`.
    public var state: OptimizerState {
        OptimizerState(config: config, clipping: clipping, stepCount: stepCount, skippedSteps: skippedSteps,
                       parameterCount: layout.totalCount, bufferNames: stateBuffers.map(\.name))
    }

    /// Rebuilds an optimizer from a saved `state` and its buffers (name → elements, e.g. read from a
    /// safetensors file). Throws a one-line `OptimConfigError` (option "optimizer state") if a buffer
    /// is missing, unexpected or of the wrong length, or the parameter count differs from `layout`'s.
    public convenience init<C: Collection>(restoring state: OptimizerState, layout: ParameterLayout,
                                           buffers: [String: C]) throws where C.Element == Scalar {
        func fail(_ message: String) -> OptimConfigError {
            OptimConfigError(option: "optimizer state", message: message)
        }
        guard state.version == 1 else { throw fail("unsupported version \(state.version)") }
        guard state.parameterCount == layout.totalCount else {
            throw fail("saved for \(state.parameterCount) parameters, the model has \(layout.totalCount)")
        }
        guard state.stepCount >= 0, state.skippedSteps >= 0 else { throw fail("negative step count") }
        try self.init(config: state.config, layout: layout, clipping: state.clipping)
        let expected = stateBuffers.map(\.name)
        guard state.bufferNames == expected else {
            throw fail("buffers \(state.bufferNames) do not match \(state.config.kind.rawValue)'s \(expected)")
        }
        if let extra = buffers.keys.sorted().first(where: { !expected.contains($0) }) {
            throw fail("unexpected buffer '\(extra)'")
        }
        for (name, buffer) in stateBuffers {
            guard let saved = buffers[name] else { throw fail("missing buffer '\(name)'") }
            guard saved.count == buffer.count else {
                throw fail("buffer '\(name)' has \(saved.count) elements, expected \(buffer.count)")
            }
            _ = buffer.pointer.update(fromContentsOf: saved)
        }
        stepCount = state.stepCount
        skippedSteps = state.skippedSteps
    }
}
