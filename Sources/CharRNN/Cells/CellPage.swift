import Foundation

/// The self-contained HTML page of `charrnn inspect-cells` (no external resources): the text
/// coloured by a unit's activation — the best "quote cell" and "line-position cell" as fixed
/// pictures, and a selector (`<select id="unit-select">`, a small inline script; it starts at the
/// unit with the largest |r|) to switch among all top units — plus the properties table and the gate-saturation scatter of the paper.
///
/// Element ids: `figure-quote-cell`, `figure-line-cell` (absent, with a `p.missing`, when no unit
/// tracks the property), `unit-select`, `unit-text`, `table-properties`, `chart-gate-saturation`
/// and `table-gate-saturation` (or `missing-gate-saturation` for the tanh RNN).
///
/// Colours: blue for a positive, red for a negative activation, opacity |v| / max |v| of that unit
/// over the shown text.
public enum CellPage {
    /// The page for `inspection` over `units` (the text, one string per step), showing the first
    /// `shown` units; `activations` supplies the series of the units shown.
    public static func html(inspection: CellInspection, activations: CellActivations, units: [String],
                            shown: Int, title: String = "CharRNN cells") -> String {
        let count = min(shown, units.count, activations.steps)
        let text = Array(units.prefix(count))
        // Units offered in the selector: every property's top units, strongest |r| first (the one
        // shown at first), then the requested ones.
        var choices: [(unit: UnitID, label: String)] = []
        var seen = Set<UnitID>()
        let ranked = inspection.properties.flatMap { result in result.units.map { (result.property, $0) } }
            .enumerated().sorted { abs($0.element.1.r) != abs($1.element.1.r) ? abs($0.element.1.r) > abs($1.element.1.r) : $0.offset < $1.offset }
            .map(\.element)
        for (property, correlation) in ranked where seen.insert(correlation.unit).inserted {
            choices.append((correlation.unit, "\(correlation.unit): \(property.rawValue) r=\(String(format: "%+.3f", correlation.r))"))
        }
        for requested in inspection.requested where seen.insert(requested.unit).inserted {
            choices.append((requested.unit, "\(requested.unit) (asked for)"))
        }
        var body = "<h1>\(SVG.escape(title))</h1>\n"
        body += "<p class=\"summary\">\(SVG.escape(inspection.checkpoint)): \(SVG.escape(inspection.cell)), \(inspection.layers) layer\(inspection.layers == 1 ? "" : "s") × \(inspection.hidden) units; \(inspection.steps) units of text read as one stream (\(inspection.syntax.rawValue) rules), the first \(count) shown. Scores are Pearson r of a unit's activation with the property over all \(inspection.steps) units (no linear probe). Blue: positive activation, red: negative; stronger colour, larger |value|.</p>\n"
        body += pictureSection(id: "figure-quote-cell", heading: "Quote cell", property: .insideQuotes,
                               inspection: inspection, activations: activations, text: text)
        body += pictureSection(id: "figure-line-cell", heading: "Line-position cell", property: .linePosition,
                               inspection: inspection, activations: activations, text: text)
        body += "<h2>Any top unit</h2>\n"
        if choices.isEmpty {
            body += "<p class=\"missing\" id=\"missing-units\">No unit reached the threshold for any property.</p>\n"
        } else {
            body += "<p><label for=\"unit-select\">Unit: </label><select id=\"unit-select\">"
            body += choices.map { "<option value=\"\(SVG.escape($0.unit.description))\">\(SVG.escape($0.label))</option>" }.joined()
            body += "</select> <span id=\"unit-caption\"></span></p>\n"
            body += "<div id=\"unit-text\" class=\"cell-text\"></div>\n"
        }
        body += "<h2>Properties</h2>\n" + propertiesTable(inspection)
        body += "<h2>Gate saturation</h2>\n" + saturationSection(inspection.saturation)
        let data = pageData(choices: choices, activations: activations, text: text)
        return HTMLPage.document(title: title, style: """
            .cell-text { font-family: monospace; font-size: 13px; white-space: pre-wrap; line-height: 1.45;
                         border: 1px solid #ddd; padding: 8px; max-height: 520px; overflow-y: auto; }
            figcaption { font-size: 13px; margin: 4px 0; }
            """, body: body, scripts: """
            <script type="application/json" id="cell-data">\(data)</script>
            <script>
            (function () {
              var select = document.getElementById('unit-select');
              if (!select) { return; }
              var data = JSON.parse(document.getElementById('cell-data').textContent);
              var target = document.getElementById('unit-text');
              var caption = document.getElementById('unit-caption');
              function render(name) {
                var values = data.series[name], scale = 1e-6, i;
                for (i = 0; i < values.length; i++) { scale = Math.max(scale, Math.abs(values[i])); }
                var fragment = document.createDocumentFragment();
                for (i = 0; i < data.units.length; i++) {
                  var span = document.createElement('span'), a = Math.min(1, Math.abs(values[i]) / scale);
                  span.textContent = data.units[i];
                  span.style.background = (values[i] >= 0 ? 'rgba(33,102,172,' : 'rgba(178,24,43,') + a.toFixed(3) + ')';
                  span.title = name + ' = ' + values[i];
                  fragment.appendChild(span);
                }
                target.replaceChildren(fragment);
                caption.textContent = 'max |value| ' + scale.toPrecision(3);
              }
              select.addEventListener('change', function () { render(select.value); });
              render(select.value);
            })();
            </script>
            """)
    }

