import Foundation
import Testing
import Tensor
@testable import NeuralNet

/// `StreamStepper` with bf16 and int8 weights: the quantization keeps its error bounds, and the
/// logits are those of the model with the dequantized weights, computed by a plain Double reference,
/// within a bound derived below for the engine's f32 arithmetic.
@Suite struct LowPrecisionWeightsTests {
    static let lowFormats: [StreamStepper.WeightFormat] = [.bf16, .int8]

    /// The model's f32 weights in PyTorch's layout: per layer W_ih, W_hh, and the decoder's.
    static func weights(_ model: LanguageModel<Float>) -> (layers: [(ih: [Float], hh: [Float])], decoder: [Float]) {
        let p = model.parameters
        return (model.layers.map { (Array(p.values($0.weightIH)), Array(p.values($0.weightHH))) },
                Array(p.values(model.decoderWeight)))
    }

    /// Every (original, effective) weight row pair of a stepper without the layer-0 table: rows of
    /// W_ih and of W_hh per layer, and of the decoder.
    static func rowPairs(_ model: LanguageModel<Float>, _ stepper: StreamStepper) -> [([Float], [Float])] {
        let original = weights(model), effective = stepper.effectiveWeights()
        let config = model.config, g = config.cell.gateCount, h = config.hiddenSize
        var pairs: [([Float], [Float])] = []
        func rows(_ a: [Float], _ b: [Float], width: Int) {
            for r in 0..<(a.count / width) { pairs.append((Array(a[r * width..<(r + 1) * width]), Array(b[r * width..<(r + 1) * width]))) }
        }
        for (k, (o, e)) in zip(original.layers, effective.layers).enumerated() {
            rows(o.ih, e.ih!, width: model.plan.layers[k].inputWidth)
            rows(o.hh, e.hh, width: h)
            #expect(o.ih.count == g * h * model.plan.layers[k].inputWidth)
        }
        rows(original.decoder, effective.decoder, width: model.plan.decoderInputWidth)
        return pairs
    }

    @Test(arguments: CellKind.allCases)
    func int8RoundTripIsWithinHalfAScalePerRow(_ cell: CellKind) {
        let config = ModelConfig(vocabularySize: 37, embeddingSize: 12, hiddenSize: 40, layers: 2, cell: cell, skip: .dense)
        let model = LanguageModel<Float>(config: config, seed: 4)
        let stepper = StreamStepper(model: model, threads: 1, weightFormat: .int8, tableLimitBytes: 0)
        #expect(stepper.weightFormat == .int8)
        var largestShare = 0.0
        for (w, dequantized) in Self.rowPairs(model, stepper) {
            // The row's scale as the quantizer computes it in f32; ŵ = s·q rounded to f32, so
            // |w − ŵ| ≤ s/2 + 2⁻²⁴·|ŵ| ≤ s/2 + 127·s·2⁻²⁴.
            let s = Double(w.map(abs).max()! / 127)
            for (a, b) in zip(w, dequantized) {
                let q = (Double(b) / s).rounded()
                #expect(abs(Double(b) - s * q) <= 127 * s * 0x1p-24 && abs(q) <= 127, "ŵ is s times an integer in [−127, 127]")
                let error = abs(Double(a) - Double(b))
                #expect(error <= s / 2 + 127 * s * 0x1p-24, "w \(a) ŵ \(b) s \(s)")
                largestShare = max(largestShare, error / s)
            }
            // The largest weight of the row is ±127·s.
            #expect(abs(Double(dequantized.map(abs).max()!) - 127 * s) <= 127 * s * 0x1p-23)
        }
        // The rounding is real: some weight is off by more than a quarter scale (uniform rounding).
        #expect(largestShare > 0.4)
    }

    @Test(arguments: CellKind.allCases)
    func bf16RoundTripIsWithinTwoToTheMinusEightRelative(_ cell: CellKind) {
        let config = ModelConfig(vocabularySize: 37, embeddingSize: 12, hiddenSize: 40, layers: 2, cell: cell, skip: .residual)
        let model = LanguageModel<Float>(config: config, seed: 5)
        // 1 + 2⁻⁸ lies halfway between the bf16 neighbours 1 and 1 + 2⁻⁷: ties to even give 1, a
        // relative error of 2⁻⁸/(1 + 2⁻⁸) — more than 2⁻⁹, so 2⁻⁸ (bf16's unit roundoff) is the bound.
        model.parameters.values(model.decoderWeight)[0] = 1 + 0x1p-8
        let stepper = StreamStepper(model: model, threads: 1, weightFormat: .bf16, tableLimitBytes: 0)
        #expect(stepper.weightFormat == .bf16)
        #expect(stepper.effectiveWeights().decoder[0] == 1)
        var worst = 0.0
        for (w, rounded) in Self.rowPairs(model, stepper) {
            for (a, b) in zip(w, rounded) {
                #expect(b.bitPattern & 0xFFFF == 0, "a bf16 value")
                let relative = a == 0 ? Double(b) : abs(Double(a) - Double(b)) / abs(Double(a))
                #expect(relative <= 0x1p-8, "w \(a) ŵ \(b)")
                worst = max(worst, relative)
            }
        }
        #expect(worst > 0x1p-9)
    }

