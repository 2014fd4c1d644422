import Foundation
import NeuralNet
import TextCorpus

/// Long-range memory on real text, after Karpathy, Johnson & Fei-Fei (2015), "Visualizing and
/// understanding recurrent networks": behind `charrnn experiment real-text`.
///
/// For every corpus (source code: SQLite and Lua; prose with quotations: tinyshakespeare and the
/// Divina Commedia), a prefix of at most `maxBytes` bytes (cut at a line end) is split 85/5/10 %;
/// an LSTM, a GRU and a vanilla RNN are trained on it with the same budget (each arm is trained and
/// measured by ``VanishingExperiment``'s arm training, so run directories look the same) and n-gram
/// baselines (``NGramModel``, orders 5 and 20 by default) are fitted on the training split. On the
/// test split every source is then measured the same way:
///
/// - test cross-entropy, bits per unit (a unit is a character for these corpora);
/// - closing-delimiter type accuracy by distance (``LongRangeResult``, delimiters of ``DelimiterSet/standard``);
/// - the position-aware measure (``PositionAwareAccuracy``): P(right closer) ≥ 0.5 at the closer's step;
/// - the error breakdown (``ErrorBreakdown``): of each n-gram's errors at closers, the share each
///   trained model gets right, by distance.
///
/// A model reads the test split as one stream (batch 1, state carried across windows of
/// ``Options/evaluationBPTT`` units, see ``ModelLongRangeEvaluation``); an n-gram predicts each unit
/// from the n − 1 units before it in the test split.
///
/// Output directory:
///
///     OUT/<corpus>/<arm>/       run directory per arm (as in `experiment vanishing`): metrics.jsonl,
///                               config.json, latest/, best/, gradient-flow.json, long-range.json
///     OUT/<corpus>/<n>-gram/    long-range.json and an empty metrics.jsonl (so the report lists it)
///     OUT/<corpus>/report.html  `RunReport` over the corpus's runs
///     OUT/summary.json          one ``CorpusResult`` per corpus
///     OUT/results.md            the tables (``markdown(_:)``)
public struct RealTextExperiment {
    /// Where a corpus file lives.
    public enum Location: String, Codable, Sendable {
        /// Inside the shared corpora folder (``Options/sharedDirectory``).
        case shared
        /// Inside the project (``Options/projectDirectory``).
        case project
    }

    /// One corpus of the experiment.
    public struct CorpusSpec: Codable, Sendable, Equatable {
        /// Short name: directory under OUT and the `--corpora` key.
        public var name: String
        /// The file, relative to its `location`.
        public var path: String
        public var location: Location
        /// What its delimiters are (shown in the tables).
        public var note: String

        public init(name: String, path: String, location: Location, note: String) {
            self.name = name; self.path = path; self.location = location; self.note = note
        }
    }

    /// SQLite C sources, Lua C sources, tinyshakespeare (shipped) and the Divina Commedia.
    public static let standardCorpora: [CorpusSpec] = [
        CorpusSpec(name: "sqlite", path: "code/sqlite_src.txt.gz", location: .shared, note: "C code: ( ) [ ] { } \""),
        CorpusSpec(name: "lua", path: "code/lua_src.txt.gz", location: .shared, note: "C code: ( ) [ ] { } \""),
        CorpusSpec(name: "shakespeare", path: "corpora/tinyshakespeare.txt", location: .project, note: "verse; it has no delimiters, so only bits/char compare"),
        CorpusSpec(name: "divina", path: "multiscript/it_divina_commedia.txt.gz", location: .shared,
                   note: "Italian verse: « » “ ” ( )"),
    ]