    /// The text coloured by one unit, as static spans.
    static func colouredText(_ text: [String], values: [Float]) -> String {
        let scale = max(values.map { abs(Double($0)) }.max() ?? 0, 1e-6)
        var out = ""
        for (unit, value) in zip(text, values) {
            let a = min(1, abs(Double(value)) / scale)
            let rgb = value >= 0 ? "33,102,172" : "178,24,43"
            out += "<span style=\"background:rgba(\(rgb),\(String(format: "%.3f", a)))\">\(SVG.escape(unit))</span>"
        }
        return out
    }

    static func pictureSection(id: String, heading: String, property: TextProperty, inspection: CellInspection,
                               activations: CellActivations, text: [String]) -> String {
        var out = "<h2>\(heading)</h2>\n"
        guard let result = inspection.properties.first(where: { $0.property == property }) else {
            return out + "<p class=\"missing\" id=\"missing-\(id)\">Not computed.</p>\n"
        }
        guard let best = result.units.first else {
            let why = result.constant ? "the property is constant over this text" : "no unit reached |r| ≥ \(String(format: "%.2f", inspection.threshold))"
            return out + "<p class=\"missing\" id=\"missing-\(id)\">No \(heading.lowercased()): \(why).</p>\n"
        }
        out += "<figure id=\"\(id)\"><figcaption>Unit \(best.unit): r = \(String(format: "%+.3f", best.r)) with \(property.rawValue) (\(SVG.escape(property.summary)))</figcaption>"
        out += "<div class=\"cell-text\">\(colouredText(text, values: activations.series(best.unit, count: text.count)))</div></figure>\n"
        return out
    }

    static func propertiesTable(_ inspection: CellInspection) -> String {
        var out = "<table id=\"table-properties\"><tr><th>property</th><th>definition</th><th>mean</th><th>best units (Pearson r)</th></tr>\n"
        for result in inspection.properties {
            let units = result.constant ? "constant over this text"
                : result.units.isEmpty ? "none with |r| ≥ \(String(format: "%.2f", inspection.threshold))"
                : result.units.map { "\($0.unit) \(String(format: "%+.3f", $0.r))" }.joined(separator: ", ")
            out += "<tr><td>\(result.property.rawValue)</td><td>\(SVG.escape(result.definition))</td>"
            out += "<td class=\"num\">\(String(format: "%.3f", result.mean))</td><td>\(SVG.escape(units))</td></tr>\n"
        }
        return out + "</table>\n"
    }

