import NeuralNet
import Tensor
import TextCorpus

/// Everything besides the weights that a resumed run needs to continue exactly as if it had never
/// stopped. Scalars go to `trainer-state.json`; the optimizer's moment buffers and the carried
/// hidden state go to `trainer-state.safetensors`.
public struct TrainerState: Codable, Sendable {
    /// Optimizer steps taken (including skipped ones).
    public var step: Int
    /// The next window the batch stream will return.
    public var position: BatchStream.Position
    /// Seconds of training so far, across resumes.
    public var elapsed: Double
    /// Lowest validation loss seen (nats/unit), if any evaluation ran.
    public var bestValidationLoss: Double?
    /// Latest validation loss.
    public var lastValidationLoss: Double?
    /// Steps skipped for non-finite gradients.
    public var skippedSteps: Int
    /// Steps at which clipping fired.
    public var clippedSteps: Int
    public var optimizer: OptimizerState
    public var scheduler: LRScheduler
    /// The dropout generator's state (`RNG.stateWords`).
    public var dropoutRNG: [UInt64]
    /// Validations in a row without a new best (for `--patience`); nil in checkpoints written
    /// before early stopping existed, meaning 0.
    public var stalledValidations: Int?

    enum CodingKeys: String, CodingKey {
        case step, position, elapsed, optimizer, scheduler
        case bestValidationLoss = "best_validation_loss", lastValidationLoss = "last_validation_loss"
        case skippedSteps = "skipped_steps", clippedSteps = "clipped_steps", dropoutRNG = "dropout_rng"
        case stalledValidations = "stalled_validations"
    }
}

/// Tensors of `trainer-state.safetensors`: optimizer moments as `optimizer.<name>` (flat, the
/// parameter layout) and the carried state as `state.h_l{k}` / `state.c_l{k}` (B×H).
public struct TrainerTensors {
    public var optimizerBuffers: [String: [Float]]
    public var carried: RecurrentState<Float>

    public init(optimizerBuffers: [String: [Float]], carried: RecurrentState<Float>) {
        self.optimizerBuffers = optimizerBuffers; self.carried = carried
    }

    func safetensors() -> SafetensorsFile {
        var tensors: [SafetensorsTensor] = optimizerBuffers.keys.sorted().map { name in
            SafetensorsTensor(name: "optimizer.\(name)", shape: [optimizerBuffers[name]!.count], floats: optimizerBuffers[name]!)
        }
        let shape = [carried.batchSize, carried.hiddenSize]
        for k in 0..<carried.layers {
            tensors.append(SafetensorsTensor(name: "state.h_l\(k)", shape: shape, floats: UnsafeBufferPointer(carried.h[k].pointer)))
            if carried.hasCell {
                tensors.append(SafetensorsTensor(name: "state.c_l\(k)", shape: shape, floats: UnsafeBufferPointer(carried.c[k].pointer)))
            }
        }
        return SafetensorsFile(tensors: tensors, metadata: ["format": "charrnn-trainer-state",
                                                            "format_version": "\(RunConfiguration.currentFormatVersion)"])
    }

    static func load(_ file: SafetensorsFile, path: String, model: ModelConfig, batchSize: Int,
                     bufferNames: [String]) throws -> TrainerTensors {
        var buffers: [String: [Float]] = [:]
        for name in bufferNames {
            guard let tensor = file.tensor("optimizer.\(name)"), tensor.dtype == .f32 else {
                throw CheckpointError.malformed(path, "missing float32 tensor optimizer.\(name)")
            }
            buffers[name] = tensor.floats
        }
        let carried = RecurrentState<Float>(config: model, batchSize: batchSize)
        let shape = [batchSize, model.hiddenSize]
        for k in 0..<model.layers {
            let slots = [("state.h_l\(k)", carried.h[k])] + (carried.hasCell ? [("state.c_l\(k)", carried.c[k])] : [])
            for (name, buffer) in slots {
                guard let tensor = file.tensor(name), tensor.dtype == .f32, tensor.shape == shape else {
                    throw CheckpointError.mismatch(path, "\(name) missing or not float32 \(shape)")
                }
                tensor.copyFloats(into: buffer.pointer)
            }
        }
        return TrainerTensors(optimizerBuffers: buffers, carried: carried)
    }
}
