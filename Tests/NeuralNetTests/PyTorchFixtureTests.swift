import Foundation
import Testing
import Tensor
@testable import NeuralNet

/// A PyTorch fixture written by scripts/make_fixtures.py.
struct TorchFixture: Decodable {
    struct Config: Decodable { let vocabularySize, embeddingSize, hiddenSize, layers, steps, batchSize: Int; let cell: String }
    struct Tensor: Decodable { let shape: [Int]; let values: [Double] }
    struct Clip: Decodable { let max_norm: Double; let total_norm: Double }
    let config: Config
    let parameter_names: [String]
    let parameters: [String: Tensor]
    let inputs: [Int32], targets: [Int32]
    let h0: [Double], c0: [Double]
    let logits: [Double]
    let loss: Double
    let gradients: [String: [Double]]
    let hT: [Double], cT: [Double]
    let clip: Clip

    static func load(_ name: String) throws -> TorchFixture {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(TorchFixture.self, from: Data(contentsOf: url))
    }
}

/// Our results against PyTorch's (computed in float64 from float32 weights): logits, loss, every
/// parameter gradient and the final state.
///
/// Tolerance, Float: 1e-5 relative, element by element, with the denominator floored at 5% of the
/// tensor's largest magnitude. Float's unit roundoff is 6e-8 and a gradient entry accumulates
/// rounding through T·L steps of sums, so its absolute error is a few 1e-8 of the *tensor's* scale;
/// an entry that is itself ~1% of that scale cannot be relatively more accurate than ~1e-5. The
/// floor makes those entries compare on the tensor's scale (an absolute 5e-7·max bound) while every
/// entry above 5% of the max is held to a true 1e-5 relative error.
/// Tolerance, Double: 1e-10 relative with the same floor (the computation is exact to ~1e-15).
@Suite struct PyTorchFixtureTests {
    static let floatBound = 1e-5, doubleBound = 1e-10

    func worst(_ actual: [Double], _ expected: [Double]) -> Double {
        precondition(actual.count == expected.count)
        let scale = max(expected.map { abs($0) }.max() ?? 0, 1e-30)
        return zip(actual, expected).map { relativeError($0, $1, floor: 0.05 * scale) }.max() ?? 0
    }

    @Test(arguments: ["lstm", "gru", "rnn"])
    func floatMatchesPyTorch(name: String) throws { try check(name, Float.self) }

    @Test(arguments: ["lstm", "gru", "rnn"])
    func doubleMatchesPyTorch(name: String) throws { try check(name, Double.self) }

    func check<S: Real>(_ name: String, _: S.Type) throws {
        let bound = S.self == Float.self ? Self.floatBound : Self.doubleBound
        let f = try TorchFixture.load(name)
        let c = f.config
        let config = ModelConfig(vocabularySize: c.vocabularySize, embeddingSize: c.embeddingSize,
                                 hiddenSize: c.hiddenSize, layers: c.layers, cell: try #require(CellKind(rawValue: c.cell)))
        let layout = LanguageModel<S>.layout(for: config)
        // Same names, order and shapes as PyTorch's state_dict: loads with strict=True.
        #expect(layout.slots.map(\.name) == f.parameter_names)
        for slot in layout.slots { #expect(slot.shape == f.parameters[slot.name]?.shape, "\(slot.name) shape") }
        let parameters = ParameterSet<S>(layout: layout)
        for slot in layout.slots {
            let values = try #require(f.parameters[slot.name]).values
            for (i, v) in values.enumerated() { parameters.values(slot)[i] = S(v) }
        }
        let model = LanguageModel<S>(config: config, parameters: parameters)
        let b = c.batchSize, h = c.hiddenSize
        let state = RecurrentState<S>(config: config, batchSize: b)
        for k in 0..<c.layers {
            for i in 0..<(b * h) {
                state.h[k][i] = S(f.h0[k * b * h + i])
                if state.hasCell { state.c[k][i] = S(f.c0[k * b * h + i]) }
            }
        }
        let loss = model.forward(inputs: f.inputs, targets: f.targets, batchSize: b, state: state, training: false)
        #expect(relativeError(loss, f.loss) < bound, "loss \(loss) vs \(f.loss)")
        let logitError = worst(model.logits.map(Double.init), f.logits)
        #expect(logitError < bound, "logits: \(logitError)")
        let hT = (0..<c.layers).flatMap { state.h[$0].array.map(Double.init) }
        #expect(worst(hT, f.hT) < bound, "final h")
        if state.hasCell {
            let cT = (0..<c.layers).flatMap { state.c[$0].array.map(Double.init) }
            #expect(worst(cT, f.cT) < bound, "final c")
        }
        parameters.zeroGradients()
        model.backward()
        var squaredNorm = 0.0
        for slot in layout.slots {
            let ours = parameters.gradients(slot).map(Double.init)
            let e = worst(ours, try #require(f.gradients[slot.name]))
            #expect(e < bound, "gradient \(slot.name): \(e)")
            squaredNorm += ours.reduce(0) { $0 + $1 * $1 }
        }
        // The pre-clip total norm PyTorch reported (the optimizer helper's clip uses it).
        #expect(relativeError(squaredNorm.squareRoot(), f.clip.total_norm) < bound)
        #expect(f.clip.max_norm < f.clip.total_norm)
    }
}
