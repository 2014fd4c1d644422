import Tensor

/// The buffers a recurrent layer needs only while its own forward or backward runs: W_hh packed
/// for the per-step products (W_hhᵀ in forward, W_hh in backward, repacked by every forward and
/// backward because the weights change between windows), and backward's window-sized gradients —
/// ∂L/∂(gate pre-activations) of every step (T·B×G·H), for GRU also the hidden side's (T·B×G·H),
/// and ∂L/∂input (T·B×In), dead once the caller has read the layer's ∂L/∂input.
///
/// The layers of one model run forward and backward one after another, so they share one
/// scratch: a model holds one packed W_hh and one set of gradients instead of two packings and
/// one set per layer, and a model that only runs forward holds no gradients. The buffers grow on
/// the first use that needs more and are reused after that; they never shrink.
public final class RecurrentScratch<Scalar: Real> {
    /// W_hh of the layer whose forward or backward is running, packed for its per-step products.
    let packedRecurrentWeight = PackedMatrix<Scalar>()
    /// T·B×G·H: ∂L/∂(input-side gate pre-activations).
    private(set) var gates = AlignedBuffer<Scalar>(count: 0)
    /// T·B×G·H, GRU only: ∂L/∂(W_hh h + b_hh).
    private(set) var hiddenGates = AlignedBuffer<Scalar>(count: 0)
    /// T·B×In: ∂L/∂input.
    private(set) var input = AlignedBuffer<Scalar>(count: 0)

    /// An empty scratch (it allocates when first used).
    public init() {}

    /// Makes the gradient buffers hold at least the given element counts; allocates only when one grows.
    func reserveGradients(gates g: Int, hiddenGates gh: Int, input i: Int) {
        if gates.count < g { gates = AlignedBuffer(count: g) }
        if hiddenGates.count < gh { hiddenGates = AlignedBuffer(count: gh) }
        if input.count < i { input = AlignedBuffer(count: i) }
    }

    /// Base addresses of the buffers (for tests that check a window allocates nothing).
    var addresses: [UnsafeRawPointer] {
        [gates, hiddenGates, input].map { UnsafeRawPointer($0.pointer.baseAddress!) }
            + [packedRecurrentWeight.storageAddress]
    }
}
