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
        computed as one batch and printed one after another. The same --seed gives the same text; without --seed \
        a random seed is drawn and printed to standard error as `seed: N`.

        --stop S (repeatable) ends a sample right after S has been generated (matched on the generated text, \
        normalized like the model's text, across unit boundaries; a word or grapheme unit that runs past the end \
        of S is cut there). The output ends with S, or without it with --strip-stop. --stop understands the \
        escapes \\n, \\t, \\r and \\\\. --length 0 generates until a stop string, at most --max-length units \
        (default \(defaultMaxLength)).

        --interactive loads the model once and reads one prime per line from standard input until end of file \
        (an empty line: no prime); each line gets a fresh state and prints what `generate --prime LINE` prints, \
        line i (from 0) with seed S+i. The speed of each sample goes to standard error.

        --report measures the delimiters of the generated units (the prime excluded): how many closers match the \
        innermost open delimiter, by distance to it. The report goes to standard error, or with --report-json FILE \
        into FILE (one JSON object; a JSON array of one object per sample with --samples N > 1), so standard \
        output stays the text.
        """)

    /// The cap on a sample's units with --length 0 when --max-length is not given.
    static let defaultMaxLength = 10_000

    @Argument(help: "Checkpoint directory (or run directory, meaning its latest/).") var checkpoint: String
    @Option(help: "Text the model reads before sampling.") var prime: String?
    @Option(help: "File whose text is the prime.") var primeFile: String?
    @Option(help: "Prime units outside the vocabulary: error, skip or unk.") var unknown: UnknownPrimePolicy = .error
    @Option(parsing: .unconditional, help: "Units to generate per sample; 0: until a --stop string (at most --max-length units).") var length: Int = 500
    @Option(parsing: .unconditional, help: "With --length 0: the most units a sample may take without reaching a stop string (default \(defaultMaxLength)).")
    var maxLength: Int?
    @Option(help: ArgumentHelp("End a sample right after this string is generated (repeatable; escapes \\n \\t \\r \\\\).",
                               valueName: "string"))
    var stop: [String] = []
    @Flag(help: "Leave the stop string out of the output.") var stripStop = false
    @Option(parsing: .unconditional, help: "Softmax temperature (> 0).") var temperature: Double = 1
    @Option(parsing: .unconditional, help: "Sample among the K most probable units only.") var topK: Int?
    @Option(parsing: .unconditional, help: "Nucleus sampling: smallest set with probability ≥ P, P in (0, 1].") var topP: Double?
    @Flag(help: "Always take the most probable unit.") var greedy = false
    @Option(parsing: .unconditional, help: "Random seed (default: a random one, printed to standard error).") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Independent samples, computed as one batch.") var samples: Int = 1
    @Flag(help: "Read one prime per line from standard input and print a sample for each (model loaded once).")
    var interactive = false
    @Option(parsing: .unconditional, help: "Compute threads.") var threads: Int = 2
    @Option(help: "Weights as stored for sampling one stream (products accumulate in f32): f32 (the checkpoint's values, 4 bytes a weight), f16 (2 bytes; costs ~2e-6 nats/char on tinyshakespeare), bf16 (2 bytes, 8 significant bits; moved a small tinyshakespeare model's validation score by 2e-6 nats/char) or int8 (1 byte and a scale per row; 5e-5 nats/char there).")
    var weights: StreamStepper.WeightFormat = .f16
    @Flag(help: "Measure delimiter balance of the generated text; print the report to standard error.") var report = false
    @Option(help: "Write the delimiter report as JSON to this file (instead of standard error).") var reportJson: String?

    func validate() throws {
        if prime != nil && primeFile != nil { throw ValidationError("give --prime or --prime-file, not both") }
        do { try sampling.validate() } catch { throw ValidationError("\(error)") }
        try FlagCheck.atLeast(0, length, "--length")
        if length == 0 && stop.isEmpty {
            throw ValidationError("--length 0 means until a stop string: give at least one --stop (or --length N > 0)")
        }
        if let maxLength {
            if length != 0 { throw ValidationError("--max-length applies only with --length 0 (--length \(length) already bounds a sample)") }
            try FlagCheck.atLeast(1, maxLength, "--max-length")
        }
        if stripStop && stop.isEmpty { throw ValidationError("--strip-stop needs at least one --stop") }
        for string in stop { _ = try Self.unescaped(string) }
        try FlagCheck.atLeast(1, samples, "--samples")
        if interactive && (prime != nil || primeFile != nil) {
            throw ValidationError("--interactive reads the primes from standard input: leave out --prime and --prime-file")
        }
        if interactive && reportJson != nil { throw ValidationError("--report-json cannot be used with --interactive (use --report)") }
        try FlagCheck.threads(threads)
        if let primeFile {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: primeFile, isDirectory: &isDirectory) else {
                throw ValidationError("--prime-file \(primeFile): no such file")
            }
            if isDirectory.boolValue { throw ValidationError("--prime-file \(primeFile): is a directory, not a file") }
        }
    }

    var sampling: SamplingOptions { SamplingOptions(temperature: temperature, topK: topK, topP: topP, greedy: greedy) }

    var generationLength: GenerationLength {
        length == 0 ? .untilStop(maxUnits: maxLength ?? Self.defaultMaxLength) : .units(length)
    }

    /// `--stop` with its escapes resolved: `\n`, `\t`, `\r`, `\\`; any other backslash is an error.
    static func unescaped(_ string: String) throws -> String {
        var result = ""
        var escaping = false
        for character in string {
            if escaping {
                switch character {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "r": result.append("\r")
                case "\\": result.append("\\")
                default: throw ValidationError("--stop \"\(string)\": unknown escape \\\(character) (known: \\n \\t \\r \\\\)")
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        if escaping { throw ValidationError("--stop \"\(string)\": ends in a lone backslash (write \\\\ for one)") }
        return result
    }

    func run() throws {
        try CLIErrors.reporting {
            let loaded = try Checkpoint.load(from: checkpoint)
            loaded.model.threads = threads
            var primeText = prime ?? ""
            if let primeFile {
                // Opened once (a FIFO or <(…) is read completely); a directory, device or socket is refused.
                let data: Data
                do {
                    data = Data(try TextFile.contents(ofPath: primeFile))
                } catch let error as CorpusError {
                    throw GenerationError.invalidOption("--prime-file \(error)")
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw GenerationError.invalidOption("--prime-file \(primeFile): not valid UTF-8")
                }
                primeText = text
            }
            var generator = Generator(model: loaded.model, vocabulary: loaded.vocabulary)
            generator.weights = weights
            var condition: StopCondition?
            if !stop.isEmpty {
                let strings = try StopStrings(try stop.map(Self.unescaped), tokenizer: loaded.vocabulary.tokenizer)
                let unproducible = strings.unproducible(by: loaded.vocabulary)
                if !unproducible.isEmpty { throw GenerationError.unproducibleStops(unproducible) }
                condition = StopCondition(strings: strings, strip: stripStop)
            }
            let seed = self.seed ?? Self.randomSeed()
            if self.seed == nil { StandardOutput.writeError("seed: \(seed)\n") }
            if interactive {
                try runInteractive(generator: generator, stop: condition, seed: seed)
            } else {
                let primeIDs = try generator.primeIDs(primeText, policy: unknown)
                let results = try sample(generator: generator, prime: primeIDs, stop: condition, seed: seed)
                if report || reportJson != nil { try writeReports(results.map(\.ids), vocabulary: loaded.vocabulary) }
            }
        }
    }

    /// A seed from the system's random source, for runs without --seed.
    static func randomSeed() -> UInt64 {
        var source = SystemRandomNumberGenerator()
        return source.next()
    }

    /// Generates and prints the samples for one prime: one sample streams as it is drawn (prime, text,
    /// newline); several are printed one after another under `--- sample i ---`.
    func sample(generator: Generator, prime primeIDs: [Int32], stop: StopCondition?, seed: UInt64) throws -> [GeneratedSample] {
        let primeShown = generator.vocabulary.decode(primeIDs, unknown: "<unk>")
        let results: [GeneratedSample]
        if samples == 1 {
            let stream = StreamingOutput()
            stream.write(primeShown)
            results = try generator.generate(prime: primeIDs, length: generationLength, stop: stop, samples: 1,
                                             options: sampling, seed: seed) { _, bytes in
                stream.write(bytes: bytes)
            }
            stream.write("\n")
            try stream.flush()
        } else {
            results = try generator.generate(prime: primeIDs, length: generationLength, stop: stop, samples: samples,
                                             options: sampling, seed: seed)
            for (index, result) in results.enumerated() {
                try StandardOutput.write(bytes: Array("--- sample \(index + 1) ---\n\(primeShown)".utf8) + Array(result.text) + [10])
            }
        }
        if case .untilStop(let cap) = generationLength {
            for (index, result) in results.enumerated() where result.stop == nil {
                CLIErrors.printWarning("sample \(index + 1) reached --max-length \(cap) without a stop string")
            }
        }
        return results
    }

    /// `--interactive`: a prime per line of standard input, each from a fresh state with seed + line index.
    /// A line whose prime is refused gets a one-line error on standard error and no output; the others
    /// go on, and the exit status is then 1.
    func runInteractive(generator: Generator, stop: StopCondition?, seed: UInt64) throws {
        if samples == 1 { generator.prepare() }  // the weights are packed once, before the first line's clock
        var index: UInt64 = 0
        var failed = 0
        while let line = readLine(strippingNewline: true) {
            defer { index += 1 }
            let primeIDs: [Int32]
            do {
                primeIDs = try generator.primeIDs(line, policy: unknown)
            } catch {
                CLIErrors.printError("line \(index + 1): \(CLIErrors.message(for: error))")
                failed += 1
                continue
            }
            let started = DispatchTime.now().uptimeNanoseconds
            let results = try sample(generator: generator, prime: primeIDs, stop: stop, seed: seed &+ index)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let units = results.reduce(0) { $0 + $1.ids.count }
            let speed = String(format: "%.0f", Double(units) / max(seconds, 1e-9))
            StandardOutput.writeError("speed: \(speed) units/s (\(units) units in \(String(format: "%.3f", seconds)) s)\n")
            if report { try writeReports(results.map(\.ids), vocabulary: generator.vocabulary) }
        }
        if failed > 0 { throw ExitCode.failure }
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
            StandardOutput.writeError(text)
        }
    }
}
