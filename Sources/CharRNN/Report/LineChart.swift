import Foundation

/// One polyline of a ``LineChart``.
struct ChartSeries {
    var name: String
    var color: String
    var dash: String? = nil
    var width: Double = 1.5
    var opacity: Double = 1
    /// Draw a small circle at each point (for sparse series such as evaluations).
    var markers: Bool = false
    /// Points (x, y) in data units, in drawing order.
    var points: [(x: Double, y: Double)]
}

/// A line chart as an inline `<svg id="…" class="chart line-chart">`: axes with ticks and labels,
/// optional log scales, one polyline per series and a legend below the plot.
struct LineChart {
    var id: String
    var title: String
    var xLabel: String
    var yLabel: String
    var xKind: ChartScale.Kind = .linear
    var yKind: ChartScale.Kind = .linear
    var yRange: ClosedRange<Double>? = nil
    var series: [ChartSeries]
    var width: Double = 960
    var plotHeight: Double = 300

    static let margin = (left: 78.0, right: 24.0, top: 36.0, bottom: 48.0)

    func svg() -> String {
        let m = LineChart.margin
        let legendRows = (series.count + 2) / 3
        let height = m.top + plotHeight + m.bottom + Double(legendRows) * 18 + 8
        let x0 = m.left, x1 = width - m.right, y0 = m.top, y1 = m.top + plotHeight
        var out = "<svg id=\"\(SVG.escape(id))\" class=\"chart line-chart\" width=\"\(SVG.coordinate(width))\" height=\"\(SVG.coordinate(height))\" viewBox=\"0 0 \(SVG.coordinate(width)) \(SVG.coordinate(height))\" role=\"img\" aria-label=\"\(SVG.escape(title))\">"
        out += SVG.rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
        out += SVG.text(title, x: width / 2, y: 20, anchor: "middle", size: 15, weight: "bold")

        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) }
        let xScale = ChartScale(kind: xKind, values: xs, start: x0, end: x1)
        let yScale = ChartScale(kind: yKind, values: ys, start: y1, end: y0, fixed: yRange)

        // Grid and ticks.
        for tick in xScale.ticks {
            let x = xScale.position(tick)
            out += SVG.line(x, y0, x, y1, stroke: "#e6e6e6")
            out += SVG.line(x, y1, x, y1 + 5, stroke: "#333")
            out += SVG.text(xScale.label(tick), x: x, y: y1 + 18, anchor: "middle", size: 11)
        }
        for tick in yScale.ticks {
            let y = yScale.position(tick)
            out += SVG.line(x0, y, x1, y, stroke: "#e6e6e6")
            out += SVG.line(x0 - 5, y, x0, y, stroke: "#333")
            out += SVG.text(yScale.label(tick), x: x0 - 8, y: y + 4, anchor: "end", size: 11)
        }
        out += SVG.line(x0, y1, x1, y1, stroke: "#333")
        out += SVG.line(x0, y0, x0, y1, stroke: "#333")
        out += SVG.text(xLabel, x: (x0 + x1) / 2, y: y1 + 38, anchor: "middle", size: 12)
        out += SVG.text(yLabel, x: 18, y: (y0 + y1) / 2, anchor: "middle", size: 12, rotate: -90)

        if ys.filter({ yScale.accepts($0) }).isEmpty {
            out += SVG.text("no data", x: (x0 + x1) / 2, y: (y0 + y1) / 2, anchor: "middle", size: 14,
                            cssClass: "no-data")
        }

        // Series, clipped to the plot area.
        out += "<clipPath id=\"\(SVG.escape(id))-clip\"><rect x=\"\(SVG.coordinate(x0))\" y=\"\(SVG.coordinate(y0 - 2))\" width=\"\(SVG.coordinate(x1 - x0))\" height=\"\(SVG.coordinate(y1 - y0 + 4))\"/></clipPath>"
        out += "<g clip-path=\"url(#\(SVG.escape(id))-clip)\">"
        for s in series {
            let accepted = s.points.filter { xScale.accepts($0.x) && yScale.accepts($0.y) }
            guard !accepted.isEmpty else { continue }
            let visible = s.markers ? accepted : LineChart.decimate(accepted, xScale: xScale, limit: Int(x1 - x0) * 4)
            let coordinates = visible.map { "\(SVG.coordinate(xScale.position($0.x))),\(SVG.coordinate(yScale.position($0.y)))" }
            var attributes = "fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"\(SVG.coordinate(s.width))\" stroke-linejoin=\"round\""
            if let dash = s.dash { attributes += " stroke-dasharray=\"\(dash)\"" }
            if s.opacity < 1 { attributes += " stroke-opacity=\"\(SVG.coordinate(s.opacity))\"" }
            out += "<polyline class=\"series\" \(attributes) points=\"\(coordinates.joined(separator: " "))\"><title>\(SVG.escape(s.name))</title></polyline>"
            if s.markers {
                for p in visible {
                    out += "<circle cx=\"\(SVG.coordinate(xScale.position(p.x)))\" cy=\"\(SVG.coordinate(yScale.position(p.y)))\" r=\"2.5\" fill=\"\(s.color)\"/>"
                }
            }
        }
        out += "</g>"
        out += Legend.svg(entries: series.map { ($0.name, $0.color, $0.dash, false, 1) }, x: x0, y: y1 + 56, width: x1 - x0)
        return out + "</svg>"
    }
}

extension LineChart {
    /// Keeps long series small: when there are more than `limit` points, each pixel column keeps
    /// its first, lowest, highest and last point (in order), which preserves the drawn envelope.
    static func decimate(_ points: [(x: Double, y: Double)], xScale: ChartScale, limit: Int) -> [(x: Double, y: Double)] {
        guard points.count > limit else { return points }
        var out: [(x: Double, y: Double)] = []
        var start = 0
        while start < points.count {
            let pixel = Int(xScale.position(points[start].x).rounded(.down))
            var end = start + 1
            var low = start, high = start
            while end < points.count && Int(xScale.position(points[end].x).rounded(.down)) == pixel {
                if points[end].y < points[low].y { low = end }
                if points[end].y > points[high].y { high = end }
                end += 1
            }
            for index in Set([start, low, high, end - 1]).sorted() { out.append(points[index]) }
            start = end
        }
        return out
    }
}

/// A legend in rows of three entries: a line (or a filled square for bars) and the name.
enum Legend {
    static func svg(entries: [(name: String, color: String, dash: String?, filled: Bool, opacity: Double)], x: Double, y: Double,
                    width: Double) -> String {
        var out = "<g class=\"legend\">"
        let column = width / 3
        for (index, entry) in entries.enumerated() {
            let ex = x + Double(index % 3) * column
            let ey = y + Double(index / 3) * 18
            if entry.filled {
                out += "<g fill-opacity=\"\(SVG.coordinate(entry.opacity))\">"
                out += SVG.rect(x: ex, y: ey - 9, width: 22, height: 10, fill: entry.color, stroke: entry.color)
                out += "</g>"
            } else {
                out += SVG.line(ex, ey - 4, ex + 22, ey - 4, stroke: entry.color, width: 2.5, dash: entry.dash)
            }
            out += SVG.text(entry.name, x: ex + 28, y: ey, size: 11)
        }
        return out + "</g>"
    }
}
