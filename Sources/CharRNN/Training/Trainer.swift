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
}

/// How a run ended.
public struct TrainingResult: Sendable {
    public var steps: Int
    public var epochs: Int
    public var finalTrainLoss: Double?
    public var bestValidationLoss: Double?
    public var lastValidationLoss: Double?
    public var skippedSteps: Int
    public var elapsed: Double
    /// Why the loop stopped: "max-steps", "epochs", "time-limit".
    public var stopReason: String
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

    /// Prepares a new run (or, with `resume`, continues the one in `run`).
    /// - Parameters:
    ///   - corpus: the loaded corpus (vocabulary built from its training split).
    ///   - model: architecture; `vocabularySize` is taken from the corpus.
    public init(run: RunDirectory, corpus: TokenCorpus, paths: [String], model modelConfig: ModelConfig,
                training: TrainingOptions, resume: Bool) throws {
        if let problem = training.validationError { throw TrainingError.invalidOptions(problem) }
        var modelConfig = modelConfig
        modelConfig.vocabularySize = corpus.vocabulary.count
        if let problem = modelConfig.validationError { throw TrainingError.invalidOptions(problem) }
        try training.optimizer.validate()
        try training.clipping.validate()
        try training.schedule.validate()
        self.run = run
        self.corpus = corpus
        configuration = RunConfiguration(model: modelConfig, tokenizer: corpus.vocabulary.tokenizer,
                                         training: training, corpus: CorpusDescription(paths: paths, corpus: corpus))
        let trainStream = try BatchStream(ids: corpus.train, batchSize: training.batchSize, sequenceLength: training.bptt)
        stream = trainStream
        let plannedSteps = training.maxSteps ?? training.epochs.map { $0 * trainStream.windowsPerEpoch }

        if resume {
            let previous = try Checkpoint.load(from: run.url.path)
            let old = previous.configuration
            guard previous.vocabulary == corpus.vocabulary else {
                throw TrainingError.resumeMismatch("the corpus gives a different vocabulary (\(corpus.vocabulary.count) units) than the checkpoint (\(previous.vocabulary.count))")
            }
            // Initialization options do not matter once weights exist (and older checkpoints
            // predate some of them), so they are not compared.
            var oldModel = old.model
            oldModel.initialization = modelConfig.initialization
            guard oldModel == modelConfig else {
                throw TrainingError.resumeMismatch("the architecture differs from the checkpoint's (\(Self.describe(old.model)) vs \(Self.describe(modelConfig)))")
            }
            guard old.training.batchSize == training.batchSize, old.training.bptt == training.bptt else {
                throw TrainingError.resumeMismatch("--batch/--bptt differ from the checkpoint's (\(old.training.batchSize)/\(old.training.bptt))")
            }
            guard old.corpus.fingerprint == configuration.corpus.fingerprint else {
                throw TrainingError.resumeMismatch("the corpus differs from the one the checkpoint was trained on")
            }
            guard old.training.optimizer == training.optimizer else {
                throw TrainingError.resumeMismatch("the optimizer settings differ from the checkpoint's (\(old.training.optimizer))")
            }
            let (savedState, tensors) = try Checkpoint.loadTrainerState(from: run.url.path, model: modelConfig,
                                                                        batchSize: training.batchSize)
            model = previous.model
            optimizer = try Optimizer<Float>(restoring: savedState.optimizer, layout: model.parameters.layout,
                                             buffers: tensors.optimizerBuffers)
            optimizer.clipping = training.clipping
            scheduler = savedState.scheduler.config == training.schedule ? savedState.scheduler
                : try LRScheduler(config: training.schedule, baseLearningRate: training.optimizer.learningRate, totalSteps: plannedSteps)
            carried = tensors.carried
            guard let rng = RNG(stateWords: savedState.dropoutRNG) else {
                throw TrainingError.resumeMismatch("the checkpoint's dropout RNG state is invalid")
            }
            model.dropoutRNG = rng
            stream.position = savedState.position
            state = savedState
            resumedFromStep = savedState.step
        } else {
            model = LanguageModel<Float>(config: modelConfig, seed: training.seed)
            optimizer = try Optimizer<Float>(config: training.optimizer, layout: model.parameters.layout,
                                             clipping: training.clipping)
            scheduler = try LRScheduler(config: training.schedule, baseLearningRate: training.optimizer.learningRate,
                                        totalSteps: plannedSteps)
            carried = RecurrentState<Float>(config: modelConfig, batchSize: training.batchSize)
            state = TrainerState(step: 0, position: stream.position, elapsed: 0, bestValidationLoss: nil,
                                 lastValidationLoss: nil, skippedSteps: 0, clippedSteps: 0,
                                 optimizer: optimizer.state, scheduler: scheduler, dropoutRNG: model.dropoutRNG.stateWords)
            resumedFromStep = nil
        }
        model.threads = training.threads
        optimizer.threads = training.threads
        model.reserve(maxSteps: training.bptt, batchSize: training.batchSize)
    }

