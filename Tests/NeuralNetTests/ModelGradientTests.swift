import Testing
import Tensor
@testable import NeuralNet

/// Finite-difference checks of the whole `LanguageModel` in Double: every parameter and the initial
/// state (h0, c0 of every layer), for every cell × skip mode, with and without dropout (the mask is
/// fixed by reseeding `dropoutRNG` before every forward).
@Suite struct ModelGradientTests {
    static let bound = 1e-5

    struct Case: CustomStringConvertible, Sendable {
        let cell: CellKind, skip: SkipMode, dropout: Double
        var description: String { "\(cell)-\(skip)-p\(dropout)" }
    }

    static let cases: [Case] = CellKind.allCases.flatMap { cell in
        SkipMode.allCases.map { Case(cell: cell, skip: $0, dropout: 0) }
    } + CellKind.allCases.map { Case(cell: $0, skip: .dense, dropout: 0.3) }
      + [Case(cell: .lstm, skip: .residual, dropout: 0.3)]

    @Test(arguments: cases)
    func modelGradientsMatchFiniteDifferences(_ c: Case) {
        let config = ModelConfig(vocabularySize: 7, embeddingSize: 5, hiddenSize: 4, layers: 3, cell: c.cell,
                                 skip: c.skip, dropout: c.dropout, embeddingDropout: c.dropout,
                                 initialization: InitializationOptions(encoderDecoder: .wordLM, embeddingInitRange: 0.5))
        let model = LanguageModel<Double>(config: config, seed: 3)
        let t = 3, b = 2
        let inputs = randomIDs(t * b, below: 7, seed: 1), targets = randomIDs(t * b, below: 7, seed: 2)
        let state0 = RecurrentState<Double>(config: config, batchSize: b)
        for k in 0..<config.layers {
            for i in 0..<(b * 4) { state0.h[k][i] = randomArray(b * 4, scale: 0.5, seed: UInt64(10 + k))[i] }
            if state0.hasCell { for i in 0..<(b * 4) { state0.c[k][i] = randomArray(b * 4, scale: 0.5, seed: UInt64(20 + k))[i] } }
        }
        func loss() -> Double {
            model.dropoutRNG = RNG(seed: 99)
            return model.forward(inputs: inputs, targets: targets, batchSize: b, state: state0.copy(), training: true)
        }
        _ = loss()
        model.parameters.zeroGradients()
        let stateGrad = model.backward().copy()
        let analytic = model.parameters.gradients.array

        let p = worstError(values: model.parameters.values.pointer.baseAddress!, count: analytic.count,
                           analytic: analytic, loss: loss)
        #expect(p.error < Self.bound, "\(c) parameters: worst \(p) slot \(slotName(model, p.index))")
        for k in 0..<config.layers {
            let he = worstError(values: state0.h[k].pointer.baseAddress!, count: b * 4, analytic: stateGrad.h[k].array, loss: loss)
            #expect(he.error < Self.bound, "\(c) h0 layer \(k): worst \(he)")
            if state0.hasCell {
                let ce = worstError(values: state0.c[k].pointer.baseAddress!, count: b * 4, analytic: stateGrad.c[k].array, loss: loss)
                #expect(ce.error < Self.bound, "\(c) c0 layer \(k): worst \(ce)")
            }
        }
        // Every parameter tensor receives gradient (none is disconnected).
        for slot in model.parameters.layout.slots {
            #expect(model.parameters.gradients(slot).contains { abs($0) > 1e-6 }, "\(c) \(slot.name) has no gradient")
        }
    }

    /// The last-step-only scope differentiates the mean loss of the last step's B tokens.
    @Test(arguments: [CellKind.lstm, .gru])
    func lastStepScopeMatchesFiniteDifferences(cell: CellKind) {
        let config = ModelConfig(vocabularySize: 6, embeddingSize: 3, hiddenSize: 4, layers: 2, cell: cell)
        let model = LanguageModel<Double>(config: config, seed: 5)
        let t = 4, b = 2
        let inputs = randomIDs(t * b, below: 6, seed: 7), targets = randomIDs(t * b, below: 6, seed: 8)
        func loss() -> Double {
            model.forward(inputs: inputs, targets: targets, batchSize: b,
                          state: RecurrentState(config: config, batchSize: b), training: false)
            return (0..<b).map { model.tokenLoss(row: (t - 1) * b + $0) }.reduce(0, +) / Double(b)
        }
        _ = loss()
        model.parameters.zeroGradients()
        let recorder = GradientFlowRecorder()
        model.backward(scope: .lastStep, recorder: recorder)
        let analytic = model.parameters.gradients.array
        let p = worstError(values: model.parameters.values.pointer.baseAddress!, count: analytic.count,
                           analytic: analytic, loss: loss)
        #expect(p.error < Self.bound, "worst \(p)")
        #expect(recorder.hiddenNorms.count == 2 && recorder.hiddenNorms[0].count == t)
        #expect(recorder.hiddenNorms.allSatisfy { $0.allSatisfy { $0 > 0 } })
        #expect(recorder.cellNorms[0].count == (cell == .lstm ? t : 0))
    }

    func slotName(_ model: LanguageModel<Double>, _ index: Int) -> String {
        model.parameters.layout.slots.first { $0.range.contains(index) }?.name ?? "-"
    }
}
