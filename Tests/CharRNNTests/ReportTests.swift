import Foundation
import Testing
import TestSupport
@testable import CharRNN

/// Hand-made run directories for report tests.
enum ReportFixtures {
    /// Writes a run directory with metrics (train every 10 steps, validation every 100) and,
    /// optionally, config, gradient flow and long-range results.
    static func makeRun(in parent: URL, name: String, decay: Double, cell: String, full: Bool = true) throws -> URL {
        let directory = parent.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lines: [String] = []
        for step in stride(from: 10, through: 1000, by: 10) {
            let wiggle = 0.05 * sin(Double(step) * 0.37)
            let loss = 1.2 + 3.0 * exp(-Double(step) * decay) + wiggle
            let norm = (cell == "lstm" ? 4.0 : 8.0) * exp(-Double(step) / 400) + 0.5 + abs(wiggle) * 10
            lines.append(try MetricsRecord(kind: .train, step: step, epoch: step / 500, time: Double(step) * 0.9, loss: loss,
                                           gradNorm: norm, clipped: norm > 5, learningRate: 0.002).jsonLine())
            if step % 100 == 0 {
                lines.append(try MetricsRecord(kind: .eval, step: step, epoch: step / 500, time: Double(step) * 0.9 + 0.3,
                                               loss: loss + 0.1, split: "validation").jsonLine())
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("metrics.jsonl"),
                                                         atomically: true, encoding: .utf8)
        guard full else { return directory }
        let config = """
        {"model": {"cell": "\(cell)", "hidden": 128, "layers": 2, "skip": "none"},
         "training": {"lr": 0.002, "bptt": 100, "batch": 32, "clip": 5.0},
         "tokenizer": {"unit": "grapheme", "normalization": "NFC"}, "note": "<b>&amp; not markup</b>",
         "schedule": [{"step": 0, "lr": 0.002}, {"step": 500, "lr": 0.001}]}
        """
        try config.write(to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let ratio = cell == "lstm" ? 0.97 : 0.8
        let layers = (0..<2).map { layer in
            let windows = (0..<3).map { w in (0..<100).map { k in Double(w + 1) * pow(ratio - 0.03 * Double(layer), Double(k)) } }
            return GradientFlowResult.Layer(layer: layer, windowNorms: windows,
                                            windowCellNorms: cell == "lstm" ? windows.map { $0.map { $0 * 2 } } : nil)
        }
        let flow = GradientFlowResult(cell: cell, hidden: 128, length: 100, windows: 3, initialization: "xavier", layers: layers)
        try flow.encoded().write(to: directory.appendingPathComponent("gradient-flow.json"))

        // Long-range: a provider that is sure for short distances and guesses far away.
        let text = Array(String(repeating: "(ab[cd]e) {" + String(repeating: "x", count: 120) + "} ", count: 5)
                         + "«" + String(repeating: "y", count: 600) + "» ").map(String.init)
        let closers = DelimiterSet.standard.closers
        let model = LongRangeEvaluation.delimiters(units: text, label: "model") { target in
            let sure = target.distance <= (cell == "lstm" ? 200 : 10)
            return closers.map { $0 == target.expected ? (sure ? 0.8 : 0.1) : (sure ? 0.02 : 0.12) }
        }
        let gram = LongRangeEvaluation.delimiters(units: text, label: "5-gram") { target in
            closers.map { $0 == target.expected ? (target.distance <= 4 ? 0.5 : 0.05) : 0.06 }
        }
        try LongRangeReport(source: "synthetic", results: [model, gram]).encoded()
            .write(to: directory.appendingPathComponent("long-range.json"))
        return directory
    }
}

@Suite struct ReportTests {
    static let chartIDs = ["chart-loss-step", "chart-loss-time", "chart-grad-norm", "chart-clip-rate",
                           "chart-gradient-flow", "chart-long-range-accuracy-delimiters",
                           "chart-long-range-probability-delimiters"]
    static let tableIDs = ["table-summary", "table-gradient-flow", "table-long-range-delimiters", "table-config"]

    @Test func reportContainsEveryChartAndNoExternalResources() throws {
        let parent = try SharedCorpora.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: parent) }
        let runs = [try ReportFixtures.makeRun(in: parent, name: "lstm-run", decay: 0.006, cell: "lstm"),
                    try ReportFixtures.makeRun(in: parent, name: "rnn-run", decay: 0.003, cell: "rnn")]
        let output = parent.appendingPathComponent("report.html")
        try RunReport.write(runDirectories: runs, to: output)
        let html = try String(contentsOf: output, encoding: .utf8)
        for id in Self.chartIDs {
            #expect(html.contains("<svg id=\"\(id)\" class=\"chart"), "missing chart \(id)")
        }
        for id in Self.tableIDs { #expect(html.contains("id=\"\(id)\""), "missing table \(id)") }
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(!html.contains("<b>&amp;"))                        // config values are escaped
        #expect(html.contains("&lt;b&gt;&amp;amp; not markup&lt;/b&gt;"))
        #expect(html.contains("lstm-run") && html.contains("rnn-run"))
        #expect(html.contains("model.hidden") && html.contains("schedule.1.lr"))
        // Both runs' validation curves and gradient-flow layers are drawn.
        #expect(html.contains("<title>lstm-run validation</title>") && html.contains("<title>rnn-run validation</title>"))
        #expect(html.contains("rnn-run layer 1 (×0.770/step)"))
        // The page parses as XML-ish well-formed SVG: every <svg opens and closes.
        #expect(html.components(separatedBy: "<svg ").count == html.components(separatedBy: "</svg>").count)

        if let keep = ProcessInfo.processInfo.environment["CHARRNN_REPORT_OUTPUT"], !keep.isEmpty {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: output, to: URL(fileURLWithPath: keep))
        }
        try renderWithChromium(output)
    }

