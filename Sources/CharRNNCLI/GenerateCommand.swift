import ArgumentParser
import CharRNN
import Foundation
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
    @Option(help: "OpenBLAS threads.") var threads: Int = 1

    func validate() throws {
        if prime != nil && primeFile != nil { throw ValidationError("give --prime or --prime-file, not both") }
        do { try sampling.validate() } catch { throw ValidationError("\(error)") }
        if length < 0 { throw ValidationError("--length must be ≥ 0, got \(length)") }
        if samples < 1 { throw ValidationError("--samples must be at least 1, got \(samples)") }
    }

    var sampling: SamplingOptions { SamplingOptions(temperature: temperature, topK: topK, topP: topP, greedy: greedy) }

    func run() throws {
        try CLIErrors.reporting {
            BLAS.setThreads(1)
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
            let generator = Generator(model: loaded.model, vocabulary: loaded.vocabulary)
            let primeIDs = try generator.primeIDs(primeText, policy: unknown)
            let output = FileHandle.standardOutput
            let primeShown = loaded.vocabulary.decode(primeIDs, unknown: "<unk>")
            if samples == 1 {
                output.write(Data(primeShown.utf8))
                try generator.generate(prime: primeIDs, length: length, samples: 1, options: sampling, seed: seed) { _, unit in
                    output.write(Data(unit.utf8))
                }
                output.write(Data("\n".utf8))
            } else {
                let results = try generator.generate(prime: primeIDs, length: length, samples: samples,
                                                     options: sampling, seed: seed)
                for (index, ids) in results.enumerated() {
                    output.write(Data("--- sample \(index + 1) ---\n\(primeShown)\(loaded.vocabulary.decode(ids, unknown: "<unk>"))\n".utf8))
                }
            }
        }
    }
}
