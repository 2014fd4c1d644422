import Foundation
import NeuralNet
import TextCorpus

/// The vanishing-gradient experiment behind `charrnn experiment vanishing`: several models trained
/// with the same budget on the same corpus (by default the shipped synthetic brackets corpus),
/// differing in one thing each — cell (vanilla RNN, LSTM, GRU), gradient clipping on or off, skip
/// connections (two-layer plain, residual, dense) — each with `seeds` seeds, and then measured the same way:
///
/// - validation bits per unit (the trainer's last validation pass) and test bits per unit;
/// - long-range accuracy by distance bucket on the test split (``ModelLongRangeEvaluation``, model
///   after the last step, one stream, state carried), beside an n-gram baseline fitted on the training split;
/// - gradient flow of the trained model on the test split (``GradientFlowMeasurement``): decay factor per layer;
/// - clip rate (share of steps whose gradient norm was clipped) and the largest gradient norm seen.
///
/// With a BPTT sweep (``Options/bpttSweep``) every arm is trained once per window length T at equal
/// characters of training: steps × T × B is that of the base `steps` and `bptt`.
///
/// The work is a list of independent ``Job``s (arm × window × seed, ``jobs``), each run by
/// ``run(_:in:progress:)`` after ``prepare(progress:)``; ``finish(_:prepared:)`` gathers their
/// summaries (mean ± 95 % Student-t interval over seeds, ``GroupSummary``). ``run(progress:)`` does
/// all three in one process; jobs can as well be dealt to several processes and their summaries joined.
///
/// Output directory:
///
///     OUT/<arm>/seed-<s>/       one run directory per job: metrics.jsonl, config.json, latest/, best/,
///                               gradient-flow.json, long-range.json (OUT/<arm>-T<T>/seed-<s>/ in a sweep)
///     OUT/<n>-gram/             the baseline: long-range.json and an empty metrics.jsonl (so the report lists it)
///     OUT/report.html           `RunReport` over the first seed of every arm and the baseline
///     OUT/summary.json          {"runs": one ``RunSummary`` per job, "arms": one ``GroupSummary`` per arm, "baseline": …}
///     OUT/results.md            the interval table, then the per-seed table
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

    /// One independent unit of work: an arm trained with one seed and one window length.
    public struct Job: Codable, Sendable, Equatable {
        public var arm: Arm
        /// Training seed (initialization and batch order).
        public var seed: UInt64
        /// Truncated-BPTT window T.
        public var bptt: Int
        /// Optimizer steps.
        public var steps: Int
        /// Row label shared by the seeds of one arm: the arm's name, or `<arm> T=<T>` in a sweep.
        public var label: String
        /// Run directory relative to the output directory: `<arm>/seed-<s>` or `<arm>-T<T>/seed-<s>`.
        public var directory: String
    }

    /// Budget and sizes, the same for every arm.
    public struct Options: Sendable {
        /// Corpus files.
        public var corpus: [String] = ["corpora/synth/brackets.txt"]
        /// Output directory.
        public var output: URL = URL(fileURLWithPath: "runs/vanishing")
        /// Optimizer steps per arm (at `bptt`; a sweep scales them to equal characters).
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
        /// The first seed; the arms are trained with seeds `seed`, `seed + 1`, … `seed + seeds − 1`.
        public var seed: UInt64 = 1
        /// Seeds per arm (≥ 1; an interval needs ≥ 2).
        public var seeds = 3
        /// Window lengths of a BPTT sweep (nil: every arm at `bptt` only). Each arm is trained at each T
        /// with round(steps × bptt / T) steps, so that steps × T × B stays that of `steps` at `bptt`.
        public var bpttSweep: [Int]? = nil
        /// Distance buckets of the long-range scores (default ``VanishingExperiment/distanceBuckets``).
        public var buckets: [DistanceBucket] = VanishingExperiment.distanceBuckets
        public var threads = 2
        /// n of the baseline (nil: none).
        public var ngramOrder: Int? = 5
        /// Window length and count of the gradient-flow measurement on the trained models.
        public var flowLength = 100, flowWindows = 20
        /// The arms to train, in order (default: ``standardArms(clipNorm:)``, or ``sweepArms(clipNorm:)`` in a sweep).
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
            if !(1...1000).contains(seeds) { return "--seeds must be between 1 and 1000 (got \(seeds))" }
            if seed > UInt64.max - UInt64(seeds - 1) { return "--seed \(seed) + --seeds \(seeds) overflows the seed range" }
            if let bpttSweep {
                if bpttSweep.isEmpty { return "--bptt-sweep: no window lengths given" }
                if let bad = bpttSweep.first(where: { $0 < 1 }) { return "--bptt-sweep: window lengths must be at least 1 (got \(bad))" }
                if Set(bpttSweep).count != bpttSweep.count { return "--bptt-sweep: a window length is given twice" }
                if steps.multipliedReportingOverflow(by: bptt).overflow { return "--steps × --bptt overflows" }
            }
            if buckets.isEmpty { return "buckets: no distance buckets" }
            for (a, b) in zip(buckets, buckets.dropFirst()) where !(a.upper.map { $0 < b.lower } ?? false) {
                return "buckets: must be ascending and disjoint (\(a.label) then \(b.label))"
            }
            if let arms {
                if arms.isEmpty { return "--runs: no runs selected" }
                if Set(arms.map(\.name)).count != arms.count { return "--runs: a run is named twice" }
            }
            return nil
        }
    }

    /// What one job achieved.
    public struct RunSummary: Codable, Sendable, Equatable {
        public var arm: Arm
        /// The job's row label (``Job/label``).
        public var label: String
        public var seed: UInt64
        /// The window length T it was trained with.
        public var bptt: Int
        /// The run directory.
        public var directory: String
        public var steps: Int
        /// Characters (units) of training: steps × T × B.
        public var characters: Int
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
            case arm, label, seed, bptt, directory, steps, characters, seconds
            case validationBitsPerUnit = "validation_bits_per_unit"
            case testBitsPerUnit = "test_bits_per_unit"
            case longRange = "long_range"
            case decayFactors = "decay_factors"
            case clipRate = "clip_rate"
            case maxGradientNorm = "max_gradient_norm"
            case aboveThresholdRate = "above_threshold_rate"
        }
    }

    /// The corpus and task every job of one experiment shares (``prepare(progress:)``).
    public struct Prepared {
        public let corpus: TokenCorpus
        public let task: LongRangeResult.Task
        /// Scoring targets of the test split per distance bucket (``Options/buckets``).
        public let targetCounts: [Int]
    }

    /// Everything the experiment produced.
    public struct Outcome: Sendable {
        /// One summary per job, in job order.
        public var runs: [RunSummary]
        /// One summary per arm (and window length), over its seeds.
        public var arms: [GroupSummary]
        /// The n-gram baseline on the same test split.
        public var baseline: LongRangeResult?
        public var report: URL
        /// The markdown tables (also in OUT/results.md).
        public var table: String
    }

    /// Long-range buckets of the experiment: 1–10, 11–25, 26–50, 51–100, 101–200, 201–300, 301–400,
    /// 401–500, >500. Their edges include every window of the default sweep (25, 50, 100, 200, 400),
    /// so each bucket is wholly inside or wholly beyond such a window.
    public static let distanceBuckets: [DistanceBucket] = [
        DistanceBucket(lower: 1, upper: 10), DistanceBucket(lower: 11, upper: 25),
        DistanceBucket(lower: 26, upper: 50), DistanceBucket(lower: 51, upper: 100),
        DistanceBucket(lower: 101, upper: 200), DistanceBucket(lower: 201, upper: 300),
        DistanceBucket(lower: 301, upper: 400), DistanceBucket(lower: 401, upper: 500),
        DistanceBucket(lower: 501, upper: nil),
    ]

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

    /// The arms of a BPTT sweep by default: the clipped one-layer RNN, LSTM and GRU.
    public static func sweepArms(clipNorm: Double) -> [Arm] {
        standardArms(clipNorm: clipNorm).filter { ["rnn", "lstm", "gru"].contains($0.name) }
    }

    public let options: Options

    public init(options: Options) throws {
        if let problem = options.validationError { throw DiagnosticsError.invalidOption("experiment", problem) }
        self.options = options
    }

    /// The arms this experiment trains.
    public var arms: [Arm] {
        options.arms ?? (options.bpttSweep == nil ? Self.standardArms(clipNorm: options.clipNorm)
                                                  : Self.sweepArms(clipNorm: options.clipNorm))
    }

    /// Every job, arm by arm, then window by window, then seed by seed.
    public var jobs: [Job] {
        let windows = options.bpttSweep ?? [options.bptt]
        return arms.flatMap { arm in
            windows.flatMap { window in
                (0..<options.seeds).map { offset in
                    let seed = options.seed + UInt64(offset)
                    let sweep = options.bpttSweep != nil
                    let steps = sweep ? max(1, Int((Double(options.steps * options.bptt) / Double(window)).rounded())) : options.steps
                    let group = sweep ? "\(arm.name)-T\(window)" : arm.name
                    return Job(arm: arm, seed: seed, bptt: window, steps: steps,
                               label: sweep ? "\(arm.name) T=\(window)" : arm.name, directory: "\(group)/seed-\(seed)")
                }
            }
        }
    }

    /// Trains and measures every job, writes the output directory; `progress` receives one-line notes.
    public func run(progress: (String) -> Void = { _ in }) throws -> Outcome {
        let prepared = try prepare(progress: progress)
        var runs: [RunSummary] = []
        for job in jobs { runs.append(try run(job, in: prepared, progress: progress)) }
        return try finish(runs, prepared: prepared)
    }

    /// Loads the corpus, checks it, creates the output directory and notes the targets per bucket.
    public func prepare(progress: (String) -> Void = { _ in }) throws -> Prepared {
        let corpus = try TokenCorpus.load(paths: options.corpus, validationFraction: options.validationFraction,
                                          testFraction: options.testFraction)
        guard corpus.test.count > options.flowLength else {
            throw DiagnosticsError.textTooShort("the gradient-flow measurement (--flow-length \(options.flowLength)) on the test split",
                                                needed: options.flowLength + 1, available: corpus.test.count)
        }
        try FileManager.default.createDirectory(at: options.output, withIntermediateDirectories: true)
        let units = corpus.test.map { corpus.vocabulary.unit(of: $0) }
        let task = LongRangeTaskChoice.detect(units: units)
        let distances = task == .delimiters ? DelimiterScan(units: units).targets.map(\.distance)
            : RecallScan(units: units).targets.map(\.distance)
        var counts = [Int](repeating: 0, count: options.buckets.count)
        for distance in distances {
            if let b = DistanceBucket.index(of: distance, in: options.buckets) { counts[b] += 1 }
        }
        progress("corpus \(options.corpus.joined(separator: " ")): \(corpus.ids.count) units, V=\(corpus.vocabulary.count), "
                 + "train/validation/test \(corpus.train.count)/\(corpus.validation.count)/\(corpus.test.count); task \(task.rawValue)")
        progress("test-split targets by distance: "
                 + zip(options.buckets, counts).map { "\($0.label) \($1)" }.joined(separator: ", "))
        return Prepared(corpus: corpus, task: task, targetCounts: counts)
    }

    /// Trains one job in OUT/<job.directory> (replacing what was there) and measures it.
    public func run(_ job: Job, in prepared: Prepared, progress: (String) -> Void = { _ in }) throws -> RunSummary {
        let corpus = prepared.corpus
        let arm = job.arm
        let name = "\(job.label) seed \(job.seed)"
        let directory = options.output.appendingPathComponent(job.directory)
        if FileManager.default.fileExists(atPath: directory.path) { try FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
        var training = TrainingOptions()
        training.batchSize = options.batchSize
        training.bptt = job.bptt
        training.maxSteps = job.steps
        training.optimizer = .adam(learningRate: options.learningRate)
        training.clipping = GradientClipping(maxNorm: arm.clipNorm)
        training.validationFraction = options.validationFraction
        training.testFraction = options.testFraction
        training.evalEvery = options.evalEvery
        training.checkpointEvery = 0
        training.seed = job.seed
        training.threads = options.threads
        let model = ModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: options.embedding,
                                hiddenSize: options.hidden, layers: arm.layers, cell: arm.cell, skip: arm.skip, dropout: 0,
                                // The initialization the published table was measured with.
                                initialization: InitializationOptions(encoderDecoder: .wordLM))
        let trainer = try Trainer(run: RunDirectory(directory), corpus: corpus, paths: options.corpus, model: model,
                                  training: training, resume: false)
        var clipped = 0, above = 0, maxNorm = 0.0
        progress("\(name): training \(job.steps) steps at T=\(job.bptt)")
        let result = try trainer.train { event in
            guard case .step(let report) = event else { return }
            if report.clipped { clipped += 1 }
            if report.gradNorm > options.clipNorm { above += 1 }
            if report.gradNorm.isFinite { maxNorm = max(maxNorm, report.gradNorm) }
            if report.step % 100 == 0 {
                progress("\(name): step \(report.step), loss " + String(format: "%.4f, %.0f units/s", report.loss,
                                                                                 report.unitsPerSecond))
            }
        }
        let trained = trainer.model
        let flow = try GradientFlowMeasurement.measure(model: trained, ids: corpus.test, length: options.flowLength,
                                                       windows: options.flowWindows,
                                                       initialization: "trained \(result.steps) steps")
        let (longRange, entropy) = try ModelLongRangeEvaluation.evaluate(model: trained, ids: corpus.test,
                                                                        vocabulary: corpus.vocabulary, task: prepared.task,
                                                                        buckets: options.buckets)
        try AtomicFile.write(try flow.encoded(), to: directory.appendingPathComponent("gradient-flow.json"))
        try AtomicFile.write(try LongRangeReport(source: "test split", results: [longRange]).encoded(),
                             to: directory.appendingPathComponent("long-range.json"))
        let steps = max(result.steps, 1)
        let summary = RunSummary(
            arm: arm, label: job.label, seed: job.seed, bptt: job.bptt, directory: directory.path, steps: result.steps,
            characters: result.steps * job.bptt * options.batchSize, seconds: result.elapsed,
            validationBitsPerUnit: result.lastValidationLoss.map { $0 / log(2) }, testBitsPerUnit: entropy?.bitsPerUnit,
            longRange: longRange, decayFactors: flow.layers.map(\.decayFactor),
            clipRate: Double(clipped) / Double(steps), maxGradientNorm: maxNorm,
            aboveThresholdRate: Double(above) / Double(steps))
        // A corpus without delimiter pairs (or a split without any) has no accuracy to print: "n/a", not nan.
        let accuracy = longRange.overall.typeAccuracy.map { String(format: "%.3f", $0) } ?? "n/a (no closers)"
        let validation = summary.validationBitsPerUnit.map { String(format: "%.4f bits/unit", $0) } ?? "n/a"
        progress("\(name): done in " + String(format: "%.0f s", result.elapsed)
                 + "; validation \(validation), long-range accuracy \(accuracy), decay factor \(Self.factors(summary.decayFactors))")
        return summary
    }

    /// Joins the jobs' summaries: fits and writes the n-gram baseline, the interval and per-seed
    /// tables (results.md), summary.json and report.html.
    public func finish(_ runs: [RunSummary], prepared: Prepared) throws -> Outcome {
        let corpus = prepared.corpus
        var baseline: LongRangeResult?
        var directories: [(name: String, url: URL)] = []
        var seen = Set<String>()
        for run in runs where seen.insert(run.label).inserted {
            directories.append((run.label, URL(fileURLWithPath: run.directory)))
        }
        if let order = options.ngramOrder {
            let result = try ModelLongRangeEvaluation.ngramBaseline(order: order, training: corpus.train, ids: corpus.test,
                                                                    vocabulary: corpus.vocabulary, task: prepared.task,
                                                                    buckets: options.buckets)
            let directory = options.output.appendingPathComponent("\(order)-gram")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try AtomicFile.write(Data(), to: directory.appendingPathComponent("metrics.jsonl"))
            try AtomicFile.write(try LongRangeReport(source: "test split", results: [result]).encoded(),
                                 to: directory.appendingPathComponent("long-range.json"))
            directories.append((result.label, directory))
            baseline = result
        }
        let groups = GroupSummary.group(runs)
        let table = "Mean ± 95 % interval (Student t, n − 1 degrees of freedom) over seeds:\n\n"
            + Self.intervalTable(groups, baseline: baseline) + "\nPer seed:\n\n" + Self.markdownTable(runs, baseline: baseline)
        try AtomicFile.write(Data(table.utf8), to: options.output.appendingPathComponent("results.md"))
        struct File: Encodable { var runs: [RunSummary]; var arms: [GroupSummary]; var baseline: LongRangeResult? }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(File(runs: runs, arms: groups, baseline: baseline)),
                             to: options.output.appendingPathComponent("summary.json"))
        let report = options.output.appendingPathComponent("report.html")
        let name = options.corpus.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", ")
        let reportRuns = try directories.map { entry in
            var run = try ReportRun.load(entry.url)
            run.name = entry.name
            return run
        }
        let budget = options.bpttSweep.map { "T ∈ {\($0.map(String.init).joined(separator: ", "))} at \(options.steps * options.bptt * options.batchSize) characters" }
            ?? "\(options.steps) steps, T=\(options.bptt)"
        let html = RunReport.html(runs: reportRuns, title: "Vanishing gradients on \(name): \(budget), H=\(options.hidden), "
                                  + "B=\(options.batchSize) (first seed of each run shown)")
        try AtomicFile.write(Data(html.utf8), to: report)
        return Outcome(runs: runs, arms: groups, baseline: baseline, report: report, table: table)
    }

    static func factors(_ values: [Double?]) -> String {
        values.map { $0.map { String(format: "%.3f", $0) } ?? "-" }.joined(separator: " / ")
    }

    /// The buckets with at least one target in `runs` or `baseline`, in order.
    static func scoredBuckets(_ results: [LongRangeResult]) -> [LongRangeBucketScore] {
        guard let first = results.first else { return [] }
        return first.buckets.filter { bucket in
            results.contains { result in result.buckets.contains { $0.label == bucket.label && $0.count > 0 } }
        }
    }

    static func number(_ value: Double?, _ format: String = "%.3f") -> String {
        value.map { $0.isFinite ? String(format: format, $0) : "\($0)" } ?? "-"
    }

    /// One row per job (and the baseline): seed, window, steps, bits per unit, long-range accuracy by
    /// bucket (with n), gradient-flow decay factor per layer, clipping.
    public static func markdownTable(_ runs: [RunSummary], baseline: LongRangeResult?) -> String {
        let buckets = scoredBuckets(runs.map(\.longRange) + (baseline.map { [$0] } ?? []))
        func accuracy(_ result: LongRangeResult, _ label: String) -> String {
            let score = label == "all" ? result.overall : result.buckets.first { $0.label == label }
            return score?.typeAccuracy.map { String(format: "%.3f", $0) } ?? "-"
        }
        let labels = buckets.map(\.label) + ["all"]
        var header = "| run | seed | cell | layers, skip | clip | T | steps | val bits/unit | test bits/unit | "
        header += labels.map { "acc \($0)" }.joined(separator: " | ")
        header += " | decay factor | clip rate | ‖g‖ > threshold | max ‖g‖ | time (s) |"
        let counts = runs.first?.longRange ?? baseline
        var lines = [header, "|" + String(repeating: " --- |", count: 14 + labels.count)]
        for run in runs {
            let arm = run.arm
            var row = "| \(run.label) | \(run.seed) | \(arm.cell.rawValue) | \(arm.layers), \(arm.skip.rawValue) | "
            row += "\(arm.clipNorm.map { number($0, "%g") } ?? "off") | \(run.bptt) | \(run.steps) | "
            row += "\(number(run.validationBitsPerUnit)) | \(number(run.testBitsPerUnit)) | "
            row += labels.map { accuracy(run.longRange, $0) }.joined(separator: " | ")
            row += " | \(factors(run.decayFactors)) | \(number(run.clipRate, "%.2f")) | \(number(run.aboveThresholdRate, "%.2f")) | "
            row += "\(number(run.maxGradientNorm, "%.2f")) | \(number(run.seconds, "%.0f")) |"
            lines.append(row)
        }
        if let baseline {
            lines.append("| \(baseline.label) | - | n-gram | - | - | - | - | - | - | "
                         + labels.map { accuracy(baseline, $0) }.joined(separator: " | ") + " | - | - | - | - | - |")
        }
        if let counts {
            let n = labels.map { label in
                "\((label == "all" ? counts.overall : counts.buckets.first { $0.label == label })?.count ?? 0)"
            }
            lines.append("| *targets (n)* | | | | | | | | | " + n.joined(separator: " | ") + " | | | | | |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