    /// Renders the page with scripts/render_report.sh; skips only when no Chromium is installed.
    func renderWithChromium(_ html: URL) throws {
        let png = html.deletingLastPathComponent().appendingPathComponent("report.png")
        let (status, message) = try TestProcess.renderPage(html, to: png, size: "1200x4200")
        if status == 77 {
            print("chromium not installed: report not rendered (\(message))")
            return
        }
        #expect(status == 0, "render_report.sh failed: \(message)")
        let image = try Data(contentsOf: png)
        #expect(image.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(image.count > 50_000)                  // a page of charts, not a blank screen
        let dom = try String(contentsOf: URL(fileURLWithPath: png.path + ".dom.html"), encoding: .utf8)
        for id in Self.chartIDs { #expect(dom.contains("id=\"\(id)\""), "chromium DOM lacks \(id)") }
        #expect(dom.contains("<polyline"))
        if let keep = ProcessInfo.processInfo.environment["CHARRNN_REPORT_OUTPUT"], !keep.isEmpty {
            try? FileManager.default.removeItem(atPath: keep + ".png")
            try FileManager.default.copyItem(at: png, to: URL(fileURLWithPath: keep + ".png"))
        }
    }

    @Test func directoryWithoutMetricsIsNamed() throws {
        let parent = try SharedCorpora.temporaryDirectory("report-bad")
        defer { try? FileManager.default.removeItem(at: parent) }
        let empty = parent.appendingPathComponent("empty-run")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        do {
            try RunReport.write(runDirectories: [empty], to: parent.appendingPathComponent("r.html"))
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("empty-run"))
            #expect("\(error)".contains("metrics.jsonl"))
        }
        #expect(!FileManager.default.fileExists(atPath: parent.appendingPathComponent("r.html").path))
        #expect(throws: ReportError.notADirectory(parent.appendingPathComponent("nope").path)) {
            try ReportRun.load(parent.appendingPathComponent("nope"))
        }
        #expect(throws: ReportError.noRuns) { try RunReport.write(runDirectories: [], to: parent.appendingPathComponent("r.html")) }
        // Malformed optional files are named too.
        try "{\"kind\":\"eval\",\"step\":1,\"epoch\":0,\"time\":0,\"loss\":1}\n"
            .write(to: empty.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        try "{not json".write(to: empty.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        do { _ = try ReportRun.load(empty); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("config.json"))
        }
        try "{\"layers\": 3}".write(to: empty.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try "{\"cell\": \"lstm\"}".write(to: empty.appendingPathComponent("gradient-flow.json"), atomically: true, encoding: .utf8)
        do { _ = try ReportRun.load(empty); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("gradient-flow.json"))
        }
    }

