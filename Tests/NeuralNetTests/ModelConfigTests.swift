import Foundation
import Testing
import Tensor
@testable import NeuralNet

@Suite struct ModelConfigTests {
    @Test func codableRoundTripAndDefaults() throws {
        let config = ModelConfig(vocabularySize: 65, embeddingSize: 64, hiddenSize: 128, layers: 2, cell: .gru,
                                 skip: .dense, dropout: 0.25,
                                 initialization: InitializationOptions(orthogonalRecurrent: true))
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: data) == config)
        let minimal = #"{"vocabularySize":5,"embeddingSize":3,"hiddenSize":4,"layers":1,"cell":"lstm"}"#
        let decoded = try JSONDecoder().decode(ModelConfig.self, from: Data(minimal.utf8))
        #expect(decoded.skip == .none && decoded.dropout == 0 && decoded.embeddingDropout == 0
                && decoded.initialization == InitializationOptions())
        // Configurations saved before embeddingDropout existed dropped the embedding at `dropout`.
        let older = #"{"vocabularySize":5,"embeddingSize":3,"hiddenSize":4,"layers":1,"cell":"lstm","dropout":0.3}"#
        #expect(try JSONDecoder().decode(ModelConfig.self, from: Data(older.utf8)).embeddingDropout == 0.3)
        #expect(ModelConfig(vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, layers: 1, embeddingDropout: 1).validationError != nil)
        #expect(ModelConfig(vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, layers: 1, dropout: 1).validationError != nil)
        #expect(decoded.validationError == nil)
    }

    @Test func shapesFollowSkipMode() {
        let dense = ModelConfig(vocabularySize: 9, embeddingSize: 3, hiddenSize: 4, layers: 3, cell: .lstm, skip: .dense)
        let layout = LanguageModel<Float>.layout(for: dense)
        #expect(layout.slots.map(\.name) == ["encoder.weight"] + (0..<3).flatMap {
            ["rnn.weight_ih_l\($0)", "rnn.weight_hh_l\($0)", "rnn.bias_ih_l\($0)", "rnn.bias_hh_l\($0)"]
        } + ["decoder.weight", "decoder.bias"])
        #expect(layout.slot(named: "rnn.weight_ih_l0")?.shape == [16, 3])
        #expect(layout.slot(named: "rnn.weight_ih_l1")?.shape == [16, 7])
        #expect(layout.slot(named: "decoder.weight")?.shape == [9, 12])
        var plain = dense; plain.skip = .residual
        #expect(LanguageModel<Float>.layout(for: plain).slot(named: "rnn.weight_ih_l2")?.shape == [16, 4])
    }

    @Test func initializationFollowsPyTorchAndOptions() {
        let h = 8
        var config = ModelConfig(vocabularySize: 6, embeddingSize: 5, hiddenSize: h, layers: 2, cell: .lstm)
        let model = LanguageModel<Double>(config: config, seed: 1)
        let p = model.parameters
        let bound = 1 / Double(h).squareRoot()
        for slot in p.layout.slots where slot.name.hasPrefix("rnn.") {
            #expect(p.values(slot).allSatisfy { abs($0) <= bound })
        }
        // Default (.torch): embedding N(0, 1), so some |value| > 1 among 30 draws is near certain
        // (P(all ≤ 1) = 0.68^30 ≈ 1e-5); decoder weight and bias uniform in ±1/√H.
        let emb = p.values(model.encoderWeight)
        #expect(emb.contains { abs($0) > 1 } && emb.allSatisfy { abs($0) < 6 })
        #expect(p.values(model.decoderWeight).allSatisfy { abs($0) <= bound })
        #expect(p.values(model.decoderBias).allSatisfy { abs($0) <= bound } && p.values(model.decoderBias).contains { $0 != 0 })
        var wordLM = config
        wordLM.initialization.encoderDecoder = .wordLM
        let w = LanguageModel<Double>(config: wordLM, seed: 1).parameters
        #expect(w.values(model.encoderWeight).allSatisfy { abs($0) <= 0.1 })
        #expect(w.values(model.decoderWeight).allSatisfy { abs($0) <= 0.1 })
        #expect(w.values(model.decoderBias).allSatisfy { $0 == 0 })
        #expect(LanguageModel<Double>(config: config, seed: 1).parameters.values.array == p.values.array)
        #expect(LanguageModel<Double>(config: config, seed: 2).parameters.values.array != p.values.array)

        config.initialization = InitializationOptions(orthogonalRecurrent: true, forgetGateBias: 1)
        let ortho = LanguageModel<Double>(config: config, seed: 1)
        for layer in ortho.layers {
            let w = ortho.parameters.values(layer.weightHH)
            for gate in 0..<4 {
                for i in 0..<h { for j in 0..<h {
                    var dot = 0.0
                    for k in 0..<h { dot += w[gate * h * h + i * h + k] * w[gate * h * h + j * h + k] }
                    #expect(abs(dot - (i == j ? 1 : 0)) < 1e-12)
                }}
            }
            let bih = ortho.parameters.values(layer.biasIH), bhh = ortho.parameters.values(layer.biasHH)
            #expect((h..<(2 * h)).allSatisfy { bih[$0] == 1 && bhh[$0] == 0 })
        }
    }

    @Test func recurrentStatePerStreamAccess() {
        let config = ModelConfig(vocabularySize: 5, embeddingSize: 3, hiddenSize: 2, layers: 2, cell: .lstm)
        let a = RecurrentState<Float>(config: config, batchSize: 3)
        for k in 0..<2 { for i in 0..<6 { a.h[k][i] = Float(10 * k + i); a.c[k][i] = Float(-i) } }
        let b = a.copy()
        b.reset(stream: 1)
        #expect(b.hidden(layer: 1, stream: 1) == [0, 0] && b.hidden(layer: 1, stream: 2) == [14, 15])
        #expect(a.hidden(layer: 1, stream: 1) == [12, 13])
        let single = RecurrentState<Float>(config: config, batchSize: 1)
        single.copyStream(0, from: a, stream: 2)
        #expect(single.hidden(layer: 0, stream: 0) == [4, 5] && single.cell(layer: 0, stream: 0) == [-4, -5])
        a.reset()
        #expect(a.flattened.allSatisfy { $0 == 0 })
    }
}
