import Testing
@testable import NeuralNet

/// The plan's wiring for each skip mode, and its agreement with `ModelConfig`'s parameter shapes.
@Suite struct ModelPlanTests {
    static func config(_ skip: SkipMode, layers: Int = 3) -> ModelConfig {
        ModelConfig(vocabularySize: 7, embeddingSize: 4, hiddenSize: 5, layers: layers, cell: .lstm, skip: skip)
    }

    @Test(arguments: SkipMode.allCases)
    func widthsMatchTheParameterShapes(_ skip: SkipMode) {
        for layers in [1, 2, 4] {
            let config = Self.config(skip, layers: layers), plan = ModelPlan(config)
            #expect(plan.layers.count == layers)
            for (k, layer) in plan.layers.enumerated() {
                #expect(layer.inputWidth == config.inputSize(ofLayer: k))
                #expect(layer.segments.map(\.width).reduce(0, +) == layer.inputWidth)
                #expect(layer.segments.map(\.offset) == layer.segments.indices.map { i in layer.segments[..<i].map(\.width).reduce(0, +) })
            }
            #expect(plan.decoderInputWidth == config.decoderInputSize)
        }
    }

    @Test func wiringPerSkipMode() {
        let none = ModelPlan(Self.config(.none))
        #expect(none.layers.map { $0.segments.map(\.source) } == [[.embedding], [.layer(0)], [.layer(1)]])
        #expect(none.layers.map(\.residual) == [false, false, false])
        #expect(none.decoderSegments.map(\.source) == [.layer(2)])
        #expect(!none.embeddingReadBeyondLayer0)

        let residual = ModelPlan(Self.config(.residual))
        #expect(residual.layers.map(\.residual) == [false, true, true])
        #expect(residual.decoderSegments.map(\.source) == [.layer(2)])

        let dense = ModelPlan(Self.config(.dense))
        #expect(dense.layers.map { $0.segments.map(\.source) } == [[.embedding], [.embedding, .layer(0)], [.embedding, .layer(1)]])
        #expect(dense.layers[2].segments.map(\.offset) == [0, 4])
        #expect(dense.decoderSegments.map(\.source) == [.layer(0), .layer(1), .layer(2)])
        #expect(dense.decoderSegments.map(\.offset) == [0, 5, 10])
        #expect(dense.embeddingReadBeyondLayer0)
        // o_1 is read by layer 2 (after x) and by the decoder (second block).
        let readers = dense.consumers(ofLayer: 1)
        #expect(readers.map(\.layer) == [2, nil] && readers.map(\.segment.offset) == [4, 5])
        #expect(dense.consumers(ofLayer: 2).map(\.layer) == [nil])
    }
}