    @Test func metricsOnlyRunSaysWhatIsMissing() throws {
        let parent = try SharedCorpora.temporaryDirectory("report-min")
        defer { try? FileManager.default.removeItem(at: parent) }
        let run = try ReportFixtures.makeRun(in: parent, name: "bare", decay: 0.004, cell: "gru", full: false)
        let html = RunReport.html(runs: [try ReportRun.load(run), try ReportRun.load(run)])
        #expect(html.contains("id=\"missing-gradient-flow\""))
        #expect(html.contains("id=\"missing-long-range\""))
        #expect(html.contains("id=\"missing-config\""))
        #expect(html.contains("bare (2)"))                          // duplicate names made unique
        #expect(html.contains("<svg id=\"chart-loss-step\""))
    }

    @Test func clipRateIsAMovingShare() {
        let records = (1...6).map { MetricsRecord(kind: .train, step: $0, epoch: 0, time: 0, loss: 1, clipped: [true, false, true, true, false, false][$0 - 1]) }
        let rate = RunReport.clipRate(records, window: 3)
        #expect(rate.map(\.y) == [1, 0.5, 2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0])
        #expect(rate.map(\.x) == [1, 2, 3, 4, 5, 6])
    }

    @Test func scalesAndEscaping() {
        #expect(SVG.escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;")
        let log = ChartScale(kind: .log, values: [0.003, 0, -1, 40], start: 0, end: 100)
        #expect(log.low == 0.001 && log.high == 100)
        #expect(log.ticks == [0.001, 0.01, 0.1, 1, 10, 100])
        #expect(abs(log.position(0.1) - 40) < 1e-9)
        let linear = ChartScale(kind: .linear, values: [0.3, 9.2], start: 0, end: 100)
        #expect(linear.low == 0 && linear.high == 10)
        #expect(linear.ticks == [0, 2, 4, 6, 8, 10])
        #expect(ChartScale.format(1e-5, log: true) == "1e-5")
        #expect(ChartScale.format(2.5) == "2.5")
    }
}

@Suite struct ReportChartTests {
    @Test func longSeriesAreDecimatedKeepingTheEnvelope() {
        let scale = ChartScale(kind: .linear, values: [0, 1000], start: 0, end: 100)
        let points = (0...100_000).map { i in (x: Double(i) / 100, y: i == 51_234 ? 99.0 : sin(Double(i))) }
        let kept = LineChart.decimate(points, xScale: scale, limit: 400)
        #expect(kept.count <= 4 * 101)
        #expect(kept.contains { $0.y == 99 })                        // a spike survives
        #expect(kept.first!.x == 0 && kept.last!.x == 1000)
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.x <= $1.x })
        #expect(LineChart.decimate(Array(points.prefix(10)), xScale: scale, limit: 400).count == 10)
    }

    @Test func emptyMetricsStillRender() throws {
        let parent = try SharedCorpora.temporaryDirectory("report-empty")
        defer { try? FileManager.default.removeItem(at: parent) }
        let run = parent.appendingPathComponent("no-steps-yet")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try "".write(to: run.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        let html = RunReport.html(runs: [try ReportRun.load(run)])
        #expect(html.contains("class=\"no-data\""))
        #expect(html.contains("<svg id=\"chart-clip-rate\""))
    }
}
