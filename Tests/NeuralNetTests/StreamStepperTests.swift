import Testing
import Tensor
@testable import NeuralNet

/// The one-stream fast path computes what `LanguageModel.step` computes for one stream, for every
/// cell and skip mode, with and without the layer-0 table, on the AVX-512 and portable kernels;
/// its results do not depend on the thread count.
@Suite struct StreamStepperTests {

    /// Logits of every step of `tokens`, from the batched step path (batch of one).
    static func reference(_ model: LanguageModel<Float>, _ tokens: [Int32]) -> [[Float]] {
        let state = RecurrentState<Float>(config: model.config, batchSize: 1)
        var logits = [Float](repeating: 0, count: model.config.vocabularySize)
        return tokens.map { token in
            logits.withUnsafeMutableBufferPointer { model.step(inputs: [token], state: state, logits: $0) }
            return logits
        }
    }

    static func run(_ stepper: StreamStepper, _ tokens: [Int32]) -> [[Float]] {
        var logits = [Float](repeating: 0, count: stepper.config.vocabularySize)
        return tokens.map { token in
            logits.withUnsafeMutableBufferPointer { stepper.step(token: token, logits: $0) }
            return logits
        }
    }

    static func worst(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? .infinity
    }

    @Test(arguments: CellSkipCase.all)
    func equalsBatchedStep(_ c: CellSkipCase) {
        // H = 40 and V = 37 are not multiples of the 32-unit blocks: the partial blocks are exercised.
        let config = ModelConfig(vocabularySize: 37, embeddingSize: c.skip == .residual ? 40 : 12, hiddenSize: 40,
                                 layers: 3, cell: c.cell, skip: c.skip)
        let model = LanguageModel<Float>(config: config, seed: 11)
        var rng = RNG(seed: 3)
        let tokens = (0..<30).map { _ in Int32(rng.nextDouble() * 37) }
        let expected = Self.reference(model, tokens)
        for tableLimit in [64 << 20, 0] {
            for threads in [1, 2] {
                let stepper = StreamStepper(model: model, threads: threads, weightFormat: .f32, tableLimitBytes: tableLimit)
                let got = Self.run(stepper, tokens)
                let difference = Self.worst(expected, got)
                #expect(difference < 2e-5, "table limit \(tableLimit), \(threads) threads: worst \(difference)")
            }
        }
        // The check can fail: the logits move with the input.
        #expect(Self.worst([expected[0]], [expected[1]]) > 1e-3)
    }

    @Test(arguments: [CellKind.lstm, .gru])
    func threadCountDoesNotChangeResults(_ cell: CellKind) {
        let config = ModelConfig(vocabularySize: 50, embeddingSize: 16, hiddenSize: 200, layers: 2, cell: cell)
        let model = LanguageModel<Float>(config: config, seed: 2)
        let tokens: [Int32] = (0..<40).map { Int32(($0 * 7) % 50) }
        let one = Self.run(StreamStepper(model: model, threads: 1), tokens)
        for threads in [2, 3, 4] {
            let stepper = StreamStepper(model: model, threads: threads)
            #expect(stepper.threads == threads)
            #expect(Self.run(stepper, tokens) == one, "\(threads) threads")
        }
    }

    @Test(arguments: CellKind.allCases)
    func portableKernelsAgree(_ cell: CellKind) {
        let config = ModelConfig(vocabularySize: 30, embeddingSize: 8, hiddenSize: 70, layers: 2, cell: cell)
        let model = LanguageModel<Float>(config: config, seed: 5)
        let tokens: [Int32] = (0..<25).map { Int32(($0 * 11) % 30) }
        let fast = Self.run(StreamStepper(model: model, threads: 2), tokens)
        KernelFeatures.forcePortable(true)
        defer { KernelFeatures.forcePortable(false) }
        let portable = Self.run(StreamStepper(model: model, threads: 2), tokens)
        #expect(Self.worst(fast, portable) < 1e-5)
        #expect(Self.worst(Self.reference(model, tokens), portable) < 2e-5)
    }

