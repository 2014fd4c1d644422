import Foundation
import Testing
import TestSupport

/// `scripts/mpi_netns.sh`: mpirun across network namespaces joined by veth links, over TCP — trains,
/// checkpoints and resumes on a different number of ranks. Skipped where mpirun or iproute2 are
/// missing or namespaces cannot be made (not root).
@Suite(.enabled(if: NetnsProbe.namespacesWork, "network namespaces cannot be made here (or mpirun / ip missing)"))
struct MPINetnsTests {
    static let script = SharedCorpora.projectRoot.appendingPathComponent("scripts/mpi_netns.sh")
}

enum NetnsProbe {
    /// True when `ip netns add` works here and mpirun is installed.
    static var namespacesWork: Bool {
        guard MPIJob.available, FileManager.default.isExecutableFile(atPath: "/usr/bin/env") else { return false }
        let name = "charrnn-probe-\(getpid())"
        guard (try? TestProcess.status(URL(fileURLWithPath: "/usr/bin/env"), ["ip", "netns", "add", name])) == 0 else { return false }
        _ = try? TestProcess.status(URL(fileURLWithPath: "/usr/bin/env"), ["ip", "netns", "del", name])
        return true
    }
}

extension MPINetnsTests {
    @Test func trainsAndResumesAcrossTwoHosts() throws {
        let work = try SharedCorpora.temporaryDirectory("charrnn-netns")
        defer { try? FileManager.default.removeItem(at: work) }
        let process = Process()
        process.executableURL = Self.script
        process.arguments = ["--hosts", "2", "--charrnn", try CorpusCommandTests.binary().path, "--work", work.path]
        let output = work.appendingPathComponent("log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(180)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        try handle.close()
        let log = String(decoding: try Data(contentsOf: output), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(log)")
        #expect(log.contains("ok: 12 steps (2 ranks, then 1 after --resume)"), "\(log)")
        // The traffic crossed host 2's veth link: the gradients of 8 steps, some kilobytes at least.
        let received = log.split(separator: " ").drop { $0 != "received" }.dropFirst().first.flatMap { Int($0) } ?? 0
        #expect(received > 50_000, "\(log)")
        // The run's files are the ordinary ones: a single process continues it.
        let more = try CorpusCommandTests.run(["train", "--resume", "--out", work.appendingPathComponent("run").path,
                                               "--max-steps", "13", "--quiet"])
        #expect(more.status == 0, "\(more.stderr)")
        // Nothing of the namespaces is left.
        let list = Process()
        list.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        list.arguments = ["ip", "netns", "list"]
        let pipe = Pipe()
        list.standardOutput = pipe
        try list.run()
        let names = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        list.waitUntilExit()
        #expect(!names.contains("c\(process.processIdentifier)-"), "\(names)")
    }
}
