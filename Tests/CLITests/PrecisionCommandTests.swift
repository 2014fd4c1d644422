import Foundation
import Testing
import TestSupport
import Tensor
@testable import CharRNNCLI

/// `--precision bf16` on train, eval, bench and gradients.
@Suite(.serialized) struct PrecisionCommandTests {
    typealias CLI = CorpusCommandTests
    typealias Workflow = TrainWorkflowCommandTests

    static func corpus(_ root: URL) throws -> String {
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(TrainEvalGenerateCommandTests.corpusText.utf8).write(to: corpus)
        return corpus.path
    }

    /// A bf16 run records its precision, resumes exactly in bf16 without the flag, trains a different
    /// trajectory than f32, and may switch to f32 on resume (logged as a change).
    @Test func bf16RunsRecordResumeAndSwitch() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-precision")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try Self.corpus(root)
        func train(_ name: String, _ extra: [String]) throws -> String {
            let out = root.appendingPathComponent(name).path
            let run = try CLI.run(["train", corpus, "--out", out] + Workflow.flags + extra)
            #expect(run.status == 0, "\(run.stderr)")
            return out
        }
        let whole = try train("whole", ["--precision", "bf16", "--max-steps", "12"])
        let split = try train("split", ["--precision", "bf16", "--max-steps", "8"])
        let f32 = try train("f32", ["--max-steps", "12"])
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(whole)/config.json"))) as? [String: Any])
        #expect((config["training"] as? [String: Any])?["precision"] as? String == "bf16")
        let resumed = try CLI.run(["train", "--resume", "--out", split, "--max-steps", "12"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Workflow.trajectory(split) == Workflow.trajectory(whole))
        #expect(try Workflow.trajectory(whole) != Workflow.trajectory(f32))
        let switched = try CLI.run(["train", "--resume", "--out", split, "--max-steps", "14", "--precision", "f32"])
        #expect(switched.status == 0, "\(switched.stderr)")
        #expect(try Workflow.resumeRecords(split).last?["changes"] as? [String: String]
                == ["--max-steps": "12 -> 14", "--precision": "bf16 -> f32"])
    }

    @Test func evalBenchAndGradientsTakeThePrecision() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-precision-eval")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try Self.corpus(root)
        let out = root.appendingPathComponent("run").path
        #expect(try CLI.run(["train", corpus, "--out", out, "--max-steps", "4"] + Workflow.flags).status == 0)
        func nats(_ precision: String) throws -> Double {
            let run = try CLI.run(["eval", out, corpus, "--batch", "4", "--bptt", "10", "--precision", precision, "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            return try #require(object["nats_per_unit"] as? Double)
        }
        let f32 = try nats("f32"), bf16 = try nats("bf16")
        #expect(f32 != bf16 && abs(f32 - bf16) < 0.02 * f32)
        let bench = try CLI.run(["bench", corpus, "--hidden", "8", "--layers", "1", "--embed", "4", "--batch", "2",
                                 "--bptt", "5", "--steps", "1", "--sample", "0", "--threads", "1", "--precision", "bf16", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        #expect(bench.stdout.contains("\"precision\": \"bf16\"") || bench.stdout.contains("\"precision\":\"bf16\""), "\(bench.stdout)")
        // The bf16 kernel this machine runs: the dot-product kernel where the CPU has AVX512-BF16.
        #expect(bench.stdout.contains("\"kernel\": \"\(KernelFeatures.kernelName(operands: .bf16))\""), "\(bench.stdout)")
        #expect(bench.stdout.contains("bf16-avx512bf16") || bench.stdout.contains("bf16-emulated-"))
        let refused = try CLI.run(["eval", out, corpus, "--weights", "f16", "--precision", "bf16"])
        #expect(refused.status != 0 && refused.stderr.contains("--precision"))
        let gradients = try CLI.run(["gradients", out, "--corpus", corpus, "--length", "10", "--windows", "2",
                                     "--precision", "bf16", "--json"])
        #expect(gradients.status == 0, "\(gradients.stderr)")
        let bad = try CLI.run(["train", corpus, "--out", root.appendingPathComponent("bad").path, "--precision", "fp8"])
        #expect(bad.status != 0 && bad.stderr.contains("--precision"))
    }
}
