import Tensor

/// Which token losses `LanguageModel.backward` differentiates.
public enum LossScope: Sendable {
    /// The mean cross-entropy over all T·B tokens (the training loss).
    case allSteps
    /// The mean cross-entropy over the B tokens of the last step only (for gradient-flow studies).
    case lastStep
}

/// A character-level recurrent language model: embedding → L recurrent layers (skip wiring per
/// `SkipMode`, inverted dropout between them) → linear decoder → softmax cross-entropy.
///
/// Wiring (time-major T·B rows throughout; drop(·) is dropout in training, identity otherwise):
/// - x = drop_e(encoder[ids]) (T·B×E; drop_e uses `embeddingDropout`, drop uses `dropout`)
/// - input of layer 0 is x; of layer k > 0: o_{k−1} (`.none`, `.residual`) or [x, o_{k−1}]
///   (`.dense`, T·B×(E+H))
/// - o_k = drop(h_k + input_k) for `.residual` and k > 0, else drop(h_k) (T·B×H)
/// - decoder input: o_{L−1} (T·B×H), or [o_0, …, o_{L−1}] (`.dense`, T·B×L·H)
/// - logits = decoderInput · decoder.weightᵀ + decoder.bias (T·B×V); loss = mean over tokens of
///   log Σ exp(logits) − logit[target].
///
/// Parameters live in one `ParameterSet` registered in PyTorch word_language_model `RNNModel`
/// order (encoder.weight; per layer weight_ih, weight_hh, bias_ih, bias_hh; decoder.weight,
/// decoder.bias): with skip `.none` the set loads into that class with `strict=True`.
///
/// Forward walks the stages of `plan` in order and backward in reverse: `EmbeddingStage` (x), then
/// per layer its input (`Concatenation`), the `RecurrentLayer` and o_k (`LayerOutputStage`), then
/// the decoder's input (`Concatenation`), `DecoderStage` and `SoftmaxCrossEntropyStage`. Each stage
/// owns its named buffers and records what its last forward did (table lookup or rows, masks
/// applied or not, where its output lives); its backward reads that record.
///
/// Use: `forward` a window (carrying a `RecurrentState`), then `backward` adds ∂L/∂θ into
/// `parameters.gradients` (zero them first) and returns ∂L/∂(initial state). `step` advances
/// generation by one token (a forward with T = 1). Not thread-safe: one window at a time.
public final class LanguageModel<Scalar: Real> {
    public let config: ModelConfig
    /// The wiring every path of the model follows (derived from `config`).
    public let plan: ModelPlan
    /// All parameters and their gradients.
    public let parameters: ParameterSet<Scalar>
    /// The generator for dropout masks when `dropoutKey` is nil; its `stateWords` can be saved and restored.
    public var dropoutRNG: RNG
    /// When set, training forwards draw each stream's masks from this counter-based key instead of
    /// `dropoutRNG` (`StreamDropoutKey`): masks then do not depend on how a batch is split.
    public var dropoutKey: StreamDropoutKey?
    /// The recurrent layers, bottom first.
    public let layers: [RecurrentLayer<Scalar>]
    public let encoderWeight: ParameterSlot, decoderWeight: ParameterSlot, decoderBias: ParameterSlot

    /// Threads the model computes on (stream-split recurrence and block-split GEMMs, see
    /// `RecurrentLayer.threads`); default 2. Results do not depend on it, bit for bit.
    public var threads: Int = 2 {
        didSet { threads = max(1, threads); for layer in layers { layer.threads = threads } }
    }

    /// The precision of the operands of every matrix product of forward and backward (input
    /// projections, recurrent steps, decoder, weight gradients, ∂input): `.f32` (default) or
    /// `.bf16`, mixed precision — operands rounded to bfloat16, products accumulated in f32, and
    /// everything else (weights, gradients, cell state, softmax, loss) in f32 (see
    /// `OperandPrecision`). With `.bf16` layer 0 reads the embedding rows as a window input (the
    /// table lookup of `fusesEmbeddingProjection` would round sums of gradients instead of each).
    public var operands: OperandPrecision = .f32 {
        didSet { for layer in layers { layer.operands = operands } }
    }

