import Tensor

/// Inverted dropout on one named T·B×`width` buffer of a window (the embedding x, or a layer
/// output o_k): a training forward multiplies the rows in place by a mask (0, or 1/(1 − p) per
/// element) and backward multiplies ∂L/∂rows by the same mask. The stage owns the mask and records
/// whether its last forward applied one, so backward never needs to be told.
final class DropoutStage<Scalar: Real> {
    /// What the last forward did.
    enum Record: Equatable {
        /// Evaluation, or p = 0: the rows passed unchanged.
        case identity
        /// The first `rows` rows were multiplied by the mask.
        case masked(rows: Int)
    }

    /// Drop probability p (0 ≤ p < 1).
    let p: Double
    /// Features per row.
    let width: Int
    /// The buffer's slot ℓ for `StreamDropoutKey` (0 the embedding, k + 1 the output of layer k).
    let slot: Int
    /// The mask: T·B×width, allocated only when p > 0.
    private var mask = AlignedBuffer<Scalar>(count: 0)
    /// Rows the mask holds.
    private(set) var capacity = 0
    /// The last forward's record; nil before the first forward.
    private(set) var record: Record?

    init(p: Double, width: Int, slot: Int) {
        self.p = p; self.width = width; self.slot = slot
    }

    /// Makes the mask hold `rows` rows. It only grows; growing forgets the last forward.
    func reserve(rows: Int) {
        guard rows > capacity else { return }
        capacity = rows
        mask = AlignedBuffer(count: p > 0 ? rows * width : 0)
        record = nil
    }

    /// Whether a forward with `training` applies a mask.
    func applies(training: Bool) -> Bool { training && p > 0 }

    /// Drops out the T·B rows of `rows` in place when `training` (and p > 0): the mask comes from
    /// `key` when given (per stream, see `StreamDropoutKey`), else from `rng`.
    func forward(_ rows: UnsafeMutablePointer<Scalar>, steps t: Int, streams b: Int, training: Bool,
                 key: StreamDropoutKey?, rng: inout RNG) {
        guard applies(training: training) else { record = .identity; return }
        let n = t * b, m = mask.pointer.baseAddress!
        precondition(n <= capacity, "dropout (slot \(slot)): \(n) rows, the mask holds \(capacity) (reserve first)")
        if let key {
            key.fill(m, steps: t, streams: b, width: width, p: p, layer: slot)
        } else {
            ModelKernels.dropoutMask(m, count: n * width, p: p, rng: &rng)
        }
        Kernels.multiply(rows, by: m, count: n * width)
        record = .masked(rows: n)
    }

    /// Turns ∂L/∂(dropped rows) into ∂L/∂(rows before dropout), in place, as the last forward did.
    func backward(_ gradient: UnsafeMutablePointer<Scalar>) {
        guard let record else { preconditionFailure("dropout (slot \(slot)): backward needs a forward first") }
        if case .masked(let n) = record { Kernels.multiply(gradient, by: mask.pointer.baseAddress!, count: n * width) }
    }

    /// Base addresses of the workspaces (for tests that check nothing is reallocated).
    var workspaceAddresses: [UnsafeRawPointer] { [UnsafeRawPointer(mask.pointer.baseAddress!)] }
}
