import Foundation
import NeuralNet
import Tensor
import TextCorpus

/// A problem that stops training; `description` is one line.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// Invalid options (which one and why).
    case invalidOptions(String)
    /// `--resume` found a checkpoint that does not fit this run.
    case resumeMismatch(String)
    /// The training loss became NaN or infinite at this step.
    case nonFiniteLoss(step: Int, loss: Double)
    /// The parameters overflowed at this step (found before saving a checkpoint).
    case nonFiniteParameters(step: Int)

    public var description: String {
        switch self {
        case .invalidOptions(let message): message
        case .resumeMismatch(let message): "--resume: \(message)"
        case .nonFiniteLoss(let step, let loss):
            "training loss became \(loss) at step \(step); stopped, the last saved checkpoint is intact"
        case .nonFiniteParameters(let step):
            "parameters became non-finite at step \(step); stopped, the last saved checkpoint is intact"
        }
    }
}

/// What the trainer reports while it runs (for progress displays).
public enum TrainingEvent {
    /// Before the first step: the model and data sizes.
    case started(TrainingSummary)
    /// After every step.
    case step(StepReport)
    /// After an evaluation of the validation split.
    case evaluated(step: Int, loss: Double, isBest: Bool)
    /// After a checkpoint was written.
    case saved(step: Int, directory: URL)
    /// Something was wrong but repaired (e.g. a torn final metrics record dropped); one line.
    case warning(String)
}

/// Sizes printed before training starts.
public struct TrainingSummary: Sendable {
    public var parameterCount: Int
    public var vocabularySize: Int
    public var trainUnits: Int, validationUnits: Int, testUnits: Int
    public var windowsPerEpoch: Int
    public var resumedFromStep: Int?
    /// Total steps the run will make, when known (`--max-steps`, or epochs × windows).
    public var plannedSteps: Int?
    /// Units of the corpus outside the vocabulary (counted as `<unk>`): with `--init-from`, the
    /// new text's units the checkpoint's vocabulary lacks; with `--max-vocab`/`--min-count`, the rare ones.
    public var unknownUnits: Int
    /// Settings a resumed run changed.
    public var resumeChanges: [RunSettingChange]
    /// The checkpoint the weights started from (`--init-from`).
    public var initializedFrom: String?
}

/// One training step as seen by a progress display.
public struct StepReport: Sendable {
    public var step: Int
    public var epoch: Int
    /// Window loss, nats per unit.
    public var loss: Double
    public var gradNorm: Double
    public var clipped: Bool
    public var skipped: Bool
    public var learningRate: Double
    /// Training units per second since the start of this invocation.
    public var unitsPerSecond: Double
    /// Share of steps so far at which clipping fired.
    public var clipRate: Double
    public var elapsed: Double
    public var lastValidationLoss: Double?
    /// Seconds until the first limit (steps, epochs or time) stops the run, at this invocation's
    /// pace; nil when no limit is set.
    public var secondsRemaining: Double?
}

/// How a run ended.
public struct TrainingResult: Sendable, Codable {
    public var steps: Int
    public var epochs: Int
    public var finalTrainLoss: Double?
    public var bestValidationLoss: Double?
    public var lastValidationLoss: Double?
    public var skippedSteps: Int
    public var elapsed: Double
    /// Why the loop stopped: "max-steps", "epochs", "time-limit", "patience" (no new best in
    /// `--patience` validations) or "interrupted" (a stop request, e.g. Ctrl-C).
    public var stopReason: String
    /// Training units per second in this invocation.
    public var unitsPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case steps, epochs, elapsed
        case finalTrainLoss = "final_train_loss", bestValidationLoss = "best_validation_loss"
        case lastValidationLoss = "last_validation_loss", skippedSteps = "skipped_steps"
        case stopReason = "stop_reason", unitsPerSecond = "units_per_s"
    }
}

/// How a run begins.
public enum TrainingStart {
    /// New weights drawn from the seed.
    case fresh
    /// Continue the run in the trainer's run directory from its `latest/` checkpoint.
    case resume
    /// A new run (fresh optimizer, schedule, state and counters) whose weights start as
    /// `checkpoint`'s, read from `path`: fine-tuning.
    case initialize(Checkpoint, path: String)
}

