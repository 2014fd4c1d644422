import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI
import Tensor

/// `charrnn bench` prints the documented JSON keys and rejects bad options with one line.
@Suite struct BenchCommandTests {
    typealias CLI = CorpusCommandTests

    /// A small corpus in a new temporary directory (the caller removes `root`).
    static func tinyCorpus() throws -> (root: URL, corpus: URL) {
        let root = try SharedCorpora.temporaryDirectory()
        let corpus = root.appendingPathComponent("c.txt")
        try Data(String(repeating: "to be or not to be, that is the question. ", count: 20).utf8).write(to: corpus)
        return (root, corpus)
    }

    @Test func jsonHasTheDocumentedKeys() throws {
        let (root, corpus) = try Self.tinyCorpus()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try CLI.run(["bench", "--cell", "gru", "--hidden", "16", "--embed", "8", "--batch", "4", "--bptt", "8",
                               "--steps", "2", "--sample", "20", "--threads", "1", "--json", corpus.path])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        for key in ["train_chars_per_s", "eval_chars_per_s", "sample_chars_per_s", "peak_rss_mb"] {
            #expect((object[key] as? NSNumber).map { $0.doubleValue > 0 } == true, "\(key)")
        }
    }

    /// `--peak` adds the measured f32 peak (bf16 only where the CPU has it) and the shares of it.
    @Test func peakReportsTheShareOfTheMeasuredPeak() throws {
        let (root, corpus) = try Self.tinyCorpus()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try CLI.run(["bench", "--hidden", "16", "--embed", "8", "--batch", "4", "--bptt", "8", "--steps", "2",
                               "--sample", "0", "--threads", "1", "--peak", "--json", corpus.path])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let peak = try #require((object["peak_f32_gflops"] as? NSNumber)?.doubleValue)
        let train = try #require((object["train_gflops"] as? NSNumber)?.doubleValue)
        let share = try #require((object["train_peak_share"] as? NSNumber)?.doubleValue)
        #expect(peak > 0)
        // train_gflops and peak_f32_gflops are printed to 0.1 (a debug build's peak can be < 1), the
        // share to 0.001: it must lie between the ratios the rounded values allow.
        let low = max(0, train - 0.05) / (peak + 0.05), high = (train + 0.05) / max(peak - 0.05, 1e-9)
        #expect(share >= low - 0.0005 && share <= high + 0.0005, "share \(share) vs \(train) / \(peak)")
        #expect(["avx512", "avx2", "portable"].contains(object["kernel"] as? String ?? ""))
        #expect((object["peak_bf16_gflops"] is NSNull) == !KernelFeatures.bf16)
        #expect(object["peak_share_of"] as? String == "f32")
    }

    /// With `--precision bf16` on the dot-product kernel the shares are of the bf16 peak.
    @Test func bf16SharesAreOfThePeakOfItsArithmetic() throws {
        let (root, corpus) = try Self.tinyCorpus()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try CLI.run(["bench", "--hidden", "16", "--embed", "8", "--batch", "4", "--bptt", "8", "--steps", "2",
                               "--sample", "0", "--threads", "1", "--peak", "--precision", "bf16", "--json", corpus.path])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let dot = object["kernel"] as? String == "bf16-avx512bf16"
        #expect(dot == (KernelFeatures.kernelName(operands: .bf16) == "bf16-avx512bf16"))
        #expect(object["peak_share_of"] as? String == (dot ? "bf16" : "f32"))
        let peak = try #require((object[dot ? "peak_bf16_gflops" : "peak_f32_gflops"] as? NSNumber)?.doubleValue)
        let train = try #require((object["train_gflops"] as? NSNumber)?.doubleValue)
        let share = try #require((object["train_peak_share"] as? NSNumber)?.doubleValue)
        let low = max(0, train - 0.05) / (peak + 0.05), high = (train + 0.05) / max(peak - 0.05, 1e-9)
        #expect(share >= low - 0.0005 && share <= high + 0.0005, "share \(share) vs \(train) / \(peak)")
    }

    @Test func badOptionsGetOneLine() throws {
        let run = try CLI.run(["bench", "--cell", "tree", "/nonexistent"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("--cell") && run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }
}
