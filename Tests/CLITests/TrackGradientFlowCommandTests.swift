import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `charrnn train --track-gradient-flow`: records in metrics.jsonl, the report's chart, and exact resume.
@Suite(.serialized) struct TrackGradientFlowCommandTests {
    typealias CLI = CorpusCommandTests
    typealias Workflow = TrainWorkflowCommandTests

    static let flags = ["--cell", "lstm", "--hidden", "16", "--embed", "8", "--layers", "2", "--bptt", "10", "--batch", "4",
                        "--eval-every", "4", "--checkpoint-every", "4", "--threads", "1", "--lr", "0.01", "--dropout", "0.2", "--quiet"]

    static func records(_ out: String, kind: String) throws -> [[String: Any]] {
        try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return record?["kind"] as? String == kind ? record : nil
        }
    }

    @Test func recordsEveryValidationAndTheReportDrawsThem() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-track-flow")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(TrainEvalGenerateCommandTests.corpusText.utf8).write(to: corpus)
        let out = root.appendingPathComponent("run").path
        let run = try CLI.run(["train", corpus.path, "--max-steps", "12", "--out", out, "--track-gradient-flow"] + Self.flags)
        #expect(run.status == 0, "\(run.stderr)")
        let flow = try Self.records(out, kind: "gradient_flow")
        #expect(flow.compactMap { $0["step"] as? Int } == [4, 8, 12])
        for record in flow {
            let factors = try #require(record["decay_factors"] as? [Double])
            let cell = try #require(record["cell_decay_factors"] as? [Double])
            #expect(factors.count == 2 && cell.count == 2)
            #expect(factors.allSatisfy { $0 > 0 && $0.isFinite })
            #expect(record["flow_length"] as? Int == 10 && record["flow_windows"] as? Int == 4)
        }
        let report = root.appendingPathComponent("report.html").path
        #expect(try CLI.run(["report", out, "-o", report]).status == 0)
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("<svg id=\"chart-gradient-flow-training\""))
        #expect(html.contains("<title>run layer 1</title>") && html.contains("<title>run layer 0 cell</title>"))
        // Without the flag: no records, and the report says so.
        let plain = root.appendingPathComponent("plain").path
        #expect(try CLI.run(["train", corpus.path, "--max-steps", "4", "--out", plain] + Self.flags).status == 0)
        #expect(try Self.records(plain, kind: "gradient_flow").isEmpty)
        #expect(try CLI.run(["report", plain, "-o", report]).status == 0)
        #expect(try String(contentsOfFile: report, encoding: .utf8).contains("id=\"missing-gradient-flow-training\""))
    }

    @Test func trackingDoesNotChangeTrainingAndMayChangeOnResume() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-track-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(TrainEvalGenerateCommandTests.corpusText.utf8).write(to: corpus)
        // Straight through without tracking; straight through with it; and 8 steps with, resumed to 16 without.
        let plain = root.appendingPathComponent("plain").path, tracked = root.appendingPathComponent("tracked").path
        let switched = root.appendingPathComponent("switched").path
        #expect(try CLI.run(["train", corpus.path, "--max-steps", "16", "--out", plain] + Self.flags).status == 0)
        #expect(try CLI.run(["train", corpus.path, "--max-steps", "16", "--out", tracked, "--track-gradient-flow"] + Self.flags).status == 0)
        #expect(try CLI.run(["train", corpus.path, "--max-steps", "8", "--out", switched, "--track-gradient-flow"] + Self.flags).status == 0)
        let resumed = try CLI.run(["train", "--resume", "--out", switched, "--max-steps", "16", "--no-track-gradient-flow"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let reference = try Workflow.trajectory(plain).filter { !$0.hasPrefix("gradient_flow") }
        #expect(reference.count == 16 + 4)
        #expect(try Workflow.trajectory(tracked).filter { !$0.hasPrefix("gradient_flow") } == reference)
        #expect(try Workflow.trajectory(switched).filter { !$0.hasPrefix("gradient_flow") } == reference)
        #expect(try Self.records(switched, kind: "gradient_flow").compactMap { $0["step"] as? Int } == [4, 8])
        let resume = try #require(try Workflow.resumeRecords(switched).first)
        #expect(resume["changes"] as? [String: String] == ["--max-steps": "8 -> 16", "--track-gradient-flow": "true -> false"])
        // And switched on at resume: records start after the resume point, losses unchanged.
        let later = root.appendingPathComponent("later").path
        #expect(try CLI.run(["train", corpus.path, "--max-steps", "8", "--out", later] + Self.flags).status == 0)
        #expect(try CLI.run(["train", "--resume", "--out", later, "--max-steps", "16", "--track-gradient-flow"]).status == 0)
        #expect(try Workflow.trajectory(later).filter { !$0.hasPrefix("gradient_flow") } == reference)
        #expect(try Self.records(later, kind: "gradient_flow").compactMap { $0["step"] as? Int } == [12, 16])
    }
}
