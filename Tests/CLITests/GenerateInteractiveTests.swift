import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `charrnn generate --interactive` with its primes piped into standard input.
@Suite(.serialized) struct GenerateInteractiveTests {
    typealias CLI = CorpusCommandTests

    @Test func onePrimePerLineEqualsTheNonInteractiveRunsWithSeedPlusLine() throws {
        let (root, _, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let primes = ["abc", "", "(def) [", "“mno”"]
        for extra in [["--length", "40"], ["--length", "0", "--stop", "] ", "--max-length", "300", "--strip-stop"],
                      ["--length", "20", "--samples", "2"]] {
            let interactive = try CLI.run(["generate", out, "--interactive", "--seed", "11"] + extra,
                                          stdin: Data(primes.joined(separator: "\n").utf8 + Data("\n".utf8)))
            #expect(interactive.status == 0, "\(interactive.stderr)")
            var expected = ""
            for (index, prime) in primes.enumerated() {
                let single = try CLI.run(["generate", out, "--prime", prime, "--seed", "\(11 + index)"] + extra)
                #expect(single.status == 0, "\(single.stderr)")
                #expect(single.stdout.hasPrefix(prime) || single.stdout.hasPrefix("--- sample 1 ---\n\(prime)"))
                expected += single.stdout
            }
            #expect(interactive.stdout == expected, "\(extra)")
            let speeds = interactive.stderr.split(separator: "\n").filter { $0.hasPrefix("speed: ") && $0.contains(" units/s") }
            #expect(speeds.count == primes.count, "\(interactive.stderr)")
            #expect(!interactive.stderr.contains("seed:"), "a given seed is not printed")
        }
    }

    @Test func aBadLineIsReportedAndTheOthersGoOn() throws {
        let (root, _, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        // No final newline: the last line still counts.
        let run = try CLI.run(["generate", out, "--interactive", "--length", "15", "--seed", "4"], stdin: Data("abc\nxyz\ndef".utf8))
        #expect(run.status == 1)
        #expect(run.stderr.contains("charrnn: error: line 2: --prime:") && run.stderr.contains("not in the model's vocabulary"),
                "\(run.stderr)")
        let first = try CLI.run(["generate", out, "--prime", "abc", "--length", "15", "--seed", "4"])
        let third = try CLI.run(["generate", out, "--prime", "def", "--length", "15", "--seed", "6"])
        #expect(run.stdout == first.stdout + third.stdout)
        // --unknown skip applies per line as well.
        let skipped = try CLI.run(["generate", out, "--interactive", "--length", "15", "--seed", "4", "--unknown", "skip"],
                                  stdin: Data("xyzabc\n".utf8))
        #expect(skipped.status == 0)
        #expect(skipped.stdout == first.stdout)
    }

    @Test func seedlessInteractiveRunsPrintTheSeedOnceAndEmptyInputPrintsNothing() throws {
        let (root, _, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try CLI.run(["generate", out, "--interactive", "--length", "25"], stdin: Data("abc\ndef\n".utf8))
        #expect(run.status == 0, "\(run.stderr)")
        let seeds = run.stderr.split(separator: "\n").filter { $0.hasPrefix("seed: ") }
        #expect(seeds.count == 1)
        let seed = try #require(seeds.first.flatMap { UInt64($0.dropFirst("seed: ".count)) })
        let again = try CLI.run(["generate", out, "--interactive", "--length", "25", "--seed", "\(seed)"], stdin: Data("abc\ndef\n".utf8))
        #expect(again.stdout == run.stdout)
        #expect(run.stdout.split(separator: "\n").count == 2)

        let empty = try CLI.run(["generate", out, "--interactive", "--seed", "1"], stdin: Data())
        #expect(empty.status == 0)
        #expect(empty.stdout.isEmpty)
        let conflict = try CLI.run(["generate", out, "--interactive", "--prime", "abc"])
        #expect(conflict.status != 0 && conflict.stderr.contains("--interactive") && conflict.stderr.contains("--prime"))
    }
}
