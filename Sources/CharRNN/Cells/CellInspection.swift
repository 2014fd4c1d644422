import Foundation
import NeuralNet

/// What `charrnn inspect-cells` finds: for each text property the units that track it best
/// (Pearson r, see ``CellSearch``), and the gate saturation per layer and gate. `--json` prints it.
public struct CellInspection: Codable, Sendable {
    /// One property's best units.
    public struct PropertyResult: Codable, Sendable {
        public var property: TextProperty
        /// How the property is defined (one line).
        public var definition: String
        /// Mean of the property over the text (e.g. the share of units inside quotes).
        public var mean: Double
        /// True when the property has one value over the whole text (no unit can track it).
        public var constant: Bool
        /// Best units by |r|, at most `top` of them with |r| ≥ `threshold`.
        public var units: [UnitCorrelation]
    }

    /// Checkpoint description (path).
    public var checkpoint: String
    public var cell: String
    public var layers: Int
    public var hidden: Int
    /// Units of text the model read.
    public var steps: Int
    public var syntax: TextSyntax
    /// Smallest |r| reported.
    public var threshold: Double
    public var properties: [PropertyResult]
    public var saturation: [GateSaturation]
    /// Units asked for with `--units`: their r with every property.
    public var requested: [RequestedUnit]

    /// A unit asked for by name, with its r against every property (nil: constant).
    public struct RequestedUnit: Codable, Sendable {
        public var unit: UnitID
        public var r: [String: Double?]
    }

    /// Searches `activations` against the properties of `units` (the text the model read, one
    /// string per unit) under `syntax`.
    public init(checkpoint: String, activations: CellActivations, units: [String], syntax: TextSyntax,
                top: Int, threshold: Double, requested: [UnitID] = []) {
        precondition(units.count == activations.steps, "one text unit per recorded step")
        let values = TextProperties.compute(units: units, syntax: syntax)
        self.checkpoint = checkpoint
        cell = activations.cell.rawValue
        layers = activations.layers
        hidden = activations.hiddenSize
        steps = activations.steps
        self.syntax = syntax
        self.threshold = threshold
        properties = TextProperty.properties(for: syntax).map { property in
            let y = values[property]!
            let mean = y.isEmpty ? 0 : y.reduce(0, +) / Double(y.count)
            let constant = !y.contains { $0 != y.first }
            return PropertyResult(property: property, definition: property.summary, mean: mean, constant: constant,
                                  units: CellSearch.topUnits(activations, property: y, count: top, threshold: threshold))
        }
        saturation = GateSaturation.all(activations)
        self.requested = requested.map { unit in
            let x = activations.series(unit).map(Double.init)
            var r: [String: Double?] = [:]
            for property in TextProperty.properties(for: syntax) { r[property.rawValue] = CellSearch.pearson(x, values[property]!) }
            return RequestedUnit(unit: unit, r: r)
        }
    }

    /// The best unit found for `property`, if any.
    public func best(_ property: TextProperty) -> UnitCorrelation? {
        properties.first { $0.property == property }?.units.first
    }

    /// Compact, key-sorted JSON.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The printed table: per property its best units with r, then gate saturation.
    public var table: String {
        var lines = ["cells: \(cell), \(layers) layer\(layers == 1 ? "" : "s") × \(hidden) units, \(steps) units of text (\(syntax.rawValue)); Pearson r, |r| ≥ \(String(format: "%.2f", threshold)); no linear probe"]
        for result in properties {
            let head = "\(result.property.rawValue) (mean \(String(format: "%.3f", result.mean))): "
            if result.constant {
                lines.append(head + "constant over this text, nothing to track")
            } else if result.units.isEmpty {
                lines.append(head + "no unit with |r| ≥ \(String(format: "%.2f", threshold))")
            } else {
                lines.append(head + result.units.map { "\($0.unit) r=\(String(format: "%+.3f", $0.r))" }.joined(separator: ", "))
            }
        }
        for unit in requested {
            let parts = TextProperty.properties(for: syntax).map { p in
                "\(p.rawValue) " + ((unit.r[p.rawValue] ?? nil).map { String(format: "%+.3f", $0) } ?? "-")
            }
            lines.append("\(unit.unit): " + parts.joined(separator: ", "))
        }
        if saturation.isEmpty {
            lines.append("gate saturation: the tanh RNN has no gates")
        } else {
            lines.append("gate saturation (share of steps·units < 0.1 | > 0.9):")
            for s in saturation {
                lines.append("  layer \(s.layer) \(s.gate.padding(toLength: 7, withPad: " ", startingAt: 0)) "
                             + String(format: "left %.3f  right %.3f", s.leftShare, s.rightShare))
            }
        }
        return lines.joined(separator: "\n")
    }
}
