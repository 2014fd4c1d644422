/// One unit's Pearson correlation with a property over a text.
public struct UnitCorrelation: Codable, Sendable, Equatable {
    public var unit: UnitID
    /// Pearson r in [−1, 1]: negative when the unit falls as the property rises.
    public var r: Double

    public init(unit: UnitID, r: Double) { self.unit = unit; self.r = r }
}

/// Finds the units whose activation best tracks a property: Pearson correlation of every unit's
/// activation over the N steps with the property's N values, ranked by |r|. No linear probe is
/// fitted: the score of a unit is its r alone.
public enum CellSearch {
    /// Pearson r between `x` and `y` (same length); nil when either is constant or there are fewer than 2 values.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "pearson needs equal lengths")
        let n = Double(x.count)
        guard x.count >= 2 else { return nil }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let dx = x[i] - mx, dy = y[i] - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        guard sxx > 0, syy > 0 else { return nil }
        return max(-1, min(1, sxy / (sxx * syy).squareRoot()))
    }

    /// Pearson r of every column of `matrix` (N rows × `columns`, row-major) with `property`
    /// (N values); nil for a constant column (or a constant property: all nil).
    public static func correlations(matrix: [Float], columns: Int, property: [Double]) -> [Double?] {
        let n = property.count
        precondition(matrix.count == n * columns, "matrix must be N×columns")
        guard n >= 2 else { return Array(repeating: nil, count: columns) }
        let my = property.reduce(0, +) / Double(n)
        var syy = 0.0
        for y in property { syy += (y - my) * (y - my) }
        guard syy > 0 else { return Array(repeating: nil, count: columns) }
        // Column means first, then centred sums (two passes: stable for large offsets).
        var mean = [Double](repeating: 0, count: columns)
        for t in 0..<n { for j in 0..<columns { mean[j] += Double(matrix[t * columns + j]) } }
        for j in 0..<columns { mean[j] /= Double(n) }
        var sxy = [Double](repeating: 0, count: columns), sxx = [Double](repeating: 0, count: columns)
        for t in 0..<n {
            let dy = property[t] - my
            for j in 0..<columns {
                let dx = Double(matrix[t * columns + j]) - mean[j]
                sxy[j] += dx * dy
                sxx[j] += dx * dx
            }
        }
        return (0..<columns).map { j in
            sxx[j] > 0 ? max(-1, min(1, sxy[j] / (sxx[j] * syy).squareRoot())) : nil
        }
    }

    /// The `count` units of `activations` with the largest |r| against `property`, at least
    /// `threshold` in |r|, best first (ties: the earlier unit). Empty when the property is constant.
    public static func topUnits(_ activations: CellActivations, property: [Double], count: Int,
                                threshold: Double = 0) -> [UnitCorrelation] {
        precondition(property.count == activations.steps, "one property value per step")
        var all: [UnitCorrelation] = []
        let states: [UnitID.State] = activations.cell == .lstm ? [.h, .c] : [.h]
        for state in states {
            for k in 0..<activations.layers {
                let rs = correlations(matrix: activations.matrix(state, layer: k), columns: activations.hiddenSize,
                                      property: property)
                for (j, r) in rs.enumerated() {
                    if let r, abs(r) >= threshold { all.append(UnitCorrelation(unit: UnitID(state: state, layer: k, index: j), r: r)) }
                }
            }
        }
        all.sort { abs($0.r) != abs($1.r) ? abs($0.r) > abs($1.r) : $0.unit < $1.unit }
        return Array(all.prefix(max(0, count)))
    }
}