    static func saturationSection(_ saturation: [GateSaturation]) -> String {
        guard !saturation.isEmpty else {
            return "<p class=\"missing\" id=\"missing-gate-saturation\">The tanh RNN has no gates.</p>\n"
        }
        var gates: [String] = []
        for s in saturation where !gates.contains(s.gate) { gates.append(s.gate) }
        let layers = Set(saturation.map(\.layer)).sorted()
        let panel = 220.0, margin = (left: 46.0, top: 34.0, gap: 30.0, bottom: 44.0)
        let width = margin.left + Double(gates.count) * (panel + margin.gap)
        let height = margin.top + panel + margin.bottom + 22
        var svg = "<svg id=\"chart-gate-saturation\" class=\"chart\" width=\"\(SVG.coordinate(width))\" height=\"\(SVG.coordinate(height))\" viewBox=\"0 0 \(SVG.coordinate(width)) \(SVG.coordinate(height))\" role=\"img\" aria-label=\"Gate saturation\">"
        svg += SVG.rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
        for (g, gate) in gates.enumerated() {
            let x0 = margin.left + Double(g) * (panel + margin.gap), y0 = margin.top, y1 = y0 + panel
            svg += SVG.text("\(gate) gate", x: x0 + panel / 2, y: 20, anchor: "middle", size: 13, weight: "bold")
            svg += SVG.rect(x: x0, y: y0, width: panel, height: panel, fill: "none", stroke: "#333")
            svg += SVG.line(x0, y0, x0 + panel, y1, stroke: "#ccc", dash: "4 3")   // left + right = 1
            for tick in [0.0, 0.5, 1.0] {
                svg += SVG.text(String(format: "%.1f", tick), x: x0 + tick * panel, y: y1 + 14, anchor: "middle", size: 10)
                svg += SVG.text(String(format: "%.1f", tick), x: x0 - 4, y: y1 - tick * panel + 4, anchor: "end", size: 10)
            }
            svg += SVG.text("share left-saturated (< 0.1)", x: x0 + panel / 2, y: y1 + 30, anchor: "middle", size: 11)
            if g == 0 {
                svg += SVG.text("share right-saturated (> 0.9)", x: 12, y: y0 + panel / 2, anchor: "middle", size: 11, rotate: -90)
            }
            for s in saturation where s.gate == gate {
                let colour = SVG.color(s.layer)
                for (l, r) in zip(s.unitLeft, s.unitRight) {
                    svg += "<circle class=\"unit\" cx=\"\(SVG.coordinate(x0 + l * panel))\" cy=\"\(SVG.coordinate(y1 - r * panel))\" r=\"2.2\" fill=\"\(colour)\" fill-opacity=\"0.65\"/>"
                }
            }
        }
        svg += Legend.svg(entries: layers.map { ("layer \($0)", SVG.color($0), nil, true, 0.65) },
                          x: margin.left, y: height - 10, width: min(width - margin.left, 600))
        svg += "</svg>"
        var table = "<table id=\"table-gate-saturation\"><tr><th>layer</th><th>gate</th><th>left-saturated (&lt; 0.1)</th><th>right-saturated (&gt; 0.9)</th></tr>\n"
        for s in saturation {
            table += "<tr><td class=\"num\">\(s.layer)</td><td>\(s.gate)</td><td class=\"num\">\(String(format: "%.3f", s.leftShare))</td><td class=\"num\">\(String(format: "%.3f", s.rightShare))</td></tr>\n"
        }
        return "<figure>\(svg)<figcaption>One dot per unit: the share of steps its gate spent left- and right-saturated.</figcaption></figure>\n" + table + "</table>\n"
    }

    /// The selector's data as JSON: the shown text units and each choice's series (4 significant
    /// digits). JSONEncoder escapes `/`, so the text cannot close the script element.
    static func pageData(choices: [(unit: UnitID, label: String)], activations: CellActivations, text: [String]) -> String {
        struct Data: Encodable { var units: [String]; var series: [String: [Float]] }
        var series: [String: [Float]] = [:]
        for choice in choices {
            series[choice.unit.description] = activations.series(choice.unit, count: text.count).map { value in
                value.isFinite ? Float(String(format: "%.4g", value)) ?? 0 : 0
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(Data(units: text, series: series))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        // `<!--` inside a script element changes how HTML parses it; `<` is never needed raw in JSON strings.
        return json.replacingOccurrences(of: "<", with: "\\u003c")
    }
}
