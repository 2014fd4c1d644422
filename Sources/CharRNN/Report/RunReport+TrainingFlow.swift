import Foundation

/// The report's parts for `train --track-gradient-flow` records and `inspect-cells` pages.
extension RunReport {
    /// Decay factor against optimizer steps, one series per run and layer (and LSTM cell state,
    /// dotted), from the `gradient_flow` records of metrics.jsonl: `<svg id="chart-gradient-flow-training">`,
    /// or `<p id="missing-gradient-flow-training">` when no run has such records.
    static func gradientFlowTrainingSection(_ runs: [ReportRun]) -> String {
        var series: [ChartSeries] = []
        var measurement: (length: Int, windows: Int)?
        for (index, run) in runs.enumerated() {
            let records = run.metrics.filter { $0.kind == .gradientFlow }
            guard let layers = records.compactMap({ $0.decayFactors?.count }).max() else { continue }
            if let first = records.first, let length = first.flowLength, let windows = first.flowWindows {
                measurement = (length, windows)
            }
            for layer in 0..<layers {
                func points(_ values: (MetricsRecord) -> [Double?]?) -> [(x: Double, y: Double)] {
                    records.compactMap { record in
                        guard let factors = values(record), layer < factors.count, let factor = factors[layer] else { return nil }
                        return (Double(record.step), factor)
                    }
                }
                series.append(ChartSeries(name: "\(run.name) layer \(layer)", color: SVG.color(index), dash: SVG.dash(layer),
                                          width: 1.8, markers: true, points: points(\.decayFactors)))
                let cell = points(\.cellDecayFactors)
                if !cell.isEmpty {
                    series.append(ChartSeries(name: "\(run.name) layer \(layer) cell", color: SVG.color(index), dash: "1 3",
                                              width: 1.2, markers: true, points: cell))
                }
            }
        }
        guard !series.isEmpty else {
            return "<p class=\"missing\" id=\"missing-gradient-flow-training\">No run tracked gradient flow while training (train --track-gradient-flow).</p>\n"
        }
        let how = measurement.map { ", \($0.windows) validation windows of T = \($0.length)" } ?? ""
        return "<figure>" + LineChart(id: "chart-gradient-flow-training",
                                      title: "Gradient-flow decay factor during training (per step back\(how))",
                                      xLabel: "optimizer step", yLabel: "decay factor per step (1: no decay)",
                                      series: series).svg() + "</figure>\n"
    }

    /// Links to the runs' `cells.html` pages (`<p id="links-cells">`), or nothing when no run has one.
    static func cellsLinks(_ runs: [ReportRun], from outputDirectory: URL?) -> String {
        let pages = runs.compactMap { run in run.cellsPage.map { (run.name, $0) } }
        guard !pages.isEmpty else { return "" }
        let links = pages.map { name, page in
            "<a class=\"cells-link\" href=\"\(SVG.escape(relativeReference(to: page, from: outputDirectory)))\">\(SVG.escape(name)): interpretable cells</a>"
        }
        return "<p id=\"links-cells\">Cells pages (charrnn inspect-cells): " + links.joined(separator: " &nbsp; ") + "</p>\n"
    }

    /// A URL reference to `file` from a page in `directory`: a relative path (percent-encoded) when
    /// a directory is given, else a file URL.
    static func relativeReference(to file: URL, from directory: URL?) -> String {
        guard let directory else { return file.standardizedFileURL.absoluteString }
        let target = file.standardizedFileURL.pathComponents, base = directory.standardizedFileURL.pathComponents
        var common = 0
        while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
        let parts = Array(repeating: "..", count: base.count - common) + target[common...]
        let allowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: ";?#"))
        return parts.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }.joined(separator: "/")
    }
}
