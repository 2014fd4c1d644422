import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `charrnn train` as a user drives it: resume by name, --config, --init-from, Ctrl-C, --json,
/// --checkpoint-every by time.
@Suite(.serialized) struct TrainWorkflowCommandTests {
    typealias CLI = CorpusCommandTests

    static let flags = ["--hidden", "16", "--embed", "8", "--layers", "1", "--bptt", "10", "--batch", "4",
                        "--eval-every", "4", "--checkpoint-every", "4", "--threads", "1", "--lr", "0.01", "--quiet"]

    /// A corpus file and a run trained for 8 steps.
    static func startedRun(_ root: URL, name: String = "run") throws -> (corpus: String, out: String) {
        let corpus = root.appendingPathComponent("corpus.txt")
        if !FileManager.default.fileExists(atPath: corpus.path) {
            try Data(TrainEvalGenerateCommandTests.corpusText.utf8).write(to: corpus)
        }
        let out = root.appendingPathComponent(name).path
        let run = try CLI.run(["train", corpus.path, "--max-steps", "8", "--out", out] + flags)
        #expect(run.status == 0, "\(run.stderr)")
        return (corpus.path, out)
    }

    /// Loss, gradient norm and learning rate of every train/eval record, bit for bit.
    static func trajectory(_ out: String) throws -> [String] {
        try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let kind = record["kind"] as? String, kind != "resume" else { return nil }
            return "\(kind) \(record["step"] ?? "") \(record["loss"] ?? "") \(record["grad_norm"] ?? "") \(record["lr"] ?? "")"
        }
    }

    static func resumeRecords(_ out: String) throws -> [[String: Any]] {
        try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return record?["kind"] as? String == "resume" ? record : nil
        }
    }

    @Test func resumeWithoutFlagsEqualsResumeWithThem() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-resume-by-name")
        defer { try? FileManager.default.removeItem(at: root) }
        let (corpus, bare) = try Self.startedRun(root, name: "bare")
        let (_, full) = try Self.startedRun(root, name: "full")
        // Resumed from another directory: the corpus path recorded in config.json is absolute here.
        let byName = try CLI.run(["train", "--resume", "--out", bare, "--max-steps", "16"], directory: root)
        #expect(byName.status == 0, "\(byName.stderr)")
        let spelledOut = try CLI.run(["train", corpus, "--resume", "--out", full, "--max-steps", "16"] + Self.flags)
        #expect(spelledOut.status == 0, "\(spelledOut.stderr)")
        let a = try Self.trajectory(bare), b = try Self.trajectory(full)
        #expect(a.count == 16 + 4)
        #expect(a == b)
        for out in [bare, full] {
            let records = try Self.resumeRecords(out)
            #expect(records.count == 1)
            #expect(records.first?["step"] as? Int == 8)
            #expect(records.first?["changes"] as? [String: String] == ["--max-steps": "8 -> 16"])
        }
    }

    @Test func resumeRefusesFixedSettingsAndNamesTheFlag() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-resume-refuse")
        defer { try? FileManager.default.removeItem(at: root) }
        let (_, out) = try Self.startedRun(root)
        for (flags, named) in [(["--unit", "byte"], "--unit"), (["--batch", "5"], "--batch"), (["--cell", "gru"], "--cell"),
                               (["--optimizer", "sgd"], "--optimizer"), (["--val-fraction", "0.2"], "--val-fraction")] {
            let run = try CLI.run(["train", "--resume", "--out", out, "--max-steps", "12"] + flags)
            #expect(run.status == 1, "\(flags)")
            #expect(run.stderr.hasPrefix("charrnn: error: --resume: \(named) is "), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
        }
        let forced = try CLI.run(["train", "--resume", "--force", "--out", out])
        #expect(forced.status == 1 && forced.stderr.contains("--force starts over"), "\(forced.stderr)")
        let initFlags = try CLI.run(["train", "--resume", "--out", out, "--orthogonal"])
        #expect(initFlags.status != 0 && initFlags.stderr.contains("--orthogonal"))
        let nothing = try CLI.run(["train", "--resume", "--out", root.appendingPathComponent("none").path])
        #expect(nothing.status == 1 && nothing.stderr.contains("no checkpoint to resume"), "\(nothing.stderr)")
        let noCorpus = try CLI.run(["train", "--out", root.appendingPathComponent("x").path])
        #expect(noCorpus.status != 0 && noCorpus.stderr.contains("give the corpus"), "\(noCorpus.stderr)")
        // The refused attempts left the run as it was.
        #expect(try Self.trajectory(out).count == 8 + 2)
    }

    @Test func configStartsANewRunWithAFinishedRunsSettings() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-config")
        defer { try? FileManager.default.removeItem(at: root) }
        let (_, out) = try Self.startedRun(root)
        let copy = root.appendingPathComponent("copy").path
        let run = try CLI.run(["train", "--config", "\(out)/config.json", "--out", copy, "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        // Same settings, corpus and seed: the same run again.
        #expect(try Self.trajectory(copy) == Self.trajectory(out))
        let other = root.appendingPathComponent("other").path
        let changed = try CLI.run(["train", "--config", out, "--hidden", "12", "--max-steps", "2", "--out", other, "--quiet"])
        #expect(changed.status == 0, "\(changed.stderr)")
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(other)/config.json"))) as? [String: Any])
        let model = try #require(config["model"] as? [String: Any])
        #expect(model["hiddenSize"] as? Int == 12 && model["embeddingSize"] as? Int == 8)
    }

    @Test func initFromFineTunesAndCountsUnknownUnits() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-init-from")
        defer { try? FileManager.default.removeItem(at: root) }
        let (_, out) = try Self.startedRun(root)
        let text = root.appendingPathComponent("new.txt")
        // 'Z' and 'é' are not in the corpus: 2 × 40 units become <unk>.
        try Data(String(repeating: "abc def Zé ", count: 40).utf8).write(to: text)
        let tuned = root.appendingPathComponent("tuned").path
        let run = try CLI.run(["train", text.path, "--init-from", out, "--out", tuned, "--max-steps", "4", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("80 units"), "\(run.stderr)")
        #expect(run.stderr.contains("<unk>"))
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(summary["initialized_from"] as? String == out)
        #expect((summary["result"] as? [String: Any])?["steps"] as? Int == 4)
        #expect((summary["result"] as? [String: Any])?["stop_reason"] as? String == "max-steps")
        // An architecture flag that contradicts the checkpoint is refused, naming it.
        let wider = try CLI.run(["train", text.path, "--init-from", out, "--hidden", "32", "--out", "\(tuned)-2"])
        #expect(wider.status == 1 && wider.stderr.contains("--hidden is 16 in the checkpoint"), "\(wider.stderr)")
        // The fine-tuned run resumes with its fixed vocabulary.
        let resumed = try CLI.run(["train", "--resume", "--out", tuned, "--max-steps", "6", "--quiet"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    @Test func sigintSavesAResumableLatest() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-sigint")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(TrainEvalGenerateCommandTests.corpusText.utf8).write(to: corpus)
        let out = root.appendingPathComponent("run").path
        let process = Process()
        process.executableURL = try CLI.binary()
        process.arguments = ["train", corpus.path, "--out", out] + Self.flags
            + ["--max-steps", "1000000", "--checkpoint-every", "0", "--eval-every", "0"]  // the last value of a flag wins
        let errors = root.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait for a few logged steps (at most 60 s), then interrupt.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8),
               text.split(separator: "\n").filter({ $0.contains("\"kind\":\"train\"") }).count >= 5 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.interrupt()
        // Never hang the suite: a process that does not stop within 60 s fails the test and is killed.
        let stopBy = Date().addingTimeInterval(60)
        while process.isRunning && Date() < stopBy { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            Issue.record("train did not stop within 60 s of SIGINT")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 130)
        let message = try String(contentsOf: errors, encoding: .utf8)
        #expect(message.contains("charrnn train --resume --out \(out)"), "\(message)")
        let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/latest/trainer-state.json"))) as? [String: Any])
        let step = try #require(state["step"] as? Int)
        #expect(step >= 5)
        let resumed = try CLI.run(["train", "--resume", "--out", out, "--max-steps", "\(step + 3)", "--quiet"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Self.resumeRecords(out).first?["step"] as? Int == step)
        #expect(try Self.trajectory(out).filter { $0.hasPrefix("train") }.count == step + 3)
    }

    @Test func checkpointCadenceParsesStepsAndDurations() throws {
        #expect(try TrainCommand.parseCheckpointCadence("200") == (200, nil))
        #expect(try TrainCommand.parseCheckpointCadence("0") == (0, nil))
        #expect(try TrainCommand.parseCheckpointCadence("10m") == (0, 600))
        #expect(try TrainCommand.parseCheckpointCadence("90s") == (0, 90))
        #expect(try TrainCommand.parseCheckpointCadence("1.5h") == (0, 5400))
        for bad in ["-1", "10x", "m", "0s", "nans", "1e400s"] {
            #expect(throws: (any Error).self, "\(bad)") { try TrainCommand.parseCheckpointCadence(bad) }
        }
        let help = TrainCommand.helpMessage()
        for option in ["--config", "--init-from", "--patience", "--json", "--resume"] {
            #expect(help.contains(option), "train help lacks \(option)")
        }
    }
}
