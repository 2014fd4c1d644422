import NeuralNet

/// How often one gate of one layer is saturated over a text (after Karpathy, Johnson & Fei-Fei,
/// 2015): a gate value below `GateSaturation.left` is left-saturated (nearly closed), above
/// `GateSaturation.right` right-saturated (nearly open). Per unit, and over all units and steps.
public struct GateSaturation: Codable, Sendable, Equatable {
    /// Left-saturation bound (a gate value < 0.1).
    public static let left = 0.1
    /// Right-saturation bound (a gate value > 0.9).
    public static let right = 0.9

    public var layer: Int
    /// `input`, `forget`, `output` (LSTM) or `reset`, `update` (GRU).
    public var gate: String
    /// Share of all (step, unit) values < 0.1.
    public var leftShare: Double
    /// Share of all (step, unit) values > 0.9.
    public var rightShare: Double
    /// Per unit j: share of steps with the value < 0.1 (H values).
    public var unitLeft: [Double]
    /// Per unit j: share of steps with the value > 0.9 (H values).
    public var unitRight: [Double]

    enum CodingKeys: String, CodingKey {
        case layer, gate
        case leftShare = "left_share", rightShare = "right_share"
        case unitLeft = "unit_left", unitRight = "unit_right"
    }

    /// The σ gates of `cell` with their position among the G gate blocks (LSTM i, f, _, o; GRU r, z);
    /// none for the tanh RNN. The tanh candidates (LSTM g, GRU n) are not gates in this sense.
    public static func gates(of cell: CellKind) -> [(name: String, block: Int)] {
        switch cell {
        case .lstm: [("input", 0), ("forget", 1), ("output", 3)]
        case .gru: [("reset", 0), ("update", 1)]
        case .rnn: []
        }
    }

    /// Saturation of gate block `block` in `gates` (N×G·H row-major, gate k of unit j at column k·H + j).
    public init(layer: Int, gate: String, block: Int, gates: [Float], steps n: Int, hiddenSize h: Int, gateCount: Int) {
        precondition(gates.count == n * gateCount * h && block < gateCount, "gates must be N×G·H")
        var left = [Int](repeating: 0, count: h), right = [Int](repeating: 0, count: h)
        let width = gateCount * h
        for t in 0..<n {
            let base = t * width + block * h
            for j in 0..<h {
                let v = Double(gates[base + j])
                if v < Self.left { left[j] += 1 } else if v > Self.right { right[j] += 1 }
            }
        }
        let steps = Double(max(n, 1))
        self.layer = layer
        self.gate = gate
        unitLeft = left.map { Double($0) / steps }
        unitRight = right.map { Double($0) / steps }
        let total = Double(max(n * h, 1))
        leftShare = Double(left.reduce(0, +)) / total
        rightShare = Double(right.reduce(0, +)) / total
    }

    /// Every σ gate of every layer of a recording (empty for the tanh RNN).
    public static func all(_ activations: CellActivations) -> [GateSaturation] {
        let g = activations.cell.gateCount
        return activations.gates.enumerated().flatMap { k, matrix in
            gates(of: activations.cell).map { gate in
                GateSaturation(layer: k, gate: gate.name, block: gate.block, gates: matrix, steps: activations.steps,
                               hiddenSize: activations.hiddenSize, gateCount: g)
            }
        }
    }
}
