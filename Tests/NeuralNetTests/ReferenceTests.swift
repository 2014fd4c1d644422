import Testing
import Tensor
@testable import NeuralNet

/// The fast path (whole-window GEMMs, fused kernels) against the naive per-step reference, and a
/// window run in two chunks with carried state against the same window run whole.
@Suite struct ReferenceTests {
    static let configs: [ModelConfig] = CellKind.allCases.flatMap { cell in
        SkipMode.allCases.map { skip in
            ModelConfig(vocabularySize: 11, embeddingSize: 6, hiddenSize: 5, layers: 3, cell: cell, skip: skip,
                        initialization: InitializationOptions(encoderDecoder: .wordLM, embeddingInitRange: 0.5))
        }
    }

    func randomState<S: Real>(_ config: ModelConfig, batch: Int, seed: UInt64) -> RecurrentState<S> {
        let state = RecurrentState<S>(config: config, batchSize: batch)
        var rng = RNG(seed: seed)
        for k in 0..<config.layers {
            for i in 0..<state.h[k].count { state.h[k][i] = S(rng.uniform(-0.8, 0.8)) }
            if state.hasCell { for i in 0..<state.c[k].count { state.c[k][i] = S(rng.uniform(-0.8, 0.8)) } }
        }
        return state
    }

    /// Double fast path equals the naive reference to 1e-12 (both are exact up to the order of
    /// floating-point sums; the windows are tiny). The Float fast path (with the FastMath
    /// approximations) matches to 2e-5 relative, with a floor of 0.01 on the denominator: logits
    /// that are sums of cancelling terms can be ~1e-5 where Float rounding alone leaves ~1e-8
    /// absolute error, so near zero the check is absolute at 2e-7.
    @Test(arguments: configs)
    func fastPathMatchesNaiveReference(config: ModelConfig) {
        let t = 5, b = 3
        let inputs = randomIDs(t * b, below: 11, seed: 1), targets = randomIDs(t * b, below: 11, seed: 2)
        let model = LanguageModel<Double>(config: config, seed: 7)
        let state: RecurrentState<Double> = randomState(config, batch: b, seed: 4)
        let reference = NaiveReference(model: model)
        var h = (0..<config.layers).map { k in (0..<b).map { state.hidden(layer: k, stream: $0) } }
        var c = (0..<config.layers).map { k in (0..<b).map { state.hasCell ? state.cell(layer: k, stream: $0) : [] } }
        let expected = reference.run(inputs: inputs, targets: targets, batch: b, h: &h, c: &c)

        let floatModel = LanguageModel<Float>(config: config, parameters: ParameterSet(layout: model.parameters.layout))
        for i in 0..<model.parameters.values.count { floatModel.parameters.values[i] = Float(model.parameters.values[i]) }
        let floatState: RecurrentState<Float> = randomState(config, batch: b, seed: 4)

        let loss = model.forward(inputs: inputs, targets: targets, batchSize: b, state: state, training: false)
        let floatLoss = floatModel.forward(inputs: inputs, targets: targets, batchSize: b, state: floatState, training: false)
        let expectedLoss = expected.losses.flatMap { $0 }.reduce(0, +) / Double(t * b)
        #expect(abs(loss - expectedLoss) < 1e-12)
        #expect(relativeError(floatLoss, expectedLoss) < 2e-5)
        var worst = 0.0, worstFloat = 0.0
        for s in 0..<t {
            for bb in 0..<b {
                for v in 0..<11 {
                    let row = (s * b + bb) * 11 + v
                    worst = max(worst, abs(model.logits[row] - expected.logits[s][bb][v]))
                    worstFloat = max(worstFloat, relativeError(Double(floatModel.logits[row]), expected.logits[s][bb][v], floor: 1e-2))
                }
                #expect(abs(model.tokenLoss(row: s * b + bb) - expected.losses[s][bb]) < 1e-12)
            }
        }
        #expect(worst < 1e-12, "logits differ by \(worst)")
        #expect(worstFloat < 2e-5, "float logits differ by \(worstFloat)")
        for k in 0..<config.layers {
            for bb in 0..<b {
                let fh = state.hidden(layer: k, stream: bb)
                #expect(zip(fh, h[k][bb]).allSatisfy { abs($0 - $1) < 1e-12 }, "final h layer \(k)")
                if state.hasCell {
                    #expect(zip(state.cell(layer: k, stream: bb), c[k][bb]).allSatisfy { abs($0 - $1) < 1e-12 })
                }
            }
        }
    }

    /// One window of T = 9 steps equals chunks of 4 + 5 steps with the state carried between them.
    /// Float, compared bit for bit: every element of every GEMM is one fused multiply-add chain
    /// over k whatever the number of rows (the package's own engine, `Real.gemm`), and the kernels
    /// are elementwise, so nothing depends on the chunking — on any CPU, kernel or environment.
    @Test(arguments: configs)
    func chunkedWindowEqualsWholeWindow(config: ModelConfig) {
        let t = 9, b = 4, v = 11
        let inputs = randomIDs(t * b, below: v, seed: 5), targets = randomIDs(t * b, below: v, seed: 6)
        let model = LanguageModel<Float>(config: config, seed: 8)
        let whole: RecurrentState<Float> = randomState(config, batch: b, seed: 9)
        let chunked = whole.copy()
        model.forward(inputs: inputs, targets: targets, batchSize: b, state: whole, training: false)
        let wholeLogits = Array(model.logits)
        let split = 4 * b
        model.forward(inputs: Array(inputs[..<split]), targets: Array(targets[..<split]), batchSize: b,
                      state: chunked, training: false)
        var chunkLogits = Array(model.logits)
        model.forward(inputs: Array(inputs[split...]), targets: Array(targets[split...]), batchSize: b,
                      state: chunked, training: false)
        chunkLogits += Array(model.logits)
        #expect(chunkLogits == wholeLogits)
        #expect(chunked.flattened == whole.flattened)
    }

