import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `charrnn inspect-cells` end to end on a tiny trained LSTM, and its one-line errors.
@Suite(.serialized) struct InspectCellsCommandTests {
    typealias CLI = CorpusCommandTests

    /// Code-like text with comments, strings, brackets and quotes.
    static let text = String(repeating: "x = f(a[1], \"s(t)\"); /* note (1) */ y = “q” + 2; // end\n", count: 30)

    static func trainedRun(_ root: URL) throws -> (corpus: String, out: String) {
        let corpus = root.appendingPathComponent("code.txt")
        try Data(text.utf8).write(to: corpus)
        let out = root.appendingPathComponent("run").path
        let run = try CLI.run(["train", corpus.path, "--cell", "lstm", "--hidden", "12", "--embed", "8", "--layers", "2",
                               "--bptt", "20", "--batch", "4", "--max-steps", "6", "--eval-every", "3", "--threads", "1",
                               "--quiet", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        return (corpus.path, out)
    }

    @Test func tableJSONPageAndReportLink() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-cells")
        defer { try? FileManager.default.removeItem(at: root) }
        let (corpus, out) = try Self.trainedRun(root)
        let page = "\(out)/cells.html"
        let table = try CLI.run(["inspect-cells", out, corpus, "--syntax", "c", "--length", "1000", "--top", "3",
                                 "--threshold", "0", "--units", "h1:11,c0:0", "--out", page])
        #expect(table.status == 0, "\(table.stderr)")
        for property in ["inside-quotes", "bracket-depth", "line-position", "inside-comment", "inside-string"] {
            #expect(table.stdout.contains("\(property) (mean "), "\(property) missing: \(table.stdout)")
        }
        #expect(table.stdout.contains("h1:11: inside-quotes "))
        #expect(table.stdout.contains("layer 1 forget  left "))
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("id=\"figure-line-cell\"") && html.contains("<option value=\"c0:0\">"))

        let json = try CLI.run(["inspect-cells", out, corpus, "--syntax", "c", "--length", "1000", "--top", "3", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["steps"] as? Int == 1000 && object["cell"] as? String == "lstm" && object["layers"] as? Int == 2)
        let properties = try #require(object["properties"] as? [[String: Any]])
        #expect(properties.count == 5)
        let comment = try #require(properties.first { $0["property"] as? String == "inside-comment" })
        let units = try #require(comment["units"] as? [[String: Any]])
        #expect(units.count == 3)
        let r = units.compactMap { $0["r"] as? Double }
        #expect(r.count == 3 && zip(r, r.dropFirst()).allSatisfy { abs($0) >= abs($1) } && r.allSatisfy { abs($0) <= 1 })
        #expect((object["saturation"] as? [Any])?.count == 6)             // 2 layers × input, forget, output

        // The report links to RUN/cells.html.
        let report = root.appendingPathComponent("report.html").path
        let made = try CLI.run(["report", out, "-o", report])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try String(contentsOfFile: report, encoding: .utf8).contains("href=\"run/cells.html\""))
    }

    @Test func badInputGivesOneLineErrors() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-cells-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        let (corpus, out) = try Self.trainedRun(root)
        let short = root.appendingPathComponent("short.txt")
        try Data("x = 1;".utf8).write(to: short)
        let page = root.appendingPathComponent("page.html").path
        let cases: [([String], String)] = [
            (["inspect-cells", root.appendingPathComponent("nope").path, corpus], "nope"),
            (["inspect-cells", out, short.path, "--out", page], "needs at least 50 units but the text has 6"),
            (["inspect-cells", out, corpus, "--units", "h2:0", "--out", page], "--units: h2:0 is not a unit of this model (2 layers of 12 units"),
            (["inspect-cells", out, corpus, "--units", "h0:12"], "--units: h0:12 is not a unit"),
            (["inspect-cells", out, corpus, "--units", "q0:1"], "--units: q0:1 is not a unit name"),
            (["inspect-cells", out, corpus, "--length", "10"], "--length must be at least 50"),
            (["inspect-cells", out, corpus, "--threshold", "2"], "--threshold must be in [0, 1]"),
            (["inspect-cells", out, root.appendingPathComponent("missing.txt").path], "missing.txt"),
        ]
        for (arguments, expected) in cases {
            let run = try CLI.run(arguments)
            #expect(run.status == 1, "\(arguments): \(run.stderr)")
            #expect(run.stderr.hasPrefix("charrnn: error: ") && run.stderr.contains(expected), "\(arguments): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: page))                 // nothing half-written
    }
}
