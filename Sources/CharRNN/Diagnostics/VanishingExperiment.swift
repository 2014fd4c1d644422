import Foundation
import NeuralNet
import TextCorpus

/// The vanishing-gradient experiment behind `charrnn experiment vanishing`: several models trained
/// with the same budget on the same corpus (by default the shipped synthetic brackets corpus),
/// differing in one thing each — cell (vanilla RNN, LSTM, GRU), gradient clipping on or off, skip
/// connections (two-layer plain, residual, dense) — and then measured the same way:
///
/// - validation bits per unit (the trainer's last validation pass) and test bits per unit;
/// - long-range accuracy by distance bucket on the test split (``ModelLongRangeEvaluation``, model
///   after the last step, one stream, state carried), beside an n-gram baseline fitted on the training split;
/// - gradient flow of the trained model on the test split (``GradientFlowMeasurement``): decay factor per layer;
/// - clip rate (share of steps whose gradient norm was clipped) and the largest gradient norm seen.
///
/// Output directory:
///
///     OUT/<arm>/            one run directory per arm: metrics.jsonl, config.json, latest/, best/,
///                           gradient-flow.json, long-range.json
///     OUT/<n>-gram/         the baseline: long-range.json and an empty metrics.jsonl (so the report lists it)
///     OUT/report.html       `RunReport` over all of them
///     OUT/summary.json      one ``RunSummary`` per arm
///     OUT/results.md        the markdown table
public struct VanishingExperiment {
    /// One trained configuration.
    public struct Arm: Codable, Sendable, Equatable {
        /// Run directory name and row label.
        public var name: String
        public var cell: CellKind
        public var layers: Int
        public var skip: SkipMode
        /// Global-norm clipping threshold; nil trains without clipping.
        public var clipNorm: Double?

        public init(name: String, cell: CellKind, layers: Int = 1, skip: SkipMode = .none, clipNorm: Double?) {
            self.name = name; self.cell = cell; self.layers = layers; self.skip = skip; self.clipNorm = clipNorm
        }

        enum CodingKeys: String, CodingKey {
            case name, cell, layers, skip
            case clipNorm = "clip_norm"
        }
    }

    /// Budget and sizes, the same for every arm.
    public struct Options: Sendable {
        /// Corpus files.
        public var corpus: [String] = ["corpora/synth/brackets.txt"]
        /// Output directory.
        public var output: URL = URL(fileURLWithPath: "runs/vanishing")
        /// Optimizer steps per arm.
        public var steps = 1500
        /// H, E, T, B.
        public var hidden = 128, embedding = 32, bptt = 100, batchSize = 32
        /// Adam learning rate.
        public var learningRate = 2e-3
        /// The clipping threshold of the arms with clipping.
        public var clipNorm = 0.5
        public var validationFraction = 0.05, testFraction = 0.1
        /// Validation passes during training (every this many steps; one more at the end).
        public var evalEvery = 200
        public var seed: UInt64 = 1
        public var threads = 2
        /// n of the baseline (nil: none).
        public var ngramOrder: Int? = 5
        /// Window length and count of the gradient-flow measurement on the trained models.
        public var flowLength = 100, flowWindows = 20
        /// The arms to train, in order (default: ``standardArms(clipNorm:)``).
        public var arms: [Arm]? = nil

        public init() {}

        /// The first problem that makes these options unusable, naming the option; nil if fine.
        public var validationError: String? {
            if steps < 1 { return "--steps must be at least 1 (got \(steps))" }
            if hidden < 1 || embedding < 1 { return "--hidden and --embed must be at least 1" }
            if bptt < 1 || batchSize < 1 { return "--bptt and --batch must be at least 1" }
            if !(learningRate > 0) { return "--lr must be positive (got \(learningRate))" }
            if !(clipNorm > 0) { return "--clip-norm must be positive (got \(clipNorm))" }
            if flowLength < 1 || flowWindows < 1 { return "--flow-length and --flow-windows must be at least 1" }
            if let ngramOrder, !(1...32).contains(ngramOrder) { return "--ngram-order must be between 0 and 32" }
            if let arms {
                if arms.isEmpty { return "--runs: no runs selected" }
                if Set(arms.map(\.name)).count != arms.count { return "--runs: a run is named twice" }
            }
            return nil
        }
    }

