import Foundation
import Testing
import Tensor
@testable import NeuralNet

/// The model's forward/backward as a walk over its stages: checks on what each stage records, and a
/// fingerprint of every path (loss, logits, states, gradients) used to compare the engine's bits
/// before and after a change of its structure.
@Suite struct StageRefactorTests {

    // MARK: Fingerprints

    /// FNV-1a (64-bit) over the bytes of the values fed to it.
    struct FNV1a {
        private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

        mutating func add(byte: UInt8) {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }

        mutating func add(_ word: UInt64) {
            for i in 0..<8 { add(byte: UInt8(truncatingIfNeeded: word >> (8 * UInt64(i)))) }
        }

        mutating func add<S: Real>(_ x: S) {
            if let f = x as? Float { add(UInt64(f.bitPattern)) } else if let d = x as? Double { add(d.bitPattern) }
        }

        mutating func add<C: Collection>(_ values: C) where C.Element: Real {
            for x in values { add(x) }
        }
    }

    /// One configuration of the fingerprint sweep.
    struct Case: CustomStringConvertible, Sendable {
        enum Dropout: String, CaseIterable, Sendable { case none, generator, key }
        var cell: CellKind, skip: SkipMode, dropout: Dropout, operands: OperandPrecision, fused: Bool, double: Bool
        var description: String {
            "\(double ? "f64" : "f32")-\(cell)-\(skip)-dropout:\(dropout.rawValue)-\(operands)-\(fused ? "table" : "rows")"
        }

        var config: ModelConfig {
            ModelConfig(vocabularySize: 11, embeddingSize: 6, hiddenSize: 8, layers: 3, cell: cell, skip: skip,
                        dropout: dropout == .none ? 0 : 0.3, embeddingDropout: dropout == .none ? 0 : 0.2)
        }

        static let all: [Case] = [false, true].flatMap { double in
            CellKind.allCases.flatMap { cell in
                SkipMode.allCases.flatMap { skip in
                    Dropout.allCases.flatMap { dropout in
                        OperandPrecision.allCases.flatMap { operands in
                            [true, false].map { fused in
                                Case(cell: cell, skip: skip, dropout: dropout, operands: operands, fused: fused,
                                     double: double)
                            }
                        }
                    }
                }
            }
        }
    }

    static func randomState<S: Real>(_ config: ModelConfig, batch: Int, seed: UInt64) -> RecurrentState<S> {
        let state = RecurrentState<S>(config: config, batchSize: batch)
        var rng = RNG(seed: seed)
        for k in 0..<config.layers {
            for i in 0..<state.h[k].count { state.h[k][i] = S(rng.uniform(-0.8, 0.8)) }
            if state.hasCell { for i in 0..<state.c[k].count { state.c[k][i] = S(rng.uniform(-0.8, 0.8)) } }
        }
        return state
    }

