import Testing
import Tensor
@testable import NeuralNet

/// Per-stream dropout masks (`StreamDropoutKey`): a batch computed in blocks of streams (as ranks of
/// a data-parallel run compute it) drops exactly what the whole batch drops, and the gradients of the
/// blocks, each normalized by the whole batch's token count, add up to the whole batch's.
@Suite struct StreamDropoutTests {
    static let config = ModelConfig(vocabularySize: 11, embeddingSize: 6, hiddenSize: 7, layers: 2, cell: .lstm,
                                    dropout: 0.4, embeddingDropout: 0.3)
    static let t = 5, b = 5

    /// Columns `streams` of time-major T·B ids.
    static func columns(_ ids: [Int32], _ streams: Range<Int>) -> [Int32] {
        (0..<t).flatMap { step in ids[(step * b + streams.lowerBound)..<(step * b + streams.upperBound)] }
    }

    /// Per-token losses (time-major within the block) and parameter gradients of one block.
    static func run(_ streams: Range<Int>, window: UInt64, inputs: [Int32], targets: [Int32])
        -> (losses: [[Double]], gradients: [Double]) {
        let model = LanguageModel<Double>(config: config, seed: 3)
        model.dropoutKey = StreamDropoutKey(seed: 9, window: window, firstStream: streams.lowerBound)
        let state = RecurrentState<Double>(config: config, batchSize: streams.count)
        model.parameters.zeroGradients()
        model.forward(inputs: columns(inputs, streams), targets: columns(targets, streams), batchSize: streams.count,
                      state: state, training: true)
        // losses[stream][step]
        let losses = (0..<streams.count).map { j in (0..<t).map { s in model.tokenLoss(row: s * streams.count + j) } }
        model.backward(meanOver: t * b)
        return (losses, Array(model.parameters.gradients.pointer))
    }

    @Test func blocksOfStreamsDropWhatTheWholeBatchDrops() {
        let inputs = randomIDs(Self.t * Self.b, below: 11, seed: 1), targets = randomIDs(Self.t * Self.b, below: 11, seed: 2)
        let whole = Self.run(0..<5, window: 4, inputs: inputs, targets: targets)
        let left = Self.run(0..<2, window: 4, inputs: inputs, targets: targets)
        let right = Self.run(2..<5, window: 4, inputs: inputs, targets: targets)
        // The same masks and rows: per-token losses equal bit for bit.
        #expect(left.losses + right.losses == whole.losses)
        // Gradients: only the order of summation over rows differs.
        let sum = zip(left.gradients, right.gradients).map { $0 + $1 }
        let worst = zip(sum, whole.gradients).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-14, "worst gradient difference \(worst)")
        #expect(whole.gradients.contains { abs($0) > 1e-4 })
        // Another window draws other masks: the losses change.
        let other = Self.run(0..<5, window: 5, inputs: inputs, targets: targets)
        #expect(other.losses != whole.losses)
    }

    @Test func masksDependOnTheGlobalStreamIndexOnly() {
        let key = StreamDropoutKey(seed: 1, window: 0, firstStream: 3)
        var block = [Float](repeating: 0, count: 2 * 4 * 8)  // T = 2, 4 streams (global 3...6), width 8
        block.withUnsafeMutableBufferPointer { key.fill($0.baseAddress!, steps: 2, streams: 4, width: 8, p: 0.5, layer: 1) }
        var single = [Float](repeating: 0, count: 2 * 8)      // stream 5 alone
        single.withUnsafeMutableBufferPointer {
            StreamDropoutKey(seed: 1, window: 0, firstStream: 5).fill($0.baseAddress!, steps: 2, streams: 1, width: 8, p: 0.5, layer: 1)
        }
        // Stream 5 is column 2 of the block: rows 2 (step 0) and 6 (step 1).
        #expect(Array(block[16..<24]) + Array(block[48..<56]) == single)
        #expect(Set(block) == [0, 2])
        let dropped = block.filter { $0 == 0 }.count
        #expect(dropped > 16 && dropped < 48)  // p = 0.5 of 64, far from all or none
        #expect(key.streamSeed(stream: 5, layer: 1) != key.streamSeed(stream: 5, layer: 2))
    }
}
