import Foundation

/// Minimal SVG/HTML text building: escaping and number formatting. Output is plain markup for an
/// inline `<svg>` inside an HTML page (no external resources, no scripts).
enum SVG {
    /// Escapes `& < > " '` so `text` is safe in element content and in double-quoted attributes.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A coordinate with two decimals (enough for screen pixels, keeps files small).
    static func coordinate(_ value: Double) -> String { String(format: "%.2f", value) }

    /// `<text>` with escaped content.
    static func text(_ content: String, x: Double, y: Double, anchor: String = "start", size: Double = 12,
                     weight: String? = nil, rotate: Double? = nil, cssClass: String? = nil) -> String {
        var attributes = "x=\"\(coordinate(x))\" y=\"\(coordinate(y))\" text-anchor=\"\(anchor)\" font-size=\"\(coordinate(size))\""
        if let weight { attributes += " font-weight=\"\(weight)\"" }
        if let rotate { attributes += " transform=\"rotate(\(coordinate(rotate)) \(coordinate(x)) \(coordinate(y)))\"" }
        if let cssClass { attributes += " class=\"\(cssClass)\"" }
        return "<text \(attributes)>\(escape(content))</text>"
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                     width: Double = 1, dash: String? = nil) -> String {
        var s = "<line x1=\"\(coordinate(x1))\" y1=\"\(coordinate(y1))\" x2=\"\(coordinate(x2))\" y2=\"\(coordinate(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(coordinate(width))\""
        if let dash { s += " stroke-dasharray=\"\(dash)\"" }
        return s + "/>"
    }

    static func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                     stroke: String? = nil, title: String? = nil) -> String {
        var s = "<rect x=\"\(coordinate(x))\" y=\"\(coordinate(y))\" width=\"\(coordinate(max(width, 0)))\" height=\"\(coordinate(max(height, 0)))\" fill=\"\(fill)\""
        if let stroke { s += " stroke=\"\(stroke)\"" }
        if let title { return s + "><title>\(escape(title))</title></rect>" }
        return s + "/>"
    }

    /// A distinct colour for series `index` (Tableau 10, then repeating).
    static func color(_ index: Int) -> String {
        let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                       "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
        return palette[index % palette.count]
    }

    /// Dash pattern number `index` (solid first).
    static func dash(_ index: Int) -> String? {
        let patterns: [String?] = [nil, "6 3", "2 3", "10 3 2 3", "1 2"]
        return patterns[index % patterns.count]
    }
}
