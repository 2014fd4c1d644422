import Foundation

/// A grouped bar chart as an inline `<svg id="…" class="chart bar-chart">`: one group per category
/// (e.g. distance bucket), one bar per series inside each group, values on a linear y axis.
/// Missing values (nil) leave a gap and a small "n/a" mark.
struct GroupedBarChart {
    var id: String
    var title: String
    var categories: [String]
    var xLabel: String
    var yLabel: String
    /// Series name, colour, fill opacity and one value per category.
    var series: [(name: String, color: String, opacity: Double, values: [Double?])]
    var yRange: ClosedRange<Double>? = nil
    var width: Double = 960
    var plotHeight: Double = 280

    func svg() -> String {
        let m = LineChart.margin
        let legendRows = (series.count + 2) / 3
        let height = m.top + plotHeight + m.bottom + Double(legendRows) * 18 + 8
        let x0 = m.left, x1 = width - m.right, y0 = m.top, y1 = m.top + plotHeight
        var out = "<svg id=\"\(SVG.escape(id))\" class=\"chart bar-chart\" width=\"\(SVG.coordinate(width))\" height=\"\(SVG.coordinate(height))\" viewBox=\"0 0 \(SVG.coordinate(width)) \(SVG.coordinate(height))\" role=\"img\" aria-label=\"\(SVG.escape(title))\">"
        out += SVG.rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
        out += SVG.text(title, x: width / 2, y: 20, anchor: "middle", size: 15, weight: "bold")
        let values = series.flatMap { $0.values.compactMap { $0 } }
        let yScale = ChartScale(kind: .linear, values: values, start: y1, end: y0, includeZero: true, fixed: yRange)
        for tick in yScale.ticks {
            let y = yScale.position(tick)
            out += SVG.line(x0, y, x1, y, stroke: "#e6e6e6")
            out += SVG.line(x0 - 5, y, x0, y, stroke: "#333")
            out += SVG.text(yScale.label(tick), x: x0 - 8, y: y + 4, anchor: "end", size: 11)
        }
        let groupWidth = (x1 - x0) / Double(max(categories.count, 1))
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        for (c, category) in categories.enumerated() {
            let gx = x0 + Double(c) * groupWidth
            out += SVG.text(category, x: gx + groupWidth / 2, y: y1 + 18, anchor: "middle", size: 11)
            for (s, entry) in series.enumerated() {
                let bx = gx + groupWidth * 0.1 + Double(s) * barWidth
                guard c < entry.values.count, let value = entry.values[c], value.isFinite else {
                    out += SVG.text("n/a", x: bx + barWidth / 2, y: y1 - 4, anchor: "middle", size: 8, cssClass: "na")
                    continue
                }
                // A zero still shows as a thin bar, so it is not mistaken for a missing value.
                let top = yScale.position(value), base = yScale.position(0)
                let height = max(abs(base - top), 1.5)
                out += "<g fill-opacity=\"\(SVG.coordinate(entry.opacity))\">"
                out += SVG.rect(x: bx, y: min(top, base - height), width: barWidth - 1, height: height,
                                fill: entry.color, stroke: entry.color,
                                title: "\(entry.name), \(category): \(ChartScale.format(value))")
                out += "</g>"
            }
        }
        out += SVG.line(x0, y1, x1, y1, stroke: "#333")
        out += SVG.line(x0, y0, x0, y1, stroke: "#333")
        out += SVG.text(xLabel, x: (x0 + x1) / 2, y: y1 + 38, anchor: "middle", size: 12)
        out += SVG.text(yLabel, x: 18, y: (y0 + y1) / 2, anchor: "middle", size: 12, rotate: -90)
        if values.isEmpty {
            out += SVG.text("no data", x: (x0 + x1) / 2, y: (y0 + y1) / 2, anchor: "middle", size: 14, cssClass: "no-data")
        }
        out += Legend.svg(entries: series.map { ($0.name, $0.color, nil, true, $0.opacity) }, x: x0, y: y1 + 56, width: x1 - x0)
        return out + "</svg>"
    }
}
