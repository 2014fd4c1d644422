import Foundation
import Testing
@testable import CharRNN

@Suite struct SamplingTests {
    /// Draws with evenly spaced uniforms and returns how often each id came out.
    func histogram(_ logits: [Float], _ options: SamplingOptions, draws: Int = 10_000) -> [Int] {
        var sampler = TokenSampler(options: options, vocabularySize: logits.count)
        var counts = [Int](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { row in
            for draw in 0..<draws {
                counts[Int(sampler.sample(logits: row, uniform: (Double(draw) + 0.5) / Double(draws)))] += 1
            }
        }
        return counts
    }

    let logits: [Float] = [log(0.1), log(0.2), log(0.3), log(0.4)]

    @Test func plainSamplingFollowsTheSoftmax() {
        #expect(histogram(logits, SamplingOptions()) == [1000, 2000, 3000, 4000])
    }

    @Test func temperatureReshapesTheDistribution() {
        // At T = 0.5 probabilities become p² / Σp² = (1, 4, 9, 16) / 30.
        let counts = histogram(logits, SamplingOptions(temperature: 0.5), draws: 30_000)
        #expect(counts == [1000, 4000, 9000, 16000])
    }

    @Test func topKKeepsTheKMostProbable() {
        // Top 2: ids 3 and 2 renormalized to 4/7 and 3/7.
        let counts = histogram(logits, SamplingOptions(topK: 2), draws: 7000)
        #expect(counts == [0, 0, 3000, 4000])
    }

    @Test func topPKeepsTheSmallestNucleus() {
        // 0.4 + 0.3 = 0.7 ≥ 0.65: ids 3 and 2 only.
        #expect(histogram(logits, SamplingOptions(topP: 0.65), draws: 7000) == [0, 0, 3000, 4000])
        // 0.4 + 0.3 + 0.2 = 0.9 ≥ 0.71.
        #expect(histogram(logits, SamplingOptions(topP: 0.71), draws: 9000) == [0, 2000, 3000, 4000])
    }

    @Test func greedyTakesTheArgmax() {
        #expect(histogram(logits, SamplingOptions(greedy: true), draws: 10) == [0, 0, 0, 10])
    }

    @Test func invalidOptionsAreNamed() {
        #expect(throws: SamplingError.self) { try SamplingOptions(temperature: 0).validate() }
        #expect(throws: SamplingError.self) { try SamplingOptions(temperature: -1).validate() }
        #expect(throws: SamplingError.self) { try SamplingOptions(topP: 0).validate() }
        #expect(throws: SamplingError.self) { try SamplingOptions(topP: 1.5).validate() }
        #expect(throws: Never.self) { try SamplingOptions(temperature: 0.7, topK: 5, topP: 1).validate() }
        do { try SamplingOptions(topP: 2).validate() } catch { #expect("\(error)".hasPrefix("--top-p")) }
    }
}
