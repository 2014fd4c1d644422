import ArgumentParser
import CharRNN
import Foundation
import NeuralNet
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
        """)

    @Argument(help: "Corpus files, directories or - for standard input (plain UTF-8 or gzip).")
    var paths: [String]

    // Model
    @Option(help: "Recurrent cell: lstm, gru or rnn.") var cell: CellKind = .lstm
    @Option(help: "Number of recurrent layers.") var layers: Int = 2
    @Option(help: "Hidden size of each layer.") var hidden: Int = 512
    @Option(help: "Embedding size.") var embed: Int = 64
    @Option(help: "Dropout probability between layers and before the decoder, in [0, 1).") var dropout: Double = 0.25
    @Option(help: "Dropout probability on the embedding output, in [0, 1) (word_language_model: same as --dropout).")
    var embedDropout: Double = 0
    @Option(help: "Skip connections: none, residual or dense.") var skip: SkipMode = .none
    @Flag(help: "Orthogonal recurrent weight matrices.") var orthogonal = false
    @Option(help: "LSTM forget-gate bias (e.g. 1).") var forgetBias: Double?
    @Option(help: "Encoder/decoder initialization: torch (nn.Embedding N(0,1), nn.Linear ±1/√H) or word-lm (±0.1, bias 0).")
    var encoderInit: EncoderDecoderInit = .torch

    // Windows
    @Option(help: "Steps per truncated-BPTT window (T).") var bptt: Int = 100
    @Option(help: "Parallel streams per batch (B).") var batch: Int = 50

    // Length
    @Option(help: "Stop after this many epochs.") var epochs: Int?
    @Option(help: "Stop at this many optimizer steps in total (counting resumed steps).") var maxSteps: Int?
    @Option(help: "Stop after this much training time in this invocation: seconds, or 90s, 20m, 2h.")
    var timeLimit: String?

    // Optimization
    @Option(help: "Optimizer: adam, adamw, rmsprop or sgd.") var optimizer: String = "adam"
    @Option(help: "Learning rate.") var lr: Double?
    @Option(help: "Momentum (sgd, rmsprop).") var momentum: Double?
    @Flag(help: "Nesterov momentum (sgd).") var nesterov = false
    @Option(help: "RMSProp smoothing constant.") var alpha: Double?
    @Option(help: "Adam betas, as B1,B2.") var betas: String?
    @Option(help: "Optimizer epsilon.") var eps: Double?
    @Option(help: "Weight decay (L2; decoupled for adamw).") var weightDecay: Double?
    @Option(help: "constant | step:EVERY:GAMMA | exp:GAMMA | cosine:MIN | plateau:FACTOR:PATIENCE")
    var lrSchedule: String = "constant"
    @Option(help: "Linear learning-rate warmup over this many steps.") var warmup: Int = 0
    @Option(help: "Clip the global gradient L2 norm to this (0: off).") var clipNorm: Double = 5
    @Option(help: "Clamp every gradient element to ±this (off by default).") var clipValue: Double?

    // Evaluation and output
    @Option(help: "Evaluate the validation split every N steps (0: only at the end).") var evalEvery: Int = 200
    @Option(help: "Score the validation split as N parallel streams (fewer: closer to the exact figure).")
    var valBatch: Int = 10
    @Option(help: "Save OUT/latest every N steps (0: only at the end).") var checkpointEvery: Int = 200
    @Option(help: "Log a train record to metrics.jsonl every N steps.") var logEvery: Int = 1
    @Option(help: "Output (run) directory.") var out: String = "runs/charrnn"
    @Flag(help: "Continue the run in --out from its latest checkpoint.") var resume = false

    // Runtime
    @Option(help: "Random seed (initialization and dropout).") var seed: UInt64 = 1
    @Option(help: "Compute threads.") var threads: Int = 2
    @Flag(help: "No progress output.") var quiet = false

    @OptionGroup var tokenizer: TokenizerArguments
    @OptionGroup var corpusOptions: CorpusLoadArguments

    /// Parses "90", "90s", "20m", "2h" into seconds.
    static func parseDuration(_ text: String) throws -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        var number = Substring(text)
        var scale = 1.0
        if let last = text.last, let unit = units[last] { number = text.dropLast(); scale = unit }
        guard let value = Double(number), value > 0, value.isFinite else {
            throw ValidationError("--time-limit: expected seconds or a duration like 90s, 20m, 2h; got '\(text)'")
        }
        return value * scale
    }

    func options() throws -> (ModelConfig, TrainingOptions) {
        var training = TrainingOptions()
        training.batchSize = batch
        training.bptt = bptt
        training.epochs = epochs
        training.maxSteps = maxSteps
        training.timeLimit = try timeLimit.map(Self.parseDuration)
        training.optimizer = try OptimizerConfig(optimizer: optimizer, learningRate: lr, momentum: momentum,
                                                 nesterov: nesterov, alpha: alpha, betas: betas, eps: eps,
                                                 weightDecay: weightDecay)
        training.schedule = try LRScheduleConfig.parse(lrSchedule, warmup: warmup)
        training.clipping = GradientClipping(maxNorm: clipNorm > 0 ? clipNorm : nil, maxValue: clipValue)
        try training.clipping.validate()
        training.validationFraction = corpusOptions.validationFraction
        training.testFraction = corpusOptions.testFraction
        training.evalEvery = evalEvery
        training.validationBatchSize = valBatch
        training.checkpointEvery = checkpointEvery
        training.logEvery = logEvery
        training.seed = seed
        training.threads = threads
        training.maxVocab = corpusOptions.maxVocab
        training.minCount = corpusOptions.minCount
        if let problem = training.validationError { throw ValidationError(problem) }
        let initialization = InitializationOptions(orthogonalRecurrent: orthogonal, forgetGateBias: forgetBias,
                                                   encoderDecoder: encoderInit)
        let model = ModelConfig(vocabularySize: 1, embeddingSize: embed, hiddenSize: hidden, layers: layers,
                                cell: cell, skip: skip, dropout: dropout, embeddingDropout: embedDropout,
                                initialization: initialization)
        if let problem = model.validationError { throw ValidationError(problem) }
        return (model, training)
    }

    func run() throws {
        try CLIErrors.reporting {
            let (model, training) = try options()
            let corpus = try corpusOptions.load(paths, tokenizer: tokenizer.options)
            let trainer = try Trainer(run: RunDirectory(URL(fileURLWithPath: out)), corpus: corpus, paths: paths,
                                      model: model, training: training, resume: resume)
            var progress = TrainingProgress(quiet: quiet)
            let result = try trainer.train { progress.handle($0) }
            progress.finish(result, out: out)
        }
    }
}
