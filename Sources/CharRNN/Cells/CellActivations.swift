import NeuralNet
import Tensor
import TextCorpus

/// A hidden unit of a model: layer, which state (h, or the LSTM cell c) and index; written
/// `h0:17` (layer 0, hidden unit 17) or `c1:5` (layer 1, cell unit 5).
public struct UnitID: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    public enum State: String, Codable, Sendable { case h, c }
    public var state: State
    public var layer: Int
    public var index: Int

    public init(state: State, layer: Int, index: Int) {
        self.state = state; self.layer = layer; self.index = index
    }

    /// Parses `h0:17` / `c1:5`; nil when the text has another form.
    public init?(parsing text: String) {
        guard let first = text.first, let state = State(rawValue: String(first)) else { return nil }
        let parts = text.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let layer = Int(parts[0]), let index = Int(parts[1]), layer >= 0, index >= 0 else { return nil }
        self.init(state: state, layer: layer, index: index)
    }

    public var description: String { "\(state.rawValue)\(layer):\(index)" }

    public static func < (a: UnitID, b: UnitID) -> Bool {
        (a.state == .h ? 0 : 1, a.layer, a.index) < (b.state == .h ? 0 : 1, b.layer, b.index)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let unit = UnitID(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a unit name: \(text)")
        }
        self = unit
    }
}

/// Every hidden unit's activation (and every gate's) of a model run over a text as one stream:
/// state carried from the first unit to the last, no dropout. Row t holds the values after the
/// model read unit t.
///
/// Shapes (N = `steps`, H = `hiddenSize`, G = gates per unit): per layer `hidden[k]` N×H,
/// `cellStates[k]` N×H (LSTM; empty otherwise), `gates[k]` N×G·H (LSTM i, f, g, o; GRU r, z, n;
/// empty for the tanh RNN), all row-major Float.
public struct CellActivations: Sendable {
    public let cell: CellKind
    public let layers: Int
    public let hiddenSize: Int
    public let steps: Int
    public var hidden: [[Float]]
    public var cellStates: [[Float]]
    public var gates: [[Float]]

    /// A recording from given matrices (for tests and other producers); shapes as documented.
    public init(cell: CellKind, hiddenSize: Int, steps: Int, hidden: [[Float]], cellStates: [[Float]] = [],
                gates: [[Float]] = []) {
        precondition(hidden.allSatisfy { $0.count == steps * hiddenSize }, "hidden matrices must be N×H")
        self.cell = cell; self.layers = hidden.count; self.hiddenSize = hiddenSize; self.steps = steps
        self.hidden = hidden; self.cellStates = cellStates; self.gates = gates
    }

    /// Runs `model` over `ids` in windows of `window` units (state carried, `training: false`) and
    /// records every layer's h, c and gates at every step.
    public static func record(model: LanguageModel<Float>, ids: [Int32], window: Int = 256) -> CellActivations {
        let config = model.config, h = config.hiddenSize, n = ids.count
        let g = config.cell.gateCount * h
        let hasGates = config.cell != .rnn, isLSTM = config.cell == .lstm
        var hidden = (0..<config.layers).map { _ in [Float](repeating: 0, count: n * h) }
        var cells = isLSTM ? (0..<config.layers).map { _ in [Float](repeating: 0, count: n * h) } : []
        var gates = hasGates ? (0..<config.layers).map { _ in [Float](repeating: 0, count: n * g) } : []
        let state = RecurrentState<Float>(config: config, batchSize: 1)
        var start = 0
        while start < n {
            let chunk = Array(ids[start..<min(n, start + max(1, window))])
            model.forward(inputs: chunk, targets: chunk, batchSize: 1, state: state, training: false)
            let t = chunk.count
            for (k, layer) in model.layers.enumerated() {
                hidden[k].withUnsafeMutableBufferPointer { out in
                    (out.baseAddress! + start * h).update(from: layer.output, count: t * h)
                }
                if isLSTM {
                    cells[k].withUnsafeMutableBufferPointer { out in
                        (out.baseAddress! + start * h).update(from: layer.cellStates, count: t * h)
                    }
                }
                if hasGates {
                    gates[k].withUnsafeMutableBufferPointer { out in
                        (out.baseAddress! + start * g).update(from: layer.gateActivations, count: t * g)
                    }
                }
            }
            start += t
        }
        return CellActivations(cell: config.cell, hiddenSize: h, steps: n, hidden: hidden, cellStates: cells, gates: gates)
    }

    /// Bytes a recording of `steps` units of `config` holds (h, c and gates of every layer, f32);
    /// nil when the count overflows.
    public static func memoryNeed(steps: Int, config: ModelConfig) -> Int? {
        let perStep = config.hiddenSize * (1 + (config.cell == .lstm ? 1 : 0) + (config.cell == .rnn ? 0 : config.cell.gateCount))
        return MemorySize.product(steps, config.layers, perStep, MemoryLayout<Float>.size)
    }

    /// Throws `MemoryNeedError` naming `flag` when a recording of `steps` units would not fit in
    /// the machine's available memory.
    public static func checkMemory(steps: Int, config: ModelConfig, flag: String = "--length",
                                   available: Int = MachineMemory.available) throws {
        try MemoryNeedError.check(memoryNeed(steps: steps, config: config), parameter: flag, value: steps,
                                  subject: "recording every unit of the model", available: available)
    }

    /// The units that exist: h of every layer, and c for LSTM.
    public var units: [UnitID] {
        var out: [UnitID] = []
        for state in (cell == .lstm ? [UnitID.State.h, .c] : [.h]) {
            for k in 0..<layers { for j in 0..<hiddenSize { out.append(UnitID(state: state, layer: k, index: j)) } }
        }
        return out
    }

    /// Whether `unit` exists in this recording.
    public func contains(_ unit: UnitID) -> Bool {
        unit.layer < layers && unit.index < hiddenSize && (unit.state == .h || cell == .lstm)
    }

    /// The N×H matrix holding `state` of layer `layer`.
    public func matrix(_ state: UnitID.State, layer: Int) -> [Float] {
        state == .h ? hidden[layer] : cellStates[layer]
    }

    /// One unit's activation over the first `count` steps (all when nil).
    public func series(_ unit: UnitID, count: Int? = nil) -> [Float] {
        let m = matrix(unit.state, layer: unit.layer), n = min(count ?? steps, steps)
        return (0..<n).map { m[$0 * hiddenSize + unit.index] }
    }
}
