import Foundation
import Testing
@testable import CharRNN
import TestSupport

@Suite struct NGramTests {
    // Units a = 0, b = 1, c = 2; training "ababa".
    let model = try! NGramModel(order: 2, vocabularySize: 3, training: [0, 1, 0, 1, 0])

    @Test func unigramInterpolatesWithUniform() {
        // c = {a: 3, b: 2}, total 5, T = 2: P(w) = (c(w) + 2 · 1/3) / 7.
        let empty: [Int32] = []
        #expect(abs(model.probability(of: 0, context: empty) - 11.0 / 21.0) < 1e-12)
        #expect(abs(model.probability(of: 1, context: empty) - 8.0 / 21.0) < 1e-12)
        #expect(abs(model.probability(of: 2, context: empty) - 2.0 / 21.0) < 1e-12)
    }

    @Test func bigramHandComputed() {
        // After a: {b: 2}, total 2, T 1 → P(w|a) = (c(a w) + P(w)) / 3.
        #expect(abs(model.probability(of: 1, context: [0]) - 50.0 / 63.0) < 1e-12)
        #expect(abs(model.probability(of: 0, context: [0]) - 11.0 / 63.0) < 1e-12)
        #expect(abs(model.probability(of: 2, context: [0]) - 2.0 / 63.0) < 1e-12)
        #expect(abs(model.probability(of: 0, context: [1]) - 53.0 / 63.0) < 1e-12)
        // Unseen context c backs off to the unigram; longer contexts use only the last unit (n = 2).
        #expect(abs(model.probability(of: 0, context: [2]) - 11.0 / 21.0) < 1e-12)
        #expect(abs(model.probability(of: 1, context: [2, 1, 0]) - 50.0 / 63.0) < 1e-12)
        let distribution = model.distribution(context: [Int32(0)])
        #expect(abs(distribution[0] - 11.0 / 63.0) < 1e-12 && abs(distribution[1] - 50.0 / 63.0) < 1e-12)
        #expect(abs(distribution.reduce(0, +) - 1) < 1e-12)
    }

    @Test func heldOutNatsPerUnit() throws {
        // "abc": P(a) = 11/21, P(b|a) = 50/63, P(c|b) = (0 + 2/21) / 3 = 2/63.
        let expected = -(log(11.0 / 21.0) + log(50.0 / 63.0) + log(2.0 / 63.0)) / 3
        let nats = try #require(model.crossEntropy([0, 1, 2]))
        #expect(abs(nats - expected) < 1e-12)
        #expect(model.crossEntropy([]) == nil)
    }

    @Test func higherOrderDistributionsSumToOne() throws {
        let ids: [Int32] = (0..<500).map { Int32(($0 * 7 + $0 / 3) % 5) }
        let m = try NGramModel(order: 4, vocabularySize: 6, training: ids)
        for context in [[], [1], [1, 2], [3, 1, 2], [5, 5, 5], [0, 1, 2, 3, 4]] as [[Int32]] {
            let p = m.distribution(context: context)
            #expect(abs(p.reduce(0, +) - 1) < 1e-9)
            #expect(p.allSatisfy { $0 > 0 })
            for w in 0..<6 { #expect(abs(p[w] - m.probability(of: Int32(w), context: context)) < 1e-12) }
        }
        // The training sequence is very predictable at order 4; held-out copy of it is far below uniform.
        #expect(try #require(m.crossEntropy(Array(ids.prefix(100)))) < log(6.0) / 2)
    }

    @Test func badInputThrowsNamedErrors() {
        #expect(throws: NGramError.idOutOfRange(index: 1, id: 7, vocabularySize: 3)) {
            try NGramModel(order: 3, vocabularySize: 3, training: [0, 7])
        }
        #expect(throws: NGramError.invalidOrder(0)) { try NGramModel(order: 0, vocabularySize: 3, training: []) }
        #expect("\(NGramError.invalidOrder(0))".contains("order"))
    }

