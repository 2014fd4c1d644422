import ArgumentParser
import CharRNN
import Foundation
import NeuralNet
import Tensor
import TextCorpus

extension LongRangeTaskChoice: ExpressibleByArgument {}

/// `charrnn eval`: cross-entropy, bits per unit and perplexity of a checkpoint on a corpus; with
/// `--long-range`, long-range dependency accuracy beside an n-gram baseline.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint on text: nats and bits per unit, perplexity; or long-range accuracy.",
        discussion: """
        Uses the checkpoint's tokenizer and vocabulary; units outside it count as <unk>. State is carried across \
        windows. --batch 1 scores the text as one stream from its first unit to its last (exact, comparable).

        --long-range scores, at every closing delimiter that matches the innermost open one, the probability the \
        model gives to each closer ) ] } ” ’ » " (full softmax), per distance to the opener; on the synthetic \
        recall corpus (detected, or --task recall) the key after each `?` instead. The text is read as one stream \
        (batch 1) and the default split is then the test split of the corpus, cut by the checkpoint's \
        fractions. The n-gram baseline (--ngram-order, 0 for none) is fitted on the training split of the same \
        corpus; with --split all it has seen most of the scored text, so its scores are optimistic. --save RUN_DIR \
        writes RUN_DIR/long-range.json for `charrnn report`.

        When the checkpoint was trained with --valid-file/--test-file, its validation/test split is that file, \
        not a fraction of PATH: --split test (or validation) with no PATH scores the recorded file (the paths as \
        given at training time, relative to the directory training ran in); with a PATH, give --split all (the \
        default) to score it whole.
        """)

    enum Split: String, ExpressibleByArgument, CaseIterable { case all, test, validation }

    @Argument(help: "Checkpoint directory (or run directory, meaning its latest/).") var checkpoint: String
    @Argument(help: "Corpus files, directories, zip archives, ARCHIVE:MEMBER or -; none with --split test/validation scores the checkpoint's recorded split file.")
    var paths: [String] = []
    @Option(help: "Which part of the corpus: all, or the test/validation split by the checkpoint's fractions (default: all; test with --long-range).")
    var split: Split?
    @Option(parsing: .unconditional, help: "Parallel streams.") var batch: Int = 1
    @Option(parsing: .unconditional, help: "Window length (with --batch > 1 and --long-range; one stream is read token by token).") var bptt: Int = 200
    @Option(parsing: .unconditional, help: "Compute threads.") var threads: Int = 2
    @Option(help: "Precision of the matrix products: f32 or bf16 (operands rounded to bfloat16, f32 accumulation).")
    var precision: OperandPrecision = .f32
    @Option(help: "Score token by token through the generation path with these weights (f32, f16, bf16 or int8: see generate --help for what each costs), as one stream (--batch 1).")
    var weights: StreamStepper.WeightFormat?
    @Flag(help: "Replace ill-formed UTF-8 with U+FFFD instead of failing.") var replaceInvalid = false
    @OptionGroup var cacheOptions: TokenCacheArguments
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Long-range dependency accuracy (closing delimiters, or recall keys) with an n-gram baseline.")
    var longRange = false
    @Option(help: "Long-range task: auto (recall when the text is the synthetic recall task), delimiters or recall.")
    var task: LongRangeTaskChoice = .auto
    @Option(parsing: .unconditional, help: "Order n of the n-gram baseline for --long-range (0: no baseline).") var ngramOrder: Int = 5
    @Option(parsing: .unconditional, help: "Fit the n-gram on at most this many units: the end of the training split (bounds its memory).")
    var ngramMaxTrain: Int = 5_000_000
    @Option(help: "With --long-range: also write RUN_DIR/long-range.json (for charrnn report).") var save: String?

    func validate() throws {
        try FlagCheck.atLeast(1, batch, "--batch")
        try FlagCheck.atLeast(1, bptt, "--bptt")
        if !longRange && (save != nil || task != .auto) {
            throw ValidationError("--save and --task apply to --long-range only")
        }
        if weights != nil && (batch != 1 || longRange) {
            throw ValidationError("--weights scores one stream token by token: use it with --batch 1 and without --long-range")
        }
        if weights != nil && precision != .f32 {
            throw ValidationError("--precision applies to the window path; --weights selects the generation path's weights")
        }
        if longRange && batch != 1 { throw ValidationError("--long-range reads the text as one stream: --batch must be 1") }
        try FlagCheck.within(0...32, ngramOrder, "--ngram-order")
        try FlagCheck.atLeast(1, ngramMaxTrain, "--ngram-max-train")
        try FlagCheck.threads(threads)
    }

    func run() throws {
        try CLIErrors.reporting {
            let loaded = try Checkpoint.load(from: checkpoint)
            loaded.model.threads = threads
            loaded.model.operands = precision
            if longRange { return try runLongRange(loaded) }
            let scored = try scoredText(loaded.configuration, split: self.split ?? .all)
            let (paths, split) = (scored.paths, scored.split)
            let training = loaded.configuration.training
            let corpus = try TokenCorpus.encode(
                paths: paths, vocabulary: loaded.vocabulary,
                validationFraction: split == .all ? 0 : training.validationFraction,
                testFraction: split == .all ? 0 : training.testFraction,
                reader: CorpusReader.Options(replaceInvalid: replaceInvalid), cache: cacheOptions.tokenCache)
            let range = switch split {
            case .all: 0..<corpus.ids.count
            case .test: corpus.splits.test
            case .validation: corpus.splits.validation
            }
            let ids = corpus.ids[range]
            let unknown = ids.reduce(0) { $0 + ($1 == Vocabulary.unknownID ? 1 : 0) }
            let result = if let weights {
                Evaluator.evaluateStepwise(model: loaded.model, ids: ids, weights: weights, threads: threads,
                                           unknownUnits: unknown)
            } else {
                try Evaluator.evaluate(model: loaded.model, ids: ids, batchSize: batch, bptt: bptt, unknownUnits: unknown)
            }
            try Self.requireFinite(result, checkpoint: checkpoint)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                try StandardOutput.print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                let scope = scored.recorded.map { "\($0.rawValue) file \(paths.joined(separator: " "))" } ?? "split \(split.rawValue)"
                try StandardOutput.print("\(scope): \(result.units) units scored, \(result.unknownUnits) unknown")
                try StandardOutput.print(String(format: "%.4f nats/unit  %.4f bits/unit  perplexity %.3f",
                             result.natsPerUnit, result.bitsPerUnit, result.perplexity))
            }
        }
    }

    /// Refuses a score that is not a finite number (a model whose outputs overflow), so that neither
    /// the text nor the JSON ever shows nan or inf; names the checkpoint.
    static func requireFinite(_ result: EvaluationResult, checkpoint: String) throws {
        guard result.natsPerUnit.isFinite, result.bitsPerUnit.isFinite else {
            throw CheckpointError.malformed(checkpoint, "the model's loss on this text is not a finite number (\(result.natsPerUnit) nats/unit): its outputs overflow")
        }
        guard result.perplexity.isFinite else {
            throw CheckpointError.malformed(checkpoint, "perplexity e^\(result.natsPerUnit) overflows a double: the model is far worse than uniform on this text")
        }
    }

    /// What `eval` scores: `paths`, and the `split` of them to take; `recorded` names the split when the
    /// paths are the checkpoint's recorded split files (then scored whole, `split` = all).
    struct ScoredText {
        var paths: [String]
        var split: Split
        var recorded: Split?
    }

    /// The text to score. With no PATH and `--split test`/`validation`, the checkpoint's recorded split files,
    /// whole. A PATH with `--split test`/`validation` is cut by the checkpoint's fractions, which is refused
    /// when that split was trained from files (its fraction was not applied, so no part of PATH is that split).
    func scoredText(_ configuration: RunConfiguration, split: Split) throws -> ScoredText {
        let recorded: [String]? = switch split {
        case .all: nil
        case .test: configuration.corpus.testFiles
        case .validation: configuration.corpus.validationFiles
        }
        let flag = split == .test ? "--test-file" : "--valid-file"
        if paths.isEmpty {
            guard let recorded else {
                let why = split == .all ? "" : " (the checkpoint was not trained with \(flag), so there is no recorded \(split.rawValue) file)"
                throw CorpusError.invalidOption(name: "PATH", reason: "give a corpus PATH to score\(why)")
            }
            return ScoredText(paths: recorded, split: .all, recorded: split)
        }
        if let recorded {
            throw CorpusError.invalidOption(name: "--split \(split.rawValue)", reason: "the checkpoint's \(split.rawValue) split is the file \(recorded.joined(separator: " ")) (trained with \(flag)), not a fraction of PATH; score that file with --split all (the default), or omit PATH to score it")
        }
        return ScoredText(paths: paths, split: split, recorded: nil)
    }

    /// `--long-range`: model and n-gram scores on the chosen split (test by default).
    func runLongRange(_ loaded: Checkpoint) throws {
        let scored = try scoredText(loaded.configuration, split: self.split ?? .test)
        let (paths, split) = (scored.paths, scored.split)
        let training = loaded.configuration.training
        let reader = CorpusReader.Options(replaceInvalid: replaceInvalid)
        let corpus = try TokenCorpus.encode(
            paths: paths, vocabulary: loaded.vocabulary,
            validationFraction: scored.recorded == nil ? training.validationFraction : 0,
            testFraction: scored.recorded == nil ? training.testFraction : 0, reader: reader, cache: cacheOptions.tokenCache)
        // A recorded split file is scored whole; the n-gram baseline is then fitted on the recorded training
        // paths, cut as in training.
        let ngramTraining = scored.recorded == nil ? corpus.train
            : try TokenCorpus.encode(paths: loaded.configuration.corpus.paths, vocabulary: loaded.vocabulary,
                                     validationFraction: training.validationFraction,
                                     testFraction: training.testFraction, reader: reader, cache: cacheOptions.tokenCache).train
        let range = switch split {
        case .all: 0..<corpus.ids.count
        case .test: corpus.splits.test
        case .validation: corpus.splits.validation
        }
        guard range.count >= 2 else {
            throw DiagnosticsError.emptySplit("--split \(split.rawValue): the \(split.rawValue) split of \(paths.joined(separator: " ")) has \(range.count) unit(s) (the checkpoint's fractions: validation \(training.validationFraction), test \(training.testFraction)); use a longer text or --split all")
        }
        let order = ngramOrder > 0 ? ngramOrder : nil
        if split == .all, scored.recorded == nil, let order {
            CLIErrors.printWarning("--split all: the \(order)-gram baseline is fitted on the training split, which is part of the scored text")
        }
        let part = scored.recorded.map { "\($0.rawValue) file" } ?? "\(split.rawValue) split"
        let source = "\(paths.joined(separator: " ")) (\(part), \(range.count) units)"
        let comparison = try LongRangeComparison(
            model: loaded.model, vocabulary: loaded.vocabulary, scored: corpus.ids[range], training: ngramTraining.suffix(ngramMaxTrain),
            task: task, ngramOrder: order, bptt: bptt, source: source)
        if let entropy = comparison.crossEntropy { try Self.requireFinite(entropy, checkpoint: checkpoint) }
        if let save {
            let directory = URL(fileURLWithPath: save)
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw CheckpointError.cannotWrite(save, "cannot create the directory")
            }
            try AtomicFile.write(try comparison.report.encoded(), to: directory.appendingPathComponent("long-range.json"))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try StandardOutput.print(String(decoding: try encoder.encode(comparison.report), as: UTF8.self))
            return
        }
        try StandardOutput.print("long-range \(comparison.task.rawValue) on \(source)")
        if let entropy = comparison.crossEntropy {
            try StandardOutput.print(String(format: "model: %.4f bits/unit over %d units (%d unknown)", entropy.bitsPerUnit, entropy.units,
                         entropy.unknownUnits))
        }
        for result in comparison.report.results {
            try StandardOutput.print("")
            try StandardOutput.print(result.table())
        }
        if let save { try StandardOutput.print("\nwrote \(URL(fileURLWithPath: save).appendingPathComponent("long-range.json").path)") }
    }
}
