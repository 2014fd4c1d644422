import Foundation

/// How far back gradients reach: per layer, the norm of ∂L_T/∂h_{T−k} as a function of the
/// distance k, aggregated over windows — the contents of a run directory's `gradient-flow.json`.
///
/// The raw measurement (one array of T norms per window and layer, index k = distance back from
/// the last step, whose loss L_T alone is differentiated) is made with the model; this type holds
/// the aggregation and the fit: ``Layer/init(layer:windowNorms:windowCellNorms:)``.
public struct GradientFlowResult: Codable, Sendable, Equatable {
    /// One recurrent layer's curve.
    public struct Layer: Codable, Sendable, Equatable {
        /// Layer index, 0 = closest to the input (PyTorch's `l0`).
        public var layer: Int
        /// `norms[k]`: geometric mean over windows of ‖∂L_T/∂h_{T−k}‖, k = 0…T−1.
        public var norms: [Double]
        /// `maxNorms[k]`: largest of those norms over windows.
        public var maxNorms: [Double]
        /// Same as `norms` for the LSTM cell state c_{T−k}; nil for RNN/GRU.
        public var cellNorms: [Double]?
        /// Fitted per-step factor: exp of the least-squares slope of ln norms[k] against k over the
        /// k with norms[k] > 0 (and finite); nil with fewer than two such points. < 1 means vanishing.
        public var decayFactor: Double?
        /// First k with norms[k] < 10⁻⁶ · norms[0]; nil if never (or if norms[0] is 0).
        public var vanishDistance: Int?

        public init(layer: Int, norms: [Double], maxNorms: [Double], cellNorms: [Double]? = nil,
                    decayFactor: Double?, vanishDistance: Int?) {
            self.layer = layer; self.norms = norms; self.maxNorms = maxNorms; self.cellNorms = cellNorms
            self.decayFactor = decayFactor; self.vanishDistance = vanishDistance
        }

        /// Aggregates raw per-window norms: `windowNorms[w][k]` = ‖∂L_T/∂h_{T−k}‖ in window w (all
        /// windows the same length), likewise `windowCellNorms` for the LSTM cell state. Computes
        /// the geometric mean, the maximum, the decay factor and the vanish distance.
        public init(layer: Int, windowNorms: [[Double]], windowCellNorms: [[Double]]? = nil) {
            let norms = GradientFlowFit.geometricMean(windowNorms)
            self.init(layer: layer, norms: norms, maxNorms: GradientFlowFit.maximum(windowNorms),
                      cellNorms: windowCellNorms.map(GradientFlowFit.geometricMean),
                      decayFactor: GradientFlowFit.decayFactor(norms),
                      vanishDistance: GradientFlowFit.vanishDistance(norms))
        }

        enum CodingKeys: String, CodingKey {
            case layer, norms
            case maxNorms = "max_norms"
            case cellNorms = "cell_norms"
            case decayFactor = "decay_factor"
            case vanishDistance = "vanish_distance"
        }

        /// Writes `decay_factor` and `vanish_distance` as `null` when absent (so readers always see
        /// the key); `cell_norms` is omitted for cells without a cell state.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(layer, forKey: .layer)
            try c.encode(norms, forKey: .norms)
            try c.encode(maxNorms, forKey: .maxNorms)
            try c.encodeIfPresent(cellNorms, forKey: .cellNorms)
            try c.encode(decayFactor, forKey: .decayFactor)
            try c.encode(vanishDistance, forKey: .vanishDistance)
        }
    }

    /// Cell kind (`rnn`, `lstm`, `gru`).
    public var cell: String
    /// Hidden size H.
    public var hidden: Int
    /// Window length T (number of distances measured).
    public var length: Int
    /// Number of windows averaged.
    public var windows: Int
    /// Initialization or checkpoint description (e.g. `xavier`, `step-000500`).
    public var initialization: String
    public var layers: [Layer]

    public init(cell: String, hidden: Int, length: Int, windows: Int, initialization: String, layers: [Layer]) {
        self.cell = cell; self.hidden = hidden; self.length = length; self.windows = windows
        self.initialization = initialization; self.layers = layers
    }

    enum CodingKeys: String, CodingKey {
        case cell, hidden, length, windows, layers
        case initialization = "init"
    }

    /// Pretty, key-sorted JSON. Non-finite numbers (an overflowing norm) are written as the
    /// strings "Infinity", "-Infinity", "NaN" — the spellings Python's json module reads.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(self)
    }

    /// Decodes ``encoded()`` output (also accepting the non-finite spellings).
    public static func decode(_ data: Data) throws -> GradientFlowResult {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(GradientFlowResult.self, from: data)
    }
}

/// Aggregation and fitting of gradient-norm curves (pure functions of the raw numbers).
public enum GradientFlowFit {
    /// Per index k, the geometric mean `exp(mean_w ln x[w][k])` over the arrays (0 if any is 0).
    /// Arrays of different lengths are aggregated up to the shortest.
    public static func geometricMean(_ arrays: [[Double]]) -> [Double] {
        guard let length = arrays.map(\.count).min() else { return [] }
        return (0..<length).map { k in
            var sum = 0.0
            for array in arrays {
                let x = array[k]
                if !(x > 0) { return 0 }
                sum += log(x)
            }
            return exp(sum / Double(arrays.count))
        }
    }

    /// Per index k, the maximum over the arrays (up to the shortest).
    public static func maximum(_ arrays: [[Double]]) -> [Double] {
        guard let length = arrays.map(\.count).min() else { return [] }
        return (0..<length).map { k in arrays.map { $0[k] }.max()! }
    }

    /// `exp(slope)` of the least-squares line through (k, ln norms[k]) over the k with a positive,
    /// finite norm; nil with fewer than two such points.
    public static func decayFactor(_ norms: [Double]) -> Double? {
        let points = norms.enumerated().filter { $0.element > 0 && $0.element.isFinite }
            .map { (Double($0.offset), log($0.element)) }
        guard points.count >= 2 else { return nil }
        let n = Double(points.count)
        let meanX = points.reduce(0) { $0 + $1.0 } / n
        let meanY = points.reduce(0) { $0 + $1.1 } / n
        var sxy = 0.0, sxx = 0.0
        for (x, y) in points {
            sxy += (x - meanX) * (y - meanY)
            sxx += (x - meanX) * (x - meanX)
        }
        return exp(sxy / sxx)
    }

    /// First k with `norms[k] < relativeThreshold · norms[0]`; nil if never or if norms[0] ≤ 0.
    public static func vanishDistance(_ norms: [Double], relativeThreshold: Double = 1e-6) -> Int? {
        guard let first = norms.first, first > 0 else { return nil }
        return norms.firstIndex { $0 < relativeThreshold * first }
    }
}