    /// What one arm achieved.
    public struct RunSummary: Codable, Sendable, Equatable {
        public var arm: Arm
        /// The run directory.
        public var directory: String
        public var steps: Int
        /// Training time in seconds (the trainer's clock).
        public var seconds: Double
        /// Bits per unit on the validation split after the last step.
        public var validationBitsPerUnit: Double?
        /// Bits per unit on the test split (the long-range walk).
        public var testBitsPerUnit: Double?
        /// Long-range accuracy of the trained model on the test split.
        public var longRange: LongRangeResult
        /// Decay factor of the gradient flow per layer (bottom first).
        public var decayFactors: [Double?]
        /// Share of steps whose gradient norm was clipped.
        public var clipRate: Double
        /// Largest global gradient norm (before clipping) over the run.
        public var maxGradientNorm: Double
        /// Share of steps whose gradient norm exceeded the experiment's clipping threshold (clipped or not).
        public var aboveThresholdRate: Double

        enum CodingKeys: String, CodingKey {
            case arm, directory, steps, seconds
            case validationBitsPerUnit = "validation_bits_per_unit"
            case testBitsPerUnit = "test_bits_per_unit"
            case longRange = "long_range"
            case decayFactors = "decay_factors"
            case clipRate = "clip_rate"
            case maxGradientNorm = "max_gradient_norm"
            case aboveThresholdRate = "above_threshold_rate"
        }
    }

    /// Everything the experiment produced.
    public struct Outcome: Sendable {
        public var runs: [RunSummary]
        /// The n-gram baseline on the same test split.
        public var baseline: LongRangeResult?
        public var report: URL
        /// The markdown table (also in OUT/results.md).
        public var table: String
    }

    /// Vanilla RNN, LSTM and GRU, each with and without clipping; two-layer vanilla RNNs without
    /// skip connections, with residual ones and with dense ones (clipped).
    public static func standardArms(clipNorm: Double) -> [Arm] {
        [
            Arm(name: "rnn", cell: .rnn, clipNorm: clipNorm),
            Arm(name: "rnn-noclip", cell: .rnn, clipNorm: nil),
            Arm(name: "lstm", cell: .lstm, clipNorm: clipNorm),
            Arm(name: "lstm-noclip", cell: .lstm, clipNorm: nil),
            Arm(name: "gru", cell: .gru, clipNorm: clipNorm),
            Arm(name: "gru-noclip", cell: .gru, clipNorm: nil),
            Arm(name: "rnn-2layer", cell: .rnn, layers: 2, skip: .none, clipNorm: clipNorm),
            Arm(name: "rnn-2layer-residual", cell: .rnn, layers: 2, skip: .residual, clipNorm: clipNorm),
            Arm(name: "rnn-2layer-dense", cell: .rnn, layers: 2, skip: .dense, clipNorm: clipNorm),
        ]
    }

    public let options: Options

    public init(options: Options) throws {
        if let problem = options.validationError { throw DiagnosticsError.invalidOption("experiment", problem) }
        self.options = options
    }

    /// The arms this experiment trains.
    public var arms: [Arm] { options.arms ?? Self.standardArms(clipNorm: options.clipNorm) }