    /// Named fingerprints of one case: a sequence of windows through every public path (training
    /// forward with each dropout source, backward over all steps and the last step, `meanOver`,
    /// `gradientsReady`, the recorder, a smaller evaluation window, one-token steps).
    static func fingerprints<S: Real>(_ c: Case, as _: S.Type) -> [(String, UInt64)] {
        let config = c.config, v = config.vocabularySize
        let model = LanguageModel<S>(config: config, seed: 7)
        model.fusesEmbeddingProjection = c.fused
        model.operands = c.operands
        var out: [(String, UInt64)] = []
        func key(_ window: UInt64, first: Int) {
            if c.dropout == .key { model.dropoutKey = StreamDropoutKey(seed: 3, window: window, firstStream: first) }
        }
        func forward(_ name: String, t: Int, b: Int, seed: UInt64, state: RecurrentState<S>, training: Bool) {
            let inputs = randomIDs(t * b, below: v, seed: seed), targets = randomIDs(t * b, below: v, seed: seed + 1)
            var h = FNV1a()
            h.add(model.forward(inputs: inputs, targets: targets, batchSize: b, state: state, training: training))
            out.append(("\(name).loss", h.value))
            h = FNV1a(); h.add(model.logits); out.append(("\(name).logits", h.value))
            h = FNV1a()
            for row in 0..<(t * b) {
                h.add(model.tokenLoss(row: row)); h.add(model.logSumExp(row: row))
                h.add(model.logProbability(row: row, token: row % v))
            }
            out.append(("\(name).tokens", h.value))
            h = FNV1a(); h.add(state.flattened); out.append(("\(name).state", h.value))
        }
        func backward(_ name: String, scope: LossScope = .allSteps, recorder: GradientFlowRecorder? = nil,
                      meanOver: Int? = nil) {
            model.parameters.zeroGradients()
            var ranges = FNV1a()
            let dState = model.backward(scope: scope, recorder: recorder, meanOver: meanOver) { range in
                ranges.add(UInt64(range.lowerBound)); ranges.add(UInt64(range.upperBound))
            }
            out.append(("\(name).ready", ranges.value))
            var h = FNV1a(); h.add(model.parameters.gradients.pointer); out.append(("\(name).gradients", h.value))
            h = FNV1a(); h.add(dState.flattened); out.append(("\(name).dState", h.value))
            if let recorder {
                h = FNV1a()
                for norms in recorder.hiddenNorms + recorder.cellNorms { h.add(norms) }
                out.append(("\(name).norms", h.value))
            }
        }
        let state: RecurrentState<S> = randomState(config, batch: 4, seed: 11)
        key(1, first: 0)
        forward("A", t: 5, b: 4, seed: 20, state: state, training: true)
        backward("A")
        key(2, first: 0)
        forward("B", t: 5, b: 4, seed: 22, state: state, training: true)
        backward("B", scope: .lastStep, recorder: GradientFlowRecorder())
        key(3, first: 5)
        let small: RecurrentState<S> = randomState(config, batch: 2, seed: 12)
        forward("C", t: 3, b: 2, seed: 24, state: small, training: true)
        backward("C", meanOver: 100)
        forward("D", t: 4, b: 3, seed: 26, state: randomState(config, batch: 3, seed: 13), training: false)
        backward("D")
        let stepState: RecurrentState<S> = randomState(config, batch: 3, seed: 14)
        var logits = [S](repeating: 0, count: 3 * v)
        var h = FNV1a()
        for s in 0..<4 {
            logits.withUnsafeMutableBufferPointer {
                model.step(inputs: randomIDs(3, below: v, seed: 30 + UInt64(s)), state: stepState, logits: $0)
            }
            h.add(logits)
        }
        h.add(stepState.flattened)
        out.append(("step", h.value))
        key(4, first: 0)
        forward("E", t: 2, b: 4, seed: 28, state: state, training: true)
        backward("E")
        return out
    }

    static func fingerprints(_ c: Case) -> [(String, UInt64)] {
        c.double ? fingerprints(c, as: Double.self) : fingerprints(c, as: Float.self)
    }