    // The window's stages (`ModelPlan` order), each owning its named buffers sized by
    // reserve(maxSteps:batchSize:) for T_max × B_max rows; a window of T ≤ T_max steps of B ≤ B_max
    // streams uses their first T·B rows. Each records what its last forward did; backward reads it.
    /// Steps the workspaces hold (T_max).
    public private(set) var maxSteps = 0
    /// Streams of the current (last) window.
    public private(set) var batchSize = 0
    /// Streams the workspaces hold (B_max).
    public private(set) var batchCapacity = 0
    private var steps = 0
    /// When the embedding is not dropped out, layer 0 reads its input rows straight from the
    /// embedding table (`RecurrentLayer.forward(table:…)`): its input projection becomes a lookup
    /// in a V×G·H table, and two T·B-row GEMMs of backward become V-row ones. Same results up to
    /// rounding; off only to compare the two paths in tests.
    var fusesEmbeddingProjection = true
    /// x = drop_e(encoder[ids]) and how layer 0 read it.
    let embedding: EmbeddingStage<Scalar>
    /// The input of each layer (`plan.layers[k].segments`).
    let layerInputs: [Concatenation<Scalar>]
    /// o_k of each layer (residual add, dropout).
    let layerOutputs: [LayerOutputStage<Scalar>]
    /// The decoder's input (`plan.decoderSegments`).
    let decoderInput: Concatenation<Scalar>
    let decoder: DecoderStage<Scalar>
    let loss: SoftmaxCrossEntropyStage<Scalar>
    /// ∂L/∂(initial state) returned by backward, shaped for the batch size of the last backward
    /// (made there, so forwards of other batch sizes, e.g. validation, leave it alone).
    private var stateGradient: RecurrentState<Scalar>?

    /// Whether layer 0 read the embedding table directly in the last forward (the embedding stage's record).
    var fusedLastForward: Bool { embedding.record == .table }

    /// The parameter layout of `config`, in registration order.
    public static func layout(for config: ModelConfig) -> ParameterLayout {
        var layout = ParameterLayout()
        let g = config.cell.gateCount * config.hiddenSize
        layout.add("encoder.weight", shape: [config.vocabularySize, config.embeddingSize])
        for k in 0..<config.layers {
            layout.add("rnn.weight_ih_l\(k)", shape: [g, config.inputSize(ofLayer: k)])
            layout.add("rnn.weight_hh_l\(k)", shape: [g, config.hiddenSize])
            layout.add("rnn.bias_ih_l\(k)", shape: [g])
            layout.add("rnn.bias_hh_l\(k)", shape: [g])
        }
        layout.add("decoder.weight", shape: [config.vocabularySize, config.decoderInputSize])
        layout.add("decoder.bias", shape: [config.vocabularySize])
        return layout
    }

    /// A model with freshly initialized parameters (see `InitializationOptions`) drawn from
    /// `RNG(seed: seed)`; the dropout generator starts at `RNG(seed: seed &+ 1)`.
    public convenience init(config: ModelConfig, seed: UInt64) {
        self.init(config: config, parameters: ParameterSet(layout: Self.layout(for: config)))
        initializeParameters(seed: seed)
        dropoutRNG = RNG(seed: seed &+ 1)
    }

    /// A model over existing `parameters` (e.g. loaded from a checkpoint), whose layout must be
    /// `layout(for: config)`.
    public init(config: ModelConfig, parameters: ParameterSet<Scalar>) {
        precondition(config.validationError == nil, config.validationError ?? "")
        precondition(parameters.layout == Self.layout(for: config), "parameter layout does not match config")
        self.config = config
        self.plan = ModelPlan(config)
        self.parameters = parameters
        self.dropoutRNG = RNG(seed: 1)
        let layout = parameters.layout
        encoderWeight = layout.slot(named: "encoder.weight")!
        decoderWeight = layout.slot(named: "decoder.weight")!
        decoderBias = layout.slot(named: "decoder.bias")!
        embedding = EmbeddingStage(parameters: parameters, encoderWeight: encoderWeight,
                                   dropout: config.embeddingDropout, readBeyondLayer0: plan.embeddingReadBeyondLayer0)
        layerInputs = plan.layers.map { Concatenation(segments: $0.segments, width: $0.inputWidth) }
        layerOutputs = plan.layers.enumerated().map { k, wiring in
            LayerOutputStage(layer: k, width: config.hiddenSize, residual: wiring.residual, dropout: config.dropout)
        }
        decoderInput = Concatenation(segments: plan.decoderSegments, width: plan.decoderInputWidth)
        decoder = DecoderStage(parameters: parameters, weight: decoderWeight, bias: decoderBias)
        loss = SoftmaxCrossEntropyStage(vocabularySize: config.vocabularySize)
        let scratch = RecurrentScratch<Scalar>()
        layers = (0..<config.layers).map { k in
            RecurrentLayer(cell: config.cell, inputSize: config.inputSize(ofLayer: k),
                           hiddenSize: config.hiddenSize, parameters: parameters,
                           weightIH: layout.slot(named: "rnn.weight_ih_l\(k)")!,
                           weightHH: layout.slot(named: "rnn.weight_hh_l\(k)")!,
                           biasIH: layout.slot(named: "rnn.bias_ih_l\(k)")!,
                           biasHH: layout.slot(named: "rnn.bias_hh_l\(k)")!, scratch: scratch)
        }
    }