    /// Budget and sizes, the same for every arm and corpus.
    public struct Options: Sendable {
        /// Output directory.
        public var output = URL(fileURLWithPath: "runs/real-text")
        /// The shared corpora folder (`../shared/corpora` beside the project).
        public var sharedDirectory = URL(fileURLWithPath: "../shared/corpora")
        /// The project root (for corpora shipped in `corpora/`).
        public var projectDirectory = URL(fileURLWithPath: ".")
        /// The corpora, in order (default: ``RealTextExperiment/standardCorpora``).
        public var corpora: [CorpusSpec] = RealTextExperiment.standardCorpora
        /// At most this many bytes of each corpus file (cut at the last line end before it).
        public var maxBytes = 1_000_000
        /// Optimizer steps per arm.
        public var steps = 2000
        /// H, E, T, B.
        public var hidden = 128, embedding = 32, bptt = 100, batchSize = 32
        /// Adam learning rate.
        public var learningRate = 2e-3
        /// Global-norm clipping threshold of every arm (nil: none).
        public var clipNorm: Double? = 5
        public var validationFraction = 0.05, testFraction = 0.1
        /// Validation passes during training (every this many steps; one more at the end).
        public var evalEvery = 500
        public var seed: UInt64 = 1
        public var threads = 2
        /// The cells trained (arm names are the cells' names).
        public var cells: [CellKind] = [.lstm, .gru, .rnn]
        /// Orders of the n-gram baselines.
        public var ngramOrders = [5, 20]
        /// Window length of the models' test walk (state carried from window to window).
        public var evaluationBPTT = 200

        public init() {}

        /// The first problem that makes these options unusable, naming the option; nil if fine.
        public var validationError: String? {
            if corpora.isEmpty { return "--corpora: no corpus selected" }
            if Set(corpora.map(\.name)).count != corpora.count { return "--corpora: a corpus is named twice" }
            if maxBytes < 1 { return "--max-bytes must be at least 1 (got \(maxBytes))" }
            if cells.isEmpty { return "--cells: no cell selected" }
            if Set(cells).count != cells.count { return "--cells: a cell is named twice" }
            if ngramOrders.contains(where: { !(1...32).contains($0) }) { return "--ngram-orders: each order must be between 1 and 32" }
            if Set(ngramOrders).count != ngramOrders.count { return "--ngram-orders: an order is named twice" }
            if evaluationBPTT < 1 { return "--eval-bptt must be at least 1 (got \(evaluationBPTT))" }
            return armOptions(corpus: "corpus", output: output).validationError
        }

        /// The options of ``VanishingExperiment`` that train this experiment's arms on one corpus.
        func armOptions(corpus path: String, output: URL) -> VanishingExperiment.Options {
            var options = VanishingExperiment.Options()
            options.corpus = [path]
            options.output = output
            options.steps = steps
            options.hidden = hidden
            options.embedding = embedding
            options.bptt = bptt
            options.batchSize = batchSize
            options.learningRate = learningRate
            options.clipNorm = clipNorm ?? 1
            options.validationFraction = validationFraction
            options.testFraction = testFraction
            options.evalEvery = evalEvery
            options.seed = seed
            options.threads = threads
            options.ngramOrder = nil
            options.arms = cells.map { VanishingExperiment.Arm(name: $0.rawValue, cell: $0, clipNorm: clipNorm) }
            return options
        }
    }

    /// One source (a trained model or an n-gram) measured on one corpus's test split.
    public struct SourceResult: Codable, Sendable, Equatable {
        /// `lstm`, `gru`, `rnn`, `5-gram`, …
        public var label: String
        /// `model` or `n-gram`.
        public var kind: String
        /// Test cross-entropy, bits per unit.
        public var testBitsPerUnit: Double?
        /// Closing-delimiter type accuracy by distance.
        public var longRange: LongRangeResult
        /// P(right closer) ≥ 0.5 at the closer's step, by distance.
        public var positionAware: PositionAwareAccuracy
        /// For a model: its run directory, training seconds, gradient-flow decay factor per layer.
        public var directory: String?
        public var seconds: Double?
        public var decayFactors: [Double?]?

        enum CodingKeys: String, CodingKey {
            case label, kind, directory, seconds
            case testBitsPerUnit = "test_bits_per_unit"
            case longRange = "long_range"
            case positionAware = "position_aware"
            case decayFactors = "decay_factors"
        }
    }

    /// Everything measured on one corpus.
    public struct CorpusResult: Codable, Sendable, Equatable {
        public var corpus: CorpusSpec
        /// Bytes read (the prefix) and units in the corpus and its splits.
        public var bytes: Int
        public var units: Int, trainUnits: Int, testUnits: Int
        public var vocabularySize: Int
        /// Models first (in ``Options/cells`` order), then the n-grams.
        public var sources: [SourceResult]
        /// One per (n-gram, model) pair, n-grams outer.
        public var breakdowns: [ErrorBreakdown]

