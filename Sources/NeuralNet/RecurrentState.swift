import Tensor

/// The carried state of a stack of recurrent layers for B streams: h (and c for LSTM) per layer,
/// each B×H row-major (row b is stream b). A class: `copy()` makes an independent copy.
public final class RecurrentState<Scalar: Real>: @unchecked Sendable {
    public let layers: Int
    public let batchSize: Int
    public let hiddenSize: Int
    /// True for LSTM (has c).
    public let hasCell: Bool
    /// h per layer, B×H each.
    public let h: [AlignedBuffer<Scalar>]
    /// c per layer (LSTM), B×H each; empty for RNN/GRU.
    public let c: [AlignedBuffer<Scalar>]

    /// A zero state.
    public init(layers: Int, batchSize: Int, hiddenSize: Int, hasCell: Bool) {
        self.layers = layers
        self.batchSize = batchSize
        self.hiddenSize = hiddenSize
        self.hasCell = hasCell
        h = (0..<layers).map { _ in AlignedBuffer(count: batchSize * hiddenSize) }
        c = hasCell ? (0..<layers).map { _ in AlignedBuffer(count: batchSize * hiddenSize) } : []
    }

    /// A zero state shaped for `config` with `batchSize` streams.
    public convenience init(config: ModelConfig, batchSize: Int) {
        self.init(layers: config.layers, batchSize: batchSize, hiddenSize: config.hiddenSize,
                  hasCell: config.cell == .lstm)
    }

    /// Sets every stream's state to zero.
    public func reset() {
        for buffer in h { buffer.zero() }
        for buffer in c { buffer.zero() }
    }

    /// Sets stream `stream`'s state to zero (all layers).
    public func reset(stream: Int) {
        let range = stream * hiddenSize..<(stream + 1) * hiddenSize
        for buffer in h { buffer.pointer[range].update(repeating: 0) }
        for buffer in c { buffer.pointer[range].update(repeating: 0) }
    }

    /// An independent copy.
    public func copy() -> RecurrentState {
        let result = RecurrentState(layers: layers, batchSize: batchSize, hiddenSize: hiddenSize, hasCell: hasCell)
        result.assign(from: self)
        return result
    }

    /// Copies all of `other` (same shape) into this state.
    public func assign(from other: RecurrentState) {
        precondition(other.layers == layers && other.batchSize == batchSize
                     && other.hiddenSize == hiddenSize && other.hasCell == hasCell, "state shapes differ")
        for k in 0..<layers {
            _ = h[k].pointer.update(fromContentsOf: other.h[k].pointer)
            if hasCell { _ = c[k].pointer.update(fromContentsOf: other.c[k].pointer) }
        }
    }

    /// Copies stream `source` of `other` into stream `stream` of this state (same layers/H).
    public func copyStream(_ stream: Int, from other: RecurrentState, stream source: Int) {
        precondition(other.layers == layers && other.hiddenSize == hiddenSize && other.hasCell == hasCell,
                     "state shapes differ")
        let n = hiddenSize
        for k in 0..<layers {
            (h[k].pointer.baseAddress! + stream * n).update(from: other.h[k].pointer.baseAddress! + source * n, count: n)
            if hasCell {
                (c[k].pointer.baseAddress! + stream * n).update(from: other.c[k].pointer.baseAddress! + source * n, count: n)
            }
        }
    }

    /// h of one stream in one layer (H values).
    public func hidden(layer: Int, stream: Int) -> [Scalar] {
        Array(h[layer].pointer[stream * hiddenSize..<(stream + 1) * hiddenSize])
    }

    /// c of one stream in one layer (H values; LSTM only).
    public func cell(layer: Int, stream: Int) -> [Scalar] {
        Array(c[layer].pointer[stream * hiddenSize..<(stream + 1) * hiddenSize])
    }

    /// Every value in a fixed order (layer by layer, h then c): for tests and serialization.
    public var flattened: [Scalar] {
        var out: [Scalar] = []
        for k in 0..<layers {
            out += h[k].array
            if hasCell { out += c[k].array }
        }
        return out
    }
}