    /// Re-initializes every parameter from `RNG(seed: seed)`, slot by slot in registration order.
    public func initializeParameters(seed: UInt64) {
        var rng = RNG(seed: seed)
        let h = config.hiddenSize, options = config.initialization
        let recurrentBound = 1 / Double(h).squareRoot()
        switch options.encoderDecoder {
        case .torch: Initializers.normal(parameters.values(encoderWeight), std: 1, rng: &rng)
        case .wordLM: Initializers.uniform(parameters.values(encoderWeight), bound: options.embeddingInitRange, rng: &rng)
        }
        for layer in layers {
            for slot in [layer.weightIH, layer.weightHH, layer.biasIH, layer.biasHH] {
                Initializers.uniform(parameters.values(slot), bound: recurrentBound, rng: &rng)
            }
            if options.orthogonalRecurrent {
                let base = parameters.values(layer.weightHH).baseAddress!
                for gate in 0..<config.cell.gateCount {
                    Initializers.orthogonal(base + gate * h * h, n: h, rng: &rng)
                }
            }
            if let forget = options.forgetGateBias, config.cell == .lstm {
                let bih = parameters.values(layer.biasIH), bhh = parameters.values(layer.biasHH)
                for j in h..<(2 * h) { bih[j] = Scalar(forget); bhh[j] = 0 }
            }
        }
        switch options.encoderDecoder {
        case .torch:
            let bound = 1 / Double(config.decoderInputSize).squareRoot()
            Initializers.uniform(parameters.values(decoderWeight), bound: bound, rng: &rng)
            Initializers.uniform(parameters.values(decoderBias), bound: bound, rng: &rng)
        case .wordLM:
            Initializers.uniform(parameters.values(decoderWeight), bound: options.embeddingInitRange, rng: &rng)
            parameters.values(decoderBias).update(repeating: 0)
        }
    }

    /// Makes the window workspaces hold windows of `maxSteps` steps × `batchSize` streams and sets
    /// the current batch size (forward does this itself; calling it up front with the largest
    /// window avoids a reallocation). Workspaces only grow: a window with fewer steps or streams —
    /// validation with fewer streams, a one-token step — reuses them and allocates nothing.
    public func reserve(maxSteps t: Int, batchSize b: Int) {
        batchSize = b
        for layer in layers { layer.reserve(maxSteps: t, batchSize: b) }
        if t <= maxSteps && b <= batchCapacity { return }
        maxSteps = max(t, maxSteps); batchCapacity = max(b, batchCapacity)
        let n = maxSteps * batchCapacity
        if fusesEmbeddingProjection { layers[0].reserveTable(rows: config.vocabularySize) }
        embedding.reserve(rows: n)
        for stage in layerInputs { stage.reserve(rows: n) }
        for stage in layerOutputs { stage.reserve(rows: n) }
        decoderInput.reserve(rows: n)
        decoder.reserve(rows: n)
        loss.reserve(rows: n)
    }

    /// Base addresses of every window workspace of the model and its layers, in a fixed order (for
    /// tests that check a window allocates nothing).
    var workspaceAddresses: [UnsafeRawPointer] {
        embedding.workspaceAddresses + layerInputs.flatMap(\.workspaceAddresses)
            + layerOutputs.flatMap(\.workspaceAddresses) + decoderInput.workspaceAddresses
            + decoder.workspaceAddresses + loss.workspaceAddresses + layers.flatMap(\.workspaceAddresses)
    }

    // MARK: Forward

