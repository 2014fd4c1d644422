import Foundation
import NeuralNet
import Tensor
import Testing
import TestSupport
import TextCorpus
@testable import CharRNN

@Suite struct DiagnosticsLongRangeTests {
    static let vocabulary = Vocabulary(units: ["(", ")", "[", "]", "a", "b"], tokenizer: TokenizerOptions())

    static func model(seed: UInt64 = 3) -> LanguageModel<Float> {
        let config = ModelConfig(vocabularySize: vocabulary.count, embeddingSize: 4, hiddenSize: 6, layers: 1, cell: .lstm,
                                 initialization: InitializationOptions(encoderDecoder: .wordLM, embeddingInitRange: 1.5))
        return LanguageModel<Float>(config: config, seed: seed)
    }

    /// The model's full softmax for unit `position` of `ids`, stepping one unit at a time from a zero state.
    static func softmax(_ model: LanguageModel<Float>, ids: [Int32], position: Int) -> [Double] {
        let v = model.config.vocabularySize
        let state = RecurrentState<Float>(config: model.config, batchSize: 1)
        let logits = AlignedBuffer<Float>(count: v)
        for id in ids[0..<position] { model.step(inputs: [id], state: state, logits: logits.pointer) }
        let values = (0..<v).map { Double(logits[$0]) }
        let top = values.max()!
        let exps = values.map { exp($0 - top) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }

    @Test func modelScoresEqualTheModelsOwnProbabilitiesScoredByHand() throws {
        // 0 a, 1 (, 2 b, 3 [, 4 a, 5 b, 6 ], 7 a, 8 ), 9 (, 10 ], 11 b, 12 ), 13 a, 14 )
        let text = "a(b[ab]a)(]b)a)"
        let ids = try Self.vocabulary.encode(text).ids
        let model = Self.model()
        // Targets by hand: ] at 6 (opener 3), ) at 8 (opener 1), ) at 12 (opener 9); ] at 10 is
        // mismatched, ) at 14 unmatched.
        let targets: [(position: Int, distance: Int, expected: String)] = [(6, 3, "]"), (8, 7, ")"), (12, 3, ")")]
        let closers = DelimiterSet.standard.closers
        var correct = 0, probabilitySum = 0.0
        for target in targets {
            let p = Self.softmax(model, ids: ids, position: target.position)
            let candidates = closers.map { unit in Self.vocabulary.knownID(of: unit).map { p[Int($0)] } ?? 0 }
            let expected = candidates[closers.firstIndex(of: target.expected)!]
            if candidates.enumerated().allSatisfy({ $0.offset == closers.firstIndex(of: target.expected)! || $0.element < expected }) {
                correct += 1
            }
            probabilitySum += expected
        }
        // bptt 4: the targets fall in different windows, so the carried state matters.
        let (result, entropy) = try ModelLongRangeEvaluation.evaluate(model: model, ids: ids[...], vocabulary: Self.vocabulary,
                                                                      task: .delimiters, bptt: 4)
        #expect(result.overall.count == 3)
        #expect(result.buckets[0].count == 3 && result.buckets.dropFirst().allSatisfy { $0.count == 0 })
        #expect(result.overall.correct == correct)
        #expect(abs(result.overall.meanProbability! - probabilitySum / 3) < 1e-5)
        #expect(result.skipped == LongRangeResult.Skipped(unmatchedClosers: 1, mismatchedClosers: 1, unclosedOpeners: 0))
        #expect(result.label == "model" && result.task == .delimiters)

        // The same cross-entropy as the evaluator's batch-1 figure (its one-stream engine: equal up to rounding).
        let reference = try Evaluator.evaluate(model: model, ids: ids[...], batchSize: 1, bptt: 4, unknownUnits: 0)
        #expect(abs(entropy!.natsPerUnit - reference.natsPerUnit) < 1e-6 && entropy!.units == ids.count - 1)
    }

    @Test func candidateProbabilitiesAtEveryPositionMatchStepping() throws {
        let ids = try Self.vocabulary.encode("ab(ba[b]a)ab").ids
        let model = Self.model(seed: 9)
        let positions = Array(1..<ids.count)
        let candidateIDs = [Int?](arrayLiteral: 1, 2, nil, 5)
        let walk = try ModelLongRangeEvaluation.candidateProbabilities(model: model, ids: ids[...], positions: positions,
                                                                       candidateIDs: candidateIDs, bptt: 5)
        #expect(walk.probabilities.count == positions.count)
        for (position, p) in zip(positions, walk.probabilities) {
            let full = Self.softmax(model, ids: ids, position: position)
            #expect(p[2] == 0)
            for j in [0, 1, 3] { #expect(abs(p[j] - full[candidateIDs[j]!]) < 1e-5, "position \(position)") }
        }
        #expect(throws: DiagnosticsError.self) {
            try ModelLongRangeEvaluation.candidateProbabilities(model: model, ids: ids[...], positions: [3, 2],
                                                                candidateIDs: candidateIDs, bptt: 5)
        }
    }

    @Test func textWithoutDelimitersScoresNothing() throws {
        let ids = try Self.vocabulary.encode("abbaabab").ids
        let comparison = try LongRangeComparison(model: Self.model(), vocabulary: Self.vocabulary, scored: ids[...],
                                                 training: ids[...], task: .auto, ngramOrder: 3)
        #expect(comparison.task == .delimiters)
        #expect(comparison.report.results.map(\.label) == ["model", "3-gram"])
        #expect(comparison.report.results.allSatisfy { $0.isEmpty })
        #expect(comparison.report.results[0].table().contains("nothing to score"))
    }

    @Test func recallTextIsDetectedAndScoredOnTheKeys() throws {
        let text = try SyntheticCorpus(SyntheticOptions(task: .recall, size: 3000, maxDistance: 60, seed: 2)).text
        let corpus = try TokenCorpus.load(text: text, validationFraction: 0, testFraction: 0.5)
        let units = corpus.test.map { corpus.vocabulary.unit(of: $0) }
        #expect(LongRangeTaskChoice.detect(units: units) == .recall)
        #expect(LongRangeTaskChoice.detect(units: Array("a(b)c?d").map(String.init)) == .delimiters)
        #expect(LongRangeTaskChoice.delimiters.resolve(units: units) == .delimiters)
        let config = ModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: 8, hiddenSize: 8, layers: 1, cell: .gru)
        let comparison = try LongRangeComparison(model: LanguageModel<Float>(config: config, seed: 1),
                                                 vocabulary: corpus.vocabulary, scored: corpus.test, training: corpus.train,
                                                 task: .auto, ngramOrder: 4)
        #expect(comparison.task == .recall)
        let model = comparison.report.results[0], ngram = comparison.report.results[1]
        #expect(model.candidates == RecallScan.keys)
        #expect(model.overall.count == RecallScan(units: units).targets.count && model.overall.count > 10)
        #expect(ngram.label == "4-gram" && ngram.overall.count == model.overall.count)
        #expect(comparison.crossEntropy!.units == corpus.test.count - 1)
    }
}
