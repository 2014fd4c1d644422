/// How the encoder (embedding) and decoder of a `LanguageModel` are initialized.
public enum EncoderDecoderInit: String, Codable, Sendable, CaseIterable, Hashable {
    /// PyTorch's module defaults: `nn.Embedding` weights N(0, 1); `nn.Linear` weight and bias
    /// uniform in ±1/√D (D = decoder input width). What a model built from plain `nn` modules gets
    /// (e.g. ../shared/bench/torch_time_to_quality.py).
    case torch
    /// word_language_model's `RNNModel.init_weights`: encoder and decoder weights uniform in
    /// ±`embeddingInitRange`, decoder bias 0.
    case wordLM = "word-lm"
}

/// How a `LanguageModel`'s parameters are initialized.
///
/// Recurrent weights and biases follow PyTorch: uniform in ±1/√H (nn.RNN/LSTM/GRU
/// `reset_parameters`). Encoder and decoder: see `EncoderDecoderInit` (default `.torch`).
public struct InitializationOptions: Codable, Sendable, Equatable, Hashable {
    /// Replace each H×H gate block of every `weight_hh` with a random orthogonal matrix.
    public var orthogonalRecurrent: Bool
    /// LSTM only: when set, the forget-gate block of `bias_ih` is set to this value and that of
    /// `bias_hh` to 0, so the effective forget bias (their sum) equals it. Common value: 1.
    public var forgetGateBias: Double?
    /// Encoder and decoder initialization.
    public var encoderDecoder: EncoderDecoderInit
    /// Bound of the uniform encoder/decoder weight initialization of `.wordLM`.
    public var embeddingInitRange: Double

    public init(orthogonalRecurrent: Bool = false, forgetGateBias: Double? = nil,
                encoderDecoder: EncoderDecoderInit = .torch, embeddingInitRange: Double = 0.1) {
        self.orthogonalRecurrent = orthogonalRecurrent
        self.forgetGateBias = forgetGateBias
        self.encoderDecoder = encoderDecoder
        self.embeddingInitRange = embeddingInitRange
    }

    private enum CodingKeys: String, CodingKey {
        case orthogonalRecurrent, forgetGateBias, encoderDecoder, embeddingInitRange
    }

    /// Missing keys take their defaults, except `encoderDecoder`: configurations saved before it
    /// existed used `.wordLM`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        orthogonalRecurrent = try c.decodeIfPresent(Bool.self, forKey: .orthogonalRecurrent) ?? false
        forgetGateBias = try c.decodeIfPresent(Double.self, forKey: .forgetGateBias)
        encoderDecoder = try c.decodeIfPresent(EncoderDecoderInit.self, forKey: .encoderDecoder) ?? .wordLM
        embeddingInitRange = try c.decodeIfPresent(Double.self, forKey: .embeddingInitRange) ?? 0.1
    }
}

/// The architecture of a `LanguageModel`.
///
/// Shapes (V vocabulary, E embedding, H hidden, L layers, G gates of `cell`):
/// - `encoder.weight` V×E;
/// - layer k: `rnn.weight_ih_l{k}` G·H×In_k, `rnn.weight_hh_l{k}` G·H×H, biases G·H, where
///   In_0 = E, and In_k = H for k > 0 (skip `.none`/`.residual`) or E + H (`.dense`);
/// - `decoder.weight` V×D, `decoder.bias` V, where D = H, or L·H for `.dense`.
public struct ModelConfig: Codable, Sendable, Equatable, Hashable {
    /// V: number of token ids.
    public var vocabularySize: Int
    /// E: embedding width.
    public var embeddingSize: Int
    /// H: hidden state width of every layer.
    public var hiddenSize: Int
    /// L: number of recurrent layers.
    public var layers: Int
    public var cell: CellKind
    public var skip: SkipMode
    /// Inverted-dropout probability applied (in training only) to every layer's output (after the
    /// residual addition), i.e. between layers and before the decoder (as nn.LSTM's `dropout` plus
    /// word_language_model's dropout before the decoder).
    public var dropout: Double
    /// Inverted-dropout probability applied (in training only) to the embedding output. 0 (char-rnn,
    /// torch-rnn) by default; word_language_model uses the same value as `dropout`. A configuration
    /// saved without this key (older checkpoints) had it equal to `dropout`.
    public var embeddingDropout: Double
    public var initialization: InitializationOptions

    public init(vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int,
                cell: CellKind = .lstm, skip: SkipMode = .none, dropout: Double = 0,
                embeddingDropout: Double = 0,
                initialization: InitializationOptions = InitializationOptions()) {
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.cell = cell
        self.skip = skip
        self.dropout = dropout
        self.embeddingDropout = embeddingDropout
        self.initialization = initialization
    }

    private enum CodingKeys: String, CodingKey {
        case vocabularySize, embeddingSize, hiddenSize, layers, cell, skip, dropout, embeddingDropout, initialization
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        embeddingSize = try c.decode(Int.self, forKey: .embeddingSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        layers = try c.decode(Int.self, forKey: .layers)
        cell = try c.decode(CellKind.self, forKey: .cell)
        skip = try c.decodeIfPresent(SkipMode.self, forKey: .skip) ?? .none
        dropout = try c.decodeIfPresent(Double.self, forKey: .dropout) ?? 0
        embeddingDropout = try c.decodeIfPresent(Double.self, forKey: .embeddingDropout) ?? dropout
        initialization = try c.decodeIfPresent(InitializationOptions.self, forKey: .initialization)
            ?? InitializationOptions()
    }

    /// In_k: input width of layer `k` (`ModelPlan` describes what those features are; a test
    /// checks that the two agree).
    public func inputSize(ofLayer k: Int) -> Int {
        k == 0 ? embeddingSize : (skip == .dense ? embeddingSize + hiddenSize : hiddenSize)
    }

    /// D: input width of the decoder.
    public var decoderInputSize: Int { skip == .dense ? layers * hiddenSize : hiddenSize }

    /// A one-line description of the first problem that makes this configuration unusable, or nil.
    /// Sizes are checked without overflow against the machine's memory (`MachineMemory.available`): the
    /// parameters with their gradients and a one-step, one-stream workspace must fit, so that a
    /// config.json naming a huge size is refused before anything is allocated (see `ModelMemory` for the
    /// need of training with a given batch and window).
    public var validationError: String? {
        if vocabularySize < 1 { return "vocabularySize must be at least 1 (got \(vocabularySize))" }
        if embeddingSize < 1 { return "embeddingSize must be at least 1 (got \(embeddingSize))" }
        if hiddenSize < 1 { return "hiddenSize must be at least 1 (got \(hiddenSize))" }
        if layers < 1 { return "layers must be at least 1 (got \(layers))" }
        if !(dropout >= 0 && dropout < 1) { return "dropout must be in [0, 1) (got \(dropout))" }
        if !(embeddingDropout >= 0 && embeddingDropout < 1) {
            return "embedding dropout must be in [0, 1) (got \(embeddingDropout))"
        }
        if initialization.forgetGateBias != nil && cell != .lstm {
            return "forgetGateBias applies to LSTM only (cell is \(cell.rawValue))"
        }
        if let problem = ModelMemory(config: self).problem() { return problem.description }
        return nil
    }
}