/// Truncated-BPTT training of a `LanguageModel` on a corpus, with carried state, clipping, an
/// optimizer and schedule, periodic validation, metrics and atomic checkpoints; resumable exactly.
///
/// Loop, one optimizer step per window:
/// 1. take the next window of the B streams (the carried state is reset at each epoch start);
/// 2. zero gradients, forward with dropout, backward over all T·B tokens;
/// 3. optimizer step with clipping at the scheduled rate (non-finite gradients: skipped, counted);
/// 4. log to metrics.jsonl; every `evalEvery` steps evaluate the whole validation split (its own
///    carried state) and keep `best/`; every `checkpointEvery` steps write `latest/`.
/// A resumed run restores weights, optimizer moments, schedule, stream position, dropout RNG and
/// carried state, so its losses equal those of an uninterrupted run bit for bit (same threads).
public final class Trainer {
    public let run: RunDirectory
    public let configuration: RunConfiguration
    public let corpus: TokenCorpus
    public let model: LanguageModel<Float>
    let optimizer: Optimizer<Float>
    var scheduler: LRScheduler
    var stream: BatchStream
    let carried: RecurrentState<Float>
    var state: TrainerState
    let resumedFromStep: Int?
    /// What a resumed run changed (empty for a new run); logged as a `resume` record.
    public let resumeChanges: [RunSettingChange]
    /// The run directory's lock when the caller already holds it (the CLI takes it before loading
    /// the corpus); otherwise `train` takes it for its own duration and fails if another process
    /// holds it.
    public var lock: RunLock?

    /// Prepares a new run (or, with `resume`, continues the one in `run`).
    public convenience init(run: RunDirectory, corpus: TokenCorpus, paths: [String], model modelConfig: ModelConfig,
                            training: TrainingOptions, resume: Bool) throws {
        try self.init(run: run, corpus: corpus, paths: paths, model: modelConfig, training: training,
                      start: resume ? .resume : .fresh)
    }

    /// Prepares a run that begins as `start` says.
    /// - Parameters:
    ///   - corpus: the loaded corpus (vocabulary built from its training split; for `.initialize`,
    ///     encoded with the checkpoint's vocabulary).
    ///   - model: architecture; `vocabularySize` is taken from the corpus.
    ///   - start: `.resume` continues the run in `run` and accepts only the changes that
    ///     `RunSetting.mayChangeOnResume` allows; `.initialize` copies a checkpoint's weights.
    public init(run: RunDirectory, corpus: TokenCorpus, paths: [String], model modelConfig: ModelConfig,
                training: TrainingOptions, start: TrainingStart) throws {
        if let problem = training.validationError { throw TrainingError.invalidOptions(problem) }
        var modelConfig = modelConfig
        modelConfig.vocabularySize = corpus.vocabulary.count
        try training.checkMemory(of: modelConfig)
        if let problem = modelConfig.validationError { throw TrainingError.invalidOptions(problem) }
        try training.optimizer.validate()
        try training.clipping.validate()
        try training.schedule.validate()
        self.run = run
        self.corpus = corpus
        var configuration = RunConfiguration(model: modelConfig, tokenizer: corpus.vocabulary.tokenizer,
                                             training: training, corpus: CorpusDescription(paths: paths, corpus: corpus))
        let trainStream = try BatchStream(ids: corpus.train, batchSize: training.batchSize, sequenceLength: training.bptt)
        stream = trainStream
        let plannedSteps = training.maxSteps ?? training.epochs.map { $0 * trainStream.windowsPerEpoch }
        var resumeChanges: [RunSettingChange] = []

        switch start {
        case .resume:
            let previous = try Checkpoint.load(from: run.url.path)
            let old = previous.configuration
            configuration.initializedFrom = old.initializedFrom
            // Initialization options do not matter once weights exist (and older checkpoints
            // predate some of them), so they are not compared.
            resumeChanges = configuration.changes(from: old)
            if let fixed = resumeChanges.first(where: { !$0.mayChangeOnResume }) {
                throw TrainingError.resumeMismatch("\(fixed.flag) is \(fixed.old) in this run, not \(fixed.new): a run's architecture, tokenizer, splits, batch, window, optimizer and seed are fixed (start a new run, or fine-tune with --init-from)")
            }
            guard previous.vocabulary == corpus.vocabulary else {
                throw TrainingError.resumeMismatch("the corpus gives a different vocabulary (\(corpus.vocabulary.count) units) than the checkpoint (\(previous.vocabulary.count))")
            }
            guard old.corpus.fingerprint == configuration.corpus.fingerprint else {
                throw TrainingError.resumeMismatch("the corpus differs from the one the checkpoint was trained on")
            }
            let (savedState, tensors) = try Checkpoint.loadTrainerState(from: run.url.path, model: modelConfig,
                                                                        batchSize: training.batchSize)
            // Dropout may change on resume: the same weights under the new configuration.
            model = previous.model.config == modelConfig ? previous.model
                : LanguageModel<Float>(config: modelConfig, parameters: previous.model.parameters)
            var optimizerState = savedState.optimizer
            optimizerState.config.learningRate = training.optimizer.learningRate
            optimizer = try Optimizer<Float>(restoring: optimizerState, layout: model.parameters.layout,
                                             buffers: tensors.optimizerBuffers)
            optimizer.clipping = training.clipping
            scheduler = try Self.continuedScheduler(savedState.scheduler, training: training, totalSteps: plannedSteps)
            carried = tensors.carried
            guard let rng = RNG(stateWords: savedState.dropoutRNG) else {
                throw TrainingError.resumeMismatch("the checkpoint's dropout RNG state is invalid")
            }
            model.dropoutRNG = rng
            stream.position = savedState.position
            state = savedState
            resumedFromStep = savedState.step
        case .fresh, .initialize:
            if case .initialize(let source, let path) = start {
                guard source.vocabulary == corpus.vocabulary else {
                    throw TrainingError.invalidOptions("--init-from \(path): the corpus must be encoded with the checkpoint's vocabulary")
                }
                let changes = configuration.changes(from: source.configuration)
                if let fixed = changes.first(where: \.shapesWeights) {
                    throw TrainingError.invalidOptions("--init-from \(path): \(fixed.flag) is \(fixed.old) in the checkpoint, not \(fixed.new); the weights fix the architecture and tokenizer")
                }
                // A copy: training must not change the caller's checkpoint.
                let parameters = ParameterSet<Float>(layout: source.model.parameters.layout)
                _ = parameters.values.pointer.update(fromContentsOf: source.model.parameters.values.pointer)
                model = LanguageModel<Float>(config: modelConfig, parameters: parameters)
                model.dropoutRNG = RNG(seed: training.seed &+ 1)
                configuration.initializedFrom = path
            } else {
                model = LanguageModel<Float>(config: modelConfig, seed: training.seed)
            }
            optimizer = try Optimizer<Float>(config: training.optimizer, layout: model.parameters.layout,
                                             clipping: training.clipping)
            scheduler = try LRScheduler(config: training.schedule, baseLearningRate: training.optimizer.learningRate,
                                        totalSteps: plannedSteps)
            carried = RecurrentState<Float>(config: modelConfig, batchSize: training.batchSize)
            state = TrainerState(step: 0, position: stream.position, elapsed: 0, bestValidationLoss: nil,
                                 lastValidationLoss: nil, skippedSteps: 0, clippedSteps: 0,
                                 optimizer: optimizer.state, scheduler: scheduler, dropoutRNG: model.dropoutRNG.stateWords,
                                 stalledValidations: 0)
            resumedFromStep = nil
        }
        self.configuration = configuration
        self.resumeChanges = resumeChanges
        model.threads = training.threads
        model.operands = training.operands
        optimizer.threads = training.threads
        model.reserve(maxSteps: training.bptt, batchSize: training.batchSize)
    }