    @Test func weightsThatDoNotFitStayF32() {
        let config = ModelConfig(vocabularySize: 10, embeddingSize: 4, hiddenSize: 16, layers: 1, cell: .gru)
        let model = LanguageModel<Float>(config: config, seed: 1)
        model.parameters.values(model.decoderWeight)[3] = 3.4e38  // rounds to +∞ in bf16
        #expect(StreamStepper(model: model, threads: 1, weightFormat: .bf16).weightFormat == .f32)
        #expect(StreamStepper(model: model, threads: 1, weightFormat: .int8).weightFormat == .int8)
        model.parameters.values(model.decoderWeight)[3] = .infinity
        #expect(StreamStepper(model: model, threads: 1, weightFormat: .int8).weightFormat == .f32)
    }

    /// Logits of every step of `tokens` with the state taken from `reference` before each step
    /// (teacher forcing), against the reference's logits and error bound.
    @Test(arguments: CellSkipCase.all)
    func logitsEqualTheDequantizedReference(_ c: CellSkipCase) {
        let config = ModelConfig(vocabularySize: 37, embeddingSize: c.skip == .residual ? 40 : 12, hiddenSize: 40,
                                 layers: 3, cell: c.cell, skip: c.skip)
        let model = LanguageModel<Float>(config: config, seed: 11)
        var rng = RNG(seed: 3)
        let tokens = (0..<8).map { _ in Int32(rng.nextDouble() * 37) }
        for format in Self.lowFormats {
            for tableLimit in [64 << 20, 0] {
                for portable in [false, true] {
                    KernelFeatures.forcePortable(portable)
                    defer { KernelFeatures.forcePortable(false) }
                    let stepper = StreamStepper(model: model, threads: 2, weightFormat: format, tableLimitBytes: tableLimit)
                    #expect(stepper.weightFormat == format)
                    let reference = SteppedReference(model: model, effective: stepper.effectiveWeights())
                    let plain = SteppedReference(model: model, effective: nil)
                    var state = reference.zeroState()
                    var worstShare = 0.0, plainShare = 0.0
                    let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: config.vocabularySize)
                    defer { logits.deallocate() }
                    for token in tokens {
                        stepper.load(reference.recurrentState(state))
                        stepper.step(token: token, logits: logits)
                        let (expected, next) = reference.step(token: Int(token), state: state)
                        let (unquantized, _) = plain.step(token: Int(token), state: state)
                        for (i, value) in expected.enumerated() {
                            worstShare = max(worstShare, abs(Double(logits[i]) - value.x) / value.e)
                            plainShare = max(plainShare, abs(Double(logits[i]) - unquantized[i].x) / unquantized[i].e)
                        }
                        state = next
                    }
                    let label = "\(format), table limit \(tableLimit), portable \(portable)"
                    #expect(worstShare <= 1, "\(label): worst error / bound \(worstShare)")
                    // The bound is tighter than what the quantization moves: the reference with the
                    // model's own f32 weights is outside it.
                    #expect(plainShare > 1, "\(label): worst error / bound against the f32 weights \(plainShare)")
                }
            }
        }
    }

    @Test(arguments: [CellKind.lstm, .gru])
    func threadCountDoesNotChangeResults(_ cell: CellKind) {
        let config = ModelConfig(vocabularySize: 50, embeddingSize: 16, hiddenSize: 200, layers: 2, cell: cell)
        let model = LanguageModel<Float>(config: config, seed: 2)
        let tokens: [Int32] = (0..<40).map { Int32(($0 * 7) % 50) }
        for format in Self.lowFormats {
            let one = StreamStepperTests.run(StreamStepper(model: model, threads: 1, weightFormat: format), tokens)
            let two = StreamStepper(model: model, threads: 2, weightFormat: format)
            #expect(two.threads == 2 && two.weightFormat == format)
            #expect(StreamStepperTests.run(two, tokens) == one, "\(format)")
            // And the formats differ from each other and from f32.
            #expect(one != StreamStepperTests.run(StreamStepper(model: model, threads: 1, weightFormat: .f32), tokens))
        }
    }

    /// The AVX2 and portable kernels agree to the same standard as the f32 and f16 paths
    /// (`StreamStepperTests.portableKernelsAgree`): the sums take the same terms in the same order,
    /// but the portable build rounds the product and the sum separately where AVX2 fuses them.
    @Test(arguments: CellKind.allCases)
    func portableKernelsAgree(_ cell: CellKind) {
        let config = ModelConfig(vocabularySize: 30, embeddingSize: 8, hiddenSize: 70, layers: 2, cell: cell)
        let model = LanguageModel<Float>(config: config, seed: 5)
        let tokens: [Int32] = (0..<25).map { Int32(($0 * 11) % 30) }
        for format in Self.lowFormats {
            let fast = StreamStepperTests.run(StreamStepper(model: model, threads: 2, weightFormat: format), tokens)
            KernelFeatures.forcePortable(true)
            let portable = StreamStepperTests.run(StreamStepper(model: model, threads: 2, weightFormat: format), tokens)
            KernelFeatures.forcePortable(false)
            #expect(StreamStepperTests.worst(fast, portable) < 1e-5, "\(format)")
        }
    }
}

