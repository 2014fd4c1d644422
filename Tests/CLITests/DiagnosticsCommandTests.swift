import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `charrnn gradients`, `eval --long-range` and `generate --report` run as the built binary.
@Suite struct DiagnosticsCommandTests {
    typealias Run = CorpusCommandTests.Run
    static func run(_ arguments: [String]) throws -> Run { try CorpusCommandTests.run(arguments) }

    /// A scratch directory with a small bracket text and a checkpoint trained on it for a few steps.
    static let fixture: (directory: URL, text: URL, checkpoint: URL)? = {
        guard let directory = try? SharedCorpora.temporaryDirectory("diagnostics-cli") else { return nil }
        let text = directory.appendingPathComponent("brackets.txt")
        // Deterministic text: words with nested brackets.
        var body = ""
        let words = ["ab", "cd", "efg", "h", "ijk"]
        for i in 0..<400 {
            let word = words[i % words.count]
            switch i % 7 {
            case 0: body += "(\(word) "
            case 3: body += "[\(word)] "
            case 5: body += "\(word)) "
            default: body += "\(word) "
            }
        }
        try? Data(body.utf8).write(to: text)
        let checkpoint = directory.appendingPathComponent("run")
        let trained = try? CorpusCommandTests.run([
            "train", text.path, "--cell", "lstm", "--layers", "1", "--hidden", "8", "--embed", "4", "--dropout", "0",
            "--bptt", "10", "--batch", "2", "--max-steps", "3", "--out", checkpoint.path, "--quiet",
            "--val-fraction", "0.1", "--test-fraction", "0.2"])
        guard trained?.status == 0 else { return nil }
        return (directory, text, checkpoint)
    }()

    @Test func gradientsWithWindowsLongerThanTheCorpusFailWithOneLine() throws {
        let directory = try SharedCorpora.temporaryDirectory("gradients-short")
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("t.txt")
        try Data("abc abc abc".utf8).write(to: text)
        let run = try Self.run(["gradients", "--cell", "rnn", "--hidden", "4", "--corpus", text.path, "--length", "50"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(run.stderr.contains("--length 50") && run.stderr.contains("11"), "\(run.stderr)")
    }

    @Test func gradientsJSONAndSaveForTheReport() throws {
        let fixture = try #require(Self.fixture)
        let out = fixture.directory.appendingPathComponent("flow-\(UUID().uuidString)")
        let run = try Self.run(["gradients", "--cell", "rnn", "--hidden", "8", "--embed", "4", "--corpus", fixture.text.path,
                                "--length", "20", "--windows", "3", "--recurrent-scale", "0.5", "--json", "--save", out.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["cell"] as? String == "rnn" && (object["windows"] as? NSNumber)?.intValue == 3)
        #expect(object["init"] as? String == "default, weight_hh ×0.5")
        let layers = try #require(object["layers"] as? [[String: Any]])
        #expect(layers.count == 1)
        let norms = try #require(layers[0]["norms"] as? [Double])
        let maxNorms = try #require(layers[0]["max_norms"] as? [Double])
        #expect(norms.count == 20 && maxNorms.count == 20)
        #expect(zip(norms, maxNorms).allSatisfy { $0 <= $1 * (1 + 1e-12) })
        #expect(norms[19] < norms[0])
        #expect(((layers[0]["decay_factor"] as? NSNumber)?.doubleValue).map { $0 < 1 } == true)
        // The saved directory is a run directory the report reads.
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("gradient-flow.json"))) as? [String: Any]
        #expect((saved?["layers"] as? [Any])?.count == 1)
        let html = out.appendingPathComponent("report.html")
        let report = try Self.run(["report", out.path, "-o", html.path])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try String(contentsOf: html, encoding: .utf8).contains("chart-gradient-flow"))

        let checkpointRun = try Self.run(["gradients", fixture.checkpoint.path, "--corpus", fixture.text.path,
                                          "--length", "30", "--windows", "2"])
        #expect(checkpointRun.status == 0, "\(checkpointRun.stderr)")
        #expect(checkpointRun.stdout.contains("gradient flow: lstm, H=8, T=30, 2 windows"))
        #expect(checkpointRun.stdout.contains("‖∂L_T/∂c‖"))
        let conflicting = try Self.run(["gradients", fixture.checkpoint.path, "--cell", "gru", "--corpus", fixture.text.path])
        #expect(conflicting.status != 0 && conflicting.stderr.contains("--cell"))
    }

