import ArgumentParser
import Foundation
import TextCorpus

/// `charrnn corpus bench PATH…` (hidden): ingest throughput and peak memory, for BENCHMARKS.md.
struct CorpusBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure corpus ingest throughput (read + gunzip + normalize + segment + encode) and peak RSS.",
        shouldDisplay: false
    )

    @Argument(help: "Files or directories.")
    var paths: [String]

    @OptionGroup var tokenizer: TokenizerArguments

    @Option(parsing: .unconditional, help: "Timed repetitions (the best is reported).")
    var repeats: Int = 3

    func validate() throws { try FlagCheck.atLeast(1, repeats, "--repeats") }

    func run() throws {
        try CLIErrors.reporting {
            var best = Double.infinity
            var corpus: TokenCorpus?
            for _ in 0..<max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                corpus = try TokenCorpus.load(paths: paths, tokenizer: tokenizer.options)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                best = min(best, seconds)
            }
            guard let corpus else { return }
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let megabytes = Double(corpus.statistics.reading.bytes) / 1e6
            func f(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
            let stats = corpus.statistics
            let line = "\(paths.joined(separator: " ")): \(f(megabytes, 2)) MB decoded"
                + " (\(f(Double(stats.reading.storedBytes) / 1e6, 2)) MB stored), \(stats.units) units,"
                + " vocabulary \(corpus.vocabulary.count): best \(f(best, 3)) s = \(f(megabytes / best, 1)) MB/s;"
                + " peak RSS \(f(Double(usage.ru_maxrss) / 1024, 1)) MB"
            try writeStandardOutput(line)
        }
    }
}