/// One step of a model in Double with exact tanh and e^x, from given weights, and for every value
/// a bound on how far the f32 engine's value can be from it (a running error analysis).
///
/// Derivation, with u = 2⁻²⁴ (f32 unit roundoff) and γ(n) = n·u/(1 − n·u):
/// - A pre-activation is a sum of n products and bias terms. The engine adds them in f32 (fused or
///   not), int8 with the row scale applied to the f32 sum of x·q, layer 0 possibly through a table
///   of f32 GEMM sums; the reference's ŵ = s·q is itself rounded once. Recursive summation gives
///   |error| ≤ γ(n + 8)·Σ|terms| (8 covers the bias sum, the table, the scale product and ŵ's
///   rounding), where the terms use |x| + e for an input known to within e; an input error adds
///   Σ|w|·e.
/// - The engine's sigmoid and tanh (FastMath's approximations) are within 6e-7 of the exact
///   functions (FastMathTests), plus ~10 roundings (10u) where the C kernels fuse differently:
///   ε = 1.2e-6 absolute (both are bounded by 1). Their slopes are at most 1/4 and 1, so an input
///   error e adds e/4 or e.
/// - Products and sums of two values known to within ea and eb: |a|·eb + |b|·ea + ea·eb, plus u
///   times the magnitude for the f32 rounding.
struct SteppedReference {
    struct Value { var x: Double; var e: Double }
    struct State { var h: [[Double]]; var c: [[Double]] }

    static let u = 0x1p-24, functionError = 1.2e-6
    static func gamma(_ n: Int) -> Double { Double(n) * u / (1 - Double(n) * u) }

    let config: ModelConfig, plan: ModelPlan
    let embedding: [Double], decoder: [Double], decoderBias: [Double]
    let wih: [[Double]], whh: [[Double]], bih: [[Double]], bhh: [[Double]]

    /// `effective`: the stepper's weights (`StreamStepper.effectiveWeights`, nil W_ih meaning the
    /// model's own), or nil for the model's f32 weights throughout.
    init(model: LanguageModel<Float>, effective: (layers: [(ih: [Float]?, hh: [Float])], decoder: [Float])?) {
        let p = model.parameters
        func d(_ a: UnsafeMutableBufferPointer<Float>) -> [Double] { a.map(Double.init) }
        config = model.config
        plan = model.plan
        embedding = d(p.values(model.encoderWeight))
        decoder = effective.map { $0.decoder.map(Double.init) } ?? d(p.values(model.decoderWeight))
        decoderBias = d(p.values(model.decoderBias))
        wih = model.layers.enumerated().map { k, l in effective?.layers[k].ih.map { $0.map(Double.init) } ?? d(p.values(l.weightIH)) }
        whh = model.layers.enumerated().map { k, l in effective.map { $0.layers[k].hh.map(Double.init) } ?? d(p.values(l.weightHH)) }
        bih = model.layers.map { d(p.values($0.biasIH)) }
        bhh = model.layers.map { d(p.values($0.biasHH)) }
    }

    func zeroState() -> State {
        let h = config.hiddenSize
        return State(h: Array(repeating: Array(repeating: 0, count: h), count: config.layers),
                     c: Array(repeating: Array(repeating: 0, count: config.cell == .lstm ? h : 0), count: config.layers))
    }