    @Test func evalLongRangeOnTextWithoutDelimitersSaysSo() throws {
        let fixture = try #require(Self.fixture)
        let plain = fixture.directory.appendingPathComponent("plain-\(UUID().uuidString).txt")
        try Data(String(repeating: "ab cd efg h ", count: 40).utf8).write(to: plain)
        let run = try Self.run(["eval", fixture.checkpoint.path, plain.path, "--long-range"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("no matched delimiter pairs in the text: nothing to score"))
        #expect(run.stdout.contains("5-gram"))
        let json = try Self.run(["eval", fixture.checkpoint.path, plain.path, "--long-range", "--json", "--ngram-order", "3"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(results.map { $0["label"] as? String } == ["model", "3-gram"])
        #expect(results.allSatisfy { (($0["overall"] as? [String: Any])?["count"] as? NSNumber)?.intValue == 0 })
    }

    @Test func evalLongRangeScoresBracketsAndSavesForTheReport() throws {
        let fixture = try #require(Self.fixture)
        let out = fixture.directory.appendingPathComponent("lr-\(UUID().uuidString)")
        let run = try Self.run(["eval", fixture.checkpoint.path, fixture.text.path, "--long-range", "--split", "all",
                                "--save", out.path, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("warning") && run.stderr.contains("--split all"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let saved = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: out.appendingPathComponent("long-range.json"))) as? [String: Any])
        #expect(NSDictionary(dictionary: saved) == NSDictionary(dictionary: object))
        let results = try #require(object["results"] as? [[String: Any]])
        let overall = try #require(results.first?["overall"] as? [String: Any])
        // "(word " … "word) " pairs and "[word]" pairs: 400 words, 57 of each opener.
        #expect((overall["count"] as? NSNumber)?.intValue == 114)
        let table = try Self.run(["eval", fixture.checkpoint.path, fixture.text.path, "--long-range"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("long-range delimiters on") && table.stdout.contains("type_acc"))
        let bad = try Self.run(["eval", fixture.checkpoint.path, fixture.text.path, "--long-range", "--batch", "4"])
        #expect(bad.status != 0 && bad.stderr.contains("--batch"))
    }

    @Test func generateReportKeepsStdoutTheText() throws {
        let fixture = try #require(Self.fixture)
        let reportFile = fixture.directory.appendingPathComponent("gen-\(UUID().uuidString).json")
        let base = ["generate", fixture.checkpoint.path, "--length", "300", "--seed", "4", "--prime", "(ab "]
        let plain = try Self.run(base)
        let toFile = try Self.run(base + ["--report-json", reportFile.path])
        let toStderr = try Self.run(base + ["--report"])
        for run in [plain, toFile, toStderr] { #expect(run.status == 0, "\(run.stderr)") }
        #expect(toFile.stdout == plain.stdout && toStderr.stdout == plain.stdout)
        // One character per unit (an unlikely sampled <unk> prints as "<unk>").
        let text = plain.stdout.replacingOccurrences(of: "<unk>", with: "?")
        #expect(text.count == 4 + 300 + 1 && text.hasPrefix("(ab ") && text.hasSuffix("\n"))
        #expect(toFile.stderr.isEmpty)
        #expect(toStderr.stderr.contains("Delimiters in the generated text (300 units)"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: reportFile)) as? [String: Any])
        #expect((object["units"] as? NSNumber)?.intValue == 300)
        let generated = Array(text.dropFirst(4).dropLast())
        let closers = generated.filter { ")]}".contains($0) }.count
        #expect((object["closers"] as? NSNumber)?.intValue == closers)
        #expect((object["buckets"] as? [Any])?.count == 6)
        #expect(!FileManager.default.fileExists(atPath: reportFile.path + ".tmp"))
    }

    @Test func helpNamesTheNewCommandsAndOptions() {
        let root = CharRNNCommand.helpMessage()
        #expect(root.contains("gradients") && root.contains("experiment"))
        #expect(GradientsCommand.helpMessage().contains("--recurrent-scale"))
        #expect(EvalCommand.helpMessage().contains("--long-range") && EvalCommand.helpMessage().contains("--ngram-order"))
        #expect(GenerateCommand.helpMessage().contains("--report-json"))
        #expect(VanishingCommand.helpMessage().contains("rnn-2layer-residual"))
        #expect(throws: (any Error).self) { try VanishingCommand.parse(["--runs", "rnn,transformer"]) }
        #expect(throws: (any Error).self) { try GradientsCommand.parse(["--corpus", "x"]) }   // neither checkpoint nor --cell
    }
}
