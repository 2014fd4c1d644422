import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `charrnn generate --stop / --strip-stop / --length 0 / --max-length` and the drawn seed, run as the built binary.
@Suite(.serialized) struct GenerateStopSeedTests {
    typealias CLI = CorpusCommandTests

    /// The generated part of a one-sample run's output (prime and final newline removed).
    static func generated(_ stdout: String, prime: String) throws -> String {
        try #require(stdout.hasPrefix(prime) && stdout.hasSuffix("\n"), "\(stdout)")
        return String(stdout.dropFirst(prime.count).dropLast())
    }

    @Test func stopEndsTheOutputRightAfterTheStopString() throws {
        let (root, _, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let base = ["generate", out, "--prime", "abc", "--seed", "5", "--temperature", "1.3"]
        let free = try CLI.run(base + ["--length", "300"])
        #expect(free.status == 0, "\(free.stderr)")
        let text = try Self.generated(free.stdout, prime: "abc")
        // Three characters from the middle of the sample: they span several units (code points here).
        let stop = String(Array(text)[60..<63])
        let range = try #require(text.range(of: stop))
        let upTo = String(text[..<range.upperBound])
        let kept = try CLI.run(base + ["--length", "300", "--stop", stop])
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stdout == "abc" + upTo + "\n")
        #expect(try Self.generated(kept.stdout, prime: "abc").hasSuffix(stop))
        let stripped = try CLI.run(base + ["--length", "300", "--stop", stop, "--strip-stop"])
        #expect(stripped.stdout == "abc" + String(text[..<range.lowerBound]) + "\n", "\(stripped.stderr)")
        #expect(!stripped.stdout.dropFirst(3).contains(stop))
        // Until the stop string: the same text, no warning; two stops: the first to appear ends it.
        let until = try CLI.run(base + ["--length", "0", "--stop", stop])
        #expect(until.stdout == kept.stdout)
        #expect(!until.stderr.contains("warning"), "\(until.stderr)")
        let never = String(Array(text)[0..<1]) + "“”“”“”"
        let two = try CLI.run(base + ["--length", "0", "--stop", never, "--stop", stop])
        #expect(two.stdout == kept.stdout, "\(two.stderr)")
        // A stop string that does not come within --max-length units: the cap, with a warning.
        let capped = try CLI.run(base + ["--length", "0", "--stop", never, "--max-length", "25"])
        #expect(capped.status == 0)
        #expect(capped.stdout == "abc" + String(text.prefix(25)) + "\n")
        #expect(capped.stderr.contains("sample 1 reached --max-length 25 without a stop string"), "\(capped.stderr)")
        // A longer --length than the text up to the stop: the stop still ends it; a shorter one wins.
        let short = try CLI.run(base + ["--length", "10", "--stop", stop])
        #expect(short.stdout == "abc" + String(text.prefix(10)) + "\n")
    }