    /// The saved schedule when nothing that shapes it changed; otherwise a new one with the new
    /// settings (a new learning rate or schedule starts its curve afresh at the current step).
    static func continuedScheduler(_ saved: LRScheduler, training: TrainingOptions, totalSteps: Int?) throws -> LRScheduler {
        var same = saved.config == training.schedule && saved.baseLearningRate == training.optimizer.learningRate
        if case .cosine = training.schedule.schedule, saved.totalSteps != totalSteps { same = false }
        return same ? saved
            : try LRScheduler(config: training.schedule, baseLearningRate: training.optimizer.learningRate, totalSteps: totalSteps)
    }

    static func describe(_ config: ModelConfig) -> String {
        "\(config.cell.rawValue) \(config.layers)×\(config.hiddenSize), E=\(config.embeddingSize), skip \(config.skip.rawValue), "
            + "dropout \(config.dropout)/embedding \(config.embeddingDropout), V=\(config.vocabularySize)"
    }

    var training: TrainingOptions { configuration.training }

    /// Trains until a limit is reached or `stopRequested` returns true (checked before every
    /// step); reports progress through `onEvent`. Either way `latest/` is saved before returning.
    @discardableResult
    public func train(onEvent: (TrainingEvent) -> Void = { _ in },
                      stopRequested: () -> Bool = { false }) throws -> TrainingResult {
        try createRunDirectory()
        let heldLock = try lock ?? RunLock(run)
        defer { withExtendedLifetime(heldLock) {} }
        run.removeDebris()
        try AtomicFile.write(try configuration.jsonData(), to: run.config)
        let log = try MetricsLog(url: run.metrics, keepingThrough: resumedFromStep)
        for warning in log.warnings { onEvent(.warning(warning)) }
        if let resumedFromStep {
            var changes: [String: String] = [:]
            for change in resumeChanges { changes[change.flag] = "\(change.old) -> \(change.new)" }
            try log.append(MetricsRecord(kind: .resume, step: resumedFromStep, epoch: stream.position.epoch,
                                         time: state.elapsed, loss: nil, changes: changes))
        }
        let plannedSteps = training.maxSteps ?? training.epochs.map { $0 * stream.windowsPerEpoch }
        onEvent(.started(TrainingSummary(
            parameterCount: model.parameters.layout.totalCount, vocabularySize: corpus.vocabulary.count,
            trainUnits: corpus.splits.train.count, validationUnits: corpus.splits.validation.count,
            testUnits: corpus.splits.test.count, windowsPerEpoch: stream.windowsPerEpoch,
            resumedFromStep: resumedFromStep, plannedSteps: plannedSteps,
            unknownUnits: corpus.statistics.unknownUnits, resumeChanges: resumeChanges,
            initializedFrom: configuration.initializedFrom)))

        let clock = ContinuousClock()
        let start = clock.now
        let elapsedBefore = state.elapsed
        let firstStep = state.step
        var unitsThisRun = 0
        var lastLoss: Double?
        var stopReason = "max-steps"
        var savedStep = resumedFromStep ?? -1
        var lastSave = start
        var evaluatedStep = resumedFromStep ?? 0
        // A validation split shorter than streams + 1 units is evaluated with fewer streams; with
        // fewer than 2 units (or --val-fraction 0) there is nothing to evaluate and no best/ checkpoint.
        let validationStreams = training.validationBatchSize ?? training.batchSize
        let validationStream = corpus.validation.count >= 2
            ? try BatchStream(ids: corpus.validation, batchSize: min(validationStreams, corpus.validation.count - 1),
                              sequenceLength: training.bptt, requireFullWindow: false) : nil

        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }

