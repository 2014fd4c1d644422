import Foundation
import NeuralNet
import Tensor
import TextCorpus

/// Cross-entropy of a model on a text, in the units users compare.
public struct EvaluationResult: Codable, Sendable, Equatable {
    /// Mean cross-entropy, nats per unit.
    public var natsPerUnit: Double
    /// Mean cross-entropy, bits per unit (bits per character for character units).
    public var bitsPerUnit: Double
    /// exp(natsPerUnit).
    public var perplexity: Double
    /// Units scored (predicted).
    public var units: Int
    /// Units of the text outside the vocabulary (scored as `<unk>`).
    public var unknownUnits: Int

    public init(totalNats: Double, units: Int, unknownUnits: Int) {
        natsPerUnit = totalNats / Double(max(units, 1))
        bitsPerUnit = natsPerUnit / log(2)
        perplexity = exp(natsPerUnit)
        self.units = units
        self.unknownUnits = unknownUnits
    }

    enum CodingKeys: String, CodingKey {
        case natsPerUnit = "nats_per_unit", bitsPerUnit = "bits_per_unit", perplexity, units
        case unknownUnits = "unknown_units"
    }
}

/// Scores a model on id sequences with state carried across windows (no dropout).
public enum Evaluator {
    /// Runs the model over every window of `stream` (one epoch from window 0, state zeroed at the
    /// start and carried after), calling `visit` after each forward while the model's logits
    /// describe that window. Returns the summed loss in nats and the number of units scored.
    @discardableResult
    public static func walk(model: LanguageModel<Float>, stream: BatchStream,
                            visit: (BatchStream.Batch) -> Void = { _ in }) -> (nats: Double, units: Int) {
        let state = RecurrentState<Float>(config: model.config, batchSize: stream.batchSize)
        var total = 0.0, units = 0
        for window in 0..<stream.windowsPerEpoch {
            let batch = stream.batch(window: window)
            let loss = model.forward(inputs: batch.inputs, targets: batch.targets, batchSize: batch.batchSize,
                                     state: state, training: false)
            let count = batch.steps * batch.batchSize
            total += loss * Double(count)
            units += count
            visit(batch)
        }
        return (total, units)
    }

    /// Like `walk(model:stream:)` for the block `streams` of the stream's B streams only (global
    /// indices; one rank's share of a sharded evaluation): the summed loss in nats and units of
    /// that block, the same per-token losses as the whole batch gives.
    public static func walk(model: LanguageModel<Float>, stream: BatchStream, streams: Range<Int>) -> (nats: Double, units: Int) {
        precondition(!streams.isEmpty && streams.lowerBound >= 0 && streams.upperBound <= stream.batchSize, "stream block")
        let shard = StreamShard(globalStreams: stream.batchSize, streams: streams)
        let state = RecurrentState<Float>(config: model.config, batchSize: streams.count)
        var total = 0.0, units = 0
        for window in 0..<stream.windowsPerEpoch {
            let batch = stream.batch(window: window)
            let loss = model.forward(inputs: shard.slice(batch.inputs), targets: shard.slice(batch.targets),
                                     batchSize: streams.count, state: state, training: false)
            let count = batch.steps * streams.count
            total += loss * Double(count)
            units += count
        }
        return (total, units)
    }

    /// Mean loss (nats per unit) over all of `stream`.
    public static func meanLoss(model: LanguageModel<Float>, stream: BatchStream) -> Double {
        let (nats, units) = walk(model: model, stream: stream)
        return nats / Double(units)
    }

    /// Scores `ids` split into `batchSize` contiguous streams, windows of `bptt`.
    ///
    /// Each stream covers ⌊(N − 1)/B⌋ predictions, so up to B − 1 units at the end go unscored
    /// (`units` says how many were); with `batchSize` 1 every unit after the first is predicted,
    /// which makes the figure exact and comparable with any implementation. One stream runs token
    /// by token on the one-stream engine with f32 weights (`evaluateStepwise`), which is faster than
    /// windows of one row and equal up to rounding; `bptt` then does not matter.
    public static func evaluate<IDs: RandomAccessCollection>(model: LanguageModel<Float>, ids: IDs, batchSize: Int, bptt: Int,
                                unknownUnits: Int) throws -> EvaluationResult where IDs.Element == Int32 {
        // Built for every batch size: it checks the sizes (same errors either way).
        let stream = try BatchStream(ids: ids, batchSize: batchSize, sequenceLength: bptt, requireFullWindow: false)
        if batchSize == 1 {
            return evaluateStepwise(model: model, ids: ids, weights: .f32, threads: model.threads, unknownUnits: unknownUnits)
        }
        try stream.checkMemory(model: model.config, subject: "evaluation")
        let (nats, units) = walk(model: model, stream: stream)
        return EvaluationResult(totalNats: nats, units: units, unknownUnits: unknownUnits)
    }

    /// Scores `ids` as one stream, token by token, through the generation path (`StreamStepper`
    /// with `weights`): what `charrnn generate` computes, so its cost of f16 weights can be measured.
    /// Every unit after the first is predicted.
    public static func evaluateStepwise<IDs: RandomAccessCollection>(model: LanguageModel<Float>, ids: IDs,
                                        weights: StreamStepper.WeightFormat, threads: Int,
                                        unknownUnits: Int) -> EvaluationResult where IDs.Element == Int32 {
        let stepper = StreamStepper(model: model, threads: threads, weightFormat: weights)
        let v = model.config.vocabularySize
        let logits = AlignedBuffer<Float>(count: v), logSumExp = AlignedBuffer<Float>(count: 1)
        var total = 0.0
        for (input, target) in zip(ids, ids.dropFirst()) {
            stepper.step(token: input, logits: logits.pointer)
            // The same cross-entropy kernel as the window path and training.
            total += withUnsafePointer(to: target) { targetP in
                Kernels.softmaxCrossEntropy(logits: logits.pointer.baseAddress!, rows: 1, cols: v, targets: targetP,
                                            logSumExp: logSumExp.pointer.baseAddress!)
            }
        }
        return EvaluationResult(totalNats: total, units: max(ids.count - 1, 0), unknownUnits: unknownUnits)
    }
}
