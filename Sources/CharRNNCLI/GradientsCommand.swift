import ArgumentParser
import CharRNN
import Foundation
import NeuralNet
import Tensor
import TextCorpus

/// `charrnn gradients`: how far back gradients reach in a model, trained (a checkpoint) or freshly
/// initialized (architecture options).
struct GradientsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradients",
        abstract: "Measure gradient flow: ‖∂L_T/∂h_{T−k}‖ against the distance k, per layer.",
        discussion: """
        Runs the model over --windows consecutive windows of --length units of the corpus (state carried, no \
        dropout); in each window only the loss of the last step is backpropagated and the norm of its gradient \
        with respect to every earlier hidden state (and LSTM cell state) is recorded. Prints per layer the \
        geometric mean and maximum over windows at a few distances, the fitted per-step decay factor (< 1: \
        vanishing, > 1: exploding) and the distance where the norm falls below 1e-6 of its value at k = 0.

        Without a CHECKPOINT the model is built from --cell, --hidden, --layers, … with a vocabulary taken from \
        the corpus, untrained: a vanilla RNN's gradient vanishes geometrically (or explodes with \
        --recurrent-scale well above 1) while an LSTM with --forget-bias 1 keeps it much longer. \
        --save RUN_DIR writes RUN_DIR/gradient-flow.json (and an empty metrics.jsonl when there is none) for \
        `charrnn report`.

        --noise-scale measures instead the gradient noise scale B_noise (McCandlish et al. 2018): the gradient \
        of the full loss of each window is computed for the --batch streams together and for groups of \
        --noise-group streams, and B_noise = tr Σ / |G|² is estimated from the two norms. Batches (in streams \
        of --length units) well below B_noise cut the steps a run needs nearly in proportion; beyond it a \
        larger batch mostly costs computation — the batch past which data-parallel training stops paying.
        """)

    enum Initialization: String, ExpressibleByArgument, CaseIterable { case `default`, orthogonal }

    @Argument(help: "Checkpoint directory (or run directory, meaning its latest/); omit to measure an untrained model.")
    var checkpoint: String?
    @Option(help: "Text to run the model on (files, directories or -).") var corpus: [String] = []
    @Option(parsing: .unconditional, help: "T: steps per window (distances 0…T−1).") var length: Int = 100
    @Option(parsing: .unconditional, help: "W: windows to average over.") var windows: Int = 10
    @Option(parsing: .unconditional, help: "Parallel streams per window.") var batch: Int = 1

    // Untrained model
    @Option(help: "Recurrent cell of an untrained model: lstm, gru or rnn.") var cell: CellKind?
    @Option(parsing: .unconditional, help: "Hidden size of an untrained model.") var hidden: Int?
    @Option(parsing: .unconditional, help: "Layers of an untrained model.") var layers: Int?
    @Option(parsing: .unconditional, help: "Embedding size of an untrained model.") var embed: Int?
    @Option(help: "Skip connections of an untrained model: none, residual or dense.") var skip: SkipMode?
    @Option(name: .customLong("init"), help: "Recurrent weight initialization of an untrained model: default or orthogonal.")
    var initialization: Initialization?
    @Option(parsing: .unconditional, help: "LSTM forget-gate bias of an untrained model (e.g. 1).") var forgetBias: Double?
    @Option(parsing: .unconditional, help: "Multiply every weight_hh by this factor before measuring.") var recurrentScale: Double?
    @Option(parsing: .unconditional, help: "Seed of the untrained model's initialization.") var seed: UInt64 = 1

    @Flag(help: "Measure the gradient noise scale (critical batch size) instead of the gradient flow.") var noiseScale = false
    @Option(parsing: .unconditional, help: "Streams per small batch of --noise-scale (divides --batch).") var noiseGroup: Int = 1

    @Flag(help: "Print one JSON object (the gradient-flow.json contents).") var json = false
    @Option(help: "Also write RUN_DIR/gradient-flow.json (for charrnn report).") var save: String?
    @Option(parsing: .unconditional, help: "Compute threads.") var threads: Int = 1
    @Option(help: "Precision of the matrix products: f32 or bf16 (operands rounded to bfloat16, f32 accumulation).")
    var precision: OperandPrecision = .f32
    @OptionGroup var tokenizer: TokenizerArguments

    var architectureOptionsGiven: [String] {
        var given: [String] = []
        if cell != nil { given.append("--cell") }
        if hidden != nil { given.append("--hidden") }
        if layers != nil { given.append("--layers") }
        if embed != nil { given.append("--embed") }
        if skip != nil { given.append("--skip") }
        if initialization != nil { given.append("--init") }
        if forgetBias != nil { given.append("--forget-bias") }
        return given
    }

    func validate() throws {
        if corpus.isEmpty { throw ValidationError("--corpus is required: the text the model reads") }
        for (value, flag) in [(length, "--length"), (windows, "--windows"), (batch, "--batch")] {
            try FlagCheck.atLeast(1, value, flag)
        }
        try FlagCheck.finite(recurrentScale, "--recurrent-scale")
        if checkpoint != nil, let first = architectureOptionsGiven.first {
            throw ValidationError("\(first) describes an untrained model; a CHECKPOINT fixes the architecture")
        }
        if checkpoint == nil && cell == nil {
            throw ValidationError("give a CHECKPOINT, or --cell (and --hidden, …) for an untrained model")
        }
        for (value, flag) in [(hidden, "--hidden"), (layers, "--layers"), (embed, "--embed")] {
            try FlagCheck.atLeast(1, value, flag)
        }
        try FlagCheck.finite(forgetBias, "--forget-bias")
        try FlagCheck.threads(threads)
        if forgetBias != nil && cell != .lstm { throw ValidationError("--forget-bias applies to --cell lstm only") }
        if noiseScale {
            if batch < 2 { throw ValidationError("--noise-scale compares batch sizes: --batch must be at least 2 (got \(batch))") }
            if noiseGroup < 1 || noiseGroup >= batch || batch % noiseGroup != 0 {
                throw ValidationError("--noise-group must divide --batch \(batch) and be smaller (got \(noiseGroup))")
            }
            if save != nil { throw ValidationError("--save writes gradient-flow.json, which --noise-scale does not measure") }
        } else if noiseGroup != 1 {
            throw ValidationError("--noise-group applies to --noise-scale only")
        }
    }

    func run() throws {
        try CLIErrors.reporting {
            let model: LanguageModel<Float>
            let ids: TokenIDs
            var description: String
            if let checkpoint {
                let loaded = try Checkpoint.load(from: checkpoint)
                model = loaded.model
                ids = try TokenCorpus.encode(paths: corpus, vocabulary: loaded.vocabulary).ids
                description = "checkpoint \(URL(fileURLWithPath: checkpoint).lastPathComponent)"
                if let recurrentScale, recurrentScale != 1 { description += ", weight_hh ×\(recurrentScale)" }
            } else {
                let text = try TokenCorpus.load(paths: corpus, tokenizer: tokenizer.options,
                                                validationFraction: 0, testFraction: 0)
                let options = InitializationOptions(orthogonalRecurrent: initialization == .orthogonal,
                                                    forgetGateBias: forgetBias, encoderDecoder: .wordLM)
                let config = ModelConfig(vocabularySize: text.vocabulary.count, embeddingSize: embed ?? 64,
                                         hiddenSize: hidden ?? 128, layers: layers ?? 1, cell: cell ?? .rnn,
                                         skip: skip ?? .none, dropout: 0, initialization: options)
                if let problem = config.validationError { throw FlagNames.validationError(problem) }
                model = LanguageModel<Float>(config: config, seed: seed)
                ids = text.ids
                description = GradientFlowMeasurement.describe(options, recurrentScale: recurrentScale)
            }
            model.threads = threads
            model.operands = precision
            if let recurrentScale { GradientFlowMeasurement.scaleRecurrentWeights(of: model, by: recurrentScale) }
            if noiseScale {
                let result = try GradientNoiseScale.measure(model: model, ids: ids[...], length: length, windows: windows,
                                                            streams: batch, groupStreams: noiseGroup)
                if result.windows < windows {
                    CLIErrors.printWarning("the corpus holds \(result.windows) full window(s) of \(length) units × \(batch) streams; measured \(result.windows) instead of \(windows)")
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    try StandardOutput.print(String(decoding: try encoder.encode(result), as: UTF8.self))
                } else {
                    try StandardOutput.print(GradientNoiseScale.table(result))
                }
                return
            }
            let result = try GradientFlowMeasurement.measure(model: model, ids: ids[...], length: length, windows: windows,
                                                             batchSize: batch, initialization: description)
            if result.windows < windows {
                CLIErrors.printWarning("the corpus holds \(result.windows) full window(s) of \(length) units\(batch > 1 ? " × \(batch) streams" : ""); measured \(result.windows) instead of \(windows)")
            }
            if let save { try Self.save(result, model: model.config, to: save) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                encoder.nonConformingFloatEncodingStrategy = .convertToString(
                    positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
                try StandardOutput.print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                try StandardOutput.print(GradientFlowMeasurement.table(result))
                if let save { try StandardOutput.print("wrote \(URL(fileURLWithPath: save).appendingPathComponent("gradient-flow.json").path)") }
            }
        }
    }

    /// Writes RUN_DIR/gradient-flow.json; creates RUN_DIR, an empty metrics.jsonl and a config.json
    /// holding the model configuration when they are missing, so `charrnn report` can read the directory.
    static func save(_ result: GradientFlowResult, model: ModelConfig, to path: String) throws {
        let directory = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError.cannotWrite(path, "cannot create the directory")
        }
        try AtomicFile.write(try result.encoded(), to: directory.appendingPathComponent("gradient-flow.json"))
        let run = RunDirectory(directory)
        if !FileManager.default.fileExists(atPath: run.metrics.path) {
            try AtomicFile.write(Data(), to: run.metrics)
        }
        if !FileManager.default.fileExists(atPath: run.config.path) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(["model": model]), to: run.config)
        }
    }
}