    @Test func stateRoundTripsAndReset() {
        let config = ModelConfig(vocabularySize: 20, embeddingSize: 8, hiddenSize: 33, layers: 2, cell: .lstm)
        let model = LanguageModel<Float>(config: config, seed: 9)
        let stepper = StreamStepper(model: model, threads: 2)
        let prefix: [Int32] = [1, 5, 7, 2], suffix: [Int32] = [3, 3, 9]
        _ = Self.run(stepper, prefix)
        let saved = RecurrentState<Float>(config: config, batchSize: 2)
        stepper.store(into: saved, stream: 1)
        let continued = Self.run(stepper, suffix)
        // Resume from the stored state in a fresh stepper: the same logits.
        let other = StreamStepper(model: model, threads: 1)
        other.load(saved, stream: 1)
        #expect(Self.run(other, suffix) == continued)
        // Reset: back to the start of a text.
        other.reset()
        let fresh = StreamStepper(model: model, threads: 1)
        #expect(Self.run(other, prefix) == Self.run(fresh, prefix))
        #expect(saved.hidden(layer: 1, stream: 1).contains { $0 != 0 })
    }

    @Test(arguments: CellKind.allCases)
    func halfPrecisionWeightsStayClose(_ cell: CellKind) {
        let config = ModelConfig(vocabularySize: 30, embeddingSize: 8, hiddenSize: 96, layers: 2, cell: cell, skip: .dense)
        let model = LanguageModel<Float>(config: config, seed: 8)
        let tokens: [Int32] = (0..<25).map { Int32(($0 * 13) % 30) }
        let exact = Self.run(StreamStepper(model: model, threads: 2), tokens)
        let stepper = StreamStepper(model: model, threads: 2, weightFormat: .f16)
        #expect(stepper.weightFormat == .f16)
        let half = Self.run(stepper, tokens)
        let scale = exact.flatMap { $0.map(abs) }.max()!
        let difference = Self.worst(exact, half)
        // Each weight is rounded by at most 2⁻¹¹ of itself: the logits move by far less than 1 %.
        #expect(difference < 1e-3 * scale, "worst \(difference), logit scale \(scale)")
        #expect(difference > 0, "f16 rounding should be visible")
        // The portable kernels read the same f16 values.
        KernelFeatures.forcePortable(true)
        defer { KernelFeatures.forcePortable(false) }
        #expect(Self.worst(half, Self.run(StreamStepper(model: model, threads: 1, weightFormat: .f16), tokens)) < 1e-5)
    }

    @Test func weightsTooLargeForHalfPrecisionStayF32() {
        let config = ModelConfig(vocabularySize: 10, embeddingSize: 4, hiddenSize: 16, layers: 1, cell: .gru)
        let model = LanguageModel<Float>(config: config, seed: 1)
        model.parameters.values(model.decoderWeight)[3] = 1e5
        let stepper = StreamStepper(model: model, threads: 2, weightFormat: .f16)
        #expect(stepper.weightFormat == .f32)
        let tokens: [Int32] = [1, 2, 3, 4]
        #expect(Self.worst(Self.reference(model, tokens), Self.run(stepper, tokens)) < 1e-2)
    }

    /// Workers that went to sleep between steps wake for the next one (every worker, several of them).
    @Test(arguments: [2, 4])
    func idleWorkersWakeUp(_ threads: Int) async throws {
        let config = ModelConfig(vocabularySize: 12, embeddingSize: 4, hiddenSize: 96, layers: 2, cell: .lstm)
        let model = LanguageModel<Float>(config: config, seed: 6)
        let first: [Int32] = [1, 2, 3], second: [Int32] = [4, 5, 6, 7]
        let serial = StreamStepper(model: model, threads: 1)
        let expected = (Self.run(serial, first), Self.run(serial, second))
        let stepper = StreamStepper(model: model, threads: threads)
        let got1 = Self.run(stepper, first)
        try await Task.sleep(nanoseconds: 100_000_000)  // far longer than the workers spin
        let got2 = Self.run(stepper, second)
        #expect(got1 == expected.0 && got2 == expected.1)
    }
}