    /// Trains and measures every arm, writes the output directory; `progress` receives one-line notes.
    public func run(progress: (String) -> Void = { _ in }) throws -> Outcome {
        let corpus = try TokenCorpus.load(paths: options.corpus, validationFraction: options.validationFraction,
                                          testFraction: options.testFraction)
        guard corpus.test.count > options.flowLength else {
            throw DiagnosticsError.textTooShort("the gradient-flow measurement (--flow-length \(options.flowLength)) on the test split",
                                                needed: options.flowLength + 1, available: corpus.test.count)
        }
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: options.output, withIntermediateDirectories: true)
        let task = LongRangeTaskChoice.detect(units: corpus.test.map { corpus.vocabulary.unit(of: $0) })
        progress("corpus \(options.corpus.joined(separator: " ")): \(corpus.ids.count) units, V=\(corpus.vocabulary.count), "
                 + "train/validation/test \(corpus.train.count)/\(corpus.validation.count)/\(corpus.test.count); task \(task.rawValue)")
        var runs: [RunSummary] = []
        var directories: [URL] = []
        for arm in arms {
            let summary = try train(arm, corpus: corpus, task: task, progress: progress)
            runs.append(summary)
            directories.append(URL(fileURLWithPath: summary.directory))
        }
        var baseline: LongRangeResult?
        if let order = options.ngramOrder {
            let result = try ModelLongRangeEvaluation.ngramBaseline(order: order, training: corpus.train, ids: corpus.test,
                                                                    vocabulary: corpus.vocabulary, task: task)
            let directory = options.output.appendingPathComponent("\(order)-gram")
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
            try AtomicFile.write(Data(), to: directory.appendingPathComponent("metrics.jsonl"))
            try AtomicFile.write(try LongRangeReport(source: "test split", results: [result]).encoded(),
                                 to: directory.appendingPathComponent("long-range.json"))
            directories.append(directory)
            baseline = result
        }
        let table = Self.markdownTable(runs, baseline: baseline)
        try AtomicFile.write(Data(table.utf8), to: options.output.appendingPathComponent("results.md"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(runs), to: options.output.appendingPathComponent("summary.json"))
        let report = options.output.appendingPathComponent("report.html")
        let name = options.corpus.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", ")
        try RunReport.write(runDirectories: directories, to: report,
                            title: "Vanishing gradients on \(name): \(options.steps) steps, H=\(options.hidden), T=\(options.bptt), B=\(options.batchSize)")
        return Outcome(runs: runs, baseline: baseline, report: report, table: table)
    }

    /// Trains one arm in OUT/<arm.name> (replacing what was there) and measures it.
    func train(_ arm: Arm, corpus: TokenCorpus, task: LongRangeResult.Task,
               progress: (String) -> Void) throws -> RunSummary {
        let directory = options.output.appendingPathComponent(arm.name)
        if FileManager.default.fileExists(atPath: directory.path) { try FileManager.default.removeItem(at: directory) }
        var training = TrainingOptions()
        training.batchSize = options.batchSize
        training.bptt = options.bptt
        training.maxSteps = options.steps
        training.optimizer = .adam(learningRate: options.learningRate)
        training.clipping = GradientClipping(maxNorm: arm.clipNorm)
        training.validationFraction = options.validationFraction
        training.testFraction = options.testFraction
        training.evalEvery = options.evalEvery
        training.checkpointEvery = 0
        training.seed = options.seed
        training.threads = options.threads
        let model = ModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: options.embedding,
                                hiddenSize: options.hidden, layers: arm.layers, cell: arm.cell, skip: arm.skip, dropout: 0,
                                // The initialization the published table was measured with.
                                initialization: InitializationOptions(encoderDecoder: .wordLM))
        let trainer = try Trainer(run: RunDirectory(directory), corpus: corpus, paths: options.corpus, model: model,
                                  training: training, resume: false)
        var clipped = 0, above = 0, maxNorm = 0.0
        progress("\(arm.name): training \(options.steps) steps")
        let result = try trainer.train { event in
            guard case .step(let report) = event else { return }
            if report.clipped { clipped += 1 }
            if report.gradNorm > options.clipNorm { above += 1 }
            if report.gradNorm.isFinite { maxNorm = max(maxNorm, report.gradNorm) }
            if report.step % 100 == 0 {
                progress("\(arm.name): step \(report.step), loss " + String(format: "%.4f, %.0f units/s", report.loss,
                                                                                     report.unitsPerSecond))
            }
        }
        let trained = trainer.model
        let flow = try GradientFlowMeasurement.measure(model: trained, ids: corpus.test, length: options.flowLength,
                                                       windows: options.flowWindows,
                                                       initialization: "trained \(result.steps) steps")
        let (longRange, entropy) = try ModelLongRangeEvaluation.evaluate(model: trained, ids: corpus.test,
                                                                        vocabulary: corpus.vocabulary, task: task)
        try AtomicFile.write(try flow.encoded(), to: directory.appendingPathComponent("gradient-flow.json"))
        try AtomicFile.write(try LongRangeReport(source: "test split", results: [longRange]).encoded(),
                             to: directory.appendingPathComponent("long-range.json"))
        let steps = max(result.steps, 1)
        let summary = RunSummary(
            arm: arm, directory: directory.path, steps: result.steps, seconds: result.elapsed,
            validationBitsPerUnit: result.lastValidationLoss.map { $0 / log(2) }, testBitsPerUnit: entropy?.bitsPerUnit,
            longRange: longRange, decayFactors: flow.layers.map(\.decayFactor),
            clipRate: Double(clipped) / Double(steps), maxGradientNorm: maxNorm,
            aboveThresholdRate: Double(above) / Double(steps))
        progress("\(arm.name): done in " + String(format: "%.0f s; validation %.4f bits/unit, long-range accuracy %.3f",
                                                   result.elapsed, summary.validationBitsPerUnit ?? .nan,
                                                   longRange.overall.typeAccuracy ?? .nan)
                 + ", decay factor \(Self.factors(summary.decayFactors))")
        return summary
    }

    static func factors(_ values: [Double?]) -> String {
        values.map { $0.map { String(format: "%.3f", $0) } ?? "-" }.joined(separator: " / ")
    }

    /// One row per arm (and the baseline): bits per unit, long-range accuracy by bucket (with n),
    /// gradient-flow decay factor per layer, clipping.
    public static func markdownTable(_ runs: [RunSummary], baseline: LongRangeResult?) -> String {
        let buckets = (runs.first?.longRange ?? baseline)?.buckets.filter { bucket in
            runs.contains { run in run.longRange.buckets.contains { $0.label == bucket.label && $0.count > 0 } }
                || (baseline?.buckets.contains { $0.label == bucket.label && $0.count > 0 } ?? false)
        } ?? []
        func accuracy(_ result: LongRangeResult, _ label: String) -> String {
            let score = label == "all" ? result.overall : result.buckets.first { $0.label == label }
            return score?.typeAccuracy.map { String(format: "%.3f", $0) } ?? "-"
        }
        func number(_ value: Double?, _ format: String = "%.3f") -> String {
            value.map { $0.isFinite ? String(format: format, $0) : "\($0)" } ?? "-"
        }
        let labels = buckets.map(\.label) + ["all"]
        var header = "| run | cell | layers, skip | clip | val bits/unit | test bits/unit | "
        header += labels.map { "acc \($0)" }.joined(separator: " | ")
        header += " | decay factor | clip rate | ‖g‖ > threshold | max ‖g‖ | time (s) |"
        let counts = runs.first?.longRange ?? baseline
        var lines = [header, "|" + String(repeating: " --- |", count: 11 + labels.count)]
        for run in runs {
            let arm = run.arm
            var row = "| \(arm.name) | \(arm.cell.rawValue) | \(arm.layers), \(arm.skip.rawValue) | "
            row += "\(arm.clipNorm.map { number($0, "%g") } ?? "off") | \(number(run.validationBitsPerUnit)) | "
            row += "\(number(run.testBitsPerUnit)) | "
            row += labels.map { accuracy(run.longRange, $0) }.joined(separator: " | ")
            row += " | \(factors(run.decayFactors)) | \(number(run.clipRate, "%.2f")) | \(number(run.aboveThresholdRate, "%.2f")) | "
            row += "\(number(run.maxGradientNorm, "%.2f")) | \(number(run.seconds, "%.0f")) |"
            lines.append(row)
        }
        if let baseline {
            lines.append("| \(baseline.label) | n-gram | - | - | - | - | " + labels.map { accuracy(baseline, $0) }.joined(separator: " | ")
                         + " | - | - | - | - | - |")
        }
        if let counts {
            let n = labels.map { label in
                "\((label == "all" ? counts.overall : counts.buckets.first { $0.label == label })?.count ?? 0)"
            }
            lines.append("| *targets (n)* | | | | | | " + n.joined(separator: " | ") + " | | | | | |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