    /// `step` (a forward with T = 1) equals a window forward token by token, bit for bit, although
    /// the window (T·B ≥ V rows) reads layer 0's input from the V-row table and the step (B < V
    /// rows) reads embedding rows: both are one chain per element from the bias (`Real.gemm`).
    @Test(arguments: configs)
    func stepMatchesWindowForward(config: ModelConfig) {
        let t = 4, b = 3, v = 11
        let inputs = randomIDs(t * b, below: v, seed: 12)
        let model = LanguageModel<Float>(config: config, seed: 13)
        let windowState = RecurrentState<Float>(config: config, batchSize: b)
        model.forward(inputs: inputs, targets: inputs, batchSize: b, state: windowState, training: false)
        let windowLogits = Array(model.logits)
        let stepState = RecurrentState<Float>(config: config, batchSize: b)
        var stepLogits: [Float] = []
        var out = [Float](repeating: 0, count: b * v)
        for s in 0..<t {
            out.withUnsafeMutableBufferPointer { model.step(inputs: Array(inputs[(s * b)..<((s + 1) * b)]), state: stepState, logits: $0) }
            stepLogits += out
        }
        #expect(stepLogits == windowLogits)
        #expect(stepState.flattened == windowState.flattened)
    }

    /// Workspaces only grow: after a large window, a window with fewer steps and streams runs in
    /// the same buffers (no reallocation) and gives the bits of a model that never saw the large one.
    @Test(arguments: configs)
    func smallerWindowsReuseTheWorkspaces(config: ModelConfig) {
        let v = 11
        let model = LanguageModel<Float>(config: config, seed: 21), fresh = LanguageModel<Float>(config: config, seed: 21)
        let big = randomIDs(9 * 6, below: v, seed: 22)
        model.forward(inputs: big, targets: big, batchSize: 6, state: RecurrentState(config: config, batchSize: 6),
                      training: true)
        model.backward()
        let small = randomIDs(5 * 2, below: v, seed: 23), targets = randomIDs(5 * 2, below: v, seed: 24)
        let s1: RecurrentState<Float> = randomState(config, batch: 2, seed: 25), s2 = s1.copy()
        let loss = model.forward(inputs: small, targets: targets, batchSize: 2, state: s1, training: false)
        #expect(model.maxSteps == 9 && model.batchCapacity == 6 && model.batchSize == 2)
        #expect(loss == fresh.forward(inputs: small, targets: targets, batchSize: 2, state: s2, training: false))
        #expect(Array(model.logits) == Array(fresh.logits))
        #expect(s1.flattened == s2.flattened)
        model.parameters.zeroGradients(); fresh.parameters.zeroGradients()
        #expect(model.backward().flattened == fresh.backward().flattened)
        #expect(Array(model.parameters.gradients.pointer) == Array(fresh.parameters.gradients.pointer))
    }

    /// One training window (dropout on) with the model on 1, 2 and 3 threads: the loss, logits,
    /// final state, every parameter gradient and ∂L/∂(initial state) agree bit for bit. Sizes are
    /// large enough that the whole-window GEMMs are split between threads and the recurrence
    /// splits its streams.
    @Test(arguments: CellKind.allCases)
    func threadCountsAgreeBitForBit(cell: CellKind) {
        let t = 24, b = 12, v = 29
        for skip in SkipMode.allCases {
            let config = ModelConfig(vocabularySize: v, embeddingSize: 24, hiddenSize: 96, layers: 2, cell: cell,
                                     skip: skip, dropout: 0.2)
            let inputs = randomIDs(t * b, below: v, seed: 31), targets = randomIDs(t * b, below: v, seed: 32)
            var results: [(loss: Double, logits: [Float], state: [Float], gradients: [Float], dState: [Float])] = []
            for threads in [1, 2, 3] {
                let model = LanguageModel<Float>(config: config, seed: 33)
                model.threads = threads
                let state: RecurrentState<Float> = randomState(config, batch: b, seed: 34)
                let loss = model.forward(inputs: inputs, targets: targets, batchSize: b, state: state, training: true)
                model.parameters.zeroGradients()
                let dState = model.backward()
                results.append((loss, Array(model.logits), state.flattened, Array(model.parameters.gradients.pointer),
                                dState.flattened))
            }
            for r in results.dropFirst() {
                #expect(r.loss == results[0].loss, "\(cell) \(skip) loss")
                #expect(r.logits == results[0].logits, "\(cell) \(skip) logits")
                #expect(r.state == results[0].state, "\(cell) \(skip) state")
                #expect(r.gradients == results[0].gradients, "\(cell) \(skip) gradients")
                #expect(r.dState == results[0].dState, "\(cell) \(skip) ∂state")
            }
        }
    }
}