    static func describe(_ config: ModelConfig) -> String {
        "\(config.cell.rawValue) \(config.layers)×\(config.hiddenSize), E=\(config.embeddingSize), skip \(config.skip.rawValue), "
            + "dropout \(config.dropout)/embedding \(config.embeddingDropout), V=\(config.vocabularySize)"
    }

    var training: TrainingOptions { configuration.training }

    /// Trains until a limit is reached; reports progress through `onEvent`.
    @discardableResult
    public func train(onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainingResult {
        try createRunDirectory()
        try AtomicFile.write(try configuration.jsonData(), to: run.config)
        let log = try MetricsLog(url: run.metrics, keepingThrough: resumedFromStep)
        let plannedSteps = training.maxSteps ?? training.epochs.map { $0 * stream.windowsPerEpoch }
        onEvent(.started(TrainingSummary(
            parameterCount: model.parameters.layout.totalCount, vocabularySize: corpus.vocabulary.count,
            trainUnits: corpus.splits.train.count, validationUnits: corpus.splits.validation.count,
            testUnits: corpus.splits.test.count, windowsPerEpoch: stream.windowsPerEpoch,
            resumedFromStep: resumedFromStep, plannedSteps: plannedSteps)))

        let clock = ContinuousClock()
        let start = clock.now
        let elapsedBefore = state.elapsed
        var unitsThisRun = 0
        var lastLoss: Double?
        var stopReason = "max-steps"
        var savedStep = resumedFromStep ?? -1
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

        while true {
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
            let elapsed = elapsedBefore + seconds(clock.now - start)
            let unitsPerSecond = Double(unitsThisRun) / max(seconds(clock.now - start), 1e-9)
            if state.step % training.logEvery == 0 {
                try log.append(MetricsRecord(kind: .train, step: state.step, epoch: batch.epoch, time: elapsed, loss: loss,
                                             gradNorm: report.normBeforeClipping, clipped: report.clipped,
                                             learningRate: learningRate, unitsPerSecond: unitsPerSecond,
                                             skippedSteps: state.skippedSteps))
            }
            onEvent(.step(StepReport(step: state.step, epoch: batch.epoch, loss: loss, gradNorm: report.normBeforeClipping,
                                     clipped: report.clipped, skipped: !report.finite, learningRate: learningRate,
                                     unitsPerSecond: unitsPerSecond, clipRate: Double(state.clippedSteps) / Double(state.step),
                                     elapsed: elapsed, lastValidationLoss: state.lastValidationLoss)))

            if let validationStream, training.evalEvery > 0 && state.step % training.evalEvery == 0 {
                try evaluateValidation(validationStream, epoch: batch.epoch, elapsed: elapsed, log: log, onEvent: onEvent)
                evaluatedStep = state.step
            }
            if training.checkpointEvery > 0 && state.step % training.checkpointEvery == 0 {
                try saveLatest(elapsed: elapsed)
                savedStep = state.step
                onEvent(.saved(step: state.step, directory: run.latest))
            }
        }
        let elapsed = elapsedBefore + seconds(clock.now - start)
        if let validationStream, evaluatedStep != state.step {
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
                              skippedSteps: state.skippedSteps, elapsed: elapsed, stopReason: stopReason)
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
