import Testing
import Tensor
@testable import NeuralNet

/// Layer 0 reading the embedding table directly (lookup in table·W_ihᵀ, gradients through per-id
/// sums) gives the same loss, state, parameter gradients and state gradients as the plain path
/// (gather, then a T·B-row GEMM), for every cell and skip mode.
@Suite struct FusedEmbeddingTests {

    @Test(arguments: CellSkipCase.all)
    func fusedPathEqualsPlainPath(_ c: CellSkipCase) {
        let config = ModelConfig(vocabularySize: 9, embeddingSize: 6, hiddenSize: 5, layers: 2, cell: c.cell,
                                 skip: c.skip, dropout: 0.2)
        let t = 4, b = 3
        let inputs = randomIDs(t * b, below: 9, seed: 5), targets = randomIDs(t * b, below: 9, seed: 6)
        func run(fused: Bool) -> (loss: Double, grads: [Double], state: [Double], dState: [Double]) {
            let model = LanguageModel<Double>(config: config, seed: 4)
            model.fusesEmbeddingProjection = fused
            let state = RecurrentState<Double>(config: config, batchSize: b)
            model.parameters.zeroGradients()
            let loss = model.forward(inputs: inputs, targets: targets, batchSize: b, state: state, training: true)
            #expect(model.fusedLastForward == fused, "the path under test was not taken")
            let dState = model.backward()
            let grads = Array(model.parameters.gradients(model.encoderWeight)) + model.layers.flatMap { l in
                [l.weightIH, l.weightHH, l.biasIH, l.biasHH].flatMap { Array(model.parameters.gradients($0)) }
            } + Array(model.parameters.gradients(model.decoderWeight))
            return (loss, grads, state.h.flatMap { Array($0.pointer) }, dState.h.flatMap { Array($0.pointer) })
        }
        let plain = run(fused: false), fused = run(fused: true)
        #expect(abs(plain.loss - fused.loss) < 1e-13)
        for (x, y) in [(plain.grads, fused.grads), (plain.state, fused.state), (plain.dState, fused.dState)] {
            #expect(x.count == y.count)
            let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-12, "worst difference \(worst)")
        }
        // The check can fail: the embedding gradient is not trivially zero.
        #expect(plain.grads.prefix(9 * 6).contains { abs($0) > 1e-6 })
    }
}
