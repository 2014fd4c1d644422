import NeuralNet
import TextCorpus

/// One setting of a run as a user chooses it: the `charrnn train` flag that sets it, how it reads in
/// a `RunConfiguration`, and whether a resumed run may change it.
///
/// A run's architecture, tokenizer, corpus split, window shape and optimizer algorithm are fixed once it
/// has started (its weights, vocabulary, stream positions and optimizer moments depend on them); its
/// learning rate, schedule, clipping, dropout, limits and cadences may change on resume, on purpose.
public struct RunSetting: Sendable {
    /// The flag, e.g. `--hidden`.
    public let flag: String
    /// Whether `--resume` accepts a new value.
    public let mayChangeOnResume: Bool
    /// Whether the weights' shapes or meaning depend on it (architecture and tokenizer), so that a
    /// run initialized from a checkpoint (`--init-from`) must keep the checkpoint's value.
    public let shapesWeights: Bool
    /// The value in `configuration`, as the flag would be written.
    public let value: @Sendable (RunConfiguration) -> String

    init(_ flag: String, changeable: Bool, shapesWeights: Bool = false,
         _ value: @escaping @Sendable (RunConfiguration) -> String) {
        self.flag = flag; self.mayChangeOnResume = changeable; self.shapesWeights = shapesWeights; self.value = value
    }
}

/// A setting whose value differs between two configurations.
public struct RunSettingChange: Sendable, Equatable {
    public var flag: String
    public var old: String
    public var new: String
    public var mayChangeOnResume: Bool
    public var shapesWeights: Bool
}

extension RunConfiguration {
    /// Every setting a user chooses for a run, in `charrnn train --help` order.
    public static let settings: [RunSetting] = {
        @Sendable func text(_ value: Double?) -> String { value.map { "\($0)" } ?? "none" }
        @Sendable func text(_ value: Int?) -> String { value.map { "\($0)" } ?? "none" }
        return [
            RunSetting("--cell", changeable: false, shapesWeights: true) { $0.model.cell.rawValue },
            RunSetting("--layers", changeable: false, shapesWeights: true) { "\($0.model.layers)" },
            RunSetting("--hidden", changeable: false, shapesWeights: true) { "\($0.model.hiddenSize)" },
            RunSetting("--embed", changeable: false, shapesWeights: true) { "\($0.model.embeddingSize)" },
            RunSetting("--skip", changeable: false, shapesWeights: true) { $0.model.skip.rawValue },
            RunSetting("--dropout", changeable: true) { "\($0.model.dropout)" },
            RunSetting("--embed-dropout", changeable: true) { "\($0.model.embeddingDropout)" },
            RunSetting("--unit", changeable: false, shapesWeights: true) { $0.tokenizer.unit.rawValue },
            RunSetting("--normalize", changeable: false, shapesWeights: true) { $0.tokenizer.normalization.rawValue },
            RunSetting("--case-fold", changeable: false, shapesWeights: true) { "\($0.tokenizer.caseFold)" },
            RunSetting("--val-fraction", changeable: false) { "\($0.training.validationFraction)" },
            RunSetting("--test-fraction", changeable: false) { "\($0.training.testFraction)" },
            RunSetting("--valid-file", changeable: false) { ($0.corpus.validationFiles ?? []).joined(separator: " ") },
            RunSetting("--test-file", changeable: false) { ($0.corpus.testFiles ?? []).joined(separator: " ") },
            RunSetting("--max-vocab", changeable: false) { text($0.training.maxVocab) },
            RunSetting("--min-count", changeable: false) { "\($0.training.minCount)" },
            RunSetting("--bptt", changeable: false) { "\($0.training.bptt)" },
            RunSetting("--batch", changeable: false) { "\($0.training.batchSize)" },
            RunSetting("--epochs", changeable: true) { text($0.training.epochs) },
            RunSetting("--max-steps", changeable: true) { text($0.training.maxSteps) },
            RunSetting("--time-limit", changeable: true) { text($0.training.timeLimit) },
            RunSetting("--patience", changeable: true) { text($0.training.patience) },
            RunSetting("--optimizer", changeable: false) { $0.training.optimizer.kind.rawValue },
            RunSetting("--lr", changeable: true) { "\($0.training.optimizer.learningRate)" },
            RunSetting("--momentum", changeable: false) { "\($0.training.optimizer.momentum)" },
            RunSetting("--nesterov", changeable: false) { "\($0.training.optimizer.nesterov)" },
            RunSetting("--alpha", changeable: false) { "\($0.training.optimizer.alpha)" },
            RunSetting("--betas", changeable: false) { "\($0.training.optimizer.beta1),\($0.training.optimizer.beta2)" },
            RunSetting("--eps", changeable: false) { "\($0.training.optimizer.eps)" },
            RunSetting("--weight-decay", changeable: false) { "\($0.training.optimizer.weightDecay)" },
            RunSetting("--lr-schedule", changeable: true) { $0.training.schedule.specification },
            RunSetting("--warmup", changeable: true) { "\($0.training.schedule.warmupSteps)" },
            RunSetting("--clip-norm", changeable: true) { text($0.training.clipping.maxNorm) },
            RunSetting("--clip-value", changeable: true) { text($0.training.clipping.maxValue) },
            RunSetting("--eval-every", changeable: true) { "\($0.training.evalEvery)" },
            RunSetting("--val-batch", changeable: true) { text($0.training.validationBatchSize) },
            RunSetting("--checkpoint-every", changeable: true) { $0.training.checkpointCadence },
            RunSetting("--log-every", changeable: true) { "\($0.training.logEvery)" },
            RunSetting("--track-gradient-flow", changeable: true) { "\($0.training.trackGradientFlow ?? false)" },
            RunSetting("--seed", changeable: false) { "\($0.training.seed)" },
            RunSetting("--threads", changeable: true) { "\($0.training.threads)" },
            RunSetting("--precision", changeable: true) { $0.training.operands.rawValue },
        ]
    }()

    /// The settings whose values differ from `old`'s, in `settings` order.
    public func changes(from old: RunConfiguration) -> [RunSettingChange] {
        Self.settings.compactMap { setting in
            let before = setting.value(old), after = setting.value(self)
            return before == after ? nil
                : RunSettingChange(flag: setting.flag, old: before, new: after, mayChangeOnResume: setting.mayChangeOnResume,
                                   shapesWeights: setting.shapesWeights)
        }
    }
}
