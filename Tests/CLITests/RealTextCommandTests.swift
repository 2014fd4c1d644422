import CharRNN
import TextCorpus
import Foundation
import Testing
import TestSupport

/// `charrnn experiment real-text` on a tiny budget, as the built binary.
@Suite struct RealTextCommandTests {
    typealias Run = CorpusCommandTests.Run

    /// Deterministic C-like text with nested ( ) [ ] { } and strings at short and long distances.
    static func codeText() -> String {
        var text = ""
        for i in 0..<300 {
            text += "static int f\(i)(int a, char *b) {\n"
            text += "  if (a[\(i % 7)] > \"x\") { return g(b, (a + \(i))); }\n"
            if i % 5 == 0 { text += "  /* a longer body line to stretch the braces */\n  while (a) { a--; }\n" }
            text += "}\n"
        }
        return text
    }

    @Test func tinyBudgetWritesTheTablesWithTheRightRowsAndSkipsAbsentCorpora() throws {
        let directory = try SharedCorpora.temporaryDirectory("realtext-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let shared = directory.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: shared.appendingPathComponent("code"), withIntermediateDirectories: true)
        // Plain text under the .gz name: the reader tells gzip from the bytes.
        let code = Self.codeText()
        try Data(code.utf8).write(to: shared.appendingPathComponent("code/lua_src.txt.gz"))
        let out = directory.appendingPathComponent("out")
        let run = try CorpusCommandTests.run([
            "experiment", "real-text", "--out", out.path, "--shared", shared.path,
            "--project", SharedCorpora.projectRoot.path, "--max-bytes", "20000", "--steps", "3", "--hidden", "8",
            "--embed", "4", "--bptt", "20", "--batch", "2", "--eval-every", "0", "--threads", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        // sqlite and divina are absent: one note each; lua (ours) and shakespeare (shipped) ran.
        #expect(run.stderr.contains("corpus sqlite: skipped ("))
        #expect(run.stderr.contains("corpus divina: skipped ("))
        #expect(!run.stderr.contains("corpus lua: skipped"))
        let sections = run.stdout.components(separatedBy: "### ")
        let lua = try #require(sections.first { $0.hasPrefix("lua ") })
        let shakespeare = try #require(sections.first { $0.hasPrefix("shakespeare ") })
        #expect(!sections.contains { $0.hasPrefix("sqlite ") || $0.hasPrefix("divina ") })
        let lines = lua.split(separator: "\n").map(String.init)
        for source in ["lstm", "gru", "rnn", "5-gram", "20-gram"] {
            // One row in the cross-entropy/type table and one in the position-aware table.
            let rows = lines.filter { $0.hasPrefix("| \(source) | ") }
            let expected = source.hasSuffix("gram") ? 2 + 3 : 2       // n-grams also head 3 breakdown rows
            #expect(rows.count == expected, "\(source): \(rows)")
        }
        for ngram in ["5-gram", "20-gram"] {
            for model in ["lstm", "gru", "rnn"] {
                #expect(lines.contains { $0.hasPrefix("| \(ngram) | \(model) | ") })
            }
        }
        // Targets per bucket: the printed counts are those of the delimiter scan of the test split.
        let summary = try JSONDecoder().decode([RealTextExperiment.CorpusResult].self,
                                               from: Data(contentsOf: out.appendingPathComponent("summary.json")))
        #expect(summary.map(\.corpus.name) == ["lua", "shakespeare"])
        let luaResult = try #require(summary.first)
        let corpus = try TokenCorpus.load(text: try #require(String(code.utf8.prefix(luaResult.bytes))), validationFraction: 0.05, testFraction: 0.1)
        let scan = DelimiterScan(units: corpus.test.map { corpus.vocabulary.unit(of: $0) })
        #expect(scan.targets.count > 50)
        #expect(luaResult.sources.map(\.positionAware.overall.count).allSatisfy { $0 == scan.targets.count })
        let countRow = try #require(lines.first { $0.hasPrefix("| *closers (n)* |") })
        #expect(countRow.hasSuffix(" \(scan.targets.count) |"))
        let filled = DistanceBucket.standard.filter { bucket in scan.targets.contains { bucket.contains($0.distance) } }
        #expect(lines.contains { line in line.contains("type acc all") && filled.allSatisfy { line.contains("type acc \($0.label) ") } })
        for breakdown in luaResult.breakdowns {
            #expect(breakdown.overall.fixed <= breakdown.overall.baselineErrors && breakdown.overall.targets == scan.targets.count)
        }
        #expect(luaResult.sources.allSatisfy { ($0.testBitsPerUnit ?? 0) > 0 })
        // Shakespeare has no delimiters: the tables say 0 closers.
        #expect(shakespeare.contains("| *closers (n)* | | 0 |"))
        // …and its progress lines say so instead of printing nan.
        let shakespeareDone = run.stderr.split(separator: "\n").filter { $0.hasPrefix("shakespeare/") && $0.contains(": done in ") }
        #expect(shakespeareDone.count == 3 && shakespeareDone.allSatisfy { $0.contains("long-range accuracy n/a (no closers)") })
        #expect(!run.stderr.contains("nan"))
        // Files: run directories, n-gram directories, the report, results.md = stdout.
        for name in ["lstm/metrics.jsonl", "gru/config.json", "rnn/long-range.json", "5-gram/long-range.json",
                     "20-gram/metrics.jsonl", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("lua/\(name)").path), "\(name)")
        }
        #expect(try String(contentsOf: out.appendingPathComponent("results.md"), encoding: .utf8) == run.stdout)
    }

    @Test func badFlagsGetOneLine() throws {
        for (arguments, message) in [(["--corpora", "latin"], "--corpora: unknown corpus 'latin'"),
                                     (["--ngram-orders", "5,40"], "--ngram-orders: '40'"),
                                     (["--cells", "lstm,,gru"], "--cells: empty item"),
                                     (["--max-bytes", "0"], "--max-bytes must be at least 1")] {
            let directory = try SharedCorpora.temporaryDirectory("realtext-bad")
            defer { try? FileManager.default.removeItem(at: directory) }
            let out = directory.appendingPathComponent("out")
            let run = try CorpusCommandTests.run(["experiment", "real-text", "--out", out.path] + arguments)
            #expect(run.status == 1)
            #expect(run.stderr.contains(message), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        // Every corpus absent: one line, nothing written.
        let directory = try SharedCorpora.temporaryDirectory("realtext-none")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let run = try CorpusCommandTests.run(["experiment", "real-text", "--out", out.path, "--corpora", "sqlite,divina",
                                              "--shared", directory.appendingPathComponent("nothing").path, "--quiet"])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("charrnn: error: --corpora: none of the corpus files exists"))
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