        enum CodingKeys: String, CodingKey {
            case corpus, bytes, units, sources, breakdowns
            case trainUnits = "train_units"
            case testUnits = "test_units"
            case vocabularySize = "vocabulary_size"
        }
    }

    /// What the experiment produced.
    public struct Outcome: Sendable {
        public var corpora: [CorpusResult]
        /// One line per corpus that was skipped (file absent).
        public var skipped: [String]
        /// The tables (also in OUT/results.md).
        public var table: String
        /// OUT/<corpus>/report.html per corpus measured.
        public var reports: [URL]
    }

    public let options: Options

    public init(options: Options) throws {
        if let problem = options.validationError { throw DiagnosticsError.invalidOption("experiment real-text", problem) }
        self.options = options
    }

    /// The file of `spec` under the options' directories.
    public func url(of spec: CorpusSpec) -> URL {
        (spec.location == .shared ? options.sharedDirectory : options.projectDirectory).appendingPathComponent(spec.path)
    }

    /// Runs every corpus whose file exists (the others are skipped with a note), writes the output
    /// directory; `progress` receives one-line notes.
    /// - Throws: `DiagnosticsError.invalidOption("--corpora", …)` when no corpus file exists; corpus,
    ///   training and writing errors.
    public func run(progress: (String) -> Void = { _ in }) throws -> Outcome {
        var results: [CorpusResult] = []
        var skipped: [String] = []
        var reports: [URL] = []
        let present = options.corpora.filter { spec in
            let exists = FileManager.default.fileExists(atPath: url(of: spec).path)
            if !exists {
                let note = "corpus \(spec.name): skipped (\(url(of: spec).path) not found)"
                skipped.append(note)
                progress(note)
            }
            return exists
        }
        guard !present.isEmpty else {
            throw DiagnosticsError.invalidOption("--corpora", "none of the corpus files exists (\(options.corpora.map { url(of: $0).path }.joined(separator: ", ")))")
        }
        try FileManager.default.createDirectory(at: options.output, withIntermediateDirectories: true)
        for spec in present {
            let (result, report) = try run(spec, progress: progress)
            results.append(result)
            reports.append(report)
        }
        let table = Self.markdown(results)
        try AtomicFile.write(Data(table.utf8), to: options.output.appendingPathComponent("results.md"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(results), to: options.output.appendingPathComponent("summary.json"))
        return Outcome(corpora: results, skipped: skipped, table: table, reports: reports)
    }

    /// The first `maxBytes` bytes of `path`, cut after the last line end within them (the whole
    /// file when it is shorter); the cut is at most one line short.
    static func prefix(of path: String, maxBytes: Int) throws -> String {
        let reader = try CorpusReader(paths: [path])
        var bytes: [UInt8] = []
        var complete = true
        try reader.read { chunk, _ in
            guard bytes.count < maxBytes else { complete = false; return }
            let room = maxBytes - bytes.count
            if chunk.count > room { complete = false }
            bytes.append(contentsOf: chunk.prefix(room))
        }
        if !complete, let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) {
            bytes.removeSubrange((lastNewline + 1)...)
        } else if !complete {
            // No line end at all: cut back to a UTF-8 character boundary.
            while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }
            if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Trains, fits and measures one corpus in OUT/<name>; returns its result and report.
    func run(_ spec: CorpusSpec, progress: (String) -> Void) throws -> (CorpusResult, URL) {
        let path = url(of: spec).path
        let text = try Self.prefix(of: path, maxBytes: options.maxBytes)
        let corpus = try TokenCorpus.load(text: text, name: path, validationFraction: options.validationFraction,
                                          testFraction: options.testFraction)
        let flowLength = VanishingExperiment.Options().flowLength
        guard corpus.test.count > max(flowLength, 1) else {
            throw DiagnosticsError.textTooShort("the test split of \(spec.name) (--max-bytes \(options.maxBytes))",
                                                needed: flowLength + 1, available: corpus.test.count)
        }
        let directory = options.output.appendingPathComponent(spec.name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        progress("corpus \(spec.name): \(text.utf8.count) bytes, \(corpus.ids.count) units, V=\(corpus.vocabulary.count), "
                 + "train/validation/test \(corpus.train.count)/\(corpus.validation.count)/\(corpus.test.count)")

        let delimiters = DelimiterSet.standard
        let testIDs = Array(corpus.test)
        let units = testIDs.map { corpus.vocabulary.unit(of: $0) }
        let scan = DelimiterScan(units: units, delimiters: delimiters)
        let closerIDs = delimiters.closers.map { corpus.vocabulary.knownID(of: $0).map(Int.init) }
        let positions = scan.targets.map(\.position)

        var sources: [SourceResult] = []
        var models: [CloserPredictions] = []
        var directories: [URL] = []
        let arms = try VanishingExperiment(options: options.armOptions(corpus: path, output: directory))
        let prepared = VanishingExperiment.Prepared(corpus: corpus, task: .delimiters, targetCounts: [])
        for arm in arms.arms {
            // One seed per arm, in OUT/<corpus>/<arm>/.
            let job = VanishingExperiment.Job(arm: arm, seed: arms.options.seed, bptt: arms.options.bptt,
                                              steps: arms.options.steps, label: arm.name, directory: arm.name)
            let summary = try arms.run(job, in: prepared) { progress("\(spec.name)/\($0)") }
            let model = try Checkpoint.load(from: summary.directory).model
            let walk = try ModelLongRangeEvaluation.candidateProbabilities(
                model: model, ids: testIDs, positions: positions, candidateIDs: closerIDs, bptt: options.evaluationBPTT)
            let predictions = try CloserPredictions(label: arm.name, targets: scan.targets, candidateProbabilities: walk.probabilities)
            models.append(predictions)
            directories.append(URL(fileURLWithPath: summary.directory))
            sources.append(SourceResult(
                label: arm.name, kind: "model", testBitsPerUnit: summary.testBitsPerUnit,
                longRange: Self.longRange(label: arm.name, scan: scan, rows: walk.probabilities, delimiters: delimiters),
                positionAware: PositionAwareAccuracy(predictions), directory: summary.directory,
                seconds: summary.seconds, decayFactors: summary.decayFactors))
        }

        var breakdowns: [ErrorBreakdown] = []
        let train = Array(corpus.train)
        for order in options.ngramOrders {
            let clock = ContinuousClock()
            let start = clock.now
            let ngram = try NGramModel(order: order, vocabularySize: corpus.vocabulary.count, training: train)
            let rows = scan.targets.map { target in
                let context = testIDs[max(0, target.position - order + 1)..<target.position]
                return closerIDs.map { id in id.map { ngram.probability(of: Int32($0), context: context) } ?? 0 }
            }
            let label = "\(order)-gram"
            let predictions = try CloserPredictions(label: label, targets: scan.targets, candidateProbabilities: rows)
            let longRange = Self.longRange(label: label, scan: scan, rows: rows, delimiters: delimiters)
            let bits = ngram.crossEntropy(testIDs).map { $0 / log(2) }
            let seconds = (clock.now - start) / .seconds(1)
            progress("\(spec.name)/\(label): fitted on \(train.count) units and scored in " + String(format: "%.0f s", seconds)
                     + "; test " + String(format: "%.3f", bits ?? .nan) + " bits/unit")
            sources.append(SourceResult(label: label, kind: "n-gram", testBitsPerUnit: bits, longRange: longRange,
                                        positionAware: PositionAwareAccuracy(predictions)))
            for model in models { breakdowns.append(try ErrorBreakdown(baseline: predictions, model: model)) }
            let ngramDirectory = directory.appendingPathComponent(label)
            try FileManager.default.createDirectory(at: ngramDirectory, withIntermediateDirectories: true)
            try AtomicFile.write(Data(), to: ngramDirectory.appendingPathComponent("metrics.jsonl"))
            try AtomicFile.write(try LongRangeReport(source: "test split", results: [longRange]).encoded(),
                                 to: ngramDirectory.appendingPathComponent("long-range.json"))
            directories.append(ngramDirectory)
        }
        let report = directory.appendingPathComponent("report.html")
        try RunReport.write(runDirectories: directories, to: report,
                            title: "Real text, \(spec.name): \(options.steps) steps, H=\(options.hidden), T=\(options.bptt), B=\(options.batchSize)")
        let result = CorpusResult(corpus: spec, bytes: text.utf8.count, units: corpus.ids.count, trainUnits: corpus.train.count,
                                  testUnits: corpus.test.count, vocabularySize: corpus.vocabulary.count,
                                  sources: sources, breakdowns: breakdowns)
        return (result, report)
    }

    /// Type accuracy from candidate probabilities aligned with `scan.targets`.
    static func longRange(label: String, scan: DelimiterScan, rows: [[Double]], delimiters: DelimiterSet) -> LongRangeResult {
        var scorer = LongRangeScorer(delimiters: delimiters)
        for (target, row) in zip(scan.targets, rows) { scorer.add(target, probabilities: row) }
        return scorer.result(label: label, task: .delimiters, skipped: .init(scan))
    }

    /// The tables of every corpus: per corpus, (1) test bits per unit and closing-type accuracy by
    /// distance, (2) the position-aware measure by distance, (3) the error breakdown; each with the
    /// targets per bucket. Buckets without targets in a corpus are left out of its tables.
    public static func markdown(_ results: [CorpusResult]) -> String {
        func number(_ value: Double?, _ format: String = "%.3f") -> String {
            value.map { $0.isFinite ? String(format: format, $0) : "\($0)" } ?? "-"
        }
        var out: [String] = []
        for result in results {
            let labels = (result.sources.first?.positionAware.buckets ?? []).filter { $0.count > 0 }.map(\.label)
            let columns = labels + ["all"]
            let separator = "|" + String(repeating: " --- |", count: columns.count + 2)
            out.append("### \(result.corpus.name) (\(result.corpus.note))")
            out.append("")
            out.append("\(result.bytes) bytes, \(result.units) units (V = \(result.vocabularySize)); train \(result.trainUnits), test \(result.testUnits) units.")
            out.append("")
            // (1) cross-entropy and type accuracy.
            out.append("| source | test bits/char | " + columns.map { "type acc \($0)" }.joined(separator: " | ") + " |")
            out.append(separator)
            for source in result.sources {
                let score = { (label: String) -> String in
                    let bucket = label == "all" ? source.longRange.overall : source.longRange.buckets.first { $0.label == label }
                    return number(bucket?.typeAccuracy)
                }
                out.append("| \(source.label) | \(number(source.testBitsPerUnit)) | " + columns.map(score).joined(separator: " | ") + " |")
            }
            let counts = result.sources.first?.positionAware
            let n = columns.map { label in
                "\((label == "all" ? counts?.overall : counts?.buckets.first { $0.label == label })?.count ?? 0)"
            }
            out.append("| *closers (n)* | | " + n.joined(separator: " | ") + " |")
            out.append("")
            // (2) position-aware measure.
            out.append("| source | kind | " + columns.map { "P(closer) ≥ 0.5 at \($0)" }.joined(separator: " | ") + " |")
            out.append(separator)
            for source in result.sources {
                let score = { (label: String) -> String in
                    let bucket = label == "all" ? source.positionAware.overall : source.positionAware.buckets.first { $0.label == label }
                    return number(bucket?.accuracy)
                }
                out.append("| \(source.label) | \(source.kind) | " + columns.map(score).joined(separator: " | ") + " |")
            }
            out.append("| *closers (n)* | | " + n.joined(separator: " | ") + " |")
            out.append("")
            // (3) error breakdown.
            out.append("| n-gram errors at closers | fixed by | " + columns.map { "fixed \($0)" }.joined(separator: " | ") + " |")
            out.append(separator)
            for breakdown in result.breakdowns {
                let cell = { (label: String) -> String in
                    guard let bucket = label == "all" ? breakdown.overall : breakdown.buckets.first(where: { $0.label == label }) else { return "-" }
                    return "\(number(bucket.fixedShare)) (\(bucket.fixed)/\(bucket.baselineErrors))"
                }
                out.append("| \(breakdown.baseline) | \(breakdown.model) | " + columns.map(cell).joined(separator: " | ") + " |")
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}
