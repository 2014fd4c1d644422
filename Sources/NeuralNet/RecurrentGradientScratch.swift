import Tensor

/// The window-sized buffers of `RecurrentLayer.backward` that are dead once that backward has
/// returned and its caller has read the layer's ∂L/∂input: ∂L/∂(gate pre-activations) of every
/// step (T·B×G·H), for GRU also the hidden side's (T·B×G·H), and ∂L/∂input (T·B×In).
///
/// The layers of one model run backward one after another, so they share one scratch: a model
/// holds one set of these buffers instead of one per layer, and a model that only runs forward
/// (evaluation, generation) holds none. The buffers grow on the first backward that needs more
/// and are reused after that; they never shrink.
public final class RecurrentGradientScratch<Scalar: Real> {
    /// T·B×G·H: ∂L/∂(input-side gate pre-activations).
    private(set) var gates = AlignedBuffer<Scalar>(count: 0)
    /// T·B×G·H, GRU only: ∂L/∂(W_hh h + b_hh).
    private(set) var hiddenGates = AlignedBuffer<Scalar>(count: 0)
    /// T·B×In: ∂L/∂input.
    private(set) var input = AlignedBuffer<Scalar>(count: 0)

    /// An empty scratch (it allocates on the first backward that uses it).
    public init() {}

    /// Makes the buffers hold at least the given element counts; allocates only when one grows.
    func reserve(gates g: Int, hiddenGates gh: Int, input i: Int) {
        if gates.count < g { gates = AlignedBuffer(count: g) }
        if hiddenGates.count < gh { hiddenGates = AlignedBuffer(count: gh) }
        if input.count < i { input = AlignedBuffer(count: i) }
    }

    /// Base addresses of the three buffers (for tests that check a window allocates nothing).
    var addresses: [UnsafeRawPointer] {
        [gates, hiddenGates, input].map { UnsafeRawPointer($0.pointer.baseAddress!) }
    }
}