    /// Writes every case's fingerprints to the file named by STAGE_HASH_OUT (one line each), to be
    /// compared with `diff` between two versions of the engine. Runs only when that variable is set.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["STAGE_HASH_OUT"] != nil))
    func writeFingerprints() throws {
        let path = try #require(ProcessInfo.processInfo.environment["STAGE_HASH_OUT"])
        var lines: [String] = []
        for c in Case.all {
            for (name, value) in Self.fingerprints(c) { lines.append("\(c) \(name) \(String(value, radix: 16))") }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(lines.count > Case.all.count)
    }

    /// The fingerprints are a function of the case: two fresh models agree on every one (an engine
    /// that read stale or uninitialized workspace would not), and turning dropout on changes them.
    @Test func fingerprintsAreReproducibleAndSensitive() {
        for c in Case.all where c.cell != .rnn || c.skip == .dense {
            let first = Self.fingerprints(c), second = Self.fingerprints(c)
            #expect(first.map(\.1) == second.map(\.1), "\(c)")
            if c.dropout == .none {
                var dropped = c
                dropped.dropout = .generator
                let other = Self.fingerprints(dropped)
                #expect(other.first { $0.0 == "A.loss" }?.1 != first.first { $0.0 == "A.loss" }?.1, "\(c)")
            }
        }
    }

    // MARK: What the stages record

    static let recordConfig = ModelConfig(vocabularySize: 11, embeddingSize: 6, hiddenSize: 8, layers: 3, cell: .lstm,
                                          skip: .residual, dropout: 0.3, embeddingDropout: 0.2)

    /// Each stage records what its forward did, and the walk follows it: a training window masks x
    /// and every o_k (so layer 0 reads rows); an evaluation window of at least V rows reads the
    /// table and masks nothing; the plain-rows switch, bf16 operands and a one-token step of fewer
    /// than V streams read rows; o_k is the layer's own output unless it is added to or dropped.
    @Test(arguments: SkipMode.allCases)
    func stagesRecordWhatTheirForwardDid(skip: SkipMode) {
        var config = Self.recordConfig
        config.skip = skip
        let model = LanguageModel<Float>(config: config, seed: 3)
        let t = 5, b = 4, n = t * b, v = config.vocabularySize
        let ids = randomIDs(n, below: v, seed: 1)
        let state = RecurrentState<Float>(config: config, batchSize: b)
        #expect(model.embedding.record == nil && model.layerOutputs.allSatisfy { $0.record == nil })

        model.forward(inputs: ids, targets: ids, batchSize: b, state: state, training: true)
        #expect(model.embedding.record == .rows(masked: true))
        #expect(model.embedding.dropout.record == .masked(rows: n))
        #expect(!model.fusedLastForward)
        for (k, stage) in model.layerOutputs.enumerated() {
            #expect(stage.dropout.record == .masked(rows: n))
            #expect(stage.record == .ownBuffer)
            #expect(stage.rows != model.layers[k].output)
        }
        #expect(model.decoder.record?.rows == n && model.loss.record?.rows == n && model.loss.record?.streams == b)

        model.forward(inputs: ids, targets: ids, batchSize: b, state: state, training: false)
        #expect(model.embedding.record == .table && model.fusedLastForward)
        #expect(model.embedding.dropout.record == .identity)
        for (k, stage) in model.layerOutputs.enumerated() {
            let residual = model.plan.layers[k].residual
            #expect(stage.dropout.record == .identity)
            #expect(stage.record == (residual ? .ownBuffer : .layerOutput))
            #expect((stage.rows == model.layers[k].output) == !residual)
        }
        // The decoder read what its concatenation built: o_{L−1} itself, or the copied [o_0, …].
        #expect(model.decoder.record?.input == UnsafePointer(model.decoderInput.input))
        #expect((model.decoderInput.input == model.layerOutputs[config.layers - 1].rows) == (skip != .dense))

        model.fusesEmbeddingProjection = false
        model.forward(inputs: ids, targets: ids, batchSize: b, state: state, training: false)
        #expect(model.embedding.record == .rows(masked: false))
        model.fusesEmbeddingProjection = true
        model.operands = .bf16
        model.forward(inputs: ids, targets: ids, batchSize: b, state: state, training: false)
        #expect(model.embedding.record == .rows(masked: false))
        model.operands = .f32
        var logits = [Float](repeating: 0, count: b * v)
        logits.withUnsafeMutableBufferPointer { model.step(inputs: Array(ids.prefix(b)), state: state, logits: $0) }
        #expect(model.embedding.record == .rows(masked: false) && model.loss.record?.rows == b)
    }

    /// Workspaces sized for the largest window serve smaller ones: after a training window of 16
    /// streams, an evaluation window of 8, a one-token step and another training window of 16 run
    /// in the same buffers, and backward hands back the same state-gradient object.
    @Test(arguments: CellKind.allCases)
    func smallerBatchesAllocateNothing(cell: CellKind) {
        var config = Self.recordConfig
        config.cell = cell
        config.skip = .dense
        let model = LanguageModel<Float>(config: config, seed: 4), v = config.vocabularySize
        let big = randomIDs(6 * 16, below: v, seed: 2), small = randomIDs(6 * 8, below: v, seed: 3)
        let train = RecurrentState<Float>(config: config, batchSize: 16)
        model.forward(inputs: big, targets: big, batchSize: 16, state: train, training: true)
        let firstGradient = model.backward()
        let addresses = model.workspaceAddresses
        #expect(addresses.count > 10)
        model.forward(inputs: small, targets: small, batchSize: 8, state: RecurrentState(config: config, batchSize: 8),
                      training: false)
        #expect(model.workspaceAddresses == addresses)
        var logits = [Float](repeating: 0, count: 2 * v)
        logits.withUnsafeMutableBufferPointer {
            model.step(inputs: [1, 2], state: RecurrentState(config: config, batchSize: 2), logits: $0)
        }
        #expect(model.workspaceAddresses == addresses)
        model.forward(inputs: big, targets: big, batchSize: 16, state: train, training: true)
        #expect(model.backward() === firstGradient)
        #expect(model.workspaceAddresses == addresses)
        // A longer window does grow them.
        let longer = randomIDs(7 * 16, below: v, seed: 4)
        model.forward(inputs: longer, targets: longer, batchSize: 16, state: train, training: true)
        #expect(model.workspaceAddresses != addresses)
    }

    /// Backward's gate and input gradients are one scratch for all layers: a model that only runs
    /// forward holds none of it, and after a backward it holds one layer's worth — T·B×G·H gate
    /// gradients (twice for GRU) and T·B × the widest layer input — not one per layer.
    @Test(arguments: CellKind.allCases)
    func layersShareOneGradientScratch(cell: CellKind) {
        var config = Self.recordConfig
        config.cell = cell
        config.skip = .dense   // layer inputs of different widths: E for layer 0, E + H above
        let model = LanguageModel<Float>(config: config, seed: 4), v = config.vocabularySize
        let scratch = model.layers[0].scratch
        #expect(model.layers.allSatisfy { $0.scratch === scratch })
        let t = 6, b = 5, ids = randomIDs(t * b, below: v, seed: 2)
        model.forward(inputs: ids, targets: ids, batchSize: b, state: RecurrentState(config: config, batchSize: b),
                      training: false)
        #expect(scratch.gates.count == 0 && scratch.hiddenGates.count == 0 && scratch.input.count == 0)
        model.forward(inputs: ids, targets: ids, batchSize: b, state: RecurrentState(config: config, batchSize: b),
                      training: true)
        model.backward()
        let g = cell.gateCount * config.hiddenSize
        let widest = model.layers.map(\.inputSize).max()!
        #expect(widest == config.embeddingSize + config.hiddenSize)
        #expect(scratch.gates.count == t * b * g)
        #expect(scratch.hiddenGates.count == (cell == .gru ? t * b * g : 0))
        #expect(scratch.input.count == t * b * widest)
    }

    // MARK: Backward needs the forward it differentiates

    @Test func modelBackwardWithoutForwardIsRejected() async {
        await #expect(processExitsWith: .failure) {
            let model = LanguageModel<Float>(config: StageRefactorTests.recordConfig, seed: 1)
            model.backward()
        }
    }