    @Test func eachSampleOfABatchStopsOnItsOwn() throws {
        let (root, _, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let base = ["generate", out, "--prime", "(", "--seed", "3", "--samples", "3"]
        func blocks(_ stdout: String) -> [String] {
            stdout.components(separatedBy: "--- sample ").dropFirst().map { block in
                String(block.drop { $0 != "\n" }.dropFirst().dropFirst().dropLast())  // header line, prime, final newline
            }
        }
        let free = try CLI.run(base + ["--length", "200"])
        let texts = blocks(free.stdout)
        #expect(texts.count == 3, "\(free.stdout)")
        let stop = ")"
        for strip in [false, true] {
            let run = try CLI.run(base + ["--length", "200", "--stop", stop] + (strip ? ["--strip-stop"] : []))
            #expect(run.status == 0, "\(run.stderr)")
            let stopped = blocks(run.stdout)
            #expect(stopped.count == 3)
            var cut = 0
            for (text, result) in zip(texts, stopped) {
                if let range = text.range(of: stop) {
                    #expect(result == String(text[..<(strip ? range.lowerBound : range.upperBound)]))
                    cut += 1
                } else {
                    #expect(result == text)
                }
            }
            #expect(cut >= 1, "some sample produced \(stop): \(texts)")
        }
    }

    @Test func badStopOptionsAreRefusedNamingTheFlags() throws {
        let (root, _, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        func expectFailure(_ arguments: [String], mentioning texts: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
            let run = try CLI.run(["generate", out] + arguments)
            #expect(run.status != 0, "exit status", sourceLocation: sourceLocation)
            for text in texts { #expect(run.stderr.contains(text), "\(run.stderr)", sourceLocation: sourceLocation) }
            #expect(run.stdout.isEmpty, "nothing half-written", sourceLocation: sourceLocation)
            #expect(!run.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
        }
        try expectFailure(["--length", "0"], mentioning: ["--length 0", "--stop"])
        try expectFailure(["--length", "50", "--max-length", "100"], mentioning: ["--max-length", "--length 0"])
        try expectFailure(["--length", "0", "--stop", "a", "--max-length", "0"], mentioning: ["--max-length"])
        try expectFailure(["--strip-stop"], mentioning: ["--strip-stop", "--stop"])
        try expectFailure(["--stop", "a\\q"], mentioning: ["--stop", "unknown escape \\q"])
        try expectFailure(["--stop", "ab\\"], mentioning: ["--stop", "lone backslash"])
        try expectFailure(["--stop", ""], mentioning: ["--stop", "empty"])
        // The corpus has no newline and no "x": the model cannot stop on them.
        try expectFailure(["--stop", "\\n", "--stop", "abc"], mentioning: ["--stop", "cannot produce \"\\u{a}\""])
        try expectFailure(["--stop", "ax"], mentioning: ["--stop", "cannot produce \"ax\""])
        // The escapes themselves (this corpus has no newline, tab or backslash to stop on).
        #expect(try GenerateCommand.unescaped("a\\n\\t\\r\\\\b") == "a\n\t\r\\b")
    }

    @Test func aSeedlessRunPrintsItsSeedAndThatSeedReproducesIt() throws {
        let (root, _, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let base = ["generate", out, "--prime", "abc", "--length", "60"]
        let first = try CLI.run(base)
        #expect(first.status == 0, "\(first.stderr)")
        let line = try #require(first.stderr.split(separator: "\n").first { $0.hasPrefix("seed: ") }, "\(first.stderr)")
        let seed = try #require(UInt64(line.dropFirst("seed: ".count)))
        let again = try CLI.run(base + ["--seed", "\(seed)"])
        #expect(again.stdout == first.stdout)
        #expect(!again.stderr.contains("seed:"), "a given seed is not printed")
        let second = try CLI.run(base)
        let secondLine = second.stderr.split(separator: "\n").first { $0.hasPrefix("seed: ") }
        #expect(secondLine != nil && secondLine != line, "each seedless run draws its own seed")
        // --seed gives the same text as before seeds became optional: seed 1 is the old default.
        let one = try CLI.run(base + ["--seed", "1"])
        #expect(one.stdout.count == 3 + 60 + 1)
    }

    /// Standard output as bytes (CLI.run decodes it, which would hide what bytes were written).
    static func rawOutput(_ arguments: [String]) throws -> (Int32, Data) {
        let process = Process()
        process.executableURL = try CLI.binary()
        process.arguments = arguments
        let scratch = try SharedCorpora.temporaryDirectory("charrnn-raw")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        return (process.terminationStatus, try Data(contentsOf: outURL))
    }

    /// With byte units a sample is written as its bytes (one byte per unit), and a stop string of
    /// several bytes (one character) is matched and stripped on them.
    @Test func byteUnitsAreWrittenAsTheirBytesAndStopOnMultiByteCharacters() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-byte-stop")
        defer { try? FileManager.default.removeItem(at: root) }
        let text = String(repeating: "café olé né ", count: 80)
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(text.utf8).write(to: corpus)
        let out = root.appendingPathComponent("run").path
        let train = try CLI.run(["train", corpus.path, "--unit", "byte", "--hidden", "16", "--embed", "8", "--layers", "1",
                                 "--bptt", "10", "--batch", "4", "--max-steps", "30", "--eval-every", "10",
                                 "--checkpoint-every", "10", "--threads", "1", "--lr", "0.02", "--out", out])
        #expect(train.status == 0, "\(train.stderr)")
        let allowed = Set(text.utf8).union([UInt8(ascii: "\n")])
        let (oneStatus, one) = try Self.rawOutput(["generate", out, "--length", "300", "--seed", "3"])
        #expect(oneStatus == 0 && one.count == 301)
        #expect(one.allSatisfy { allowed.contains($0) }, "only the corpus's bytes are written")
        #expect(one.contains(0xC3), "the model draws the first byte of é")
        // A batch: header line, sample line, … (this vocabulary has no newline).
        let (batchStatus, batch) = try Self.rawOutput(["generate", out, "--length", "300", "--seed", "3", "--samples", "2"])
        #expect(batchStatus == 0)
        let lines = batch.split(separator: 10, omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 4)
        for (index, line) in lines.enumerated() where index % 2 == 1 {
            #expect(line.count == 300 && line.allSatisfy { allowed.contains($0) })
        }
        let (status, stripped) = try Self.rawOutput(["generate", out, "--length", "300", "--seed", "3",
                                                     "--stop", "é", "--strip-stop"])
        #expect(status == 0)
        let (_, free) = try Self.rawOutput(["generate", out, "--length", "300", "--seed", "3"])
        let generated = Array(free.dropLast())  // the final newline
        let stop: [UInt8] = [0xC3, 0xA9]
        let end = try #require((0..<(generated.count - 1)).first { generated[$0] == stop[0] && generated[$0 + 1] == stop[1] },
                               "the sample holds an é")
        #expect(Array(stripped) == Array(generated[..<end]) + [10])
    }

    @Test func helpListsTheNewOptions() {
        let help = GenerateCommand.helpMessage()
        for option in ["--stop", "--strip-stop", "--max-length", "--interactive", "--seed"] {
            #expect(help.contains(option), "generate help lacks \(option)")
        }
    }
}
