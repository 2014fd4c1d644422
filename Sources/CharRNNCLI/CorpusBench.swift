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

    @Option(help: "Timed repetitions (the best is reported).")
    var repeats: Int = 3

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
            let line = String(format: "%@: %.2f MB decoded (%.2f MB stored), %d units, vocabulary %d: best %.3f s = %.1f MB/s; peak RSS %.1f MB",
                              paths.joined(separator: " "), megabytes, Double(corpus.statistics.reading.storedBytes) / 1e6,
                              corpus.statistics.units, corpus.vocabulary.count, best, megabytes / best,
                              Double(usage.ru_maxrss) / 1024)
            writeStandardOutput(line)
        }
    }
}
