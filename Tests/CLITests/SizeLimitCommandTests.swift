import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// Issue 11, classes 1 and 2 as the binary shows them: sizes from options and files are refused with
/// one line saying what they would need, before anything is allocated or written; file hints are hints.
@Suite(.serialized) struct SizeLimitCommandTests {
    typealias CLI = CorpusCommandTests

    /// The error lines of a run (ArgumentParser adds usage lines after a ValidationError).
    static func errorLines(_ run: CLI.Run) -> [Substring] {
        run.stderr.split(separator: "\n").filter { !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See ") }
    }

    /// A refusal: a clean non-zero exit (not a signal), one error line naming `flag value` and the need.
    static func expectRefusal(_ run: CLI.Run, _ prefix: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 1 || run.status == 64, "status \(run.status): \(run.stderr)", sourceLocation: sourceLocation)
        let lines = errorLines(run)
        #expect(lines.count == 1, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(lines.first?.contains(prefix) == true, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(lines.first?.contains("of memory; this machine has ") == true, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("backtrace"), sourceLocation: sourceLocation)
    }

    @Test func trainRefusesSizesBeyondTheMachineBeforeWritingAnything() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-sizes")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(String(repeating: "to be or not to be ", count: 40).utf8).write(to: corpus)
        let out = root.appendingPathComponent("run").path
        for (flags, prefix) in [
            (["--hidden", "1000000000"], "--hidden 1000000000: training would need "),
            (["--embed", "1000000000"], "--embed 1000000000: training would need "),
            (["--layers", "1000000000"], "--layers 1000000000: training would need "),
            (["--batch", "100000000", "--bptt", "1000"], "--batch 100000000: training would need "),
            (["--bptt", "9000000000000"], "--bptt 9000000000000: training would need "),
        ] {
            let run = try CLI.run(["train", corpus.path, "--out", out, "--quiet"] + flags)
            Self.expectRefusal(run, prefix)
            #expect(!FileManager.default.fileExists(atPath: out), "\(flags)")
        }
        // The need is computed, not a fixed cap: the default model fits 24 GiB but not 1 MiB.
        let limited = try CLI.run(["train", corpus.path, "--out", out, "--quiet", "--max-steps", "1"],
                                  environment: ["CHARRNN_MEMORY_LIMIT": "1M"])
        Self.expectRefusal(limited, "training would need ")
        #expect(limited.stderr.contains("this machine has 1.0 MiB"), "\(limited.stderr)")
    }

    @Test func checkpointConfigSizesAreCheckedBeforeLoadingWeights() throws {
        let (root, corpus, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = URL(fileURLWithPath: "\(out)/latest/config.json")
        let original = try String(contentsOf: config, encoding: .utf8)
        for (key, value) in [("embeddingSize", "1099511627776"), ("layers", "100000000"), ("hiddenSize", "4000000000")] {
            let pattern = try NSRegularExpression(pattern: "\"\(key)\"\\s*:\\s*[0-9]+")
            let edited = pattern.stringByReplacingMatches(in: original, range: NSRange(original.startIndex..., in: original),
                                                          withTemplate: "\"\(key)\" : \(value)")
            #expect(edited != original, "\(key) not found in config.json")
            try Data(edited.utf8).write(to: config)
            for arguments in [["generate", out, "--length", "5"], ["eval", out, corpus]] {
                let run = try CLI.run(arguments)
                Self.expectRefusal(run, "\(key) \(value): the model would need ")
                #expect(run.stderr.contains("config.json"), "\(run.stderr)")
            }
        }
    }

    @Test func evalRefusesAWindowBeyondTheMachine() throws {
        let (root, corpus, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        // 4 streams × the whole stream as one window fits; under a 64 KiB limit it does not.
        let fits = try CLI.run(["eval", out, corpus, "--batch", "4", "--bptt", "1000000000000"])
        #expect(fits.status == 0, "\(fits.stderr)")
        let limited = try CLI.run(["eval", out, corpus, "--batch", "4", "--bptt", "1000000000000"],
                                  environment: ["CHARRNN_MEMORY_LIMIT": "64K"])
        Self.expectRefusal(limited, "--bptt ")
        #expect(limited.stderr.contains("evaluation would need "), "\(limited.stderr)")
        #expect(limited.status == 1)
    }

    @Test func synthRefusesASizeBeyondTheMachine() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-sizes-synth")
        defer { try? FileManager.default.removeItem(at: root) }
        let output = root.appendingPathComponent("big.txt").path
        for size in ["1000000000000", "9223372036854775807"] {
            let run = try CLI.run(["corpus", "synth", "brackets", "--size", size, "-o", output])
            Self.expectRefusal(run, "--size \(size): the corpus would need ")
            #expect(run.status == 1)
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        let small = try CLI.run(["corpus", "synth", "brackets", "--size", "1000", "-o", output])
        #expect(small.status == 0, "\(small.stderr)")
        #expect(try String(contentsOfFile: output, encoding: .utf8).count == 1000)
    }

    /// A gzip trailer's ISIZE forged to 0xFFFFFFFF is a hint: no 4 GiB reservation per file, no abort.
    @Test func aForgedGzipSizeIsNotAReservation() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-sizes-gzip")
        defer { try? FileManager.default.removeItem(at: root) }
        let plain = root.appendingPathComponent("a.txt")
        try Data(String(repeating: "the quick brown fox ", count: 350).utf8).write(to: plain)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-k", "-n", plain.path]
        try gzip.run(); gzip.waitUntilExit()
        try #require(gzip.terminationStatus == 0)
        var data = try Data(contentsOf: root.appendingPathComponent("a.txt.gz"))
        data.replaceSubrange((data.count - 4)..<data.count, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let forged = [root.appendingPathComponent("f1.gz"), root.appendingPathComponent("f2.gz")]
        for url in forged { try data.write(to: url) }
        // Taken as a reservation, 2 × 4 Gi ids at 4 bytes (34 GB) aborted in malloc.
        let run = try CLI.run(["corpus", "inspect"] + forged.map(\.path))
        #expect(run.status == 0 || run.status == 1, "\(run.stderr)")
        #expect(!run.stderr.contains("Fatal error"))
        #expect(run.stderr.split(separator: "\n").count <= 1, "\(run.stderr)")
        if run.status == 1 { #expect(run.stderr.contains("f1.gz"), "\(run.stderr)") }
    }
}
