import Foundation
import Testing
@testable import CharRNN
import NeuralNet

/// Issue 11, class 7: a unit whose logit is −inf (the `<unk>` mask) or NaN is never drawn, whatever the
/// other logits are; and schedule floors may not exceed the learning rate (class 8).
@Suite struct SamplerNonFiniteTests {
    /// The ids drawn from `logits` with evenly spaced uniforms.
    func draws(_ logits: [Float], _ options: SamplingOptions, count: Int = 200) -> Set<Int32> {
        var sampler = TokenSampler(options: options, vocabularySize: logits.count)
        return logits.withUnsafeBufferPointer { row in
            Set((0..<count).map { sampler.sample(logits: row, uniform: (Double($0) + 0.5) / Double(count)) })
        }
    }

    static let allOptions = [SamplingOptions(), SamplingOptions(greedy: true), SamplingOptions(topK: 2),
                             SamplingOptions(topP: 0.5), SamplingOptions(temperature: 0.3)]

    @Test(arguments: allOptions) func maskedAndNaNUnitsAreNeverDrawn(options: SamplingOptions) {
        // id 0 masked as Generator masks <unk>; NaN at id 1; ids 2 and 3 are numbers.
        let drawn = draws([-.infinity, .nan, 0.5, 0.1], options)
        #expect(!drawn.contains(0) && !drawn.contains(1), "\(drawn)")
        // Every logit NaN but the mask: the fallback is not the masked id.
        #expect(!draws([-.infinity, .nan, .nan], options).contains(0))
        // Every logit −inf: the last id, never id 0.
        #expect(draws([-.infinity, -.infinity, -.infinity], options) == [2])
        // +inf logits share the probability; others get none.
        let infinite = draws([-.infinity, .infinity, 3, .infinity], options)
        #expect(infinite.isSubset(of: [1, 3]) && !infinite.isEmpty, "\(infinite)")
    }

    @Test func plusInfinityLogitsAreDrawnEvenly() {
        var sampler = TokenSampler(options: SamplingOptions(), vocabularySize: 4)
        let logits: [Float] = [-.infinity, .infinity, 3, .infinity]
        var counts = [Int](repeating: 0, count: 4)
        logits.withUnsafeBufferPointer { row in
            for draw in 0..<1000 { counts[Int(sampler.sample(logits: row, uniform: (Double(draw) + 0.5) / 1000))] += 1 }
        }
        #expect(counts == [0, 500, 0, 500])
    }

    @Test func scheduleFloorsMayNotExceedTheLearningRate() throws {
        #expect(throws: OptimConfigError.self) { try LRScheduleConfig.parse("cosine:1e30").validate(baseLearningRate: 2e-3) }
        #expect(throws: OptimConfigError.self) { try LRScheduleConfig.parse("plateau:0.5:2:0:0.1").validate(baseLearningRate: 0.01) }
        #expect(throws: OptimConfigError.self) { try LRScheduler(config: .parse("cosine:1"), baseLearningRate: 0.1, totalSteps: 10) }
        #expect(throws: OptimConfigError.self) { try LRScheduleConfig.parse("exp:1.5") }
        #expect(throws: OptimConfigError.self) { try LRScheduleConfig.parse("step:2:3") }
        try LRScheduleConfig.parse("cosine:1e-5").validate(baseLearningRate: 2e-3)
        try LRScheduleConfig.parse("cosine:0.002").validate(baseLearningRate: 2e-3)
        try LRScheduleConfig.parse("exp:1").validate(baseLearningRate: 2e-3)
        do {
            try LRScheduleConfig.parse("cosine:1e30").validate(baseLearningRate: 2e-3)
        } catch {
            #expect("\(error)".contains("--lr-schedule") && "\(error)".contains("MIN"), "\(error)")
        }
    }

    @Test func clippingRefusesNaNAndNegativeLikeValueClipping() {
        for bad in [Double.nan, -1, 0, .infinity] {
            #expect(throws: OptimConfigError.self) { try GradientClipping(maxNorm: bad).validate() }
            #expect(throws: OptimConfigError.self) { try GradientClipping(maxValue: bad).validate() }
        }
    }
}
