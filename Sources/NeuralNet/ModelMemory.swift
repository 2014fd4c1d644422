import Tensor
import TextCorpus

/// A size that determines how much memory a `LanguageModel` and its workspaces take.
public enum ModelSizeParameter: String, CaseIterable, Sendable {
    case vocabularySize, embeddingSize, hiddenSize, layers
    /// B: parallel streams of a window.
    case batchSize
    /// T: steps of a window.
    case steps

    /// The `charrnn train` flag that sets it (the vocabulary size comes from the corpus and `--max-vocab`).
    public var flag: String {
        switch self {
        case .vocabularySize: "--max-vocab"
        case .embeddingSize: "--embed"
        case .hiddenSize: "--hidden"
        case .layers: "--layers"
        case .batchSize: "--batch"
        case .steps: "--bptt"
        }
    }
}

/// What a model needs in memory, computed without overflow from the configuration alone (nothing is
/// allocated): its parameters and their gradients (a `ParameterSet` holds both), optimizer moments, and
/// the window workspaces of `LanguageModel.reserve` and `RecurrentLayer.reserve` for T steps × B streams
/// and backward's `RecurrentScratch` (one for all layers), with the carried and gradient
/// recurrent states. Counts are `Float` elements (4 bytes); nil means the
/// count does not fit in `Int`.
public struct ModelMemory: Sendable, Equatable {
    /// The architecture.
    public var config: ModelConfig
    /// B.
    public var batchSize: Int
    /// T.
    public var steps: Int
    /// Optimizer state tensors per parameter (Adam 2, RMSProp and SGD with momentum 1 or 2, plain SGD 0).
    public var optimizerMoments: Int

    public init(config: ModelConfig, batchSize: Int = 1, steps: Int = 1, optimizerMoments: Int = 0) {
        self.config = config; self.batchSize = batchSize; self.steps = steps; self.optimizerMoments = optimizerMoments
    }

    /// Number of parameters (the sum of `LanguageModel.layout(for:)`'s slot sizes), or nil on overflow.
    public var parameterCount: Int? {
        let c = config, v = c.vocabularySize, e = c.embeddingSize, h = c.hiddenSize, l = c.layers
        guard let g = MemorySize.product(c.cell.gateCount, h) else { return nil }
        let innerInput = c.skip == .dense ? MemorySize.sum([e, h]) : h
        func layer(_ input: Int?) -> Int? {
            guard let input else { return nil }
            return MemorySize.sum([MemorySize.product(g, input), MemorySize.product(g, h), MemorySize.product(2, g)])
        }
        let decoderInput = c.skip == .dense ? MemorySize.product(l, h) : h
        return MemorySize.sum([
            MemorySize.product(v, e), layer(e),
            layer(innerInput).flatMap { MemorySize.product(max(l - 1, 0), $0) },
            decoderInput.flatMap { MemorySize.product(v, $0) }, v,
        ])
    }

