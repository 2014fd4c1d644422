import Tensor

/// Forms o_k, the output of recurrent layer k that later layers and the decoder read: o_k =
/// drop(h_k + input_k) for a residual layer (`ModelPlan.Layer.residual`), else drop(h_k), T·B×H.
///
/// Named buffers: `rows` (o_k: this stage's own buffer when it adds or drops, else the layer's
/// h_k itself, without a copy; the forward records which) and `gradient` (∂L/∂o_k, which every
/// reader of o_k adds into during backward). Backward turns ∂L/∂o_k in place into ∂L/∂(h_k [+
/// input_k]) through the dropout mask of the forward.
final class LayerOutputStage<Scalar: Real> {
    /// Where o_k lived in the last forward.
    enum Record: Equatable {
        /// o_k was the layer's own output h_k (no residual add, nothing dropped).
        case layerOutput
        /// o_k was computed into this stage's buffer (residual add and/or dropout).
        case ownBuffer
    }

    /// H.
    let width: Int
    /// Whether o_k adds the layer's input.
    let residual: Bool
    /// drop, slot k + 1.
    let dropout: DropoutStage<Scalar>
    private var buffer = AlignedBuffer<Scalar>(count: 0)           // o_k: T·B×H
    private var gradientBuffer = AlignedBuffer<Scalar>(count: 0)   // ∂L/∂o_k: T·B×H
    /// o_k of the last forward.
    private(set) var rows: UnsafeMutablePointer<Scalar>
    private var rowCount = 0
    /// Rows the workspaces hold.
    private(set) var capacity = 0
    /// The last forward's record; nil before the first forward.
    private(set) var record: Record?

    init(layer k: Int, width: Int, residual: Bool, dropout p: Double) {
        self.width = width
        self.residual = residual
        dropout = DropoutStage(p: p, width: width, slot: k + 1)
        rows = buffer.pointer.baseAddress!
    }

    /// Makes the workspaces hold `rows` rows. They only grow; growing forgets the last forward.
    func reserve(rows n: Int) {
        guard n > capacity else { return }
        capacity = n
        buffer = AlignedBuffer(count: n * width)
        gradientBuffer = AlignedBuffer(count: n * width)
        rows = buffer.pointer.baseAddress!
        dropout.reserve(rows: n)
        record = nil
    }

    /// ∂L/∂o_k (T·B×H).
    var gradient: UnsafeMutablePointer<Scalar> { gradientBuffer.pointer.baseAddress! }

    /// o_k from the layer's outputs `hidden` (T·B×H, kept unchanged) and its `input` (T·B×H, read
    /// only when residual), with dropout when `training` (masks from `key`, else `rng`).
    func forward(hidden: UnsafeMutablePointer<Scalar>, input: UnsafePointer<Scalar>, steps t: Int, streams b: Int,
                 training: Bool, key: StreamDropoutKey?, rng: inout RNG) {
        let n = t * b, own = buffer.pointer.baseAddress!
        precondition(n <= capacity, "layer output: \(n) rows, the workspaces hold \(capacity) (reserve first)")
        rowCount = n
        let dropping = dropout.applies(training: training)
        if residual {
            Kernels.sum(hidden, input, into: own, count: n * width)
        } else if dropping {
            Kernels.copy(hidden, into: own, count: n * width)
        }
        record = residual || dropping ? .ownBuffer : .layerOutput
        rows = record == .ownBuffer ? own : hidden
        dropout.forward(rows, steps: t, streams: b, training: training, key: key, rng: &rng)
    }

    /// Starts backward: zeroes ∂L/∂o_k for its readers to add into.
    func startBackward() {
        precondition(record != nil, "layer output: backward needs a forward first")
        Kernels.fill(gradient, count: rowCount * width)
    }

    /// Once every reader has added its share: ∂L/∂o_k becomes, in place, the gradient of o_k before
    /// dropout — ∂L/∂h_k, and for a residual layer also the part of ∂L/∂input_k that flows past the
    /// layer. Returns that buffer.
    func backward() -> UnsafeMutablePointer<Scalar> {
        precondition(record != nil, "layer output: backward needs a forward first")
        dropout.backward(gradient)
        return gradient
    }

    /// Base addresses of the workspaces (for tests that check nothing is reallocated).
    var workspaceAddresses: [UnsafeRawPointer] {
        [UnsafeRawPointer(buffer.pointer.baseAddress!), UnsafeRawPointer(gradient)] + dropout.workspaceAddresses
    }
}
