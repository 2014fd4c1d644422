import ArgumentParser
import CharRNN
import Foundation
import NeuralNet

/// `charrnn experiment real-text`: LSTM, GRU and vanilla RNN against 5- and 20-gram baselines on real
/// code and prose (after Karpathy, Johnson & Fei-Fei 2015).
struct RealTextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "real-text",
        abstract: "Long-range memory on real text: LSTM, GRU, RNN against 5- and 20-gram baselines.",
        discussion: """
        For every corpus (\(RealTextExperiment.standardCorpora.map(\.name).joined(separator: ", "))), reads at most \
        --max-bytes of it (cut at a line end), splits it 85/5/10 %, trains every cell with the same budget and fits \
        the n-grams on the training split, then measures each on the test split: test bits per character, \
        closing-delimiter type accuracy by distance, the position-aware measure (an error is P(right closer) < 0.5 \
        at the closer's step) and the error breakdown (of each n-gram's errors at closers, the share each model \
        gets right). A corpus whose file is absent is skipped with a one-line note. Writes OUT/<corpus>/<run>/, \
        OUT/<corpus>/<n>-gram/, OUT/<corpus>/report.html, OUT/summary.json and OUT/results.md, and prints the tables.
        """)

    @Option(help: "Output directory.") var out: String = "runs/real-text"
    @Option(help: "Comma-separated subset of the corpora (default: all).") var corpora: String?
    @Option(help: "The shared corpora folder.") var shared: String = "../shared/corpora"
    @Option(help: "The project folder holding corpora/ (for tinyshakespeare).") var project: String = "."
    @Option(parsing: .unconditional, help: "At most this many bytes of each corpus (cut at a line end).") var maxBytes: Int = 1_000_000
    @Option(parsing: .unconditional, help: "Optimizer steps per run.") var steps: Int = 2000
    @Option(parsing: .unconditional, help: "Hidden size.") var hidden: Int = 128
    @Option(parsing: .unconditional, help: "Embedding size.") var embed: Int = 32
    @Option(parsing: .unconditional, help: "Steps per truncated-BPTT window (T).") var bptt: Int = 100
    @Option(parsing: .unconditional, help: "Parallel streams (B).") var batch: Int = 32
    @Option(parsing: .unconditional, help: "Adam learning rate.") var lr: Double = 2e-3
    @Option(parsing: .unconditional, help: "Global-norm clipping threshold of every run (0: off).") var clipNorm: Double = 5
    @Option(help: "Comma-separated cells to train (lstm, gru, rnn).") var cells: String = "lstm,gru,rnn"
    @Option(help: "Comma-separated n-gram orders (1 to 32).") var ngramOrders: String = "5,20"
    @Option(parsing: .unconditional, help: "Evaluate the validation split every N steps (and at the end).") var evalEvery: Int = 500
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "Compute threads.") var threads: Int = 2
    @Flag(help: "No progress output.") var quiet = false

    func options() throws -> RealTextExperiment.Options {
        var options = RealTextExperiment.Options()
        options.output = URL(fileURLWithPath: out)
        options.sharedDirectory = URL(fileURLWithPath: shared)
        options.projectDirectory = URL(fileURLWithPath: project)
        if let corpora {
            let all = RealTextExperiment.standardCorpora
            options.corpora = try Self.list(corpora, "--corpora").map { name in
                guard let spec = all.first(where: { $0.name == name }) else {
                    throw ValidationError("--corpora: unknown corpus '\(name)'; known: \(all.map(\.name).joined(separator: ", "))")
                }
                return spec
            }
        }
        options.maxBytes = maxBytes
        options.steps = steps
        options.hidden = hidden
        options.embedding = embed
        options.bptt = bptt
        options.batchSize = batch
        options.learningRate = lr
        options.clipNorm = clipNorm > 0 ? clipNorm : nil
        options.cells = try Self.list(cells, "--cells").map { name in
            guard let cell = CellKind(rawValue: name) else {
                throw ValidationError("--cells: unknown cell '\(name)'; known: \(CellKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return cell
        }
        options.ngramOrders = try Self.list(ngramOrders, "--ngram-orders").map { text in
            guard let order = Int(text), (1...32).contains(order) else {
                throw ValidationError("--ngram-orders: '\(text)' is not an order between 1 and 32")
            }
            return order
        }
        options.evalEvery = evalEvery
        options.seed = seed
        options.threads = threads
        if let problem = options.validationError { throw ValidationError(problem) }
        return options
    }

    /// The non-empty, trimmed items of a comma-separated flag value.
    static func list(_ text: String, _ flag: String) throws -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.contains(where: \.isEmpty) else { throw ValidationError("\(flag): empty item in '\(text)'") }
        return items
    }

    func validate() throws {
        try FlagCheck.atLeast(1, maxBytes, "--max-bytes")
        try FlagCheck.atLeast(1, steps, "--steps")
        try FlagCheck.atLeast(1, hidden, "--hidden")
        try FlagCheck.atLeast(1, embed, "--embed")
        try FlagCheck.atLeast(1, bptt, "--bptt")
        try FlagCheck.atLeast(1, batch, "--batch")
        try FlagCheck.positive(lr, "--lr")
        try FlagCheck.nonNegative(clipNorm, "--clip-norm")
        try FlagCheck.atLeast(0, evalEvery, "--eval-every")
        try FlagCheck.threads(threads)
        _ = try options()
    }

    func run() throws {
        try CLIErrors.reporting {
            let experiment = try RealTextExperiment(options: try options())
            let outcome = try experiment.run { note in
                if !quiet { StandardOutput.writeError("\(note)\n") }
            }
            try StandardOutput.print(outcome.table, terminator: "")
            if !quiet {
                for report in outcome.reports { StandardOutput.writeError("wrote \(report.path)\n") }
            }
        }
    }
}