    @Test func longRangeBeyondTheWindowIsGuesswork() throws {
        // Pairs "(a)" and "[a]" (distance 2) and "(aaaaa)" / "[aaaaa]" (distance 6), equally often.
        let unitForID = ["a", "(", ")", "[", "]", " "]
        let text = String(repeating: "(a) [a] (aaaaa) [aaaaa] ", count: 40)
        let ids = text.map { Int32(unitForID.firstIndex(of: String($0))!) }
        let m = try NGramModel(order: 3, vocabularySize: unitForID.count, training: ids)
        let result = m.longRangeDelimiters(ids: ids, unitForID: unitForID)
        #expect(result.label == "3-gram")
        #expect(result.overall.count == 160)
        // Distance 2: the opener is inside the 2-unit context → always right.
        // Distance 6: context "aa" is followed by ")" and "]" equally often → tie → counted wrong.
        #expect(result.buckets[0].count == 160)
        #expect(result.overall.correct == 80)
    }

    @Test func recallWithTheNGram() throws {
        let unitForID = ["@", "?", "\n", "A", "B", "x"]
        let text = String(repeating: "@Axxxx?A\n@Bxxxx?B\n", count: 20)
        let ids = text.map { Int32(unitForID.firstIndex(of: String($0))!) }
        let m = try NGramModel(order: 3, vocabularySize: unitForID.count, training: ids)
        let result = m.longRangeRecall(ids: ids, unitForID: unitForID)
        #expect(result.overall.count == 40)
        // Context "x?" cannot tell A from B: a tie every time.
        #expect(result.overall.correct == 0)
        let wide = try NGramModel(order: 8, vocabularySize: unitForID.count, training: ids)
        #expect(wide.longRangeRecall(ids: ids, unitForID: unitForID).overall.correct == 40)
    }
}

@Suite struct NGramShippedCorpusTests {
    /// The 5-gram baseline on the shipped brackets corpus: near-perfect within its 4-unit context,
    /// close to a guess among three bracket types far away.
    @Test func fiveGramOnSyntheticBrackets() throws {
        let url = TestSupport.SharedCorpora.projectRoot.appendingPathComponent("corpora/synth/brackets.txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("corpora/synth/brackets.txt is missing"); return
        }
        let units = text.map(String.init)
        let unitForID = Array(Set(units)).sorted()
        let idOf = Dictionary(uniqueKeysWithValues: unitForID.enumerated().map { ($0.element, Int32($0.offset)) })
        let ids = units.map { idOf[$0]! }
        let split = ids.count * 9 / 10
        let model = try NGramModel(order: 5, vocabularySize: unitForID.count, training: Array(ids[..<split]))
        let heldOut = Array(ids[split...])
        let nats = try #require(model.crossEntropy(heldOut))
        let result = model.longRangeDelimiters(ids: heldOut, unitForID: unitForID)
        print(String(format: "5-gram held-out: %.4f nats/unit", nats))
        print(result.table())
        // Random-letter filler is unpredictable: a trigram gets close to the letters' entropy, while
        // the 5-gram's sparse 4-unit contexts overfit (Witten–Bell gives a context seen once half its mass).
        let trigram = try NGramModel(order: 3, vocabularySize: unitForID.count, training: Array(ids[..<split]))
        let trigramNats = try #require(trigram.crossEntropy(heldOut))
        print(String(format: "3-gram held-out: %.4f nats/unit", trigramNats))
        #expect(trigramNats < log(Double(unitForID.count)))
        #expect(trigramNats < nats)
        #expect(result.overall.count > 500)
        let near = try #require(result.buckets[0].typeAccuracy)
        let far = result.buckets[1...4].reduce(0) { $0 + $1.correct }
        let farCount = result.buckets[1...4].reduce(0) { $0 + $1.count }
        #expect(farCount > 100)
        #expect(near > 0.6)
        #expect(Double(far) / Double(farCount) < 0.45)
    }
}
