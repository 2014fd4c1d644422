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
    /// The weight checksum of these ranks differs from rank 0's at this step (data-parallel runs).
    case ranksDiverged(step: Int, ranks: [Int])

    public var description: String {
        switch self {
        case .invalidOptions(let message): message
        case .resumeMismatch(let message): "--resume: \(message)"
        case .nonFiniteLoss(let step, let loss):
            "training loss became \(loss) at step \(step); stopped, the last saved checkpoint is intact"
        case .nonFiniteParameters(let step):
            "parameters became non-finite at step \(step); stopped, the last saved checkpoint is intact"
        case .ranksDiverged(let step, let ranks):
            "weights differ across MPI ranks at step \(step): rank\(ranks.count == 1 ? "" : "s") \(ranks.map(String.init).joined(separator: ", ")) disagree\(ranks.count == 1 ? "s" : "") with rank 0; stopped, the last saved checkpoint is intact"
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
    /// Processes the global batch was split over (1 without mpirun).
    public var ranks: Int = 1
    /// Seconds rank 0 spent in gradient all-reduce calls on its critical path (nil for one process).
    public var communicationSeconds: Double?
    /// Of those, seconds in the final waits of overlapped all-reduces, or in blocking ones.
    public var gradientWaitSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case steps, epochs, elapsed, ranks
        case communicationSeconds = "communication_s", gradientWaitSeconds = "gradient_wait_s"
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
/// A resumed run restores weights, optimizer moments, schedule, stream position and carried state;
/// dropout masks are a function of (seed, step, stream, layer) (`StreamDropoutKey`), so its losses
/// equal those of an uninterrupted run bit for bit (same threads). The dropout RNG words that
/// checkpoints still carry are no longer used.
///
/// Data parallel (`communicator` of N > 1 ranks, e.g. under mpirun): the B streams are dealt in
/// contiguous blocks (`StreamShard`); each rank runs forward/backward on its block with the loss
/// normalized by the global T·B, the gradient buffer is summed over ranks (`GradientReducer`,
/// overlapped with backward), and clipping and the optimizer step run identically everywhere.
/// Validation is sharded the same way and reduced; stop requests are agreed by all ranks at the
/// same step; weights are compared by checksum at every evaluation step. Rank 0 alone writes the
/// run directory, and its checkpoints hold every stream's carried state (gathered), so a run may
/// resume on any number of ranks.
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
    /// The ranks of the job (a `SingleProcess` without mpirun).
    public let communicator: any Communicator
    /// This rank's block of the training streams.
    public let shard: StreamShard
    /// Whether gradient buckets are all-reduced during backward (true) or in one blocking call after
    /// it; only matters with more than one rank.
    public var overlapsGradientReduction = true
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
    ///   - communicator: the ranks to split the global batch over (default: this process alone).
    public init(run: RunDirectory, corpus: TokenCorpus, paths: [String], model modelConfig: ModelConfig,
                training: TrainingOptions, start: TrainingStart,
                communicator: any Communicator = SingleProcess()) throws {
        if let problem = training.validationError { throw TrainingError.invalidOptions(problem) }
        guard training.batchSize >= communicator.size else {
            throw TrainingError.invalidOptions("--batch \(training.batchSize) is smaller than the \(communicator.size) MPI ranks: every rank needs at least one stream")
        }
        self.communicator = communicator
        let shard = StreamShard(globalStreams: training.batchSize, rank: communicator.rank, ranks: communicator.size)
        self.shard = shard
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
            // The checkpoint holds all B streams; this rank keeps its block.
            let local = RecurrentState<Float>(config: modelConfig, batchSize: shard.count)
            for (j, stream) in shard.streams.enumerated() { local.copyStream(j, from: tensors.carried, stream: stream) }
            carried = local
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
            carried = RecurrentState<Float>(config: modelConfig, batchSize: shard.count)
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
        model.reserve(maxSteps: training.bptt, batchSize: shard.count)
        if communicator.size > 1 { try checkRanksAgreeOnSetup() }
    }

    /// Every rank must train the same model on the same corpus from the same step: compares a hash
    /// of the run's configuration (corpus fingerprint included), vocabulary, weights and step.
    func checkRanksAgreeOnSetup() throws {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: UInt64) { hash = (hash ^ value) &* 0x0000_0100_0000_01B3 }
        for byte in try configuration.jsonData() { mix(UInt64(byte)) }
        mix(UInt64(corpus.vocabulary.count))
        mix(UInt64(state.step))
        mix(Self.checksum(model.parameters.values.pointer))
        let hashes = try communicator.allgather(hash)
        let differing = hashes.indices.filter { hashes[$0] != hashes[0] }
        if !differing.isEmpty {
            throw TrainingError.invalidOptions("MPI rank\(differing.count == 1 ? "" : "s") \(differing.map(String.init).joined(separator: ", ")) loaded a different corpus, settings or checkpoint than rank 0; every rank must read the same files")
        }
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
    /// Whether the test hook of `checkWeightsAgree` already changed a weight.
    private var perturbedForTest = false

    /// Trains until a limit is reached or `stopRequested` returns true (checked before every
    /// step; with several ranks, a request on any rank stops all of them at the same step); reports
    /// progress through `onEvent` (on rank 0 only). Either way `latest/` is saved before returning.
    @discardableResult
    public func train(onEvent handler: (TrainingEvent) -> Void = { _ in },
                      stopRequested: () -> Bool = { false }) throws -> TrainingResult {
        let isRoot = communicator.isRoot, ranks = communicator.size
        func onEvent(_ event: TrainingEvent) { if isRoot { handler(event) } }
        var heldLock: RunLock?
        var log: MetricsLog?
        if isRoot {
            try createRunDirectory()
            heldLock = try lock ?? RunLock(run)
            run.removeDebris()
            try AtomicFile.write(try configuration.jsonData(), to: run.config)
            let metrics = try MetricsLog(url: run.metrics, keepingThrough: resumedFromStep)
            for warning in metrics.warnings { onEvent(.warning(warning)) }
            log = metrics
        }
        defer { withExtendedLifetime(heldLock) {} }
        if let resumedFromStep {
            var changes: [String: String] = [:]
            for change in resumeChanges { changes[change.flag] = "\(change.old) -> \(change.new)" }
            try log?.append(MetricsRecord(kind: .resume, step: resumedFromStep, epoch: stream.position.epoch,
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
        let reducer = ranks > 1
            ? GradientReducer(communicator: communicator, gradients: model.parameters.gradients.pointer,
                              overlapped: overlapsGradientReduction) : nil

        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }

        steps: while true {
            // Every rank takes the same decision: a stop request or the time limit on any rank counts.
            var interrupted = stopRequested()
            var outOfTime = training.timeLimit.map { seconds(clock.now - start) >= $0 } ?? false
            if ranks > 1 {
                let flags = try communicator.sum([interrupted ? 1 : 0, outOfTime ? 1 : 0])
                interrupted = flags[0] > 0
                outOfTime = flags[1] > 0
            }
            if interrupted { stopReason = "interrupted"; break }
            if let maxSteps = training.maxSteps, state.step >= maxSteps { stopReason = "max-steps"; break }
            if let epochs = training.epochs, stream.position.epoch >= epochs { stopReason = "epochs"; break }
            if outOfTime { stopReason = "time-limit"; break }

            let batch = stream.next()
            if batch.isFirstInEpoch { carried.reset() }
            model.parameters.zeroGradients()
            model.dropoutKey = StreamDropoutKey(seed: training.seed, window: UInt64(state.step),
                                                firstStream: shard.streams.lowerBound)
            let tokens = batch.steps * batch.batchSize
            var loss = model.forward(inputs: shard.slice(batch.inputs), targets: shard.slice(batch.targets),
                                     batchSize: shard.count, state: carried, training: true)
            if ranks > 1 { loss = try communicator.sum(loss * Double(batch.steps * shard.count)) / Double(tokens) }
            guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: state.step + 1, loss: loss) }
            model.backward(meanOver: tokens, gradientsReady: reducer.map { reducer in { reducer.ready($0) } })
            try reducer?.finish()
            let learningRate = scheduler.learningRate(step: state.step, epoch: batch.epoch)
            let report = optimizer.step(model.parameters, learningRate: learningRate)
            state.step += 1
            if !report.finite { state.skippedSteps += 1 }
            if report.clipped { state.clippedSteps += 1 }
            unitsThisRun += tokens
            lastLoss = loss
            let runSeconds = seconds(clock.now - start)
            let elapsed = elapsedBefore + runSeconds
            let unitsPerSecond = Double(unitsThisRun) / max(runSeconds, 1e-9)
            if state.step % training.logEvery == 0 {
                try log?.append(MetricsRecord(kind: .train, step: state.step, epoch: batch.epoch, time: elapsed, loss: loss,
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

            if ranks > 1, training.evalEvery > 0 && state.step % training.evalEvery == 0 {
                try checkWeightsAgree()
            }
            if let validationStream, training.evalEvery > 0 && state.step % training.evalEvery == 0 {
                try evaluateValidation(validationStream, epoch: batch.epoch, elapsed: elapsed, log: log, onEvent: onEvent)
                // Rank 0 alone measures and logs (the measurement's backward does not all-reduce).
                if let log { try recordGradientFlow(epoch: batch.epoch, elapsed: elapsed, log: log) }
                evaluatedStep = state.step
                if let patience = training.patience, (state.stalledValidations ?? 0) >= patience {
                    stopReason = "patience"
                    break steps
                }
            }
            let dueBySteps = training.checkpointEvery > 0 && state.step % training.checkpointEvery == 0
            var dueByTime = training.checkpointEverySeconds.map { seconds(clock.now - lastSave) >= $0 } ?? false
            if ranks > 1 && training.checkpointEverySeconds != nil { dueByTime = try communicator.any(dueByTime) }
            if dueBySteps || dueByTime {
                try saveLatest(elapsed: elapsed)
                savedStep = state.step
                lastSave = clock.now
                onEvent(.saved(step: state.step, directory: run.latest))
            }
        }
        let runSeconds = seconds(clock.now - start)
        var elapsed = elapsedBefore + runSeconds
        // Rank 0's clock is the run's (the ranks' clocks differ by microseconds).
        if ranks > 1 {
            var value = elapsed
            try withUnsafeMutableBytes(of: &value) { try communicator.broadcast($0, root: 0) }
            elapsed = value
        }
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
        var result = TrainingResult(steps: state.step, epochs: stream.position.epoch, finalTrainLoss: lastLoss,
                                    bestValidationLoss: state.bestValidationLoss, lastValidationLoss: state.lastValidationLoss,
                                    skippedSteps: state.skippedSteps, elapsed: elapsed, stopReason: stopReason,
                                    unitsPerSecond: Double(unitsThisRun) / max(runSeconds, 1e-9))
        result.ranks = ranks
        result.communicationSeconds = reducer?.communicationSeconds
        result.gradientWaitSeconds = reducer?.waitSeconds
        return result
    }

    /// Compares a checksum of the weights over all ranks; throws `ranksDiverged` (on every rank)
    /// naming the ranks whose weights differ from rank 0's.
    ///
    /// Test hook: with `CHARRNN_TEST_PERTURB_RANK=N` in the environment, rank N changes one weight
    /// by one ulp just before its first comparison, so the mismatch path can be tested end to end.
    func checkWeightsAgree() throws {
        if !perturbedForTest, let text = ProcessInfo.processInfo.environment["CHARRNN_TEST_PERTURB_RANK"],
           Int(text) == communicator.rank, let first = model.parameters.values.pointer.first {
            model.parameters.values.pointer[0] = first.nextUp
            perturbedForTest = true
        }
        let sums = try communicator.allgather(Self.checksum(model.parameters.values.pointer))
        let differing = sums.indices.filter { sums[$0] != sums[0] }
        if !differing.isEmpty { throw TrainingError.ranksDiverged(step: state.step, ranks: differing) }
    }

    /// FNV-1a over the bit patterns of `values`.
    static func checksum(_ values: UnsafeMutableBufferPointer<Float>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for value in values {
            hash = (hash ^ UInt64(value.bitPattern)) &* 0x0000_0100_0000_01B3
        }
        return hash
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
    func evaluateValidation(_ validation: BatchStream, epoch: Int, elapsed: Double, log: MetricsLog?,
                            feedSchedule: Bool = true, onEvent: (TrainingEvent) -> Void) throws {
        // Validation windows (often fewer streams) run in the training windows' workspaces. With
        // several ranks each scores its block of the validation streams and the sums are reduced.
        let loss: Double
        if communicator.size == 1 {
            loss = Evaluator.meanLoss(model: model, stream: validation)
        } else {
            let block = StreamShard(globalStreams: validation.batchSize, rank: communicator.rank, ranks: communicator.size)
            let local = block.count == 0 ? (nats: 0.0, units: 0) : Evaluator.walk(model: model, stream: validation, streams: block.streams)
            let totals = try communicator.sum([local.nats, Double(local.units)])
            loss = totals[0] / totals[1]
        }
        guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: state.step, loss: loss) }
        state.lastValidationLoss = loss
        if feedSchedule { _ = scheduler.recordValidation(loss: loss) }
        let isBest = loss < (state.bestValidationLoss ?? .infinity)
        try log?.append(MetricsRecord(kind: .eval, step: state.step, epoch: epoch, time: elapsed, loss: loss, split: "validation"))
        if feedSchedule { state.stalledValidations = isBest ? 0 : (state.stalledValidations ?? 0) + 1 }
        if isBest {
            state.bestValidationLoss = loss
            if communicator.isRoot { try checkpoint().write(to: run.best) }
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
        guard let allStreams = try gatheredCarriedState() else { return }  // not rank 0
        var buffers: [String: [Float]] = [:]
        for (name, buffer) in optimizer.stateBuffers { buffers[name] = buffer.array }
        try checkpoint().write(to: run.latest, trainerState: (state, TrainerTensors(optimizerBuffers: buffers, carried: allStreams)))
    }

    /// Every stream's carried state (B streams) on rank 0, gathered from the ranks' blocks; nil on
    /// the other ranks. Each rank sends, layer by layer, its block of h (then c).
    func gatheredCarriedState() throws -> RecurrentState<Float>? {
        if communicator.size == 1 { return carried }
        let h = carried.hiddenSize, parts = carried.hasCell ? 2 : 1
        var local = [Float]()
        local.reserveCapacity(carried.layers * parts * shard.count * h)
        for k in 0..<carried.layers {
            local += carried.h[k].array
            if carried.hasCell { local += carried.c[k].array }
        }
        let blocks = StreamShard.blocks(globalStreams: shard.globalStreams, ranks: communicator.size)
        let counts = blocks.map { carried.layers * parts * $0.count * h }
        guard let all = try local.withUnsafeBufferPointer({ try communicator.gather($0, counts: counts, root: 0) }) else {
            return nil
        }
        let full = RecurrentState<Float>(config: model.config, batchSize: shard.globalStreams)
        var offset = 0
        for block in blocks {
            for k in 0..<carried.layers {
                for buffer in [full.h[k]] + (carried.hasCell ? [full.c[k]] : []) {
                    let n = block.count * h
                    for i in 0..<n { buffer.pointer[block.lowerBound * h + i] = all[offset + i] }
                    offset += n
                }
            }
        }
        return full
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
