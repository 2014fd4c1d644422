import ArgumentParser
import CharRNN
import Foundation
import NeuralNet
import Tensor
import TextCorpus

extension CellKind: ExpressibleByArgument {}
extension StreamStepper.WeightFormat: ExpressibleByArgument {}
extension SkipMode: ExpressibleByArgument {}
extension EncoderDecoderInit: ExpressibleByArgument {}

/// `charrnn train`: truncated-BPTT training with checkpoints, metrics and exact resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a character-level language model on text files.",
        discussion: """
        Writes OUT/metrics.jsonl, OUT/latest/ (resumable checkpoint) and OUT/best/ (lowest validation loss). \
        Step limits count the whole run: --max-steps 2000 --resume continues a run to step 2000 in total.

        --resume continues the run in --out with the settings of its config.json, corpus paths included: \
        flags given are changes. The learning rate, schedule, warmup, clipping, dropout, limits, patience, \
        cadences and threads may change (logged as a "resume" record in metrics.jsonl); the architecture, \
        tokenizer, splits, batch, window, optimizer and seed may not. --config PATH starts a new run with \
        the settings of a config.json (or of a checkpoint or run directory). --init-from CHECKPOINT starts a \
        new run from a checkpoint's weights, architecture, tokenizer and vocabulary with a fresh optimizer \
        (fine-tuning): units of the new corpus outside that vocabulary become <unk> and are counted.

        Ctrl-C or SIGTERM ends the current step, saves OUT/latest and exits with status 130 (143 for \
        SIGTERM); a second signal quits at once. The run continues with: charrnn train --resume --out OUT.

        Data parallel on Open MPI: mpirun -np N charrnn train ... splits the --batch streams over N \
        processes (blocks of streams; --batch stays the global batch, at least N) and sums their gradients; \
        rank 0 writes OUT. Give each rank --threads 1 on a machine with as many cores as ranks. A run may \
        resume on a different number of ranks. Without mpirun, MPI is never loaded.
        """)

    @Argument(help: "Corpus files, directories, zip archives (or ARCHIVE:MEMBER) or - for standard input (plain UTF-8, gzip or zip); with --resume or --config, default: the run's own.")
    var paths: [String] = []

    // Model
    @Option(help: "Recurrent cell: lstm (default), gru or rnn.") var cell: CellKind?
    @Option(parsing: .unconditional, help: "Number of recurrent layers (default 2).") var layers: Int?
    @Option(parsing: .unconditional, help: "Hidden size of each layer (default 512).") var hidden: Int?
    @Option(parsing: .unconditional, help: "Embedding size (default 64).") var embed: Int?
    @Option(parsing: .unconditional, help: "Dropout probability between layers and before the decoder, in [0, 1) (default 0.25).") var dropout: Double?
    @Option(parsing: .unconditional, help: "Dropout probability on the embedding output, in [0, 1) (default 0; word_language_model: same as --dropout).")
    var embedDropout: Double?
    @Option(help: "Skip connections: none (default), residual or dense.") var skip: SkipMode?
    @Flag(help: "Orthogonal recurrent weight matrices.") var orthogonal = false
    @Option(parsing: .unconditional, help: "LSTM forget-gate bias (e.g. 1).") var forgetBias: Double?
    @Option(help: "Encoder/decoder initialization: torch (default; nn.Embedding N(0,1), nn.Linear ±1/√H) or word-lm (±0.1, bias 0).")
    var encoderInit: EncoderDecoderInit?

    // Windows
    @Option(parsing: .unconditional, help: "Steps per truncated-BPTT window (T; default 100).") var bptt: Int?
    @Option(parsing: .unconditional, help: "Parallel streams per batch (B; default 50).") var batch: Int?

    // Length
    @Option(parsing: .unconditional, help: "Stop after this many epochs.") var epochs: Int?
    @Option(parsing: .unconditional, help: "Stop at this many optimizer steps in total (counting resumed steps).") var maxSteps: Int?
    @Option(parsing: .unconditional, help: "Stop after this much training time in this invocation: seconds, or 90s, 20m, 2h.")
    var timeLimit: String?
    @Option(parsing: .unconditional, help: "Early stopping: stop after N validations in a row without a new best.") var patience: Int?

    // Optimization
    @Option(help: "Optimizer: adam (default), adamw, rmsprop or sgd.") var optimizer: String?
    @Option(parsing: .unconditional, help: "Learning rate.") var lr: Double?
    @Option(parsing: .unconditional, help: "Momentum (sgd, rmsprop).") var momentum: Double?
    @Flag(help: "Nesterov momentum (sgd).") var nesterov = false
    @Option(parsing: .unconditional, help: "RMSProp smoothing constant.") var alpha: Double?
    @Option(parsing: .unconditional, help: "Adam betas, as B1,B2.") var betas: String?
    @Option(parsing: .unconditional, help: "Optimizer epsilon.") var eps: Double?
    @Option(parsing: .unconditional, help: "Weight decay (L2; decoupled for adamw).") var weightDecay: Double?
    @Option(parsing: .unconditional, help: "constant (default) | step:EVERY:GAMMA | exp:GAMMA | cosine:MIN | plateau:FACTOR:PATIENCE")
    var lrSchedule: String?
    @Option(parsing: .unconditional, help: "Linear learning-rate warmup over this many steps (default 0).") var warmup: Int?
    @Option(parsing: .unconditional, help: "Clip the global gradient L2 norm to this (0: off; default 5).") var clipNorm: Double?
    @Option(parsing: .unconditional, help: "Clamp every gradient element to ±this (off by default).") var clipValue: Double?

    // Evaluation and output
    @Option(parsing: .unconditional, help: "Evaluate the validation split every N steps (0: only at the end; default 200).") var evalEvery: Int?
    @Option(parsing: .unconditional, help: "Score the validation split as N parallel streams (fewer: closer to the exact figure; default 10).")
    var valBatch: Int?
    @Option(parsing: .unconditional, help: "Save OUT/latest every N steps, or every so much training time (600s, 10m, 1h); 0: only at the end (default 200).")
    var checkpointEvery: String?
    @Option(parsing: .unconditional, help: "Log a train record to metrics.jsonl every N steps (default 1).") var logEvery: Int?
    @Flag(inversion: .prefixedNo, help: "After every validation, log each layer's gradient-flow decay factor (4 validation windows of --bptt units, one stream) to metrics.jsonl.")
    var trackGradientFlow: Bool?
    @Option(help: "Output (run) directory.") var out: String = "runs/charrnn"
    @Flag(help: "Continue the run in --out from its latest checkpoint, with its own settings.") var resume = false
    @Flag(help: "Start a new run in --out even when it holds one (which is then replaced).") var force = false
    @Option(help: "Start a new run with the settings of this config.json (or checkpoint or run directory).")
    var config: String?
    @Option(help: "Fine-tune: start from this checkpoint's weights and vocabulary (fresh optimizer).")
    var initFrom: String?

    // Runtime
    @Option(parsing: .unconditional, help: "Random seed (initialization and dropout; default 1).") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Compute threads (default 2).") var threads: Int?
    @Option(help: "Precision of the matrix products: f32 (default) or bf16 (mixed precision: operands rounded to bfloat16, f32 accumulation; weights, gradients, optimizer and checkpoints stay f32). May change on --resume.")
    var precision: OperandPrecision?
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Print a JSON summary of the finished run to standard output.") var json = false

    @OptionGroup var tokenizer: TokenizerArguments
    @OptionGroup var corpusOptions: CorpusLoadArguments

    /// Parses "90", "90s", "20m", "2h" into seconds; `option` names the flag in the error.
    static func parseDuration(_ text: String, option: String = "--time-limit") throws -> Double {
        do { return try DurationText.seconds(text, option: option) } catch { throw ValidationError("\(error)") }
    }

    /// `--checkpoint-every`: a step count (digits only) or a duration (90s, 10m, 1h).
    static func parseCheckpointCadence(_ text: String) throws -> (steps: Int, seconds: Double?) {
        do { return try DurationText.cadence(text, option: "--checkpoint-every") } catch { throw ValidationError("\(error)") }
    }

    func validate() throws {
        if resume && force { throw ValidationError("--force starts over, replacing the run in --out; --resume continues it: give one of them") }
        if resume && config != nil { throw ValidationError("--resume continues a run with its own settings; --config starts a new one: give one of them") }
        if resume && initFrom != nil { throw ValidationError("--resume continues a run; --init-from starts a new one from a checkpoint: give one of them") }
        if config != nil && initFrom != nil { throw ValidationError("--init-from starts from the checkpoint's own settings; give --config or --init-from, not both") }
        if resume && (orthogonal || forgetBias != nil || encoderInit != nil) {
            throw ValidationError("--orthogonal, --forget-bias and --encoder-init only initialize new weights; a resumed run keeps its own")
        }
        if initFrom != nil && (orthogonal || forgetBias != nil || encoderInit != nil) {
            throw ValidationError("--orthogonal, --forget-bias and --encoder-init only initialize new weights; --init-from takes the checkpoint's")
        }
        if initFrom != nil && (corpusOptions.maxVocab != nil || corpusOptions.minCountOption != nil) {
            throw ValidationError("--max-vocab and --min-count build a new vocabulary; --init-from uses the checkpoint's")
        }
        if !resume && config == nil && paths.isEmpty {
            throw ValidationError("give the corpus files to train on (or --resume / --config to take a run's)")
        }
        try validateNumbers()
    }

    /// Every numeric flag on its own (ranges that depend on other settings, such as a cosine MIN
    /// above the learning rate, are checked by the library once the run's settings are known).
    /// Runs before anything is read or created.
    func validateNumbers() throws {
        for (value, flag) in [(layers, "--layers"), (hidden, "--hidden"), (embed, "--embed"), (bptt, "--bptt"),
                              (batch, "--batch"), (epochs, "--epochs"), (maxSteps, "--max-steps"),
                              (patience, "--patience"), (valBatch, "--val-batch"), (logEvery, "--log-every")] {
            try FlagCheck.atLeast(1, value, flag)
        }
        try FlagCheck.atLeast(0, warmup, "--warmup")
        try FlagCheck.atLeast(0, evalEvery, "--eval-every")
        try FlagCheck.threads(threads)
        try FlagCheck.fraction(dropout, "--dropout")
        try FlagCheck.fraction(embedDropout, "--embed-dropout")
        try FlagCheck.finite(forgetBias, "--forget-bias")
        try FlagCheck.positive(lr, "--lr")
        try FlagCheck.fraction(momentum, "--momentum")
        try FlagCheck.fraction(alpha, "--alpha")
        try FlagCheck.positive(eps, "--eps")
        try FlagCheck.nonNegative(weightDecay, "--weight-decay")
        try FlagCheck.nonNegative(clipNorm, "--clip-norm")
        try FlagCheck.positive(clipValue, "--clip-value")
        if let timeLimit { _ = try Self.parseDuration(timeLimit) }
        if let checkpointEvery { _ = try Self.parseCheckpointCadence(checkpointEvery) }
        if let lrSchedule {
            do { _ = try LRScheduleConfig.parse(lrSchedule, warmup: warmup ?? 0) } catch { throw ValidationError("\(error)") }
        }
    }

    /// The run's settings: `base` (a run's configuration) or the defaults, with every flag given on
    /// the command line applied.
    func settings(over base: RunConfiguration?) throws -> (ModelConfig, TrainingOptions, TokenizerOptions) {
        var training = base?.training ?? {
            var defaults = TrainingOptions()
            defaults.validationBatchSize = 10
            return defaults
        }()
        if let batch { training.batchSize = batch }
        if let bptt { training.bptt = bptt }
        if let epochs { training.epochs = epochs }
        if let maxSteps { training.maxSteps = maxSteps }
        if let timeLimit { training.timeLimit = try Self.parseDuration(timeLimit) }
        if let patience { training.patience = patience }
        if optimizer != nil || momentum != nil || nesterov || alpha != nil || betas != nil || eps != nil || weightDecay != nil {
            training.optimizer = try OptimizerConfig(optimizer: optimizer ?? training.optimizer.kind.rawValue,
                                                     learningRate: lr, momentum: momentum, nesterov: nesterov, alpha: alpha,
                                                     betas: betas, eps: eps, weightDecay: weightDecay, base: training.optimizer)
        } else if let lr {
            training.optimizer.learningRate = lr
        }
        try training.optimizer.validate()
        if lrSchedule != nil || warmup != nil {
            training.schedule = try LRScheduleConfig.parse(lrSchedule ?? training.schedule.specification,
                                                           warmup: warmup ?? training.schedule.warmupSteps)
        }
        if let clipNorm { training.clipping.maxNorm = clipNorm == 0 ? nil : clipNorm }  // 0: off
        if let clipValue { training.clipping.maxValue = clipValue }
        try training.clipping.validate()
        try training.schedule.validate(baseLearningRate: training.optimizer.learningRate)
        if let value = corpusOptions.validationFractionOption { training.validationFraction = value }
        if let value = corpusOptions.testFractionOption { training.testFraction = value }
        // A split given as files (on the command line, or by the base run) is not cut by a fraction.
        let files = splitFiles(over: base)
        if !files.validation.isEmpty { training.validationFraction = 0 }
        if !files.test.isEmpty { training.testFraction = 0 }
        if let evalEvery { training.evalEvery = evalEvery }
        if let valBatch { training.validationBatchSize = valBatch }
        if let checkpointEvery {
            (training.checkpointEvery, training.checkpointEverySeconds) = try Self.parseCheckpointCadence(checkpointEvery)
        }
        if let logEvery { training.logEvery = logEvery }
        if let trackGradientFlow { training.trackGradientFlow = trackGradientFlow }
        if let seed { training.seed = seed }
        if let threads { training.threads = threads }
        if let precision { training.precision = precision }
        if let maxVocab = corpusOptions.maxVocab { training.maxVocab = maxVocab }
        if let minCount = corpusOptions.minCountOption { training.minCount = minCount }
        if let problem = training.validationError { throw ValidationError(problem) }

        var model = base?.model ?? ModelConfig(vocabularySize: 1, embeddingSize: 64, hiddenSize: 512, layers: 2,
                                               cell: .lstm, skip: .none, dropout: 0.25, embeddingDropout: 0,
                                               initialization: InitializationOptions(encoderDecoder: .torch))
        if let cell { model.cell = cell }
        if let layers { model.layers = layers }
        if let hidden { model.hiddenSize = hidden }
        if let embed { model.embeddingSize = embed }
        if let dropout { model.dropout = dropout }
        if let embedDropout { model.embeddingDropout = embedDropout }
        if let skip { model.skip = skip }
        if orthogonal { model.initialization.orthogonalRecurrent = true }
        if let forgetBias { model.initialization.forgetGateBias = forgetBias }
        if let encoderInit { model.initialization.encoderDecoder = encoderInit }
        // Sizes against the machine's memory, naming the flag (the vocabulary is not known yet: 1).
        do { try training.checkMemory(of: model) } catch { throw ValidationError("\(error)") }
        if let problem = model.validationError { throw FlagNames.validationError(problem) }
        return (model, training, tokenizer.options(over: base?.tokenizer ?? TokenizerOptions()))
    }

    /// The split files: those given on the command line, else the base run's (unless a fraction for
    /// that split is given, which replaces them).
    func splitFiles(over base: RunConfiguration?) -> (validation: [String], test: [String]) {
        let validation = !corpusOptions.validationFiles.isEmpty ? corpusOptions.validationFiles
            : corpusOptions.validationFractionOption != nil ? [] : base?.corpus.validationFiles ?? []
        let test = !corpusOptions.testFiles.isEmpty ? corpusOptions.testFiles
            : corpusOptions.testFractionOption != nil ? [] : base?.corpus.testFiles ?? []
        return (validation, test)
    }

    /// The configuration `--config PATH` names: a config.json file, or the one of a checkpoint or run directory.
    static func loadConfiguration(_ path: String) throws -> RunConfiguration {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("--config: \(path) does not exist")
        }
        let url = isDirectory.boolValue
            ? try RunDirectory.resolveCheckpoint(path).appendingPathComponent("config.json") : URL(fileURLWithPath: path)
        return try RunConfiguration.load(from: url)
    }

    func run() throws {
        try CLIErrors.reporting {
            let communicator = try RankFailure.communicator()
            try RankFailure.reporting(communicator) { try train(communicator: communicator) }
        }
    }

    /// The command's work on one rank (`communicator.size` 1 without mpirun).
    func train(communicator: any Communicator) throws {
            let isRoot = communicator.isRoot
            if communicator.size > 1 && paths.contains("-") {
                throw ValidationError("standard input (-) cannot be the corpus under mpirun: only rank 0 receives it; give files")
            }
            let runDirectory = RunDirectory(URL(fileURLWithPath: out))
            // One run per directory: locked for the whole command (by rank 0, which alone writes it);
            // a new run never silently replaces one.
            let lock = isRoot ? try RunLock(runDirectory) : nil
            if isRoot && !resume && !force && runDirectory.holdsRun { throw RunDirectoryError.holdsRun(out) }
            var base: RunConfiguration?
            var source: Checkpoint?
            if resume {
                let config = runDirectory.latest.appendingPathComponent("config.json")
                guard FileManager.default.fileExists(atPath: config.path) else {
                    throw TrainingError.resumeMismatch("\(out) holds no checkpoint to resume (\(config.path) is missing)")
                }
                base = try RunConfiguration.load(from: config)
            } else if let config {
                base = try Self.loadConfiguration(config)
            } else if let initFrom {
                source = try Checkpoint.load(from: initFrom)
                base = source?.configuration
            }
            let (model, training, tokenizerOptions) = try settings(over: base)
            let corpusPaths = paths.isEmpty ? base?.corpus.paths ?? [] : paths
            let reader = corpusOptions.readerOptions
            let files = splitFiles(over: base)
            let corpus: TokenCorpus
            if let vocabulary = try fixedVocabulary(source: source, base: base, run: runDirectory) {
                corpus = try TokenCorpus.encode(paths: corpusPaths, vocabulary: vocabulary,
                                                validationFraction: training.validationFraction,
                                                testFraction: training.testFraction, validationFiles: files.validation,
                                                testFiles: files.test, reader: reader, cache: corpusOptions.tokenCache)
            } else {
                corpus = try TokenCorpus.load(paths: corpusPaths, tokenizer: tokenizerOptions,
                                              validationFraction: training.validationFraction, testFraction: training.testFraction,
                                              validationFiles: files.validation, testFiles: files.test,
                                              maxVocab: training.maxVocab, minCount: training.minCount, reader: reader,
                                              cache: corpusOptions.tokenCache)
            }
            let start: TrainingStart = if resume { .resume } else if let source, let initFrom {
                .initialize(source, path: initFrom)
            } else { .fresh }
            let trainer = try Trainer(run: runDirectory, corpus: corpus, paths: corpusPaths, model: model,
                                      training: training, start: start, communicator: communicator)
            trainer.lock = lock
            // CHARRNN_ALLREDUCE=blocking: one blocking all-reduce after backward (to measure the overlap).
            trainer.overlapsGradientReduction = ProcessInfo.processInfo.environment["CHARRNN_ALLREDUCE"] != "blocking"
            // Every rank has read what it needs from --out before rank 0 replaces or writes it.
            try communicator.barrier()
            if isRoot && force && !resume { try runDirectory.removeRun() }
            InterruptSignals.install()
            var progress = TrainingProgress(quiet: quiet || !isRoot)
            let result = try trainer.train(onEvent: { progress.handle($0) },
                                           stopRequested: { InterruptSignals.received != nil })
            if isRoot {
                progress.finish(result, out: out)
                if json { try printSummary(result, trainer: trainer) }
            }
            if result.stopReason == "interrupted" {
                if isRoot {
                    TrainingProgress.write("interrupted: \(out)/latest holds step \(result.steps); continue with: charrnn train --resume --out \(out)\n")
                }
                throw ExitCode(128 + (InterruptSignals.received ?? SIGINT))
            }
    }

    /// The vocabulary a corpus must be encoded with instead of building one: a fine-tuning run's
    /// (its checkpoint's, also when such a run is resumed); nil for a run that builds its own.
    func fixedVocabulary(source: Checkpoint?, base: RunConfiguration?, run: RunDirectory) throws -> Vocabulary? {
        if let source { return source.vocabulary }
        if resume, base?.initializedFrom != nil {
            return try Vocabulary.load(from: run.latest.appendingPathComponent(Checkpoint.vocabularyFile))
        }
        return nil
    }

    /// `--json`: the result, the run's paths and sizes as one JSON object on standard output.
    func printSummary(_ result: TrainingResult, trainer: Trainer) throws {
        struct Summary: Encodable {
            var run: String, latest: String, best: String?
            var result: TrainingResult
            var bestValidationBitsPerUnit: Double?
            var parameters: Int, vocabulary: Int
            var initializedFrom: String?
            enum CodingKeys: String, CodingKey {
                case run, latest, best, result, parameters, vocabulary
                case bestValidationBitsPerUnit = "best_validation_bits_per_unit", initializedFrom = "initialized_from"
            }
        }
        let summary = Summary(run: out, latest: trainer.run.latest.path,
                              best: result.bestValidationLoss == nil ? nil : trainer.run.best.path, result: result,
                              bestValidationBitsPerUnit: result.bestValidationLoss.map { $0 / log(2) },
                              parameters: trainer.model.parameters.layout.totalCount,
                              vocabulary: trainer.corpus.vocabulary.count,
                              initializedFrom: trainer.configuration.initializedFrom)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try StandardOutput.print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    }
}
