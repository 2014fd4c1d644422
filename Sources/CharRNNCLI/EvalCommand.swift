import ArgumentParser
import CharRNN
import Foundation
import Tensor
import TextCorpus

/// `charrnn eval`: cross-entropy, bits per unit and perplexity of a checkpoint on a corpus.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint on text: nats and bits per unit, perplexity.",
        discussion: """
        Uses the checkpoint's tokenizer and vocabulary; units outside it count as <unk>. State is carried across \
        windows. --batch 1 scores the text as one stream from its first unit to its last (exact, comparable).
        """)

    enum Split: String, ExpressibleByArgument, CaseIterable { case all, test, validation }

    @Argument(help: "Checkpoint directory (or run directory, meaning its latest/).") var checkpoint: String
    @Argument(help: "Corpus files, directories or -.") var paths: [String]
    @Option(help: "Which part of the corpus: all, or the test/validation split by the checkpoint's fractions.")
    var split: Split = .all
    @Option(help: "Parallel streams.") var batch: Int = 1
    @Option(help: "Window length.") var bptt: Int = 200
    @Option(help: "OpenBLAS threads.") var threads: Int = 2
    @Flag(help: "Replace ill-formed UTF-8 with U+FFFD instead of failing.") var replaceInvalid = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if bptt < 1 { throw ValidationError("--bptt must be at least 1, got \(bptt)") }
    }

    func run() throws {
        try CLIErrors.reporting {
            BLAS.setThreads(1)
            let loaded = try Checkpoint.load(from: checkpoint)
            loaded.model.threads = threads
            let training = loaded.configuration.training
            let corpus = try TokenCorpus.encode(
                paths: paths, vocabulary: loaded.vocabulary,
                validationFraction: split == .all ? 0 : training.validationFraction,
                testFraction: split == .all ? 0 : training.testFraction,
                reader: CorpusReader.Options(replaceInvalid: replaceInvalid))
            let range = switch split {
            case .all: 0..<corpus.ids.count
            case .test: corpus.splits.test
            case .validation: corpus.splits.validation
            }
            let ids = corpus.ids[range]
            let unknown = ids.reduce(0) { $0 + ($1 == Vocabulary.unknownID ? 1 : 0) }
            let result = try Evaluator.evaluate(model: loaded.model, ids: ids, batchSize: batch, bptt: bptt,
                                                unknownUnits: unknown)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print("split \(split.rawValue): \(result.units) units scored, \(result.unknownUnits) unknown")
                print(String(format: "%.4f nats/unit  %.4f bits/unit  perplexity %.3f",
                             result.natsPerUnit, result.bitsPerUnit, result.perplexity))
            }
        }
    }
}
