import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// End-to-end runs of `charrnn train`, `eval` and `generate` on a small corpus, and their bad inputs.
@Suite(.serialized) struct TrainEvalGenerateCommandTests {
    typealias CLI = CorpusCommandTests

    static let corpusText = String(repeating: "abc (def) [ghi] {jkl} “mno” ", count: 60)

    /// Trains a tiny model once per call into a fresh directory; returns (root, corpus path, run path).
    static func trainedRun() throws -> (URL, String, String) {
        let root = try SharedCorpora.temporaryDirectory("charrnn-cli-train")
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(corpusText.utf8).write(to: corpus)
        let out = root.appendingPathComponent("run").path
        let run = try CLI.run(["train", corpus.path, "--hidden", "16", "--embed", "8", "--layers", "1", "--bptt", "10",
                               "--batch", "4", "--max-steps", "12", "--eval-every", "6", "--checkpoint-every", "6",
                               "--threads", "1", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        return (root, corpus.path, out)
    }

    @Test func trainPrintsSizesAndWritesTheRunDirectory() throws {
        let (root, _, out) = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        for file in ["metrics.jsonl", "config.json", "latest/model.safetensors", "latest/trainer-state.json",
                     "latest/trainer-state.safetensors", "latest/vocab.json", "best/model.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file)")
        }
        let lines = try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 12 + 2)
    }

