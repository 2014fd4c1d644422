import Foundation
import NeuralNet
import Tensor
import TextCorpus

/// Long-range accuracy of a trained `LanguageModel` (and of an n-gram baseline) on any text: the
/// model side of ``LongRangeEvaluation``.
///
/// The model reads the text as one stream (batch 1, so unit position p is row p − 1 of the
/// stream), in windows of `bptt` units with the state zeroed at the start and carried from window to
/// window — the batch-1 figure of ``Evaluator/evaluate(model:ids:batchSize:bptt:unknownUnits:)`` up
/// to rounding, so the cross-entropy comes for free. At each target position the probabilities of the
/// candidates (closers, or recall keys) are taken from the model's full softmax over the vocabulary,
/// not renormalized over the candidates.
///
/// Units are the vocabulary's units of the ids: a delimiter outside the model's vocabulary is read
/// as `<unk>` and therefore not seen by the delimiter stack.
public enum ModelLongRangeEvaluation {
    /// The full-softmax probabilities of `candidateIDs` (nil → 0) for unit `position` given units
    /// `0..<position` of `ids`, for every position of `positions` (ascending, each in
    /// `1..<ids.count`, relative to the start of `ids`); also the summed loss of the whole walk in
    /// nats and the number of units scored.
    public static func candidateProbabilities<IDs: RandomAccessCollection>(model: LanguageModel<Float>, ids: IDs, positions: [Int],
                                              candidateIDs: [Int?], bptt: Int) throws
        -> (probabilities: [[Double]], nats: Double, units: Int) where IDs.Element == Int32 {
        guard bptt >= 1 else { throw DiagnosticsError.invalidOption("--bptt", "must be at least 1 (got \(bptt))") }
        for (i, position) in positions.enumerated() {
            guard position >= 1 && position < ids.count && (i == 0 || positions[i - 1] < position) else {
                throw DiagnosticsError.invalidOption("positions", "must be ascending within 1..<\(ids.count) (got \(position))")
            }
        }
        guard ids.count >= 2 else { return ([], 0, 0) }
        let stream = try BatchStream(ids: ids, batchSize: 1, sequenceLength: bptt, requireFullWindow: false)
        try stream.checkMemory(model: model.config, subject: "evaluation")
        var result: [[Double]] = []
        result.reserveCapacity(positions.count)
        var next = 0
        let (nats, units) = Evaluator.walk(model: model, stream: stream) { batch in
            let first = batch.window * bptt            // stream step of row 0 = position of its input unit
            while next < positions.count && positions[next] - 1 < first + batch.steps {
                let row = positions[next] - 1 - first
                result.append(candidateIDs.map { id in id.map { exp(model.logProbability(row: row, token: $0)) } ?? 0 })
                next += 1
            }
        }
        return (result, nats, units)
    }

    /// Scores the model on `ids` for `task`; `label` names the result (e.g. `model`).
    /// Returns the result and the model's cross-entropy over the same walk.
    public static func evaluate<IDs: RandomAccessCollection>(model: LanguageModel<Float>, ids: IDs, vocabulary: Vocabulary,
                                task: LongRangeResult.Task, delimiters: DelimiterSet = .standard,
                                label: String = "model", bptt: Int = 200,
                                buckets: [DistanceBucket] = DistanceBucket.standard) throws
        -> (result: LongRangeResult, crossEntropy: EvaluationResult?) where IDs.Element == Int32 {
        let units = ids.map { vocabulary.unit(of: $0) }
        let candidates = task == .delimiters ? delimiters.closers : RecallScan.keys
        let candidateIDs = candidates.map { vocabulary.knownID(of: $0).map(Int.init) }
        let targets = task == .delimiters ? DelimiterScan(units: units, delimiters: delimiters).targets
            : RecallScan(units: units).targets
        let walk = try candidateProbabilities(model: model, ids: ids, positions: targets.map(\.position),
                                              candidateIDs: candidateIDs, bptt: bptt)
        var byPosition: [Int: [Double]] = [:]
        for (target, p) in zip(targets, walk.probabilities) { byPosition[target.position] = p }
        let lookup: (LongRangeTarget) -> [Double] = { byPosition[$0.position]! }
        let result = task == .delimiters
            ? LongRangeEvaluation.delimiters(units: units, delimiters: delimiters, label: label, buckets: buckets, probabilities: lookup)
            : LongRangeEvaluation.recall(units: units, label: label, buckets: buckets, probabilities: lookup)
        let unknown = ids.reduce(0) { $0 + ($1 == Vocabulary.unknownID ? 1 : 0) }
        let entropy = walk.units > 0 ? EvaluationResult(totalNats: walk.nats, units: walk.units, unknownUnits: unknown) : nil
        return (result, entropy)
    }

    /// The n-gram baseline: an `NGramModel` of `order` fitted on `training` ids, scored on `ids`
    /// for `task` (each target predicted from the n − 1 ids before it).
    public static func ngramBaseline<Training: Collection, IDs: Collection>(order: Int, training: Training, ids: IDs,
                                     vocabulary: Vocabulary, task: LongRangeResult.Task,
                                     delimiters: DelimiterSet = .standard,
                                     buckets: [DistanceBucket] = DistanceBucket.standard) throws -> LongRangeResult where Training.Element == Int32, IDs.Element == Int32 {
        let ngram = try NGramModel(order: order, vocabularySize: vocabulary.count, training: Array(training))
        let units = vocabulary.units.indices.map { vocabulary.unit(of: Int32($0)) }
        return task == .delimiters
            ? ngram.longRangeDelimiters(ids: Array(ids), unitForID: units, delimiters: delimiters, buckets: buckets)
            : ngram.longRangeRecall(ids: Array(ids), unitForID: units, buckets: buckets)
    }
}

/// A model's long-range scores on one split of a corpus, beside an n-gram baseline fitted on the
/// corpus's training split: what `charrnn eval --long-range` computes and `long-range.json` holds.
public struct LongRangeComparison {
    /// The report (model first, then the baseline when asked for).
    public var report: LongRangeReport
    /// The model's cross-entropy on the scored text (same walk).
    public var crossEntropy: EvaluationResult?
    /// The task scored.
    public var task: LongRangeResult.Task

    /// - Parameters:
    ///   - scored: the ids to score (e.g. the test split), `training`: the ids the n-gram is fitted on.
    ///   - ngramOrder: the baseline's n, or nil for no baseline.
    ///   - source: what the text was (shown in reports).
    public init<Scored: RandomAccessCollection, Training: Collection>(
        model: LanguageModel<Float>, vocabulary: Vocabulary, scored: Scored,
        training: Training, task choice: LongRangeTaskChoice, ngramOrder: Int?,
        bptt: Int = 200, source: String? = nil) throws where Scored.Element == Int32, Training.Element == Int32 {
        let task = choice.resolve(units: scored.map { vocabulary.unit(of: $0) })
        let (modelResult, entropy) = try ModelLongRangeEvaluation.evaluate(
            model: model, ids: scored, vocabulary: vocabulary, task: task, label: "model", bptt: bptt)
        var results = [modelResult]
        if let ngramOrder {
            guard !training.isEmpty else {
                throw DiagnosticsError.emptySplit("the training split is empty: no text to fit the \(ngramOrder)-gram baseline on (use --ngram-order 0)")
            }
            results.append(try ModelLongRangeEvaluation.ngramBaseline(order: ngramOrder, training: training, ids: scored,
                                                                      vocabulary: vocabulary, task: task))
        }
        report = LongRangeReport(source: source, results: results)
        crossEntropy = entropy
        self.task = task
    }
}
