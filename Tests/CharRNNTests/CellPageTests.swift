import Foundation
import Testing
import TestSupport
@testable import CharRNN

/// The `inspect-cells` page: its elements, no external resources, and a render in headless
/// Chromium with no console messages (skipped when Chromium is not installed).
@Suite struct CellPageTests {
    /// A recording over prose with quotes and lines, with a planted quote unit (h0:2) and a planted
    /// line-position unit (c0:1).
    static func fixture() -> (CellActivations, [String], CellInspection) {
        let line = "He said “stop <here> & now” and left. </script> "
        let text = Array(String(repeating: line + "\n" + "A short line.\n", count: 40)).map(String.init)
        let props = TextProperties.compute(units: text, syntax: .prose)
        let n = text.count, h = 4
        var hidden = [Float](repeating: 0, count: n * h), cells = [Float](repeating: 0, count: n * h)
        for t in 0..<n {
            hidden[t * h + 2] = Float(props[.insideQuotes]![t]) * 0.9 - 0.45
            cells[t * h + 1] = Float(props[.linePosition]![t]) / 10
            hidden[t * h + 0] = Float(sin(Double(t)))
            cells[t * h + 3] = Float(cos(Double(t) * 0.7))
        }
        let gates = (0..<(n * 4 * h)).map { Float(($0 * 37) % 100) / 100 }
        let activations = CellActivations(cell: .lstm, hiddenSize: h, steps: n, hidden: [hidden], cellStates: [cells], gates: [gates])
        let inspection = CellInspection(checkpoint: "fixture", activations: activations, units: text, syntax: .prose,
                                        top: 3, threshold: 0.3, requested: [UnitID(state: .c, layer: 0, index: 3)])
        return (activations, text, inspection)
    }

    @Test func pageHasItsElementsAndNoExternalResources() throws {
        let (activations, text, inspection) = Self.fixture()
        #expect(inspection.best(.insideQuotes)?.unit == UnitID(state: .h, layer: 0, index: 2))
        #expect(inspection.best(.linePosition)?.unit == UnitID(state: .c, layer: 0, index: 1))
        let html = CellPage.html(inspection: inspection, activations: activations, units: text, shown: 500)
        for id in ["figure-quote-cell", "figure-line-cell", "unit-select", "unit-text", "table-properties",
                   "chart-gate-saturation", "table-gate-saturation"] {
            #expect(html.contains("id=\"\(id)\""), "missing \(id)")
        }
        #expect(html.contains("<option value=\"h0:2\">") && html.contains("<option value=\"c0:3\">"))
        // The selector starts at the strongest unit (the planted quote unit, |r| = 1).
        #expect(html.range(of: "<option value=\"h0:2\">")!.lowerBound < html.range(of: "<option value=\"c0:1\">")!.lowerBound)
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("src="))
        // The text's markup is escaped in the figures and cannot end the data script.
        #expect(html.contains(">&lt;</span>") && html.contains(">&amp;</span>") && !html.contains("<here>"))
        #expect(html.components(separatedBy: "</script>").count == 3)       // the two script elements only
        // One dot per unit and gate: 3 σ gates × 4 units.
        #expect(html.components(separatedBy: "<circle class=\"unit\"").count - 1 == 12)
        let json = try inspection.json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((object["saturation"] as? [Any])?.count == 3)
        #expect((object["properties"] as? [[String: Any]])?.first?["property"] as? String == "inside-quotes")
    }

    @Test func pageRendersInChromiumWithoutConsoleMessages() throws {
        let (activations, text, inspection) = Self.fixture()
        let directory = try SharedCorpora.temporaryDirectory("cells-page")
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("cells.html")
        try Data(CellPage.html(inspection: inspection, activations: activations, units: text, shown: 800).utf8).write(to: page)
        let png = directory.appendingPathComponent("cells.png")
        let (status, message) = try TestProcess.renderPage(page, to: png, size: "1200x2400")
        if status == 77 {
            print("chromium not installed: cells page not rendered (\(message))")
            return
        }
        // Status 3: the browser logged console messages (a script error, a refused resource).
        #expect(status == 0, "render_report.sh failed: \(message)")
        let image = try Data(contentsOf: png)
        #expect(image.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        #expect(image.count > 30_000)
        let dom = try String(contentsOf: URL(fileURLWithPath: png.path + ".dom.html"), encoding: .utf8)
        for id in ["figure-quote-cell", "figure-line-cell", "unit-select", "chart-gate-saturation", "table-properties"] {
            #expect(dom.contains("id=\"\(id)\""), "chromium DOM lacks \(id)")
        }
        // The script ran: the selector's text block holds one span per shown unit, with a caption.
        let start = try #require(dom.range(of: "<div id=\"unit-text\" class=\"cell-text\">"))
        let block = dom[start.upperBound...].prefix { $0 != "\u{0}" }
        let end = try #require(block.range(of: "</div>"))
        #expect(block[..<end.lowerBound].components(separatedBy: "<span ").count - 1 == 800)
        #expect(dom.contains("max |value|"))
    }
}