        steps: while true {
            if stopRequested() { stopReason = "interrupted"; break }
            if let maxSteps = training.maxSteps, state.step >= maxSteps { stopReason = "max-steps"; break }
            if let epochs = training.epochs, stream.position.epoch >= epochs { stopReason = "epochs"; break }
            if let limit = training.timeLimit, seconds(clock.now - start) >= limit { stopReason = "time-limit"; break }

            let batch = stream.next()
            if batch.isFirstInEpoch { carried.reset() }
            model.parameters.zeroGradients()
            let loss = model.forward(inputs: batch.inputs, targets: batch.targets, batchSize: batch.batchSize,
                                     state: carried, training: true)
            guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: state.step + 1, loss: loss) }
            model.backward()
            let learningRate = scheduler.learningRate(step: state.step, epoch: batch.epoch)
            let report = optimizer.step(model.parameters, learningRate: learningRate)
            state.step += 1
            if !report.finite { state.skippedSteps += 1 }
            if report.clipped { state.clippedSteps += 1 }
            unitsThisRun += batch.steps * batch.batchSize
            lastLoss = loss
            let runSeconds = seconds(clock.now - start)
            let elapsed = elapsedBefore + runSeconds
            let unitsPerSecond = Double(unitsThisRun) / max(runSeconds, 1e-9)
            if state.step % training.logEvery == 0 {
                try log.append(MetricsRecord(kind: .train, step: state.step, epoch: batch.epoch, time: elapsed, loss: loss,
                                             gradNorm: report.normBeforeClipping, clipped: report.clipped,
                                             learningRate: learningRate, unitsPerSecond: unitsPerSecond,
                                             skippedSteps: state.skippedSteps))
            }
            onEvent(.step(StepReport(step: state.step, epoch: batch.epoch, loss: loss, gradNorm: report.normBeforeClipping,
                                     clipped: report.clipped, skipped: !report.finite, learningRate: learningRate,
                                     unitsPerSecond: unitsPerSecond, clipRate: Double(state.clippedSteps) / Double(state.step),
                                     elapsed: elapsed, lastValidationLoss: state.lastValidationLoss,
                                     secondsRemaining: secondsRemaining(plannedSteps: plannedSteps, stepsThisRun: state.step - firstStep,
                                                                        runSeconds: runSeconds))))

            if let validationStream, training.evalEvery > 0 && state.step % training.evalEvery == 0 {
                try evaluateValidation(validationStream, epoch: batch.epoch, elapsed: elapsed, log: log, onEvent: onEvent)
                try recordGradientFlow(epoch: batch.epoch, elapsed: elapsed, log: log)
                evaluatedStep = state.step
                if let patience = training.patience, (state.stalledValidations ?? 0) >= patience {
                    stopReason = "patience"
                    break steps
                }
            }
            let dueBySteps = training.checkpointEvery > 0 && state.step % training.checkpointEvery == 0
            let dueByTime = training.checkpointEverySeconds.map { seconds(clock.now - lastSave) >= $0 } ?? false
            if dueBySteps || dueByTime {
                try saveLatest(elapsed: elapsed)
                savedStep = state.step
                lastSave = clock.now
                onEvent(.saved(step: state.step, directory: run.latest))
            }
        }
        let runSeconds = seconds(clock.now - start)
        let elapsed = elapsedBefore + runSeconds
        // An interrupted run saves at once; its closing evaluation would only delay the user.
        if let validationStream, evaluatedStep != state.step, stopReason != "interrupted" {
            // The closing evaluation does not feed the plateau schedule: a run stopped and resumed
            // here must train exactly like one that never stopped.
            try evaluateValidation(validationStream, epoch: stream.position.epoch, elapsed: elapsed, log: log,
                                   feedSchedule: false, onEvent: onEvent)
        }
        if savedStep != state.step {
            try saveLatest(elapsed: elapsed)
            onEvent(.saved(step: state.step, directory: run.latest))
        }
        return TrainingResult(steps: state.step, epochs: stream.position.epoch, finalTrainLoss: lastLoss,
                              bestValidationLoss: state.bestValidationLoss, lastValidationLoss: state.lastValidationLoss,
                              skippedSteps: state.skippedSteps, elapsed: elapsed, stopReason: stopReason,
                              unitsPerSecond: Double(unitsThisRun) / max(runSeconds, 1e-9))
    }

    /// Seconds until the nearest limit at this invocation's pace (steps per second so far).
    func secondsRemaining(plannedSteps: Int?, stepsThisRun: Int, runSeconds: Double) -> Double? {
        var remaining: [Double] = []
        if let plannedSteps, stepsThisRun > 0 {
            remaining.append(Double(max(plannedSteps - state.step, 0)) * runSeconds / Double(stepsThisRun))
        }
        if let limit = training.timeLimit { remaining.append(max(limit - runSeconds, 0)) }
        return remaining.min()
    }

    /// Mean loss over the whole validation split with carried state; keeps `best/` and feeds the
    /// plateau schedule.
    func evaluateValidation(_ validation: BatchStream, epoch: Int, elapsed: Double, log: MetricsLog,
                            feedSchedule: Bool = true, onEvent: (TrainingEvent) -> Void) throws {
        // Validation windows (often fewer streams) run in the training windows' workspaces.
        let loss = Evaluator.meanLoss(model: model, stream: validation)
        guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: state.step, loss: loss) }
        state.lastValidationLoss = loss
        if feedSchedule { _ = scheduler.recordValidation(loss: loss) }
        let isBest = loss < (state.bestValidationLoss ?? .infinity)
        try log.append(MetricsRecord(kind: .eval, step: state.step, epoch: epoch, time: elapsed, loss: loss, split: "validation"))
        if feedSchedule { state.stalledValidations = isBest ? 0 : (state.stalledValidations ?? 0) + 1 }
        if isBest {
            state.bestValidationLoss = loss
            try checkpoint().write(to: run.best)
        }
        onEvent(.evaluated(step: state.step, loss: loss, isBest: isBest))
    }

    func checkpoint() -> Checkpoint {
        Checkpoint(configuration: configuration, vocabulary: corpus.vocabulary, model: model)
    }

    func saveLatest(elapsed: Double) throws {
        // An update can leave finite gradients but overflowed weights; never save those.
        guard model.parameters.values.pointer.allSatisfy(\.isFinite) else {
            throw TrainingError.nonFiniteParameters(step: state.step)
        }
        state.elapsed = elapsed
        state.position = stream.position
        state.optimizer = optimizer.state
        state.scheduler = scheduler
        state.dropoutRNG = model.dropoutRNG.stateWords
        var buffers: [String: [Float]] = [:]
        for (name, buffer) in optimizer.stateBuffers { buffers[name] = buffer.array }
        try checkpoint().write(to: run.latest, trainerState: (state, TrainerTensors(optimizerBuffers: buffers, carried: carried)))
    }

    func createRunDirectory() throws {
        do {
            try FileManager.default.createDirectory(at: run.url, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError.cannotWrite(run.url.path, "cannot create the output directory")
        }
        guard FileManager.default.isWritableFile(atPath: run.url.path) else {
            throw CheckpointError.cannotWrite(run.url.path, "the output directory is not writable")
        }
    }
}
