import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `mpirun -np 2 charrnn experiment vanishing`: the jobs dealt over ranks give the serial run's
/// summaries (all but wall time), and only rank 0 prints the table. Skipped without `mpirun`.
@Suite(.serialized, .enabled(if: MPIJob.available, "mpirun (openmpi-bin) is not installed"))
struct MPIExperimentTests {
    /// summary.json's per-job rows without their wall times and directories.
    static func rows(_ out: URL) throws -> [String] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any])
        let runs = try #require(object["runs"] as? [[String: Any]])
        return try runs.map { run in
            var run = run
            run["seconds"] = nil
            run["directory"] = nil
            return String(decoding: try JSONSerialization.data(withJSONObject: run, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    @Test func jobsDealtOverRanksEqualTheSerialRun() throws {
        let directory = try SharedCorpora.temporaryDirectory("experiment-mpi")
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = try ExperimentSeedsCommandTests.corpus(in: directory).path
        let serial = directory.appendingPathComponent("serial"), parallel = directory.appendingPathComponent("parallel")
        // Four jobs (2 arms × 2 seeds) over two ranks: rank 0 trains jobs 0 and 2, rank 1 jobs 1 and 3.
        let common = ["experiment", "vanishing", "--corpus", corpus, "--runs", "rnn,gru", "--seeds", "2"]
            + ExperimentSeedsCommandTests.tiny.filter { $0 != "--quiet" }
        let one = try CorpusCommandTests.run(common + ["--out", serial.path, "--quiet"])
        #expect(one.status == 0, "\(one.stderr)")
        let two = try MPIJob.run(ranks: 2, common + ["--out", parallel.path])
        #expect(two.status == 0, "\(two.stderr)")
        let serialRows = try Self.rows(serial), parallelRows = try Self.rows(parallel)
        #expect(serialRows.count == 4 && serialRows == parallelRows)
        // Rank 1 trained some jobs (its notes are labelled) and rank 0 alone printed the table.
        #expect(two.stderr.contains("rank 1: "))
        let printed = { (text: String) in text.components(separatedBy: "| 3-gram |").count - 1 }
        #expect(printed(one.stdout) > 0 && printed(two.stdout) == printed(one.stdout), "\(two.stdout)")
        for arm in ["rnn", "gru"] {
            for seed in [1, 2] {
                #expect(FileManager.default.fileExists(atPath: parallel.appendingPathComponent("\(arm)/seed-\(seed)/long-range.json").path))
            }
        }
    }
}