    /// The state as the engine loads it (f32).
    func recurrentState(_ s: State) -> RecurrentState<Float> {
        let state = RecurrentState<Float>(config: config, batchSize: 1)
        for k in 0..<config.layers {
            for (j, v) in s.h[k].enumerated() { state.h[k].pointer[j] = Float(v) }
            if config.cell == .lstm { for (j, v) in s.c[k].enumerated() { state.c[k].pointer[j] = Float(v) } }
        }
        return state
    }

    /// Σ over a weight row times values, with its error bound: `bias` terms are exact f64 values of f32 numbers.
    static func dot(_ w: [Double], row: Int, _ values: [Value], bias: [Double]) -> Value {
        var sum = bias.reduce(0, +), magnitude = bias.map(abs).reduce(0, +), propagated = 0.0
        let n = values.count
        for (k, v) in values.enumerated() {
            let weight = w[row * n + k]
            sum += weight * v.x
            magnitude += abs(weight) * (abs(v.x) + v.e)
            propagated += abs(weight) * v.e
        }
        return Value(x: sum, e: propagated + gamma(n + 8) * magnitude)
    }
    static func sigmoid(_ z: Value) -> Value { Value(x: 1 / (1 + Foundation.exp(-z.x)), e: functionError + z.e / 4) }
    static func tanh(_ z: Value) -> Value { Value(x: Foundation.tanh(z.x), e: functionError + z.e) }
    static func mul(_ a: Value, _ b: Value) -> Value {
        Value(x: a.x * b.x, e: abs(a.x) * b.e + abs(b.x) * a.e + a.e * b.e + u * (abs(a.x) + a.e) * (abs(b.x) + b.e))
    }
    static func add(_ a: Value, _ b: Value) -> Value { Value(x: a.x + b.x, e: a.e + b.e + u * (abs(a.x + b.x) + a.e + b.e)) }
    static func exact(_ x: Double) -> Value { Value(x: x, e: 0) }

    /// The logits after `token` from `state`, and the next state (rounded to f32, as the engine keeps it).
    func step(token: Int, state: State) -> (logits: [Value], next: State) {
        let e = config.embeddingSize, h = config.hiddenSize
        let x = (0..<e).map { Self.exact(embedding[token * e + $0]) }
        var outputs: [[Value]] = [], next = state
        for k in 0..<config.layers {
            let input = plan.layers[k].segments.flatMap { segment -> [Value] in
                if case .layer(let j) = segment.source { return outputs[j] }
                return x
            }
            let hidden = state.h[k].map(Self.exact)
            var out: [Value] = []
            for j in 0..<h {
                func gate(_ q: Int, input useInput: Bool = true, hidden useHidden: Bool = true) -> Value {
                    let r = q * h + j
                    let a = useInput ? Self.dot(wih[k], row: r, input, bias: [bih[k][r]]) : Self.exact(0)
                    let b = useHidden ? Self.dot(whh[k], row: r, hidden, bias: [bhh[k][r]]) : Self.exact(0)
                    return Self.add(a, b)
                }
                var value: Value
                switch config.cell {
                case .lstm:
                    let i = Self.sigmoid(gate(0)), f = Self.sigmoid(gate(1)), g = Self.tanh(gate(2)), o = Self.sigmoid(gate(3))
                    let c = Self.add(Self.mul(f, Self.exact(state.c[k][j])), Self.mul(i, g))
                    value = Self.mul(o, Self.tanh(c))
                    next.c[k][j] = Double(Float(c.x))
                case .gru:
                    let r = Self.sigmoid(gate(0)), z = Self.sigmoid(gate(1))
                    let n = Self.tanh(Self.add(gate(2, hidden: false), Self.mul(r, gate(2, input: false))))
                    let oneMinusZ = Value(x: 1 - z.x, e: z.e + Self.u * abs(1 - z.x))
                    value = Self.add(Self.mul(oneMinusZ, n), Self.mul(z, hidden[j]))
                case .rnn:
                    value = Self.tanh(gate(0))
                }
                next.h[k][j] = Double(Float(value.x))
                out.append(plan.layers[k].residual ? Self.add(value, input[j]) : value)
            }
            outputs.append(out)
        }
        let decoderInput = plan.decoderSegments.flatMap { segment -> [Value] in
            if case .layer(let j) = segment.source { return outputs[j] }
            return x
        }
        let logits = (0..<config.vocabularySize).map { Self.dot(decoder, row: $0, decoderInput, bias: [decoderBias[$0]]) }
        return (logits, next)
    }
}
