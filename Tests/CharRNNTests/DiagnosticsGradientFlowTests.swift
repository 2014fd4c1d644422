import Foundation
import NeuralNet
import Testing
import TestSupport
import TextCorpus
@testable import CharRNN

@Suite struct DiagnosticsGradientFlowTests {
    /// A few thousand units of the synthetic brackets text (deterministic).
    static let corpus: TokenCorpus = {
        let text = try! SyntheticCorpus(SyntheticOptions(task: .brackets, size: 4000, maxDistance: 100, seed: 7)).text
        return try! TokenCorpus.load(text: text, validationFraction: 0, testFraction: 0)
    }()

    static func model(_ cell: CellKind, hidden: Int = 32, layers: Int = 1, forgetBias: Double? = nil,
                      recurrentScale: Double = 1, seed: UInt64 = 5) -> LanguageModel<Float> {
        let config = ModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 16, hiddenSize: hidden,
                                 layers: layers, cell: cell,
                                 initialization: InitializationOptions(forgetGateBias: forgetBias))
        let model = LanguageModel<Float>(config: config, seed: seed)
        GradientFlowMeasurement.scaleRecurrentWeights(of: model, by: recurrentScale)
        return model
    }

    static func measure(_ model: LanguageModel<Float>, length: Int = 40, windows: Int = 4) throws -> GradientFlowResult {
        try GradientFlowMeasurement.measure(model: model, ids: corpus.ids[...], length: length, windows: windows,
                                            initialization: "test")
    }

    @Test func vanillaRNNWithSmallRecurrentWeightsDecaysGeometrically() throws {
        let result = try Self.measure(Self.model(.rnn, recurrentScale: 0.5))
        let layer = try #require(result.layers.first)
        #expect(result.windows == 4 && result.length == 40 && layer.norms.count == 40)
        let factor = try #require(layer.decayFactor)
        #expect(factor < 0.7)
        // ‖∂L_T/∂h_{T−k}‖ shrinks at every step back (‖W_hh‖₂ · max tanh′ < 1 here).
        for k in 1..<40 where layer.norms[k] > 0 { #expect(layer.norms[k] < layer.norms[k - 1], "k = \(k)") }
        #expect(layer.norms[20] < 1e-4 * layer.norms[0])
        #expect(layer.vanishDistance != nil)
        #expect(layer.cellNorms == nil)
    }

    @Test func lstmWithForgetBiasDecaysSlowerThanVanillaRNN() throws {
        let rnn = try #require(try Self.measure(Self.model(.rnn)).layers.first?.decayFactor)
        let plainLSTM = try #require(try Self.measure(Self.model(.lstm)).layers.first)
        let lstm = try Self.measure(Self.model(.lstm, forgetBias: 1))
        let layer = try #require(lstm.layers.first)
        let factor = try #require(layer.decayFactor)
        #expect(layer.cellNorms?.count == 40)
        #expect(factor > rnn + 0.05)
        #expect(factor > plainLSTM.decayFactor! + 0.02)
        #expect(factor < 1)
    }

    @Test func largeRecurrentWeightsKeepTheNormsUp() throws {
        let small = try #require(try Self.measure(Self.model(.rnn, recurrentScale: 0.5)).layers.first?.decayFactor)
        let large = try #require(try Self.measure(Self.model(.rnn, recurrentScale: 4)).layers.first?.decayFactor)
        #expect(large > small)
    }

    @Test func everyLayerIsMeasuredAndWeightsAreUntouched() throws {
        let model = Self.model(.gru, hidden: 12, layers: 2)
        let before = Array(model.parameters.values.pointer)
        let result = try Self.measure(model, length: 10, windows: 1000)
        #expect(result.layers.map(\.layer) == [0, 1])
        #expect(result.windows == (Self.corpus.ids.count - 1) / 10)  // fewer full windows than asked
        #expect(Array(model.parameters.values.pointer) == before)
        #expect(model.parameters.gradients.pointer.allSatisfy { $0 == 0 })
    }

    @Test func tooShortTextIsAOneLineError() throws {
        #expect(throws: DiagnosticsError.self) {
            try GradientFlowMeasurement.measure(model: Self.model(.rnn), ids: Self.corpus.ids[0..<50], length: 50,
                                                windows: 1, initialization: "x")
        }
        do {
            _ = try GradientFlowMeasurement.measure(model: Self.model(.rnn), ids: Self.corpus.ids[0..<50], length: 50,
                                                    windows: 1, initialization: "x")
        } catch {
            #expect("\(error)" == "--length 50 needs at least 51 units but the text has 50")
        }
    }

    @Test func distancesShownInTheTable() {
        #expect(GradientFlowMeasurement.distances(upTo: 100) == [0, 1, 2, 5, 10, 20, 50, 99])
        #expect(GradientFlowMeasurement.distances(upTo: 3) == [0, 1, 2])
    }
}