    /// `Float` elements of the window workspaces and recurrent states, or nil on overflow.
    public var workspaceCount: Int? {
        let c = config, v = c.vocabularySize, e = c.embeddingSize, h = c.hiddenSize, l = c.layers
        let t = steps, b = batchSize, lstm = c.cell == .lstm, gru = c.cell == .gru
        guard let n = MemorySize.product(t, b), let g = MemorySize.product(c.cell.gateCount, h),
              let steps1 = MemorySize.sum([t, 1]).flatMap({ MemorySize.product($0, b, h) }), let bh = MemorySize.product(b, h) else { return nil }
        let innerInput = c.skip == .dense ? MemorySize.sum([e, h]) : h
        // Per layer: h_t, c_t and tanh(c_t) of every step, the gates (and GRU's hidden side), and
        // the running gradients of one step.
        let layer = MemorySize.sum([
            steps1, lstm ? steps1 : 0, lstm ? MemorySize.product(n, h) : 0,
            MemorySize.product(n, g), gru ? MemorySize.product(n, g) : 0, MemorySize.product(4, bh),
        ])
        // One RecurrentScratch for all layers: W_hh packed in panels (as W_hhᵀ, H×G·H, or as W_hh,
        // G·H×H, whichever is larger; `ck_packed_count` without overflow) and backward's gate and
        // input gradients.
        let widestInput = l > 1 ? innerInput.map { max($0, e) } : e
        func packed(k: Int, n columns: Int) -> Int? {
            let w = PackedMatrix<Float>.panelWidth
            return MemorySize.sum([columns, w - 1]).flatMap { MemorySize.product($0 / w * w, k) }
        }
        let packedWeight = packed(k: h, n: g).flatMap { a in packed(k: g, n: h).map { max(a, $0) } }
        let scratch = MemorySize.sum([packedWeight, MemorySize.product(n, g), gru ? MemorySize.product(n, g) : 0,
                                      widestInput.flatMap { MemorySize.product(n, $0) }])
        // The embedding lookup of layer 0: table·W_ihᵀ, its gradient, and ∂L/∂table.
        let table = MemorySize.sum([MemorySize.product(2, v, g), MemorySize.product(v, e)])
        let d = c.skip == .dense ? MemorySize.product(l, h) : h
        let nd = d.flatMap { MemorySize.product(n, $0) }
        let lnh = MemorySize.product(l, n, h)
        let model = MemorySize.sum([
            MemorySize.product(n, e), c.embeddingDropout > 0 ? MemorySize.product(n, e) : 0,
            lnh, c.dropout > 0 ? lnh : 0,
            c.skip == .dense ? innerInput.flatMap { MemorySize.product(max(l - 1, 0), n, $0) } : 0,
            c.skip == .dense ? nd : 0,
            MemorySize.product(2, n, v), n, nd, lnh, MemorySize.product(n, e),
        ])
        // The carried state, the model's own state and the state gradient: h (and c for LSTM) per layer.
        let states = MemorySize.product(3, lstm ? 2 : 1, l, b, h)
        return MemorySize.sum([layer.flatMap { MemorySize.product(l, $0) },
                               scratch, table, model, states])
    }

    /// Bookkeeping per layer beside its tensors (the layer object, its slots and buffer headers), in bytes.
    public static let perLayerOverhead = 4096

    /// Bytes in all: parameters × (2 + `optimizerMoments`) plus workspaces, 4 bytes each, plus
    /// `perLayerOverhead` per layer; nil on overflow.
    public var bytes: Int? {
        guard let parameters = parameterCount, let workspaces = workspaceCount else { return nil }
        let floats = MemorySize.sum([MemorySize.product(parameters, 2 + max(optimizerMoments, 0)), workspaces])
        return MemorySize.sum([floats.flatMap { MemorySize.product($0, MemoryLayout<Float>.stride) },
                               MemorySize.product(config.layers, Self.perLayerOverhead)])
    }

    /// The value of one of the sizes.
    public func value(of parameter: ModelSizeParameter) -> Int {
        switch parameter {
        case .vocabularySize: config.vocabularySize
        case .embeddingSize: config.embeddingSize
        case .hiddenSize: config.hiddenSize
        case .layers: config.layers
        case .batchSize: batchSize
        case .steps: steps
        }
    }

    /// This estimate with one size set to `value`.
    public func with(_ parameter: ModelSizeParameter, _ value: Int) -> ModelMemory {
        var copy = self
        switch parameter {
        case .vocabularySize: copy.config.vocabularySize = value
        case .embeddingSize: copy.config.embeddingSize = value
        case .hiddenSize: copy.config.hiddenSize = value
        case .layers: copy.config.layers = value
        case .batchSize: copy.batchSize = value
        case .steps: copy.steps = value
        }
        return copy
    }

    /// The size most to blame for the need: the one whose reduction to 1 leaves the smallest need.
    public var largestFactor: ModelSizeParameter {
        var best = ModelSizeParameter.hiddenSize, bestNeed: Int? = nil, found = false
        for parameter in ModelSizeParameter.allCases where value(of: parameter) > 1 {
            let need = with(parameter, 1).bytes
            let better: Bool
            switch (need, bestNeed) {
            case (nil, _): better = !found
            case (.some, nil): better = true
            case (.some(let a), .some(let b)): better = a < b
            }
            if better { best = parameter; bestNeed = need; found = true }
        }
        return best
    }

    /// Nil when `bytes` fits in `available`, else an error naming the size most to blame with `naming`
    /// (a flag for the CLI, a file key for a config.json) and `subject` ("the model", "training").
    public func problem(available: Int = MachineMemory.available, subject: String = "the model",
                        naming: (ModelSizeParameter) -> String = { $0.rawValue }) -> MemoryNeedError? {
        let need = bytes
        if let need, need <= available { return nil }
        let culprit = largestFactor
        return MemoryNeedError(parameter: naming(culprit), value: value(of: culprit), subject: subject,
                               need: need, available: available)
    }
}