    @Test func evalJSONAndGenerateDeterminism() throws {
        let (root, corpus, out) = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let eval = try CLI.run(["eval", out, corpus, "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let nats = try #require(object["nats_per_unit"] as? Double)
        let bits = try #require(object["bits_per_unit"] as? Double)
        #expect(abs(bits - nats / log(2)) < 1e-9)
        #expect((object["units"] as? Int) == Self.corpusText.count - 1)
        #expect((object["unknown_units"] as? Int) == 0)
        #expect(object["perplexity"] is Double)
        // One stream is scored on the generation engine in f32: `--weights f32` is the same figure;
        // f16 weights stay within their rounding.
        for (weights, tolerance) in [("f32", 0.0), ("f16", 2e-3)] {
            let stepwise = try CLI.run(["eval", out, corpus, "--json", "--weights", weights])
            #expect(stepwise.status == 0, "\(stepwise.stderr)")
            let result = try #require(try JSONSerialization.jsonObject(with: Data(stepwise.stdout.utf8)) as? [String: Any])
            let stepNats = try #require(result["nats_per_unit"] as? Double)
            #expect(abs(stepNats - nats) <= tolerance, "\(weights): \(stepNats) vs \(nats)")
            #expect((result["units"] as? Int) == Self.corpusText.count - 1)
        }

        let first = try CLI.run(["generate", out, "--prime", "abc", "--length", "40", "--seed", "9"])
        let second = try CLI.run(["generate", out, "--prime", "abc", "--length", "40", "--seed", "9"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == second.stdout)
        #expect(first.stdout.hasPrefix("abc") && first.stdout.count == 3 + 40 + 1)
        let batch = try CLI.run(["generate", out, "--length", "10", "--samples", "3"])
        #expect(batch.stdout.components(separatedBy: "--- sample").count == 4)
        // Half-precision weights, one or two threads: a valid sample of the same length, deterministic.
        let half = try CLI.run(["generate", out, "--prime", "abc", "--length", "40", "--seed", "9", "--weights", "f16"])
        let exact = try CLI.run(["generate", out, "--prime", "abc", "--length", "40", "--seed", "9", "--weights", "f32"])
        #expect(exact.status == 0 && exact.stdout.count == 3 + 40 + 1, "\(exact.stderr)")
        #expect(half.stdout == first.stdout, "f16 is the default")
        let halfOneThread = try CLI.run(["generate", out, "--prime", "abc", "--length", "40", "--seed", "9", "--weights", "f16",
                                         "--threads", "1"])
        #expect(half.status == 0, "\(half.stderr)")
        #expect(half.stdout.hasPrefix("abc") && half.stdout.count == 3 + 40 + 1)
        #expect(half.stdout == halfOneThread.stdout)
    }

    @Test func badInputsGetOneLineErrors() throws {
        let (root, corpus, out) = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        func expectFailure(_ arguments: [String], mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let run = try CLI.run(arguments)
            #expect(run.status != 0, "exit status", sourceLocation: sourceLocation)
            #expect(run.stderr.contains(text), "\(run.stderr)", sourceLocation: sourceLocation)
            #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
        }
        try expectFailure(["generate", out, "--temperature", "0"], mentioning: "--temperature")
        try expectFailure(["generate", out, "--top-p", "1.5"], mentioning: "--top-p")
        try expectFailure(["generate", out, "--weights", "f8"], mentioning: "--weights")
        try expectFailure(["eval", out, corpus, "--weights", "f16", "--batch", "4"], mentioning: "--batch 1")
        try expectFailure(["eval", out, corpus, "--weights", "f32", "--long-range"], mentioning: "without --long-range")
        try expectFailure(["generate", out, "--prime", "xyz"], mentioning: "not in the model's vocabulary")
        try expectFailure(["train", corpus, "--bptt", "100", "--batch", "50", "--out", "\(root.path)/small"], mentioning: "too short")
        try expectFailure(["train", corpus, "--hidden", "24", "--embed", "8", "--layers", "1", "--bptt", "10", "--batch", "4",
                           "--max-steps", "20", "--out", out, "--resume"], mentioning: "architecture")
        try expectFailure(["train", corpus, "--val-batch", "0", "--out", "\(root.path)/vb"], mentioning: "--val-batch")
        try expectFailure(["train", corpus, "--embed-dropout", "1", "--out", "\(root.path)/ed"], mentioning: "--embed-dropout")
        // An output directory that cannot be written (a regular file stands in the way).
        let blocker = root.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        try expectFailure(["train", corpus, "--bptt", "10", "--batch", "4", "--max-steps", "1", "--out", "\(blocker.path)/run"],
                          mentioning: "cannot")

        // A truncated weights file.
        let copy = root.appendingPathComponent("copy")
        try FileManager.default.copyItem(atPath: "\(out)/latest", toPath: copy.path)
        let weights = copy.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count - 10).write(to: weights)
        try expectFailure(["generate", copy.path], mentioning: "model.safetensors")
        try data.write(to: weights)
        // A checkpoint from another format version.
        let configURL = copy.appendingPathComponent("config.json")
        let config = try String(contentsOf: configURL, encoding: .utf8)
        try config.replacingOccurrences(of: "\"format_version\" : 1", with: "\"format_version\" : 99")
            .write(to: configURL, atomically: true, encoding: .utf8)
        try expectFailure(["eval", copy.path, corpus], mentioning: "format version 99")
        try expectFailure(["eval", "\(root.path)/nothing", corpus], mentioning: "no such checkpoint")
        // Each error is a single line.
        let single = try CLI.run(["eval", copy.path, corpus])
        #expect(single.stderr.split(separator: "\n").count == 1)
    }

    @Test func helpTextDocumentsTheOptions() {
        let train = TrainCommand.helpMessage()
        for option in ["--cell", "--layers", "--hidden", "--embed", "--dropout", "--skip", "--bptt", "--batch", "--epochs",
                       "--max-steps", "--time-limit", "--optimizer", "--lr", "--lr-schedule", "--clip-norm", "--clip-value",
                       "--val-fraction", "--test-fraction", "--eval-every", "--checkpoint-every", "--out", "--resume",
                       "--seed", "--threads", "--unit", "--normalize"] {
            #expect(train.contains(option), "train help lacks \(option)")
        }
        let generate = GenerateCommand.helpMessage()
        for option in ["--prime", "--prime-file", "--length", "--temperature", "--top-k", "--top-p", "--greedy", "--seed",
                       "--samples", "--unknown", "--weights", "--threads"] {
            #expect(generate.contains(option), "generate help lacks \(option)")
        }
        let eval = EvalCommand.helpMessage()
        for option in ["--split", "--batch", "--json"] { #expect(eval.contains(option)) }
    }

    @Test func durationsParse() throws {
        #expect(try TrainCommand.parseDuration("90") == 90)
        #expect(try TrainCommand.parseDuration("20m") == 1200)
        #expect(try TrainCommand.parseDuration("1.5h") == 5400)
        #expect(throws: (any Error).self) { try TrainCommand.parseDuration("soon") }
        #expect(throws: (any Error).self) { try TrainCommand.parseDuration("-5s") }
    }
}
