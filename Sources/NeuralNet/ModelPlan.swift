/// The wiring of a model, derived once from its `ModelConfig`: what each recurrent layer reads,
/// whether it adds its input to its output, and what the decoder reads. The window path
/// (`LanguageModel` forward and backward, and so its one-token `step`) and the one-stream engine
/// (`StreamStepper`) are both built from it, so a skip mode is described here only.
///
/// A layer's or the decoder's input is the concatenation, in order, of its `segments`: the
/// embedding x (E features) or the output o_j of an earlier layer (H features).
public struct ModelPlan: Sendable, Equatable {
    /// Where the features of a segment come from.
    public enum Source: Sendable, Equatable {
        /// The embedded token x (after embedding dropout).
        case embedding
        /// o_j, the output of layer j (after the residual add and dropout).
        case layer(Int)
    }

    /// `width` features from `source`, at feature `offset` of the concatenated input.
    public struct Segment: Sendable, Equatable {
        public let source: Source
        public let offset: Int
        public let width: Int
    }

    /// What layer k reads and how its output o_k is formed.
    public struct Layer: Sendable, Equatable {
        /// The segments of its input, in order; their widths add up to `inputWidth`.
        public let segments: [Segment]
        public let inputWidth: Int
        /// o_k = h_k + input_k (needs `inputWidth` = H) instead of o_k = h_k, before dropout.
        public let residual: Bool
    }

    public let layers: [Layer]
    /// The segments of the decoder's input, in order.
    public let decoderSegments: [Segment]
    /// D: the decoder's input width.
    public let decoderInputWidth: Int

    public init(_ config: ModelConfig) {
        let e = config.embeddingSize, h = config.hiddenSize
        func concatenation(_ sources: [Source]) -> (segments: [Segment], width: Int) {
            var offset = 0
            let segments = sources.map { source -> Segment in
                let width = source == .embedding ? e : h
                defer { offset += width }
                return Segment(source: source, offset: offset, width: width)
            }
            return (segments, offset)
        }
        layers = (0..<config.layers).map { k in
            let sources: [Source]
            switch (k, config.skip) {
            case (0, _): sources = [.embedding]
            case (_, .dense): sources = [.embedding, .layer(k - 1)]
            default: sources = [.layer(k - 1)]
            }
            let (segments, width) = concatenation(sources)
            return Layer(segments: segments, inputWidth: width, residual: config.skip == .residual && k > 0)
        }
        let decoder = concatenation(config.skip == .dense ? (0..<config.layers).map { .layer($0) } : [.layer(config.layers - 1)])
        decoderSegments = decoder.segments
        decoderInputWidth = decoder.width
    }

    /// Where o_j is read: (layer k, segment) for every later layer input, and nil for the decoder.
    public func consumers(ofLayer j: Int) -> [(layer: Int?, segment: Segment)] {
        var found: [(layer: Int?, segment: Segment)] = []
        for (k, layer) in layers.enumerated() {
            for segment in layer.segments where segment.source == .layer(j) { found.append((k, segment)) }
        }
        for segment in decoderSegments where segment.source == .layer(j) { found.append((nil, segment)) }
        return found
    }

    /// Whether anything besides layer 0 (a later layer or the decoder) reads the embedding.
    public var embeddingReadBeyondLayer0: Bool {
        (layers.dropFirst().flatMap(\.segments) + decoderSegments).contains { $0.source == .embedding }
    }
}