    /// Runs one window and returns the mean cross-entropy (nats per token) over its T·B tokens.
    ///
    /// - `inputs`, `targets`: T·B ids each, time-major (index t·B + b), T = count / `batchSize`.
    /// - `state`: the carried state (B streams); read as the initial state and overwritten with
    ///   the state after the last step.
    /// - `training`: applies dropout (masks from `dropoutKey` when set, else `dropoutRNG`) when true.
    /// Afterwards `logits` and `logProbability(row:token:)` describe this window.
    @discardableResult
    public func forward(inputs: [Int32], targets: [Int32], batchSize b: Int,
                        state: RecurrentState<Scalar>, training: Bool) -> Double {
        precondition(b >= 1 && inputs.count % b == 0 && inputs.count > 0, "inputs must hold T·B ids")
        precondition(targets.count == inputs.count, "targets must match inputs")
        precondition(state.batchSize == b && state.layers == config.layers
                     && state.hiddenSize == config.hiddenSize, "state shape does not match")
        let v = config.vocabularySize
        precondition(inputs.allSatisfy { $0 >= 0 && Int($0) < v } && targets.allSatisfy { $0 >= 0 && Int($0) < v },
                     "token id outside 0..<\(v)")
        let t = inputs.count / b, n = t * b, h = config.hiddenSize
        reserve(maxSteps: t, batchSize: b)
        steps = t
        embedding.forward(ids: inputs, steps: t, streams: b, training: training,
                          tableAllowed: fusesEmbeddingProjection && operands == .f32, key: dropoutKey, rng: &dropoutRNG)
        for (k, layer) in layers.enumerated() {
            let input = layerInputs[k].forward(rows: n) { self.rows(of: $0) }
            let h0 = state.h[k].pointer.baseAddress!, c0 = state.hasCell ? state.c[k].pointer.baseAddress! : nil
            if k == 0 && embedding.record == .table {
                embedding.readTable { table, v, ids in
                    layer.forward(table: table, tableRows: v, ids: ids, steps: t, h0: h0, c0: c0)
                }
            } else {
                layer.forward(input: input, steps: t, h0: h0, c0: c0)
            }
            layerOutputs[k].forward(hidden: layer.output, input: input, steps: t, streams: b, training: training,
                                    key: dropoutKey, rng: &dropoutRNG)
            Kernels.copy(layer.finalH(steps: t), into: state.h[k].pointer.baseAddress!, count: b * h)
            if state.hasCell { Kernels.copy(layer.finalC(steps: t), into: state.c[k].pointer.baseAddress!, count: b * h) }
        }
        let decoderRows = decoderInput.forward(rows: n) { self.rows(of: $0) }
        decoder.forward(input: decoderRows, rows: n, threads: threads, operands: operands)
        return loss.forward(logits: decoder.logits, targets: targets, streams: b, threads: threads)
    }

    /// The rows of a plan source in the current window (T·B × E or H): x or o_j.
    private func rows(of source: ModelPlan.Source) -> UnsafeMutablePointer<Scalar> {
        switch source {
        case .embedding: embedding.rows
        case .layer(let j): layerOutputs[j].rows
        }
    }

    /// Where backward collects ∂L/∂(source): ∂L/∂x or ∂L/∂o_j.
    private func gradient(of source: ModelPlan.Source) -> UnsafeMutablePointer<Scalar> {
        switch source {
        case .embedding: embedding.gradient
        case .layer(let j): layerOutputs[j].gradient
        }
    }

    /// Number of steps T of the last forward.
    public var lastSteps: Int { steps }

    /// Logits of the last forward: T·B×V, row t·B + b.
    public var logits: UnsafeBufferPointer<Scalar> {
        UnsafeBufferPointer(start: decoder.logits, count: steps * batchSize * config.vocabularySize)
    }

    /// log softmax of row `row` (t·B + b) of the last forward at `token`, in nats.
    public func logProbability(row: Int, token: Int) -> Double {
        Double(logits[row * config.vocabularySize + token]) - loss.logSumExp(row: row)
    }

    /// log Σ_j exp(logits[row, j]) of the last forward.
    public func logSumExp(row: Int) -> Double { loss.logSumExp(row: row) }

    /// The cross-entropy (nats) of token `row` of the last forward: −log p(target | history).
    public func tokenLoss(row: Int) -> Double { -logProbability(row: row, token: loss.target(row: row)) }

    // MARK: Backward

