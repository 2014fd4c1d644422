import ArgumentParser
import CharRNN
import Foundation
import NeuralNet
import Tensor
import TextCorpus

extension UnknownPrimePolicy: ExpressibleByArgument {}

/// `charrnn generate`: sample text from a checkpoint.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a checkpoint.",
        discussion: """
        Prints the prime, then streams the sampled units as they are produced. With --samples N the samples are \
        computed as one batch and printed one after another. The same --seed gives the same text.

        --report measures the delimiters of the generated units (the prime excluded): how many closers match the \
        innermost open delimiter, by distance to it. The report goes to standard error, or with --report-json FILE \
        into FILE (one JSON object; a JSON array of one object per sample with --samples N > 1), so standard \
        output stays the text.
        """)

    @Argument(help: "Checkpoint directory (or run directory, meaning its latest/).") var checkpoint: String
    @Option(help: "Text the model reads before sampling.") var prime: String?
    @Option(help: "File whose text is the prime.") var primeFile: String?
    @Option(help: "Prime units outside the vocabulary: error, skip or unk.") var unknown: UnknownPrimePolicy = .error
    @Option(help: "Units to generate per sample.") var length: Int = 500
    @Option(help: "Softmax temperature (> 0).") var temperature: Double = 1
    @Option(help: "Sample among the K most probable units only.") var topK: Int?
    @Option(help: "Nucleus sampling: smallest set with probability ≥ P, P in (0, 1].") var topP: Double?
    @Flag(help: "Always take the most probable unit.") var greedy = false
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Independent samples, computed as one batch.") var samples: Int = 1
    @Option(help: "Compute threads.") var threads: Int = 2
    @Option(help: "Weights as stored for sampling one stream: f16 (half the memory traffic; costs ~2e-6 nats/char on tinyshakespeare) or f32 (the checkpoint's values).")
    var weights: StreamStepper.WeightFormat = .f16
    @Flag(help: "Measure delimiter balance of the generated text; print the report to standard error.") var report = false
    @Option(help: "Write the delimiter report as JSON to this file (instead of standard error).") var reportJson: String?

    func validate() throws {
        if prime != nil && primeFile != nil { throw ValidationError("give --prime or --prime-file, not both") }
        do { try sampling.validate() } catch { throw ValidationError("\(error)") }
        if length < 0 { throw ValidationError("--length must be ≥ 0, got \(length)") }
        if samples < 1 { throw ValidationError("--samples must be at least 1, got \(samples)") }
    }

    var sampling: SamplingOptions { SamplingOptions(temperature: temperature, topK: topK, topP: topP, greedy: greedy) }

    func run() throws {
        try CLIErrors.reporting {
            let loaded = try Checkpoint.load(from: checkpoint)
            loaded.model.threads = threads
            var primeText = prime ?? ""
            if let primeFile {
                guard let data = FileManager.default.contents(atPath: primeFile) else {
                    throw CorpusError.missingPath(primeFile)
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw GenerationError.invalidOption("--prime-file \(primeFile): not valid UTF-8")
                }
                primeText = text
            }
            var generator = Generator(model: loaded.model, vocabulary: loaded.vocabulary)
            generator.weights = weights
            let primeIDs = try generator.primeIDs(primeText, policy: unknown)
            let output = FileHandle.standardOutput
            let primeShown = loaded.vocabulary.decode(primeIDs, unknown: "<unk>")
            let results: [[Int32]]
            if samples == 1 {
                let stream = StreamingOutput(output)
                stream.write(primeShown)
                results = try generator.generate(prime: primeIDs, length: length, samples: 1, options: sampling, seed: seed) { _, unit in
                    stream.write(unit)
                }
                stream.write("\n")
                stream.flush()
            } else {
                results = try generator.generate(prime: primeIDs, length: length, samples: samples,
                                                 options: sampling, seed: seed)
                for (index, ids) in results.enumerated() {
                    output.write(Data("--- sample \(index + 1) ---\n\(primeShown)\(loaded.vocabulary.decode(ids, unknown: "<unk>"))\n".utf8))
                }
            }
            if report || reportJson != nil { try writeReports(results, vocabulary: loaded.vocabulary) }
        }
    }

    /// `--report` / `--report-json`: delimiter balance of each sample's generated units.
    func writeReports(_ samples: [[Int32]], vocabulary: Vocabulary) throws {
        let reports = samples.map { ids in GeneratedTextDelimiterReport(units: ids.map { vocabulary.unit(of: $0) }) }
        if let reportJson {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = reports.count == 1 ? try encoder.encode(reports[0]) : try encoder.encode(reports)
            try AtomicFile.write(data, to: URL(fileURLWithPath: reportJson))
        } else {
            var text = ""
            for (index, report) in reports.enumerated() {
                if reports.count > 1 { text += "sample \(index + 1): " }
                text += report.rendered + "\n"
            }
            FileHandle.standardError.write(Data(text.utf8))
        }
    }
}
