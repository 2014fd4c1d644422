import ArgumentParser
import CharRNN
import Foundation
import NeuralNet

/// `charrnn experiment`: reproducible experiments built from the library.
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run a reproducible experiment (train several models, measure, report).",
        subcommands: [VanishingCommand.self, RealTextCommand.self])
}

/// `charrnn experiment vanishing`: vanilla RNN vs LSTM vs GRU, clipping on/off, skip connections,
/// with the same budget on the brackets corpus.
struct VanishingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vanishing",
        abstract: "Vanishing gradients made visible: RNN vs LSTM vs GRU, clipping, skip connections.",
        discussion: """
        Trains every run with the same budget (steps, sizes, learning rate) on the corpus, once per seed \
        (--seed, --seed + 1, … --seeds in all), then measures each trained model on the corpus's test split: \
        long-range accuracy by distance (beside an n-gram baseline), validation and test bits per unit, \
        gradient-flow decay factor, clip rate. Writes OUT/<run>/seed-<s>/ (metrics.jsonl, config.json, \
        gradient-flow.json, long-range.json, checkpoints), OUT/<n>-gram/, OUT/report.html, OUT/summary.json \
        and OUT/results.md, and prints the tables: mean ± 95 % interval (Student t) over the seeds, then one \
        row per seed.

        With --bptt-sweep 25,50,100,200,400 every run is trained at each window length T with \
        round(--steps × --bptt / T) steps (equal characters of training) into OUT/<run>-T<T>/seed-<s>/; the \
        table then tells accuracy at distances inside the window (≤ T) from beyond it (> T). Default runs \
        of a sweep: rnn, lstm, gru.

        Distance buckets: 1-10, 11-25, 26-50, 51-100, 101-200, 201-300, 301-400, 401-500, >500.

        Runs: \(VanishingExperiment.standardArms(clipNorm: 0.5).map(\.name).joined(separator: ", ")).
        """)

    @Option(help: "Corpus files.") var corpus: [String] = ["corpora/synth/brackets.txt"]
    @Option(help: "Output directory.") var out: String = "runs/vanishing"
    @Option(parsing: .unconditional, help: "Optimizer steps per run.") var steps: Int = 1500
    @Option(parsing: .unconditional, help: "Hidden size.") var hidden: Int = 128
    @Option(parsing: .unconditional, help: "Embedding size.") var embed: Int = 32
    @Option(parsing: .unconditional, help: "Steps per truncated-BPTT window (T).") var bptt: Int = 100
    @Option(parsing: .unconditional, help: "Parallel streams (B).") var batch: Int = 32
    @Option(parsing: .unconditional, help: "Adam learning rate.") var lr: Double = 2e-3
    @Option(parsing: .unconditional, help: "Global-norm clipping threshold of the runs with clipping.") var clipNorm: Double = 0.5
    @Option(help: "Comma-separated subset of the runs (default: all).") var runs: String?
    @Option(parsing: .unconditional, help: "Evaluate the validation split every N steps (and at the end).") var evalEvery: Int = 200
    @Option(parsing: .unconditional, help: "Order of the n-gram baseline (0: none).") var ngramOrder: Int = 5
    @Option(parsing: .unconditional, help: "Window length of the gradient-flow measurement.") var flowLength: Int = 100
    @Option(parsing: .unconditional, help: "Windows of the gradient-flow measurement.") var flowWindows: Int = 20
    @Option(parsing: .unconditional, help: "First random seed.") var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "Seeds per run (--seed, --seed + 1, …); intervals need at least 2.") var seeds: Int = 3
    @Option(help: "Comma-separated window lengths T to train every run at, with equal characters (steps × T × batch).")
    var bpttSweep: String?
    @Option(parsing: .unconditional, help: "Compute threads.") var threads: Int = 2
    @Flag(help: "No progress output.") var quiet = false

    func options() throws -> VanishingExperiment.Options {
        var options = VanishingExperiment.Options()
        options.corpus = corpus
        options.output = URL(fileURLWithPath: out)
        options.steps = steps
        options.hidden = hidden
        options.embedding = embed
        options.bptt = bptt
        options.batchSize = batch
        options.learningRate = lr
        options.clipNorm = clipNorm
        options.evalEvery = evalEvery
        options.ngramOrder = ngramOrder > 0 ? ngramOrder : nil
        options.flowLength = flowLength
        options.flowWindows = flowWindows
        options.seed = seed
        options.seeds = seeds
        if let bpttSweep {
            options.bpttSweep = try bpttSweep.split(separator: ",", omittingEmptySubsequences: false).map { item in
                let text = item.trimmingCharacters(in: .whitespaces)
                guard let value = Int(text), value >= 1 else {
                    throw ValidationError("--bptt-sweep: '\(text)' is not a window length (an integer of at least 1)")
                }
                return value
            }
        }
        options.threads = threads
        if let runs {
            let all = VanishingExperiment.standardArms(clipNorm: clipNorm)
            options.arms = try runs.split(separator: ",").map { name in
                let trimmed = name.trimmingCharacters(in: .whitespaces)
                guard let arm = all.first(where: { $0.name == trimmed }) else {
                    throw ValidationError("--runs: unknown run '\(trimmed)'; known: \(all.map(\.name).joined(separator: ", "))")
                }
                return arm
            }
        }
        if let problem = options.validationError { throw ValidationError(problem) }
        return options
    }

    func validate() throws {
        try FlagCheck.positive(lr, "--lr")
        try FlagCheck.positive(clipNorm, "--clip-norm")
        try FlagCheck.atLeast(0, evalEvery, "--eval-every")
        try FlagCheck.within(0...32, ngramOrder, "--ngram-order")
        try FlagCheck.threads(threads)
        try FlagCheck.within(1...1000, seeds, "--seeds")
        _ = try options()
    }

    func run() throws {
        try CLIErrors.reporting {
            // Under mpirun the jobs (arm × window × seed) are dealt over the ranks; rank 0 writes.
            let communicator = try RankFailure.communicator()
            try RankFailure.reporting(communicator) {
                let experiment = try VanishingExperiment(options: try options())
                let outcome = try experiment.run(over: communicator) { note in
                    if !quiet { StandardOutput.writeError("\(note)\n") }
                }
                guard let outcome else { return }
                try StandardOutput.print(outcome.table, terminator: "")
                if !quiet { StandardOutput.writeError("wrote \(outcome.report.path)\n") }
            }
        }
    }
}
