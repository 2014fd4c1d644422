import Foundation
import Testing
@testable import CharRNN

/// The order-20 n-gram against probabilities worked out by hand from the counts of small texts
/// (interpolated Witten–Bell, see `NGramModel`).
@Suite struct NGramOrder20Tests {
    /// 21 distinct units 0…20 seen once each, in order. After the 19 units 1…19 every context of
    /// length k = 1…19 was seen once, followed by 20: c(h) = 1, T(h) = 1. The empty context has
    /// c = 21, T = 21, so p₀(w) = (c(w) + 21 · 1/21) / 42 = 1/21 for every w, and each longer context
    /// maps p to (c(h w) + p) / 2: P(20 | …) = 1 − (20/21)/2¹⁹, P(other) = (1/21)/2¹⁹.
    @Test func aChainOfUniqueUnitsGivesTheHandComputedProbabilities() throws {
        let ids = (0..<21).map(Int32.init)
        let model = try NGramModel(order: 20, vocabularySize: 21, training: ids)
        let context = Array(ids[1..<20])
        let scale = Double(1 << 19)
        let expectedNext = 1 - (20.0 / 21.0) / scale
        let expectedOther = (1.0 / 21.0) / scale
        #expect(abs(model.probability(of: 20, context: context) - expectedNext) < 1e-15)
        for other in 0..<20 {
            #expect(abs(model.probability(of: Int32(other), context: context) - expectedOther) < 1e-18)
        }
        // The distribution agrees with the single probabilities and sums to 1.
        let distribution = model.distribution(context: context)
        #expect(abs(distribution[20] - expectedNext) < 1e-15)
        #expect(abs(distribution.reduce(0, +) - 1) < 1e-12)
        // A 20th unit further back is ignored (contexts are at most 19 units).
        #expect(model.probability(of: 20, context: [0] + context) == model.probability(of: 20, context: context))
        // One unit less of context: 18 halvings instead of 19.
        let shorter = Array(ids[2..<20])
        #expect(abs(model.probability(of: 20, context: shorter) - (1 - (20.0 / 21.0) / Double(1 << 18))) < 1e-15)
    }

    /// Two sequences x S y and z S w with S = 18 distinct units (V = 22, x = 0, z = 1, y = 2, w = 3,
    /// S = 4…21). Empty context: c = 40, T = 22, c(y) = 1 → p₀ = 2/62 = 1/31. The 18 suffixes of S:
    /// c(h) = 2, T(h) = 2, c(h y) = 1 → p ↦ (1 + 2p)/4, so p₁₈ = 1/2 − (29/62)/2¹⁸. Only order 20
    /// reaches the 19-unit contexts x S (→ y once) and z S (→ w once): P(y | x S) = (1 + p₁₈)/2 and
    /// P(y | z S) = p₁₈/2; order 19 stops at p₁₈ for both.
    @Test func order20SeesExactlyNineteenUnitsBack() throws {
        let s = (4..<22).map(Int32.init)
        var model = try NGramModel(order: 20, vocabularySize: 22, training: [0] + s + [2])
        try model.add([1] + s + [3])
        var order19 = try NGramModel(order: 19, vocabularySize: 22, training: [0] + s + [2])
        try order19.add([1] + s + [3])
        let p18 = 0.5 - (29.0 / 62.0) / Double(1 << 18)
        #expect(abs(model.probability(of: 2, context: [0] + s) - (1 + p18) / 2) < 1e-15)
        #expect(abs(model.probability(of: 2, context: [1] + s) - p18 / 2) < 1e-15)
        #expect(abs(model.probability(of: 3, context: [1] + s) - (1 + p18) / 2) < 1e-15)
        #expect(abs(order19.probability(of: 2, context: [0] + s) - p18) < 1e-15)
        #expect(abs(order19.probability(of: 2, context: [1] + s) - p18) < 1e-15)
        // Held-out cross-entropy of "x S y" under order 20 adds up the same hand-computed terms:
        // unit 0 from the empty context, S's units, then y.
        let entropy = try #require(model.crossEntropy([0] + s + [2]))
        var sum = -log((1.0 + 22.0 / 22.0) / 62.0)           // x: c = 1 of 40, p₋₁ = 1/22
        var context: [Int32] = [0]
        for unit in s {
            sum -= log(model.probability(of: unit, context: context))
            context.append(unit)
        }
        sum -= log((1 + p18) / 2)
        #expect(abs(entropy - sum / 20) < 1e-12)
    }
}
