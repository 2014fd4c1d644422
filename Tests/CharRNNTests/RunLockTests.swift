import Foundation
import Testing
import TestSupport
@testable import CharRNN
@testable import TextCorpus

/// The library side of issue 11, classes 4–6: the run lock, debris names, torn metrics records.
@Suite struct RunLockTests {
    /// A lock held refuses a second one (also in the same process, and a Trainer's), names the
    /// directory and holder; released, it can be taken again; a directory it created and left
    /// empty is removed with it.
    @Test func theRunLockIsExclusiveAndReleased() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-runlock")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = RunDirectory(root.appendingPathComponent("a/b/run"))
        var held: RunLock? = try RunLock(run)
        #expect(FileManager.default.fileExists(atPath: run.lockFile.path))
        #expect(throws: RunDirectoryError.busy(run.url.path, pid: getpid())) { try RunLock(run) }
        let trainer = try Trainer(run: run, corpus: try TinyRun.corpus(), paths: ["tiny"], model: TinyRun.model(),
                                  training: TinyRun.training(steps: 2), resume: false)
        #expect(throws: RunDirectoryError.busy(run.url.path, pid: getpid())) { try trainer.train() }
        withExtendedLifetime(held) {}
        held = nil
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("a").path))
        try trainer.train()  // free again: trains, and the directory stays (it holds a run now)
        #expect(run.holdsRun)
        let again = try RunLock(run)
        withExtendedLifetime(again) {}
        #expect(FileManager.default.fileExists(atPath: run.url.path))
        #expect(RunDirectoryError.holdsRun("R").description == "R already holds a run; use --resume to continue it or --force to start over")
    }

    /// Temporary names carry the owner's pid; only entries of the given kinds whose owner is gone are
    /// removed, ownerless ones only when asked.
    @Test func staleFilesAreRecognisedByOwner() throws {
        let directory = try SharedCorpora.temporaryDirectory("charrnn-stale")
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(StaleFiles.temporaryName(for: "latest", kind: "staging", unique: "U") == ".latest.staging-\(getpid())-U")
        #expect(StaleFiles.owner(of: ".latest.staging-123-ABC", kinds: ["staging"]) == (123, true))
        #expect(StaleFiles.owner(of: ".tiny.txt.partial-77", kinds: ["partial"]) == (77, true))
        #expect(StaleFiles.owner(of: ".latest.staging-1F2E-33", kinds: ["staging"]) == (nil, true))
        #expect(StaleFiles.owner(of: "latest.staging-123", kinds: ["staging"]) == (nil, false))
        #expect(StaleFiles.owner(of: ".latest.staging-123", kinds: ["tmp"]) == (nil, false))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        let dead = process.processIdentifier
        let names = [".a.tmp-\(dead)-X", ".b.staging-\(getpid())-Y", ".c.staging-NOPID", ".d.partial-\(dead)", "e.tmp-\(dead)"]
        for name in names { try Data().write(to: directory.appendingPathComponent(name)) }
        #expect(StaleFiles.removeStale(in: directory, kinds: ["tmp", "staging"]) == [".a.tmp-\(dead)-X"])
        #expect(StaleFiles.removeStale(in: directory, kinds: ["tmp", "staging"], includeOwnerless: true) == [".c.staging-NOPID"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                == [".b.staging-\(getpid())-Y", ".d.partial-\(dead)", "e.tmp-\(dead)"])
    }

    /// A torn final metrics line is reported and dropped; an earlier bad line is an error naming the line.
    @Test func tornFinalMetricsRecordsAreDropped() throws {
        let directory = try SharedCorpora.temporaryDirectory("charrnn-torn")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("metrics.jsonl")
        do {
            let log = try MetricsLog(url: url)
            for step in 1...4 { try log.append(MetricsRecord(kind: .train, step: step, epoch: 0, time: 0, loss: 1)) }
        }
        let whole = try String(contentsOf: url, encoding: .utf8)
        try Data((whole + #"{"kind":"tr"#).utf8).write(to: url)
        let log = try MetricsLog(url: url, keepingThrough: 3)
        #expect(log.warnings == ["\(url.path): line 5 is a torn record (the run was interrupted while writing it); dropped"])
        #expect(try MetricsRecord.parseLines(try String(contentsOf: url, encoding: .utf8)).map(\.step) == [1, 2, 3])
        let lines = whole.split(separator: "\n")
        try Data((lines[0] + "\nnot json\n" + lines[1] + "\n").utf8).write(to: url)
        #expect(throws: CheckpointError.malformed(url.path, "line 2 is not a valid metrics record")) {
            try MetricsLog(url: url, keepingThrough: 3)
        }
        let clean = try MetricsLog(url: url, keepingThrough: nil)  // a new log replaces the old one
        #expect(clean.warnings.isEmpty)
        #expect(try Data(contentsOf: url).isEmpty)
    }
}