    /// Backpropagates the loss of the last `forward` (`scope` picks which tokens' mean loss) and
    /// **adds** ∂L/∂θ into `parameters.gradients` (the caller zeroes them). Returns ∂L/∂(initial
    /// state) of the window (B streams; valid until the next backward, which reuses the object while
    /// B stays the same). When `recorder` is given it receives ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖) per layer
    /// and step. Call at most once per forward; a forward must come first, and a `reserve` that grows
    /// the workspaces forgets it.
    ///
    /// Data-parallel use: `meanOver` (with `.allSteps`) divides the summed token losses by that many
    /// tokens instead of this window's T·B — the global batch's T·B_global when this window is one
    /// rank's block, so the ranks' gradients add up to the gradient of the global mean.
    /// `gradientsReady` is called with each range of the flat gradient buffer as soon as it is
    /// final (decoder first, then each layer from the top, the encoder last), e.g. to start
    /// all-reducing it while backward goes on.
    @discardableResult
    public func backward(scope: LossScope = .allSteps, recorder: GradientFlowRecorder? = nil, meanOver: Int? = nil,
                         gradientsReady: ((Range<Int>) -> Void)? = nil) -> RecurrentState<Scalar> {
        precondition(steps > 0, "backward needs a forward first")
        let t = steps, b = batchSize, n = t * b, h = config.hiddenSize
        precondition(meanOver.map { $0 >= n } ?? true, "meanOver must count at least this window's tokens")
        let dLogits = loss.backward(scope: scope, normalizer: meanOver ?? n, threads: threads)
        decoder.backward(dLogits, threads: threads, operands: operands)
        gradientsReady?(decoderWeight.offset..<decoderBias.range.upperBound)
        // ∂L/∂o_k and ∂L/∂x start at zero and collect what each reader of them passes down: the
        // decoder now, each layer after its backward (top first, so ∂L/∂o_k is complete before
        // layer k's backward).
        for stage in layerOutputs { stage.startBackward() }
        embedding.startBackward()
        decoderInput.backward(decoder.inputGradient) { self.gradient(of: $0) }
        recorder?.start(layers: config.layers, steps: t, hasCell: config.cell == .lstm)
        if stateGradient?.batchSize != b { stateGradient = RecurrentState(config: config, batchSize: b) }
        let grads = stateGradient!
        for k in stride(from: config.layers - 1, through: 0, by: -1) {
            let layer = layers[k]
            let dS = layerOutputs[k].backward()
            var observer: ((Int, UnsafePointer<Scalar>, UnsafePointer<Scalar>?) -> Void)?
            if let recorder {
                observer = { s, dh, dc in
                    recorder.record(layer: k, step: s,
                                    hiddenNorm: Kernels.sumOfSquares(dh, count: b * h).squareRoot(),
                                    cellNorm: dc.map { Kernels.sumOfSquares($0, count: b * h).squareRoot() })
                }
            }
            layer.backward(outputGradient: dS, steps: t, finalHGradient: nil, finalCGradient: nil, observer: observer)
            if k == 0 && embedding.record == .table {
                embedding.addTableGradient(layer.tableGradient)
            } else {
                layerInputs[k].backward(layer.inputGradient) { self.gradient(of: $0) }
            }
            // o_k = h_k + input_k: the input also receives ∂L/∂o_k directly.
            if layerOutputs[k].residual { layerInputs[k].backward(dS) { self.gradient(of: $0) } }
            Kernels.copy(layer.initialHGradient, into: grads.h[k].pointer.baseAddress!, count: b * h)
            if grads.hasCell { Kernels.copy(layer.initialCGradient, into: grads.c[k].pointer.baseAddress!, count: b * h) }
            gradientsReady?(layer.weightIH.offset..<layer.biasHH.range.upperBound)
        }
        embedding.backward()
        gradientsReady?(encoderWeight.range)
        return grads
    }

    // MARK: One step (generation)

    /// Advances `state` (B streams) by one token per stream and writes the next-token logits,
    /// B×V row-major, into `logits`: a window forward with T = 1 and no dropout — the same code,
    /// so the same bits as that token's row in a longer window. Replaces the last forward (call
    /// `backward` before stepping).
    public func step(inputs: [Int32], state: RecurrentState<Scalar>, logits: UnsafeMutableBufferPointer<Scalar>) {
        let b = inputs.count, v = config.vocabularySize
        precondition(state.batchSize == b && logits.count >= b * v, "step: state/logits shape does not match")
        forward(inputs: inputs, targets: inputs, batchSize: b, state: state, training: false)
        Kernels.copy(decoder.logits, into: logits.baseAddress!, count: b * v)
    }
}
