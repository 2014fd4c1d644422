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
}