    /// Growing the workspaces forgets the last forward: a backward after it is rejected instead of
    /// differentiating zeroed buffers.
    @Test func backwardAfterTheWorkspacesGrewIsRejected() async {
        await #expect(processExitsWith: .failure) {
            let config = StageRefactorTests.recordConfig
            let model = LanguageModel<Float>(config: config, seed: 1)
            let ids = randomIDs(6, below: config.vocabularySize, seed: 1)
            model.forward(inputs: ids, targets: ids, batchSize: 2, state: RecurrentState(config: config, batchSize: 2),
                          training: true)
            model.reserve(maxSteps: 10, batchSize: 2)
            model.backward()
        }
    }

    @Test func stageBackwardWithoutForwardIsRejected() async {
        await #expect(processExitsWith: .failure) {
            let stage = DropoutStage<Float>(p: 0.5, width: 4, slot: 1)
            stage.reserve(rows: 3)
            var gradient = [Float](repeating: 1, count: 12)
            gradient.withUnsafeMutableBufferPointer { stage.backward($0.baseAddress!) }
        }
        await #expect(processExitsWith: .failure) {
            let loss = SoftmaxCrossEntropyStage<Float>(vocabularySize: 5)
            loss.reserve(rows: 4)
            loss.backward(scope: .allSteps, normalizer: 4, threads: 1)
        }
    }

    /// A dropout stage's backward applies exactly the mask its forward drew, and only when it drew one.
    @Test func dropoutBackwardUsesTheForwardsMask() {
        let stage = DropoutStage<Double>(p: 0.5, width: 3, slot: 0)
        stage.reserve(rows: 8)
        var rng = RNG(seed: 5)
        var rows = [Double](repeating: 1, count: 4 * 3), gradient = [Double](repeating: 1, count: 4 * 3)
        rows.withUnsafeMutableBufferPointer {
            stage.forward($0.baseAddress!, steps: 2, streams: 2, training: true, key: nil, rng: &rng)
        }
        gradient.withUnsafeMutableBufferPointer { stage.backward($0.baseAddress!) }
        #expect(stage.record == .masked(rows: 4))
        #expect(gradient == rows)            // mask ∘ 1 both times
        #expect(Set(rows) == [0, 2])
        rows.withUnsafeMutableBufferPointer {
            stage.forward($0.baseAddress!, steps: 2, streams: 2, training: false, key: nil, rng: &rng)
        }
        var untouched = [Double](repeating: 3, count: 12)
        untouched.withUnsafeMutableBufferPointer { stage.backward($0.baseAddress!) }
        #expect(stage.record == .identity && untouched == [Double](repeating: 3, count: 12))
    }
}
