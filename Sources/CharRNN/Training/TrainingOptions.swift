import NeuralNet
import Tensor

/// How a model is trained: windows, length, optimization, splits, evaluation and output cadence.
/// Stored in every checkpoint's `config.json`.
public struct TrainingOptions: Codable, Sendable, Equatable {
    /// B: parallel streams per window.
    public var batchSize: Int = 50
    /// T: steps per truncated-BPTT window.
    public var bptt: Int = 100
    /// Stop after this many epochs (nil: no epoch limit).
    public var epochs: Int? = nil
    /// Stop when the run has made this many optimizer steps in total, resumes included (nil: no limit).
    public var maxSteps: Int? = nil
    /// Stop after this many seconds of training in this invocation (nil: no limit).
    public var timeLimit: Double? = nil
    public var optimizer: OptimizerConfig = .adam(learningRate: 2e-3)
    public var schedule: LRScheduleConfig = LRScheduleConfig()
    public var clipping: GradientClipping = GradientClipping(maxNorm: 5)
    /// Fraction of units for validation (after the training split).
    public var validationFraction: Double = 0.05
    /// Fraction of units for test (the end of the corpus).
    public var testFraction: Double = 0.05
    /// Evaluate on the whole validation split every this many steps (0: only at the end).
    public var evalEvery: Int = 200
    /// Streams the validation split is scored as (nil: `batchSize`, what runs before this option
    /// did). Fewer streams mean fewer starts from a zero state, so a figure closer to the exact
    /// single-stream one (`charrnn eval --batch 1`); `charrnn train` uses 10, as PyTorch's reference.
    public var validationBatchSize: Int? = nil
    /// Save `latest/` every this many steps (0: only at the end and on stop).
    public var checkpointEvery: Int = 200
    /// Save `latest/` whenever this many seconds of training have passed since the last save
    /// (nil: by steps only). Saving changes nothing in the training itself.
    public var checkpointEverySeconds: Double? = nil
    /// Early stopping: stop after this many validations in a row without a new best (nil: never).
    public var patience: Int? = nil
    /// Append a train record to metrics.jsonl every this many steps.
    public var logEvery: Int = 1
    /// Seed of parameter initialization and dropout masks.
    public var seed: UInt64 = 1
    /// Threads the model computes on (results do not depend on it).
    public var threads: Int = 2
    /// Precision of the matrix products' operands (`--precision`); nil — what runs before the
    /// option wrote — means f32. See `operands`.
    public var precision: OperandPrecision? = nil
    /// Vocabulary limits (see `Vocabulary`).
    public var maxVocab: Int? = nil
    public var minCount: Int = 1
    /// Measure the per-layer gradient-flow decay factor after every validation (`--eval-every`)
    /// and log it to metrics.jsonl (nil, what runs before this option wrote: off). See
    /// `Trainer.recordGradientFlow`.
    public var trackGradientFlow: Bool? = nil

    public init() {}

    /// The operand precision training runs with (`LanguageModel.operands`).
    public var operands: OperandPrecision { precision ?? .f32 }

    /// `--checkpoint-every` as written: steps (`200`), or seconds of training (`600s`).
    public var checkpointCadence: String {
        checkpointEverySeconds.map { "\($0)s" } ?? "\(checkpointEvery)"
    }

    /// The first problem that makes these options unusable, as one line naming the option; nil if fine.
    public var validationError: String? {
        if batchSize < 1 { return "--batch must be at least 1 (got \(batchSize))" }
        if bptt < 1 { return "--bptt must be at least 1 (got \(bptt))" }
        if let epochs, epochs < 1 { return "--epochs must be at least 1 (got \(epochs))" }
        if let maxSteps, maxSteps < 1 { return "--max-steps must be at least 1 (got \(maxSteps))" }
        if let timeLimit, !(timeLimit > 0) { return "--time-limit must be positive (got \(timeLimit))" }
        if evalEvery < 0 { return "--eval-every must be ≥ 0 (got \(evalEvery))" }
        if let validationBatchSize, validationBatchSize < 1 {
            return "--val-batch must be at least 1 (got \(validationBatchSize))"
        }
        if checkpointEvery < 0 { return "--checkpoint-every must be ≥ 0 (got \(checkpointEvery))" }
        if let checkpointEverySeconds, !(checkpointEverySeconds > 0 && checkpointEverySeconds.isFinite) {
            return "--checkpoint-every must be a positive duration (got \(checkpointEverySeconds) s)"
        }
        if let patience, patience < 1 { return "--patience must be at least 1 (got \(patience))" }
        if logEvery < 1 { return "--log-every must be at least 1 (got \(logEvery))" }
        if threads < 1 { return "--threads must be at least 1 (got \(threads))" }
        if !(validationFraction >= 0 && testFraction >= 0 && validationFraction + testFraction < 1) {
            return "--val-fraction and --test-fraction must be ≥ 0 with a sum below 1"
        }
        return nil
    }
}
