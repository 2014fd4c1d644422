import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `generate --weights bf16|int8`, `eval --batch 1 --weights bf16|int8` and `bench --sample-weights`
/// end to end on a tiny trained run, and a bad value.
@Suite(.serialized) struct LowPrecisionWeightsCommandTests {
    typealias CLI = CorpusCommandTests

    static func nats(_ run: CLI.Run) throws -> Double { try WeightsCommandTests.nats(run) }

    @Test func evalAndGenerateTakeBF16AndInt8() throws {
        let (root, corpus, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let f32 = try Self.nats(try CLI.run(["eval", out, corpus, "--json", "--weights", "f32"]))
        var scores: [String: Double] = [:]
        for weights in ["bf16", "int8"] {
            let nats = try Self.nats(try CLI.run(["eval", out, corpus, "--json", "--weights", weights]))
            // A model of 16 units: the rounding moves the score a little, not much.
            #expect(abs(nats - f32) < 0.02 * f32, "\(weights): \(nats) vs f32 \(f32)")
            scores[weights] = nats
            let sample = ["generate", out, "--prime", "abc", "--length", "40", "--seed", "9", "--weights", weights]
            let two = try CLI.run(sample)
            let one = try CLI.run(sample + ["--threads", "1"])
            #expect(two.status == 0 && two.stdout.hasPrefix("abc"), "\(two.stderr)")
            #expect(two.stdout.count >= 43)
            #expect(one.stdout == two.stdout, "\(weights): the thread count does not change the sample")
        }
        // int8 (7 bits and a sign per weight) is not the same function as f32.
        #expect(scores["int8"] != f32)
    }

    @Test func benchReportsTheSampleWeights() throws {
        let (root, corpus) = try BenchCommandTests.tinyCorpus()
        defer { try? FileManager.default.removeItem(at: root) }
        for weights in ["bf16", "int8"] {
            let run = try CLI.run(["bench", "--cell", "gru", "--hidden", "40", "--embed", "8", "--batch", "2", "--bptt", "4",
                                   "--steps", "1", "--sample", "50", "--threads", "2", "--sample-weights", weights, "--json", corpus.path])
            #expect(run.status == 0, "\(run.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect(object["sample_weights"] as? String == weights)
            #expect((object["sample_chars_per_s"] as? NSNumber).map { $0.doubleValue > 0 } == true)
        }
    }

    @Test func helpListsTheFormatsAndABadValueGetsOneLine() throws {
        let help = try CLI.run(["generate", "--help"])
        for format in ["f32", "f16", "bf16", "int8"] { #expect(help.stdout.contains(format), "\(format)") }
        let (root, corpus, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        for arguments in [["generate", out, "--weights", "int4"], ["eval", out, corpus, "--weights", "int4"],
                          ["eval", out, corpus, "--weights", "int8", "--batch", "4"]] {
            let run = try CLI.run(arguments)
            let lines = run.stderr.split(separator: "\n")
            #expect(run.status != 0 && run.stdout.isEmpty, "\(arguments)")
            #expect(lines.count == 1, "\(run.stderr)")
            #expect(run.stderr.contains(arguments.contains("int4") ? "'int8'" : "--batch 1"), "\(run.stderr)")
            #expect(run.stderr.contains("--weights"))
        }
    }
}
