import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `charrnn experiment vanishing --seeds/--bptt-sweep` run as the built binary.
@Suite struct ExperimentSeedsCommandTests {
    static func run(_ arguments: [String]) throws -> CorpusCommandTests.Run { try CorpusCommandTests.run(arguments) }

    static let tiny = ["--steps", "3", "--hidden", "8", "--embed", "4", "--bptt", "10", "--batch", "2", "--eval-every", "0",
                       "--flow-length", "20", "--flow-windows", "2", "--ngram-order", "3", "--threads", "1", "--quiet"]

    static func corpus(in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("brackets.txt")
        let made = try run(["corpus", "synth", "brackets", "--size", "4000", "--max-distance", "60", "--seed", "5", "-o", url.path])
        #expect(made.status == 0, "\(made.stderr)")
        return url
    }

    @Test func twoSeedsPrintPerSeedRowsAndAnInterval() throws {
        let directory = try SharedCorpora.temporaryDirectory("experiment-seeds-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let run = try Self.run(["experiment", "vanishing", "--corpus", try Self.corpus(in: directory).path, "--out", out.path,
                                "--runs", "rnn", "--seeds", "2", "--seed", "4"] + Self.tiny)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        let summary = try #require(lines.first { $0.hasPrefix("| rnn | rnn | 0.5 | 10 | 3 | 2 |") })
        #expect(summary.contains(" ± "))
        #expect(lines.contains { $0.hasPrefix("| rnn | 4 | rnn |") } && lines.contains { $0.hasPrefix("| rnn | 5 | rnn |") })
        #expect(lines.contains { $0.hasPrefix("| 3-gram |") })
        for seed in [4, 5] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("rnn/seed-\(seed)/long-range.json").path))
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any])
        let arms = try #require(object["arms"] as? [[String: Any]])
        #expect(arms.count == 1 && (arms[0]["seeds"] as? [NSNumber])?.map(\.intValue) == [4, 5])
    }

    @Test func sweepRunsEveryWindowAtEqualCharacters() throws {
        let directory = try SharedCorpora.temporaryDirectory("experiment-sweep-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let run = try Self.run(["experiment", "vanishing", "--corpus", try Self.corpus(in: directory).path, "--out", out.path,
                                "--runs", "lstm", "--seeds", "2", "--bptt-sweep", "5,30"] + Self.tiny)
        #expect(run.status == 0, "\(run.stderr)")
        // 3 steps at T = 10 → 6 steps at T = 5 and 1 at T = 30.
        #expect(run.stdout.contains("| lstm T=5 | lstm | 0.5 | 5 | 6 | 2 |") && run.stdout.contains("| lstm T=30 | lstm | 0.5 | 30 | 1 | 2 |"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("lstm-T30/seed-2/metrics.jsonl").path))
    }

    @Test func badSeedsAndSweepAreOneLineErrors() throws {
        let directory = try SharedCorpora.temporaryDirectory("experiment-bad-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        for (arguments, flag) in [(["--seeds", "0"], "--seeds"), (["--bptt-sweep", "25,x"], "--bptt-sweep"),
                                  (["--bptt-sweep", "25,25"], "--bptt-sweep"), (["--bptt-sweep", "0"], "--bptt-sweep")] {
            let run = try Self.run(["experiment", "vanishing", "--out", out.path] + arguments)
            #expect(run.status == 1, "\(arguments)")
            #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.contains(flag), "\(arguments): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }
}
