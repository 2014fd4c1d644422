import Foundation
import Testing
import Tensor
@testable import NeuralNet

/// The whole training step against PyTorch: forward and backward of the 2-layer model, then
/// `clip_grad_norm_` (which fires: max_norm is half the total norm) and one `torch.optim.Adam` step.
///
/// Bound: Adam's first step moves every parameter by ≈ lr·sign(g) (m̂/√v̂ = g/|g| up to eps), so
/// the result is p − 0.01·(±1) to within a few Float ulps of p plus the tiny eps effect of very small
/// gradients; 1e-5 relative (denominator floored at 5% of the tensor's largest magnitude, as in
/// `PyTorchFixtureTests`) holds with margin.
@Suite struct PyTorchAdamStepTests {
    struct AdamFixture: Decodable {
        struct Adam: Decodable { let lr: Double; let betas: [Double]; let eps: Double; let weight_decay: Double
            let parameters_after: [String: [Double]] }
        let adam: Adam
    }

    @Test(arguments: ["lstm", "gru", "rnn"])
    func clippedAdamStepMatchesPyTorch(name: String) throws {
        let fixture = try TorchFixture.load(name)
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        let adam = try JSONDecoder().decode(AdamFixture.self, from: Data(contentsOf: url)).adam
        let c = fixture.config
        let config = ModelConfig(vocabularySize: c.vocabularySize, embeddingSize: c.embeddingSize,
                                 hiddenSize: c.hiddenSize, layers: c.layers, cell: try #require(CellKind(rawValue: c.cell)))
        let layout = LanguageModel<Float>.layout(for: config)
        let parameters = ParameterSet<Float>(layout: layout)
        for slot in layout.slots {
            for (i, v) in try #require(fixture.parameters[slot.name]).values.enumerated() { parameters.values(slot)[i] = Float(v) }
        }
        let model = LanguageModel<Float>(config: config, parameters: parameters)
        let state = RecurrentState<Float>(config: config, batchSize: c.batchSize)
        let n = c.batchSize * c.hiddenSize
        for k in 0..<c.layers {
            for i in 0..<n {
                state.h[k][i] = Float(fixture.h0[k * n + i])
                if state.hasCell { state.c[k][i] = Float(fixture.c0[k * n + i]) }
            }
        }
        parameters.zeroGradients()
        model.forward(inputs: fixture.inputs, targets: fixture.targets, batchSize: c.batchSize, state: state, training: false)
        model.backward()

        let optimizer = try Optimizer<Float>(
            config: .adam(learningRate: adam.lr, beta1: adam.betas[0], beta2: adam.betas[1], eps: adam.eps,
                          weightDecay: adam.weight_decay),
            layout: layout, clipping: GradientClipping(maxNorm: fixture.clip.max_norm))
        let report = optimizer.step(parameters)
        #expect(report.clipped && report.finite)
        #expect(abs(report.normBeforeClipping - fixture.clip.total_norm) / fixture.clip.total_norm < 1e-5)
        for slot in layout.slots {
            let expected = try #require(adam.parameters_after[slot.name])
            let scale = max(expected.map { abs($0) }.max() ?? 0, 1e-30)
            let worst = zip(parameters.values(slot), expected).map { actual, want in
                abs(Double(actual) - want) / max(abs(Double(actual)) + abs(want), 0.05 * scale)
            }.max() ?? 0
            #expect(worst < 1e-5, "\(name) \(slot.name): \(worst)")
        }
    }
}
