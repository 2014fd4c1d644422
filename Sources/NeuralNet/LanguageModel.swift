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

    // Window workspaces, sized by reserve(maxSteps:batchSize:) for T_max × B_max rows; a window of
    // T ≤ T_max steps of B ≤ B_max streams uses their first T·B rows.
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
    /// Whether layer 0 read the embedding table directly in the last forward.
    private(set) var fusedLastForward = false
    /// Whether the last forward dropped layer outputs / the embedding (masks to apply in backward).
    private var droppedOutputs = false, droppedEmbedding = false
    private var inputIDs = [Int32](), targetIDs = [Int32]()
    private var embedded = AlignedBuffer<Scalar>(count: 0)        // T·B×E
    private var embeddedMask = AlignedBuffer<Scalar>(count: 0)    // T·B×E
    private var outputs: [AlignedBuffer<Scalar>] = []             // L × (T·B×H)
    private var outputMasks: [AlignedBuffer<Scalar>] = []         // L × (T·B×H)
    private var concatenated: [AlignedBuffer<Scalar>] = []        // dense: layer k>0, T·B×(E+H)
    private var decoderInput = AlignedBuffer<Scalar>(count: 0)    // dense: T·B×L·H
    private var logitBuffer = AlignedBuffer<Scalar>(count: 0)     // T·B×V
    private var logSumExps = AlignedBuffer<Scalar>(count: 0)      // T·B
    private var dLogits = AlignedBuffer<Scalar>(count: 0)         // T·B×V
    private var dDecoderInput = AlignedBuffer<Scalar>(count: 0)   // T·B×D
    private var dOutputs: [AlignedBuffer<Scalar>] = []            // L × (T·B×H)
    private var dEmbedded = AlignedBuffer<Scalar>(count: 0)       // T·B×E
    private var stateGradient: RecurrentState<Scalar>?

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
        layers = (0..<config.layers).map { k in
            RecurrentLayer(cell: config.cell, inputSize: config.inputSize(ofLayer: k),
                           hiddenSize: config.hiddenSize, parameters: parameters,
                           weightIH: layout.slot(named: "rnn.weight_ih_l\(k)")!,
                           weightHH: layout.slot(named: "rnn.weight_hh_l\(k)")!,
                           biasIH: layout.slot(named: "rnn.bias_ih_l\(k)")!,
                           biasHH: layout.slot(named: "rnn.bias_hh_l\(k)")!)
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
    /// validation with fewer streams, a one-token step — reuses them.
    public func reserve(maxSteps t: Int, batchSize b: Int) {
        if b != batchSize || stateGradient == nil { stateGradient = RecurrentState(config: config, batchSize: b) }
        batchSize = b
        for layer in layers { layer.reserve(maxSteps: t, batchSize: b) }
        if t <= maxSteps && b <= batchCapacity { return }
        maxSteps = max(t, maxSteps); batchCapacity = max(b, batchCapacity)
        let n = maxSteps * batchCapacity, e = config.embeddingSize, h = config.hiddenSize, v = config.vocabularySize
        let l = config.layers, d = config.decoderInputSize
        embedded = AlignedBuffer(count: n * e)
        embeddedMask = AlignedBuffer(count: config.embeddingDropout > 0 ? n * e : 0)
        outputs = (0..<l).map { _ in AlignedBuffer(count: n * h) }
        outputMasks = (0..<l).map { _ in AlignedBuffer(count: config.dropout > 0 ? n * h : 0) }
        concatenated = plan.layers.map { AlignedBuffer(count: $0.segments.count > 1 ? n * $0.inputWidth : 0) }
        decoderInput = AlignedBuffer(count: plan.decoderSegments.count > 1 ? n * d : 0)
        logitBuffer = AlignedBuffer(count: n * v)
        logSumExps = AlignedBuffer(count: n)
        dLogits = AlignedBuffer(count: n * v)
        dDecoderInput = AlignedBuffer(count: n * d)
        dOutputs = (0..<l).map { _ in AlignedBuffer(count: n * h) }
        dEmbedded = AlignedBuffer(count: n * e)
    }

    // MARK: Forward

    /// Runs one window and returns the mean cross-entropy (nats per token) over its T·B tokens.
    ///
    /// - `inputs`, `targets`: T·B ids each, time-major (index t·B + b), T = count / `batchSize`.
    /// - `state`: the carried state (B streams); read as the initial state and overwritten with
    ///   the state after the last step.
    /// - `training`: applies dropout (masks drawn from `dropoutRNG`) when true.
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
        let t = inputs.count / b
        reserve(maxSteps: t, batchSize: b)
        steps = t
        inputIDs = inputs
        targetIDs = targets
        let dropping = training && config.dropout > 0
        droppedOutputs = dropping
        droppedEmbedding = training && config.embeddingDropout > 0
        let n = t * b, e = config.embeddingSize, h = config.hiddenSize
        let embP = embedded.pointer.baseAddress!
        inputIDs.withUnsafeBufferPointer { ids in
            ModelKernels.gatherRows(table: parameters.values(encoderWeight).baseAddress!, cols: e,
                                    ids: ids.baseAddress!, rows: n, into: embP)
        }
        if droppedEmbedding {
            if let dropoutKey {
                dropoutKey.fill(embeddedMask.pointer.baseAddress!, steps: t, streams: b, width: e,
                                p: config.embeddingDropout, layer: 0)
            } else {
                ModelKernels.dropoutMask(embeddedMask.pointer.baseAddress!, count: n * e, p: config.embeddingDropout,
                                         rng: &dropoutRNG)
            }
            Kernels.multiply(embP, by: embeddedMask.pointer.baseAddress!, count: n * e)
        }
        // The V-row table costs no more than the window's own rows once there are V of them (a
        // one-token step of a few streams reads its rows directly); the forward's bits are the same
        // either way (one chain per element from the bias, `Real.gemm`).
        fusedLastForward = fusesEmbeddingProjection && operands == .f32 && !droppedEmbedding && n >= v
        for (k, layer) in layers.enumerated() {
            let input = layerInput(k, rows: n)
            let h0 = state.h[k].pointer.baseAddress!, c0 = state.hasCell ? state.c[k].pointer.baseAddress! : nil
            if k == 0 && fusedLastForward {
                inputIDs.withUnsafeBufferPointer { ids in
                    layer.forward(table: parameters.values(encoderWeight).baseAddress!, tableRows: v, ids: ids,
                                  steps: t, h0: h0, c0: c0)
                }
            } else {
                layer.forward(input: input, steps: t, h0: h0, c0: c0)
            }
            let out = outputs[k].pointer.baseAddress!
            if plan.layers[k].residual {
                Kernels.sum(layer.output, input, into: out, count: n * h)
            } else if dropping {
                Kernels.copy(layer.output, into: out, count: n * h)
            }  // else o_k is the layer's output itself (`output(ofLayer:)`), no copy
            if dropping {
                if let dropoutKey {
                    dropoutKey.fill(outputMasks[k].pointer.baseAddress!, steps: t, streams: b, width: h,
                                    p: config.dropout, layer: k + 1)
                } else {
                    ModelKernels.dropoutMask(outputMasks[k].pointer.baseAddress!, count: n * h, p: config.dropout,
                                             rng: &dropoutRNG)
                }
                Kernels.multiply(out, by: outputMasks[k].pointer.baseAddress!, count: n * h)
            }
            Kernels.copy(layer.finalH(steps: t), into: state.h[k].pointer.baseAddress!, count: b * h)
            if state.hasCell { Kernels.copy(layer.finalC(steps: t), into: state.c[k].pointer.baseAddress!, count: b * h) }
        }
        let decIn = decoderInputPointer(rows: n)
        let logitsP = logitBuffer.pointer.baseAddress!
        decode(decIn, rows: n, into: logitsP)
        let total = targetIDs.withUnsafeBufferPointer { tg in
            let tgP = tg.baseAddress!, lse = logSumExps.pointer.baseAddress!
            return ParallelChunks.sum(extent: n, itemCost: v, threads: threads) { r in
                Kernels.softmaxCrossEntropy(logits: logitsP + r.lowerBound * v, rows: r.count, cols: v,
                                            targets: tgP + r.lowerBound, logSumExp: lse + r.lowerBound)
            }
        }
        return total / Double(n)
    }

    /// o_k of the current window (T·B×H): the workspace that holds drop(h_k) or h_k + input_k, or,
    /// when neither applies, the layer's own output buffer.
    private func output(ofLayer k: Int) -> UnsafeMutablePointer<Scalar> {
        if droppedOutputs || plan.layers[k].residual { return outputs[k].pointer.baseAddress! }
        return layers[k].output
    }

    /// The rows of a plan source in the current window (T·B × E or H).
    private func rows(of source: ModelPlan.Source) -> UnsafeMutablePointer<Scalar> {
        switch source {
        case .embedding: embedded.pointer.baseAddress!
        case .layer(let j): output(ofLayer: j)
        }
    }

    /// Where the concatenation of `segments` lives: the source itself when there is one segment,
    /// else `buffer`.
    private func rows(of segments: [ModelPlan.Segment], buffer: AlignedBuffer<Scalar>) -> UnsafeMutablePointer<Scalar> {
        segments.count == 1 ? rows(of: segments[0].source) : buffer.pointer.baseAddress!
    }

    /// The concatenation of `segments` (`width` features per row) for `n` rows, copied into
    /// `buffer` when there is more than one segment.
    private func concatenate(_ segments: [ModelPlan.Segment], width: Int, rows n: Int,
                             into buffer: AlignedBuffer<Scalar>) -> UnsafeMutablePointer<Scalar> {
        let out = rows(of: segments, buffer: buffer)
        if segments.count == 1 { return out }
        for segment in segments {
            Kernels.copy(rows(of: segment.source), srcStride: segment.width, into: out + segment.offset,
                         dstStride: width, rows: n, cols: segment.width)
        }
        return out
    }

    /// The input of layer `k` for the current window (`plan.layers[k]`).
    private func layerInput(_ k: Int, rows n: Int) -> UnsafeMutablePointer<Scalar> {
        concatenate(plan.layers[k].segments, width: plan.layers[k].inputWidth, rows: n, into: concatenated[k])
    }

    /// The decoder input for the current window (`plan.decoderSegments`).
    private func decoderInputPointer(rows n: Int) -> UnsafeMutablePointer<Scalar> {
        concatenate(plan.decoderSegments, width: plan.decoderInputWidth, rows: n, into: decoderInput)
    }

    /// logits (n×V) = input (n×D) · decoder.weightᵀ + decoder.bias.
    private func decode(_ input: UnsafePointer<Scalar>, rows n: Int, into logits: UnsafeMutablePointer<Scalar>) {
        let v = config.vocabularySize, d = config.decoderInputSize
        Kernels.broadcastRows(parameters.values(decoderBias).baseAddress!, into: logits, rows: n, cols: v, threads: threads)
        ParallelGemm.gemm(threads: threads, operands: operands, transA: false, transB: true, m: n, n: v, k: d, a: input, lda: d,
                    b: parameters.values(decoderWeight).baseAddress!, ldb: d, c: logits, ldc: v, accumulate: true)
    }

    /// Number of steps T of the last forward.
    public var lastSteps: Int { steps }

    /// Logits of the last forward: T·B×V, row t·B + b.
    public var logits: UnsafeBufferPointer<Scalar> {
        UnsafeBufferPointer(start: logitBuffer.pointer.baseAddress, count: steps * batchSize * config.vocabularySize)
    }

    /// log softmax of row `row` (t·B + b) of the last forward at `token`, in nats.
    public func logProbability(row: Int, token: Int) -> Double {
        Double(logitBuffer[row * config.vocabularySize + token]) - Double(logSumExps[row])
    }

    /// log Σ_j exp(logits[row, j]) of the last forward.
    public func logSumExp(row: Int) -> Double { Double(logSumExps[row]) }

    /// The cross-entropy (nats) of token `row` of the last forward: −log p(target | history).
    public func tokenLoss(row: Int) -> Double { -logProbability(row: row, token: Int(targetIDs[row])) }

    // MARK: Backward

    /// Backpropagates the loss of the last `forward` (`scope` picks which tokens' mean loss) and
    /// **adds** ∂L/∂θ into `parameters.gradients` (the caller zeroes them). Returns ∂L/∂(initial
    /// state) of the window (B streams; valid until the next backward). When `recorder` is given it
    /// receives ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖) per layer and step. Call at most once per forward.
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
        let t = steps, b = batchSize, n = t * b, v = config.vocabularySize
        precondition(meanOver.map { $0 >= n } ?? true, "meanOver must count at least this window's tokens")
        let normalizer = meanOver ?? n
        let e = config.embeddingSize, h = config.hiddenSize, d = config.decoderInputSize
        let dLog = dLogits.pointer.baseAddress!
        targetIDs.withUnsafeBufferPointer { tg in
            switch scope {
            case .allSteps:
                let logitsP = logitBuffer.pointer.baseAddress!, lse = logSumExps.pointer.baseAddress!
                let tgP = tg.baseAddress!
                ParallelChunks.run(extent: n, itemCost: v, threads: threads) { _, r in
                    Kernels.softmaxCrossEntropyBackward(
                        logits: logitsP + r.lowerBound * v, rows: r.count, cols: v, targets: tgP + r.lowerBound,
                        logSumExp: lse + r.lowerBound, scale: 1 / Scalar(normalizer), grad: dLog + r.lowerBound * v)
                }
            case .lastStep:
                Kernels.fill(dLog, count: (n - b) * v)
                let first = n - b
                Kernels.softmaxCrossEntropyBackward(
                    logits: logitBuffer.pointer.baseAddress! + first * v, rows: b, cols: v,
                    targets: tg.baseAddress! + first, logSumExp: logSumExps.pointer.baseAddress! + first,
                    scale: 1 / Scalar(b), grad: dLog + first * v)
            }
        }
        // Decoder: ∂W += dLogitsᵀ·input, ∂b += column sums, ∂input = dLogits·W.
        let decIn = rows(of: plan.decoderSegments, buffer: decoderInput)  // as forward built it
        ParallelGemm.gemm(threads: threads, operands: operands, transA: true, transB: false, m: v, n: d, k: n, a: dLog, lda: v, b: decIn, ldb: d,
                    c: parameters.gradients(decoderWeight).baseAddress!, ldc: d, accumulate: true)
        Kernels.addColumnSums(dLog, rows: n, cols: v, into: parameters.gradients(decoderBias).baseAddress!, threads: threads)
        let dDec = dDecoderInput.pointer.baseAddress!
        ParallelGemm.gemm(threads: threads, operands: operands, transA: false, transB: false, m: n, n: d, k: v, a: dLog, lda: v,
                    b: parameters.values(decoderWeight).baseAddress!, ldb: d, c: dDec, ldc: d, accumulate: false)
        gradientsReady?(decoderWeight.offset..<decoderBias.range.upperBound)
        // ∂L/∂o_k and ∂L/∂x start at zero and collect what each reader of them passes down: the
        // decoder now, each layer after its backward (top first, so ∂L/∂o_k is complete before
        // layer k's backward).
        for dOut in dOutputs { Kernels.fill(dOut.pointer.baseAddress!, count: n * h) }
        // With layer 0 reading the table, only other readers of x route gradient to the embedded rows.
        let embeddedRowsNeedGradient = !fusedLastForward || plan.embeddingReadBeyondLayer0
        let dEmb = dEmbedded.pointer.baseAddress!
        if embeddedRowsNeedGradient { Kernels.fill(dEmb, count: n * e) }
        func gradient(of source: ModelPlan.Source) -> UnsafeMutablePointer<Scalar> {
            switch source {
            case .embedding: dEmb
            case .layer(let j): dOutputs[j].pointer.baseAddress!
            }
        }
        /// Adds ∂L/∂(input) of a reader (`width` features per row) into its sources' gradients.
        func passDown(_ dInput: UnsafePointer<Scalar>, width: Int, segments: [ModelPlan.Segment]) {
            for segment in segments {
                Kernels.add(dInput + segment.offset, srcStride: width, into: gradient(of: segment.source),
                            dstStride: segment.width, rows: n, cols: segment.width)
            }
        }
        passDown(dDec, width: d, segments: plan.decoderSegments)
        recorder?.start(layers: config.layers, steps: t, hasCell: config.cell == .lstm)
        let grads = stateGradient!
        for k in stride(from: config.layers - 1, through: 0, by: -1) {
            let layer = layers[k], dS = dOutputs[k].pointer.baseAddress!, wiring = plan.layers[k]
            if droppedOutputs { Kernels.multiply(dS, by: outputMasks[k].pointer.baseAddress!, count: n * h) }
            var observer: ((Int, UnsafePointer<Scalar>, UnsafePointer<Scalar>?) -> Void)?
            if let recorder {
                observer = { s, dh, dc in
                    recorder.record(layer: k, step: s,
                                    hiddenNorm: Kernels.sumOfSquares(dh, count: b * h).squareRoot(),
                                    cellNorm: dc.map { Kernels.sumOfSquares($0, count: b * h).squareRoot() })
                }
            }
            layer.backward(outputGradient: dS, steps: t, finalHGradient: nil, finalCGradient: nil, observer: observer)
            if k == 0 && fusedLastForward {
                Kernels.add(layer.tableGradient, srcStride: e, into: parameters.gradients(encoderWeight).baseAddress!,
                            dstStride: e, rows: v, cols: e)
            } else {
                passDown(layer.inputGradient, width: wiring.inputWidth, segments: wiring.segments)
            }
            // o_k = h_k + input_k: the input also receives ∂L/∂o_k directly.
            if wiring.residual { passDown(dS, width: h, segments: wiring.segments) }
            Kernels.copy(layer.initialHGradient, into: grads.h[k].pointer.baseAddress!, count: b * h)
            if grads.hasCell { Kernels.copy(layer.initialCGradient, into: grads.c[k].pointer.baseAddress!, count: b * h) }
            gradientsReady?(layer.weightIH.offset..<layer.biasHH.range.upperBound)
        }
        if droppedEmbedding { Kernels.multiply(dEmb, by: embeddedMask.pointer.baseAddress!, count: n * e) }
        if embeddedRowsNeedGradient {
            inputIDs.withUnsafeBufferPointer { ids in
                ModelKernels.scatterAddRows(dEmb, cols: e, ids: ids.baseAddress!, rows: n,
                                            into: parameters.gradients(encoderWeight).baseAddress!)
            }
        }
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
        Kernels.copy(logitBuffer.pointer.baseAddress!, into: logits.baseAddress!, count: b * v)
    }
}
