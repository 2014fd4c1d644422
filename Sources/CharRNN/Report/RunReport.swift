import Foundation
import TextCorpus

/// `charrnn report`: one self-contained HTML page (inline SVG, no scripts, no network) comparing
/// runs — learning curves against steps and time, gradient norm and clip rate, gradient flow
/// against distance, long-range accuracy by distance bucket, and each run's configuration.
///
/// Every chart is an `<svg class="chart">` with a stable id:
/// `chart-loss-step`, `chart-loss-time`, `chart-grad-norm`, `chart-clip-rate`, `chart-gradient-flow`,
/// `chart-long-range-accuracy-<task>`, `chart-long-range-probability-<task>`, and
/// `chart-gradient-flow-training` (decay factor against steps, from `train --track-gradient-flow`);
/// runs with a `cells.html` (`charrnn inspect-cells`) are linked from `p#links-cells`; tables are
/// `table-summary`, `table-long-range-<task>` and `table-config`. Sections whose inputs no run has
/// say so in a `<p class="missing">`.
public enum RunReport {
    /// Steps in the moving window of the clip rate (share of clipped steps among the last N train records).
    public static let clipWindow = 50

    /// Reads the run directories, renders the page and writes it atomically to `output`.
    public static func write(runDirectories: [URL], to output: URL, title: String = "CharRNN report") throws {
        guard !runDirectories.isEmpty else { throw ReportError.noRuns }
        let runs = try runDirectories.map(ReportRun.load)
        let html = self.html(runs: runs, title: title, outputDirectory: output.deletingLastPathComponent())
        do { try Data(html.utf8).write(to: output, options: .atomic) } catch {
            throw ReportError.writeFailed(path: output.path, reason: SystemError.reason(error))
        }
    }

    /// The page for `runs` (names made unique by suffixing ` (2)`, ` (3)`…); links to files of the
    /// runs (`cells.html`) are relative to `outputDirectory` when given.
    public static func html(runs input: [ReportRun], title: String = "CharRNN report", outputDirectory: URL? = nil) -> String {
        var runs = input
        var seen: [String: Int] = [:]
        for i in runs.indices {
            let count = seen[runs[i].name, default: 0] + 1
            seen[runs[i].name] = count
            if count > 1 { runs[i].name += " (\(count))" }
        }
        var body = "<h1>\(SVG.escape(title))</h1>\n"
        body += "<p class=\"runs\">Runs: " + runs.enumerated().map { index, run in
            "<span class=\"swatch\" style=\"background:\(SVG.color(index))\"></span>\(SVG.escape(run.name))"
        }.joined(separator: " &nbsp; ") + "</p>\n"
        body += summaryTable(runs)
        body += cellsLinks(runs, from: outputDirectory)
        body += "<h2>Learning curves</h2>\n"
        body += figure(lossChart(runs, byTime: false))
        body += figure(lossChart(runs, byTime: true))
        body += "<h2>Gradient norm and clipping</h2>\n"
        body += figure(gradNormChart(runs))
        body += figure(clipRateChart(runs))
        body += "<h2>Gradient flow</h2>\n"
        body += gradientFlowSection(runs)
        body += gradientFlowTrainingSection(runs)
        body += "<h2>Long-range accuracy</h2>\n"
        body += longRangeSection(runs)
        body += "<h2>Configuration</h2>\n"
        body += configTable(runs)
        return HTMLPage.document(title: title, style: """
            tr.differs td { background: #fff8e0; }
            span.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
            td.value { font-family: monospace; word-break: break-all; max-width: 420px; }
            """, body: body)
    }

    private static func figure(_ svg: String) -> String { "<figure>\(svg)</figure>\n" }

    // MARK: Summary

