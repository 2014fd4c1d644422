/// The recurrent cell of a layer. Gate math, gate order and parameter shapes follow PyTorch's
/// `nn.RNN` (tanh), `nn.LSTM` and `nn.GRU`.
public enum CellKind: String, Sendable, Codable, CaseIterable {
    /// h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    case rnn
    /// Gates (i, f, g, o); c_t = f ∘ c_{t-1} + i ∘ g, h_t = o ∘ tanh(c_t).
    case lstm
    /// Gates (r, z, n); n = tanh(W_in x + b_in + r ∘ (W_hn h + b_hn)), h_t = (1 − z) ∘ n + z ∘ h_{t-1}.
    case gru

    /// Number of gate blocks G stacked in `weight_ih`/`weight_hh` (G·H rows).
    public var gateCount: Int {
        switch self {
        case .rnn: 1
        case .lstm: 4
        case .gru: 3
        }
    }
}

/// How recurrent layers are wired to each other, the embedding and the decoder.
public enum SkipMode: String, Sendable, Codable, CaseIterable {
    /// A plain stack: embedding → layer 0 → … → layer L−1 → decoder.
    case none
    /// Every layer above the first adds its input to its output (needs In = H above layer 0).
    case residual
    /// Graves (2013): the embedding feeds every layer (layer k>0 sees [x, h^{k−1}], In = E + H)
    /// and every layer feeds the decoder (decoder input L·H).
    case dense
}
