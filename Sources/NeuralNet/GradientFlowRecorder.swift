/// Records, during `LanguageModel.backward`, the norms of the total gradient of the loss with
/// respect to each layer's hidden state (and LSTM cell state) at every step of the window.
///
/// Norms are Frobenius norms over the B×H block of one step (all streams together).
/// Typical use for gradient-flow diagnostics: `forward`, then
/// `backward(scope: .lastStep, recorder: recorder)` and read `hiddenNorms[layer][t]`.
public final class GradientFlowRecorder {
    /// ‖∂L/∂h_t‖ per layer, indexed [layer][t], t = 0..<T.
    public private(set) var hiddenNorms: [[Double]] = []
    /// ‖∂L/∂c_t‖ per layer (LSTM; empty arrays otherwise), indexed [layer][t].
    public private(set) var cellNorms: [[Double]] = []

    public init() {}

    func start(layers: Int, steps: Int, hasCell: Bool) {
        hiddenNorms = Array(repeating: Array(repeating: 0, count: steps), count: layers)
        cellNorms = Array(repeating: hasCell ? Array(repeating: 0, count: steps) : [], count: layers)
    }

    func record(layer: Int, step: Int, hiddenNorm: Double, cellNorm: Double?) {
        hiddenNorms[layer][step] = hiddenNorm
        if let cellNorm { cellNorms[layer][step] = cellNorm }
    }
}