    private static func summaryTable(_ runs: [ReportRun]) -> String {
        var out = "<table id=\"table-summary\"><tr><th>run</th><th>train steps</th><th>time (s)</th><th>last train loss</th><th>best validation loss</th><th>best validation bits/unit</th><th>clipped steps</th></tr>\n"
        for run in runs {
            let train = run.metrics.filter { $0.kind == .train }
            let validation = run.metrics.filter { $0.kind == .eval && ($0.split ?? "validation") == "validation" }
            let best = validation.compactMap(\.loss).min()
            let clipped = train.filter { $0.clipped == true }.count
            out += "<tr><td>\(SVG.escape(run.name))</td><td class=\"num\">\(train.last?.step ?? 0)</td>"
            out += "<td class=\"num\">\(number(run.metrics.map(\.time).max()))</td>"
            out += "<td class=\"num\">\(number(train.last?.loss))</td><td class=\"num\">\(number(best))</td>"
            out += "<td class=\"num\">\(number(best.map { $0 / log(2) }))</td>"
            out += "<td class=\"num\">\(clipped) of \(train.count)</td></tr>\n"
        }
        return out + "</table>\n"
    }

    private static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return String(format: "%.4f", value)
    }

    // MARK: Curves

    /// A time axis in seconds, minutes or hours, whichever keeps the numbers readable.
    private static func timeUnit(_ runs: [ReportRun]) -> (label: String, divisor: Double) {
        let longest = runs.flatMap { $0.metrics.map(\.time) }.max() ?? 0
        if longest >= 7200 { return ("hours", 3600) }
        if longest >= 180 { return ("minutes", 60) }
        return ("seconds", 1)
    }

    static func lossChart(_ runs: [ReportRun], byTime: Bool) -> String {
        let unit = timeUnit(runs)
        var series: [ChartSeries] = []
        for (index, run) in runs.enumerated() {
            let x: (MetricsRecord) -> Double = { byTime ? $0.time / unit.divisor : Double($0.step) }
            let train = run.metrics.filter { $0.kind == .train }
            series.append(ChartSeries(name: "\(run.name) train", color: SVG.color(index), width: 1.2, opacity: 0.75,
                                      points: train.compactMap { r in r.loss.map { (x(r), $0) } }))
            let evals = run.metrics.filter { $0.kind == .eval }
            for (splitIndex, split) in Set(evals.map { $0.split ?? "validation" }).sorted().enumerated() {
                let points = evals.filter { ($0.split ?? "validation") == split }.compactMap { r in r.loss.map { (x(r), $0) } }
                series.append(ChartSeries(name: "\(run.name) \(split)", color: SVG.color(index),
                                          dash: SVG.dash(1 + splitIndex), width: 2.2, markers: true, points: points))
            }
        }
        return LineChart(id: byTime ? "chart-loss-time" : "chart-loss-step",
                         title: byTime ? "Loss against training time" : "Loss against steps",
                         xLabel: byTime ? "training time (\(unit.label))" : "optimizer step",
                         yLabel: "loss (nats/unit)", series: series).svg()
    }

    static func gradNormChart(_ runs: [ReportRun]) -> String {
        let series = runs.enumerated().map { index, run in
            ChartSeries(name: run.name, color: SVG.color(index), width: 1.2,
                        points: run.metrics.compactMap { r in
                            r.kind == .train ? r.gradNorm.map { (Double(r.step), $0) } : nil
                        })
        }
        return LineChart(id: "chart-grad-norm", title: "Gradient norm before clipping", xLabel: "optimizer step",
                         yLabel: "global L2 norm (log scale)", yKind: .log, series: series).svg()
    }

    /// Moving share of clipped steps over the last ``clipWindow`` train records that report `clipped`.
    static func clipRate(_ metrics: [MetricsRecord], window: Int = clipWindow) -> [(x: Double, y: Double)] {
        let records = metrics.filter { $0.kind == .train && $0.clipped != nil }
        var points: [(x: Double, y: Double)] = []
        var clippedInWindow = 0
        for (i, record) in records.enumerated() {
            if record.clipped == true { clippedInWindow += 1 }
            if i >= window, records[i - window].clipped == true { clippedInWindow -= 1 }
            points.append((Double(record.step), Double(clippedInWindow) / Double(min(i + 1, window))))
        }
        return points
    }

    static func clipRateChart(_ runs: [ReportRun]) -> String {
        let series = runs.enumerated().map { index, run in
            ChartSeries(name: run.name, color: SVG.color(index), width: 1.5, points: clipRate(run.metrics))
        }
        return LineChart(id: "chart-clip-rate", title: "Clip rate (share of clipped steps, moving window of \(clipWindow) logged steps)",
                         xLabel: "optimizer step", yLabel: "share clipped", yRange: 0...1, series: series).svg()
    }

    // MARK: Gradient flow

    static func gradientFlowSection(_ runs: [ReportRun]) -> String {
        let withFlow = runs.enumerated().filter { $0.element.gradientFlow != nil }
        guard !withFlow.isEmpty else {
            return "<p class=\"missing\" id=\"missing-gradient-flow\">No run has gradient-flow.json.</p>\n"
        }
        var series: [ChartSeries] = []
        var rows = ""
        for (index, run) in withFlow {
            let flow = run.gradientFlow!
            for layer in flow.layers {
                let factor = layer.decayFactor.map { String(format: "×%.3f/step", $0) } ?? "no fit"
                series.append(ChartSeries(name: "\(run.name) layer \(layer.layer) (\(factor))", color: SVG.color(index),
                                          dash: SVG.dash(layer.layer), width: 1.8,
                                          points: layer.norms.enumerated().map { (Double($0.offset), $0.element) }))
                if let cell = layer.cellNorms {
                    series.append(ChartSeries(name: "\(run.name) layer \(layer.layer) cell", color: SVG.color(index),
                                              dash: "1 3", width: 1.2,
                                              points: cell.enumerated().map { (Double($0.offset), $0.element) }))
                }
                rows += "<tr><td>\(SVG.escape(run.name))</td><td>\(SVG.escape(flow.cell))</td><td class=\"num\">\(flow.hidden)</td>"
                rows += "<td class=\"num\">\(layer.layer)</td><td class=\"num\">\(number(layer.decayFactor))</td>"
                rows += "<td class=\"num\">\(layer.vanishDistance.map(String.init) ?? "never")</td>"
                rows += "<td class=\"num\">\(flow.length)</td><td class=\"num\">\(flow.windows)</td><td>\(SVG.escape(flow.initialization))</td></tr>\n"
            }
        }
        let chart = LineChart(id: "chart-gradient-flow", title: "Gradient flow: ‖∂L_T/∂h_{T−k}‖ against distance k",
                              xLabel: "distance k (steps back)", yLabel: "gradient norm (log scale)", yKind: .log,
                              series: series).svg()
        return figure(chart) + "<table id=\"table-gradient-flow\"><tr><th>run</th><th>cell</th><th>hidden</th><th>layer</th><th>decay factor</th><th>vanish distance</th><th>T</th><th>windows</th><th>init</th></tr>\n\(rows)</table>\n"
    }

    // MARK: Long range

    static func longRangeSection(_ runs: [ReportRun]) -> String {
        let entries = runs.enumerated().flatMap { index, run in
            (run.longRange?.results ?? []).map { (runIndex: index, run: run.name, result: $0) }
        }
        guard !entries.isEmpty else {
            return "<p class=\"missing\" id=\"missing-long-range\">No run has long-range.json.</p>\n"
        }
        var out = ""
        for task in [LongRangeResult.Task.delimiters, .recall] {
            let forTask = entries.filter { $0.result.task == task }
            guard !forTask.isEmpty else { continue }
            let categories = (forTask.first!.result.buckets + [forTask.first!.result.overall]).map(\.label)
            // Results of one run share the run's colour; its second, third… result (e.g. an n-gram
            // baseline) is drawn lighter.
            var seenPerRun: [Int: Int] = [:]
            let shades: [Double] = forTask.map { entry in
                let k = seenPerRun[entry.runIndex, default: 0]
                seenPerRun[entry.runIndex] = k + 1
                return [1.0, 0.4, 0.2, 0.65][k % 4]
            }
            let series = forTask.enumerated().map { i, entry in
                (name: "\(entry.run): \(entry.result.label)", color: SVG.color(entry.runIndex), opacity: shades[i],
                 values: (entry.result.buckets + [entry.result.overall]).map(\.typeAccuracy))
            }
            let probabilities = forTask.enumerated().map { i, entry in
                (name: "\(entry.run): \(entry.result.label)", color: SVG.color(entry.runIndex), opacity: shades[i],
                 values: (entry.result.buckets + [entry.result.overall]).map(\.meanProbability))
            }
            let what = task == .delimiters ? "closing-delimiter" : "recall key"
            out += "<h3>\(task == .delimiters ? "Delimiters" : "Recall")</h3>\n"
            out += figure(GroupedBarChart(id: "chart-long-range-accuracy-\(task.rawValue)",
                                          title: "Long-range \(what) type accuracy by distance",
                                          categories: categories, xLabel: "distance to the opener (units)",
                                          yLabel: "type accuracy", series: series, yRange: 0...1).svg())
            out += figure(GroupedBarChart(id: "chart-long-range-probability-\(task.rawValue)",
                                          title: "Mean probability of the correct \(what) by distance",
                                          categories: categories, xLabel: "distance to the opener (units)",
                                          yLabel: "mean probability", series: probabilities, yRange: 0...1).svg())
            out += "<table id=\"table-long-range-\(task.rawValue)\"><tr><th>run: result</th>"
            out += categories.map { "<th>\(SVG.escape($0))</th>" }.joined() + "<th>skipped</th></tr>\n"
            for entry in forTask {
                out += "<tr><td>\(SVG.escape(entry.run)): \(SVG.escape(entry.result.label))</td>"
                for score in entry.result.buckets + [entry.result.overall] {
                    let accuracy = score.typeAccuracy.map { String(format: "%.3f", $0) } ?? "-"
                    out += "<td class=\"num\">\(accuracy) (n=\(score.count))</td>"
                }
                let s = entry.result.skipped
                let skipped = task == .delimiters
                    ? "\(s.unmatchedClosers) unmatched, \(s.mismatchedClosers) mismatched closers; \(s.unclosedOpeners) unclosed openers"
                    : "\(s.cuesWithoutKey) cues without key"
                out += "<td>\(skipped)\(entry.result.isEmpty ? " — nothing to score" : "")</td></tr>\n"
            }
            out += "</table>\n"
        }
        return out
    }

    // MARK: Configuration

    static func configTable(_ runs: [ReportRun]) -> String {
        guard runs.contains(where: { $0.config != nil }) else {
            return "<p class=\"missing\" id=\"missing-config\">No run has config.json.</p>\n"
        }
        var keys: [String] = []
        var seen = Set<String>()
        var values: [[String: String]] = []
        for run in runs {
            var map: [String: String] = [:]
            for (key, value) in run.config ?? [] {
                map[key] = value
                if seen.insert(key).inserted { keys.append(key) }
            }
            values.append(map)
        }
        var out = "<table id=\"table-config\"><tr><th>key</th>"
        out += runs.map { "<th>\(SVG.escape($0.name))</th>" }.joined() + "</tr>\n"
        for key in keys {
            let cells = values.map { $0[key] }
            let differs = Set(cells.map { $0 ?? "\u{0}" }).count > 1
            out += "<tr\(differs ? " class=\"differs\"" : "")><td>\(SVG.escape(key))</td>"
            out += cells.map { "<td class=\"value\">\(SVG.escape($0 ?? "—"))</td>" }.joined() + "</tr>\n"
        }
        return out + "</table>\n<p>Rows where runs differ are highlighted.</p>\n"
    }
}
