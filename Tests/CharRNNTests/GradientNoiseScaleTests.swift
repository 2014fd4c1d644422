import Foundation
import NeuralNet
import Tensor
import Testing
import TextCorpus
@testable import CharRNN

@Suite struct GradientNoiseScaleTests {
    /// Simulated per-stream gradients g = G + ε, ε ~ N(0, σ² I) in D dimensions: |G|² and tr Σ = D σ²
    /// are known, so the estimator's two outputs can be checked against them.
    @Test func estimatorRecoversAKnownGradientAndVariance() {
        var rng = RNG(seed: 11)
        let d = 50, sigma = 0.3, b = 2, streams = 16, windows = 3000
        let truth = (0..<d).map { _ in rng.uniform(-0.2, 0.2) }
        let trueSquared = truth.reduce(0) { $0 + $1 * $1 }, variance = Double(d) * sigma * sigma
        var smallTotal = 0.0, largeTotal = 0.0
        for _ in 0..<windows {
            var sum = [Double](repeating: 0, count: d), small = 0.0
            for _ in 0..<(streams / b) {
                var group = [Double](repeating: 0, count: d)
                for _ in 0..<b { for i in 0..<d { group[i] += (truth[i] + sigma * rng.normal()) / Double(b) } }
                small += group.reduce(0) { $0 + $1 * $1 } / Double(streams / b)
                for i in 0..<d { sum[i] += group[i] }
            }
            smallTotal += small
            largeTotal += sum.reduce(0) { $0 + ($1 / Double(streams / b)) * ($1 / Double(streams / b)) }
        }
        let (g, s) = GradientNoiseScale.estimate(smallBatchSquaredNorm: smallTotal / Double(windows),
                                                 largeBatchSquaredNorm: largeTotal / Double(windows),
                                                 groupStreams: b, streams: streams)
        #expect(abs(g - trueSquared) < 0.05 * trueSquared, "|G|² \(g) vs \(trueSquared)")
        #expect(abs(s - variance) < 0.05 * variance, "tr Σ \(s) vs \(variance)")
    }

    static func corpus() throws -> TokenCorpus {
        let text = try SyntheticCorpus(SyntheticOptions(task: .brackets, size: 6000, maxDistance: 60, seed: 3)).text
        return try TokenCorpus.load(text: text, validationFraction: 0, testFraction: 0)
    }

    /// The mean of the groups' gradients is the whole batch's gradient: |G_B|² from the groups equals
    /// the squared norm of one forward/backward over all B streams (one window from zero state).
    @Test(arguments: [CellKind.lstm, .gru])
    func groupsAddUpToTheWholeBatch(cell: CellKind) throws {
        let corpus = try Self.corpus()
        let config = ModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 8, hiddenSize: 12, layers: 2, cell: cell)
        let model = LanguageModel<Float>(config: config, seed: 4)
        let result = try GradientNoiseScale.measure(model: model, ids: corpus.ids[...], length: 20, windows: 1,
                                                    streams: 6, groupStreams: 2)
        // The measurement leaves the gradients zeroed.
        #expect(model.parameters.gradients.pointer.allSatisfy { $0 == 0 })
        let batch = try BatchStream(ids: corpus.ids, batchSize: 6, sequenceLength: 20).batch(window: 0)
        model.parameters.zeroGradients()
        let loss = model.forward(inputs: batch.inputs, targets: batch.targets, batchSize: 6,
                                 state: RecurrentState<Float>(config: config, batchSize: 6), training: false)
        _ = model.backward()
        let whole = model.parameters.gradients.pointer.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(result.largeBatchSquaredNorm - whole) <= 1e-4 * whole, "\(result.largeBatchSquaredNorm) vs \(whole)")
        #expect(abs(result.meanLoss - loss) <= 1e-5 * loss)
        // Groups of 2 streams are noisier than the batch of 6: E|G_b|² = |G|² + tr Σ / b.
        #expect(result.smallBatchSquaredNorm > result.largeBatchSquaredNorm)
        #expect(result.windows == 1 && result.streams == 6 && result.groupStreams == 2)
    }

    /// Identical streams have no gradient noise: every group's gradient is the same, tr Σ ≈ 0.
    @Test func identicalStreamsHaveNoNoise() throws {
        let unit: [Int32] = (0..<40).map { Int32(($0 * 7) % 5) }
        // Six streams of 41 units, each the same sequence (stream length 40 = one window of 40).
        var ids: [Int32] = []
        for _ in 0..<6 { ids += unit }
        ids.append(unit[0])
        let config = ModelConfig(vocabularySize: 5, embeddingSize: 4, hiddenSize: 6, layers: 1, cell: .lstm)
        let model = LanguageModel<Float>(config: config, seed: 2)
        let result = try GradientNoiseScale.measure(model: model, ids: ids, length: 39, windows: 1, streams: 6, groupStreams: 1)
        #expect(result.gradientVariance.magnitude < 1e-5 * result.trueGradientSquaredNorm)
        #expect((result.noiseScaleStreams ?? 1).magnitude < 1e-4)
    }

    @Test func badSizesNameTheirOption() throws {
        let corpus = try Self.corpus()
        let config = ModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 4, hiddenSize: 4, layers: 1, cell: .rnn)
        let model = LanguageModel<Float>(config: config, seed: 1)
        #expect(throws: DiagnosticsError.self) {
            try GradientNoiseScale.measure(model: model, ids: corpus.ids[...], length: 10, windows: 1, streams: 6, groupStreams: 4)
        }
        do {
            _ = try GradientNoiseScale.measure(model: model, ids: corpus.ids[...], length: 10, windows: 1, streams: 1, groupStreams: 1)
            Issue.record("B = 1 accepted")
        } catch { #expect("\(error)".contains("--batch")) }
    }
}
