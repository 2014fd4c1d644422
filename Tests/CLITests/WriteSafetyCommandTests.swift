import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// Issue 11, classes 4–6, as the process behaves: every write checked (full and closed standard
/// output, a closed pipe, a full disk, a torn metrics record), one run per directory (lock,
/// no silent overwrite, --force), and debris of killed writers removed at the next start.
@Suite(.serialized) struct WriteSafetyCommandTests {
    typealias CLI = CorpusCommandTests

    /// What a spawned process did.
    struct Outcome {
        var reason: Process.TerminationReason
        var status: Int32
        var stderr: String
    }

    static let flags = TrainWorkflowCommandTests.flags

    /// Runs `charrnn ARGUMENTS` through `/bin/sh -c` with `redirection` applied to its standard
    /// output (e.g. `>/dev/full`, `>&-`); killed (and the test failed) after `timeout` seconds.
    static func shell(_ arguments: [String], redirection: String, timeout: Double = 120) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$0\" \"$@\" \(redirection)", try CLI.binary().path] + arguments
        return try wait(process, standardOutput: nil, timeout: timeout)
    }

    /// Runs `process` with stderr captured; `standardOutput` is its stdout when given.
    static func wait(_ process: Process, standardOutput: Any?, timeout: Double) throws -> Outcome {
        let scratch = try SharedCorpora.temporaryDirectory("charrnn-writes-err")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardError = err
        if let standardOutput { process.standardOutput = standardOutput }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            Issue.record("\(process.arguments ?? []) did not end within \(timeout) s")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        try err.close()
        return Outcome(reason: process.terminationReason, status: process.terminationStatus,
                       stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Runs `charrnn ARGUMENTS` (standard output discarded); killed, and the test failed, after `timeout` s.
    static func charrnn(_ arguments: [String], timeout: Double = 120) throws -> Outcome {
        let process = Process()
        process.executableURL = try CLI.binary()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "CHARRNN_CORPUS_MIRROR")
        process.environment = environment
        return try wait(process, standardOutput: FileHandle.nullDevice, timeout: timeout)
    }

    /// A corpus file in `root` and a run trained there for 8 steps.
    static func startedRun(_ root: URL, name: String = "run") throws -> (corpus: String, out: String) {
        let corpus = root.appendingPathComponent("corpus.txt")
        if !FileManager.default.fileExists(atPath: corpus.path) {
            try Data(TrainEvalGenerateCommandTests.corpusText.utf8).write(to: corpus)
        }
        let out = root.appendingPathComponent(name).path
        let run = try charrnn(["train", corpus.path, "--max-steps", "8", "--out", out] + flags)
        #expect(run.status == 0, "\(run.stderr)")
        return (corpus.path, out)
    }

    /// Runs `charrnn ARGUMENTS` with standard output a pipe whose read end is already closed.
    static func intoClosedPipe(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = try CLI.binary()
        process.arguments = arguments
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        return try wait(process, standardOutput: pipe, timeout: 120)
    }

    /// A process id that belonged to a process that has ended.
    static func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// Lines of a metrics log, each parsed.
    static func records(_ out: String) throws -> [[String: Any]] {
        try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
    }

    /// Class 4: full or closed standard output gives one line and status 1 (never "Fatal error"); a reader
    /// that went away ends the process quietly by SIGPIPE; a torn final metrics record is dropped on
    /// resume with a warning, a malformed earlier one is refused naming the file and line.
    @Test func everyWriteIsChecked() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-writes-checked")
        defer { try? FileManager.default.removeItem(at: root) }
        let (corpus, out) = try Self.startedRun(root)
        let commands: [[String]] = [
            ["generate", out, "--length", "50", "--seed", "1"],
            ["generate", out, "--length", "20", "--samples", "3", "--seed", "1"],
            ["eval", out, corpus, "--threads", "1"],
            ["corpus", "inspect", corpus],
            ["corpus", "tokenize", corpus],
            ["--help"], ["train", "--help"], ["--version"],  // printed by ArgumentParser, checked at exit
        ]
        for command in commands {
            let full = try Self.shell(command, redirection: ">/dev/full")
            #expect(full.reason == .exit && full.status == 1, "\(command): \(full.status) \(full.stderr)")
            #expect(full.stderr == "charrnn: error: standard output: cannot write: No space left on device\n",
                    "\(command): \(full.stderr)")
            let closed = try Self.shell(command, redirection: ">&-")
            #expect(closed.reason == .exit && closed.status == 1, "\(command): \(closed.status) \(closed.stderr)")
            #expect(closed.stderr.hasPrefix("charrnn: error: standard output: cannot write: "), "\(command): \(closed.stderr)")
            #expect(closed.stderr.split(separator: "\n").count == 1, "\(command): \(closed.stderr)")
        }
        // A closed standard output is not reused by a file opened later: train --json reports the lost
        // summary instead of writing it into metrics.jsonl.
        let jsonOut = root.appendingPathComponent("json").path
        let json = try Self.shell(["train", corpus, "--max-steps", "4", "--out", jsonOut, "--json"] + Self.flags,
                                  redirection: ">&-")
        #expect(json.status == 1 && json.stderr == "charrnn: error: standard output: cannot write: Bad file descriptor\n",
                "\(json.stderr)")
        #expect(try Self.records(jsonOut).allSatisfy { $0["kind"] != nil })
        for command in [["generate", out, "--length", "200000", "--seed", "1"], ["eval", out, corpus, "--threads", "1"]] {
            let gone = try Self.intoClosedPipe(command)
            #expect(gone.reason == .uncaughtSignal && gone.status == SIGPIPE, "\(command): \(gone.reason) \(gone.status)")
            #expect(gone.stderr.isEmpty, "\(command): \(gone.stderr)")
        }

        // A run killed while appending a record: the torn line is dropped with a warning and the run resumes.
        let metrics = URL(fileURLWithPath: "\(out)/metrics.jsonl")
        let before = try Self.records(out).count
        let handle = try FileHandle(forWritingTo: metrics)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"kind":"train","step":9,"lo"#.utf8))
        try handle.close()
        let resumed = try Self.charrnn(["train", "--resume", "--out", out, "--max-steps", "12"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("charrnn: warning: "), "\(resumed.stderr)")
        #expect(resumed.stderr.contains("metrics.jsonl: line \(before + 1) is a torn record"), "\(resumed.stderr)")
        let after = try Self.records(out)  // every line parses
        #expect(after.last?["step"] as? Int == 12)
        #expect(after.filter { $0["kind"] as? String == "train" }.map { $0["step"] as? Int } == (1...12).map { $0 })

        // Garbage before the last line is not a torn append: refused, naming the file and line, the log untouched.
        var lines = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[2] = "{not json"
        let damaged = lines.joined(separator: "\n") + "\n"
        try Data(damaged.utf8).write(to: metrics)
        let refused = try Self.charrnn(["train", "--resume", "--out", out, "--max-steps", "14"])
        #expect(refused.status == 1)
        #expect(refused.stderr == "charrnn: error: \(metrics.path): line 3 is not a valid metrics record\n", "\(refused.stderr)")
        #expect(try String(contentsOf: metrics, encoding: .utf8) == damaged)
    }

    /// True when this process may mount a tmpfs (root in a container that allows it).
    static let canMountTmpfs: Bool = {
        guard let point = try? SharedCorpora.temporaryDirectory("charrnn-mount-probe") else { return false }
        defer { try? FileManager.default.removeItem(at: point) }
        guard (try? runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", point.path])) == 0 else { return false }
        _ = try? runTool("/bin/umount", [point.path])
        return true
    }()

    static func runTool(_ path: String, _ arguments: [String]) throws -> Int32 {
        try TestProcess.status(URL(fileURLWithPath: path), arguments)
    }

    /// Class 4 on a real full disk: a 1 MiB tmpfs with 12 KiB left. Appending metrics.jsonl fails with one
    /// line naming the file and "No space left on device", and the log ends in a whole record.
    @Test(.enabled(if: canMountTmpfs, "mounting a tmpfs is not allowed here"))
    func fullDiskWhileAppendingMetrics() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-writes-full")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(TrainEvalGenerateCommandTests.corpusText.utf8).write(to: corpus)
        let disk = root.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        #expect(try Self.runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", disk.path]) == 0)
        defer { _ = try? Self.runTool("/bin/umount", [disk.path]) }
        try Data(count: 1024 * 1024 - 12 * 1024).write(to: disk.appendingPathComponent("filler"))
        let out = disk.appendingPathComponent("run").path
        let run = try Self.charrnn(["train", corpus.path, "--out", out, "--max-steps", "100000", "--hidden", "16", "--embed", "8",
                               "--layers", "1", "--bptt", "10", "--batch", "4", "--eval-every", "0", "--checkpoint-every", "0",
                               "--threads", "1", "--quiet"])
        #expect(run.status == 1)
        #expect(run.stderr == "charrnn: error: \(out)/metrics.jsonl: cannot write: No space left on device\n", "\(run.stderr)")
        let text = try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8)
        #expect(text.hasSuffix("}\n"))
        #expect(try Self.records(out).count > 5)
        // The disk is now full: corpora, reports and weights fail the same way, leaving no temporary file.
        let trained = try Self.startedRun(root, name: "elsewhere")
        let cases: [([String], String)] = [
            (["corpus", "synth", "brackets", "--size", "100000", "--output", "\(disk.path)/s.txt"],
             "cannot write \(disk.path)/s.txt: No space left on device"),
            (["corpus", "synth", "brackets", "--size", "100000", "--output", "\(disk.path)/s.txt.gz"],
             "cannot write \(disk.path)/s.txt.gz: No space left on device"),
            (["report", trained.out, "--output", "\(disk.path)/r.html"], "cannot write \(disk.path)/r.html: No space left on device"),
            (["export", trained.out, "--out", "\(disk.path)/w.safetensors"],
             "\(disk.path)/w.safetensors: cannot write: No space left on device"),
        ]
        for (arguments, message) in cases {
            let failed = try Self.charrnn(arguments)
            #expect(failed.status == 1, "\(arguments)")
            // `report` still lets ArgumentParser print its errors ("Error: …"): one line all the same.
            #expect(failed.stderr.hasSuffix("rror: \(message)\n") && failed.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(failed.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk.path).sorted() == ["filler", "run"])
    }

    /// Class 5: a second train into a directory another run holds is refused and the first finishes;
    /// a finished run is not overwritten without --force; with --force it is replaced.
    @Test func aRunDirectoryBelongsToOneRun() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-writes-lock")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(TrainEvalGenerateCommandTests.corpusText.utf8).write(to: corpus)
        let out = root.appendingPathComponent("run").path

        let first = Process()
        first.executableURL = try CLI.binary()
        first.arguments = ["train", corpus.path, "--max-steps", "1000000", "--time-limit", "4s", "--out", out] + Self.flags
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let started = Date().addingTimeInterval(60)
        while Date() < started, (try? String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8))?.isEmpty ?? true {
            Thread.sleep(forTimeInterval: 0.05)
        }
        for arguments in [["train", corpus.path, "--max-steps", "4", "--out", out] + Self.flags,
                          ["train", corpus.path, "--max-steps", "4", "--out", out, "--force"] + Self.flags,
                          ["train", "--resume", "--out", out, "--max-steps", "4"]] {
            let second = try Self.charrnn(arguments)
            #expect(second.status == 1, "\(arguments)")
            #expect(second.stderr == "charrnn: error: \(out): another charrnn run (process \(first.processIdentifier)) is training into this directory\n",
                    "\(second.stderr)")
        }
        let stopBy = Date().addingTimeInterval(90)
        while first.isRunning && Date() < stopBy { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!first.isRunning, "the first run did not finish")
        first.waitUntilExit()
        #expect(first.terminationReason == .exit && first.terminationStatus == 0)
        let finished = try Self.records(out)
        let steps = finished.filter { $0["kind"] as? String == "train" }.compactMap { $0["step"] as? Int }
        #expect(steps == Array(1...(steps.last ?? 0)) && steps.count > 1, "the first run's log was disturbed")

        // A finished run: a new run into it is refused (nothing changes), --force replaces it.
        let log = try Data(contentsOf: URL(fileURLWithPath: "\(out)/metrics.jsonl"))
        let again = try Self.charrnn(["train", corpus.path, "--max-steps", "4", "--out", out] + Self.flags)
        #expect(again.status == 1)
        #expect(again.stderr == "charrnn: error: \(out) already holds a run; use --resume to continue it or --force to start over\n",
                "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(out)/metrics.jsonl")) == log)
        // A directory holding only a checkpoint counts as a run too.
        let bare = root.appendingPathComponent("bare").path
        try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(out)/latest", toPath: "\(bare)/latest")
        let onBare = try Self.charrnn(["train", corpus.path, "--max-steps", "4", "--out", bare] + Self.flags)
        #expect(onBare.status == 1 && onBare.stderr.contains("already holds a run"), "\(onBare.stderr)")

        let forced = try Self.charrnn(["train", corpus.path, "--max-steps", "4", "--out", out, "--force"] + Self.flags)
        #expect(forced.status == 0, "\(forced.stderr)")
        let replaced = try Self.records(out)
        #expect(replaced.filter { $0["kind"] as? String == "train" }.compactMap { $0["step"] as? Int } == [1, 2, 3, 4])
        let state = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "\(out)/latest/trainer-state.json"))) as? [String: Any])
        #expect(state["step"] as? Int == 4)
        // A command that fails before training leaves no empty run directory behind.
        let nowhere = root.appendingPathComponent("a/b").path
        let failed = try Self.charrnn(["train", root.appendingPathComponent("missing.txt").path, "--out", nowhere] + Self.flags)
        #expect(failed.status == 1)
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("a").path))
    }

    /// Class 6: staging, temporary and partial files whose process is gone are removed at the next start
    /// (a live process's are kept), and runs killed mid-save leave nothing behind once resumed.
    @Test func debrisOfKilledWritersIsRemoved() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-writes-debris")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(TrainEvalGenerateCommandTests.corpusText.utf8).write(to: corpus)
        let out = root.appendingPathComponent("run").path
        let fileManager = FileManager.default

        // kill -9 while saving every step, twice; then resume.
        for _ in 0..<2 {
            let process = Process()
            process.executableURL = try CLI.binary()
            let resume = fileManager.fileExists(atPath: "\(out)/latest") ? ["--resume"] : []
            process.arguments = ["train", corpus.path, "--max-steps", "1000000", "--out", out] + resume
                + Self.flags.map { $0 == "4" ? "1" : $0 }  // --eval-every 1 --checkpoint-every 1 --batch 1
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, !fileManager.fileExists(atPath: "\(out)/latest/trainer-state.json") {
                Thread.sleep(forTimeInterval: 0.02)
            }
            Thread.sleep(forTimeInterval: 0.3)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let dead = try Self.deadPID(), live = getpid()
        let planted = [".latest.staging-\(dead)-AAAA", ".best.staging-\(dead)-BBBB", ".latest.staging-C0FFEE00-1111-2222",
                       ".latest.old-\(dead)-DDDD"]
        for name in planted {
            try fileManager.createDirectory(atPath: "\(out)/\(name)", withIntermediateDirectories: false)
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(out)/\(name)/model.safetensors"))
        }
        try Data("{".utf8).write(to: URL(fileURLWithPath: "\(out)/.config.json.tmp-\(dead)-EEEE"))
        let kept = ".latest.staging-\(live)-FFFF"
        try fileManager.createDirectory(atPath: "\(out)/\(kept)", withIntermediateDirectories: false)
        let resumed = try Self.charrnn(["train", "--resume", "--out", out, "--max-steps", "1", "--checkpoint-every", "1"])
        // The killed run may have been at any step: resuming to step 1 ends at once, having saved latest.
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let left = try fileManager.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") && $0 != ".lock" }
        #expect(left == [kept], "\(left)")
        // Killed saves may have left a temporary file inside latest/best? They are swapped whole: no.
        for checkpoint in ["latest", "best"] where fileManager.fileExists(atPath: "\(out)/\(checkpoint)") {
            let inside = try fileManager.contentsOfDirectory(atPath: "\(out)/\(checkpoint)").filter { $0.hasPrefix(".") }
            #expect(inside.isEmpty, "\(checkpoint): \(inside)")
        }

        // corpus synth (gzip): a killed writer's temporary file is removed, a live one's kept.
        let synthDir = root.appendingPathComponent("synth")
        try fileManager.createDirectory(at: synthDir, withIntermediateDirectories: true)
        let staleTmp = ".s.txt.gz.tmp-\(dead)-X", liveTmp = ".s.txt.gz.tmp-\(live)-Y"
        for name in [staleTmp, liveTmp] { try Data("x".utf8).write(to: synthDir.appendingPathComponent(name)) }
        let synth = try Self.charrnn(["corpus", "synth", "brackets", "--size", "1000", "--output", synthDir.appendingPathComponent("s.txt.gz").path])
        #expect(synth.status == 0, "\(synth.stderr)")
        #expect(try fileManager.contentsOfDirectory(atPath: synthDir.path).sorted() == [liveTmp, "s.txt.gz"].sorted())

        // corpus get: a partial download of a dead process is removed, a live one's is kept.
        guard let mirror = SharedCorpora.directory, SharedCorpora.url("tinyshakespeare.txt") != nil else { return }
        let downloads = root.appendingPathComponent("downloads")
        try fileManager.createDirectory(at: downloads, withIntermediateDirectories: true)
        let stale = ".tinyshakespeare.txt.partial-\(dead)", busy = ".tinyshakespeare.txt.partial-\(live)"
        for name in [stale, busy] { try Data("partial".utf8).write(to: downloads.appendingPathComponent(name)) }
        let got = try Self.charrnn(["corpus", "get", "tiny-shakespeare", "--mirror", mirror.path, "--output", downloads.path])
        #expect(got.status == 0, "\(got.stderr)")
        let remaining = try fileManager.contentsOfDirectory(atPath: downloads.path).sorted()
        #expect(remaining == [busy, "tinyshakespeare.txt"].sorted(), "\(remaining)")
    }
}
