import Foundation
import Testing
@testable import CharRNN

@Suite struct MeanIntervalTests {
    @Test func fiveKnownSamples() throws {
        // 1…5: mean 3, s² = 10/4 = 2.5, half width = t(4) · √2.5 / √5 = 2.7764 · 0.70711 = 1.96323.
        let interval = try #require(MeanInterval(samples: [1, 2, 3, 4, 5]))
        #expect(interval.count == 5 && interval.mean == 3)
        #expect(abs(try #require(interval.standardDeviation) - 2.5.squareRoot()) < 1e-12)
        #expect(abs(try #require(interval.halfWidth) - 1.96323) < 1e-4)
        #expect(abs(interval.lower - 1.03677) < 1e-4 && abs(interval.upper - 4.96323) < 1e-4)
        #expect(interval.formatted("%.2f") == "3.00 ± 1.96")
    }

    @Test func threeSeedsAsInTheExperiment() throws {
        // 0.90, 0.94, 0.98: mean 0.94, s = 0.04, half width = 4.3027 · 0.04 / √3 = 0.099367.
        let interval = try #require(MeanInterval(samples: [0.98, 0.90, 0.94]))
        #expect(abs(interval.mean - 0.94) < 1e-12)
        #expect(abs(try #require(interval.standardDeviation) - 0.04) < 1e-12)
        #expect(abs(try #require(interval.halfWidth) - 0.099367) < 1e-5)
        // Two seeds: t(1) = 12.7062; 0 and 1 give s = √0.5 and half width 12.7062 · √0.5 / √2 = 6.3531.
        let two = try #require(MeanInterval(samples: [0, 1]))
        #expect(abs(try #require(two.halfWidth) - 6.3531) < 1e-4)
    }

    @Test func equalSamplesHaveZeroWidthAndOneSampleNone() throws {
        let same = try #require(MeanInterval(samples: [0.5, 0.5, 0.5]))
        #expect(same.halfWidth == 0 && same.formatted() == "0.500 ± 0.000")
        let one = try #require(MeanInterval(samples: [0.25]))
        #expect(one.halfWidth == nil && one.standardDeviation == nil && one.lower == 0.25 && one.formatted() == "0.250")
        #expect(MeanInterval(samples: []) == nil)
        #expect(MeanInterval(samples: [1, .nan]) == nil)
    }

    @Test func knownQuantiles() {
        #expect(MeanInterval.studentT975(degreesOfFreedom: 0) == nil)
        #expect(MeanInterval.studentT975(degreesOfFreedom: 1) == 12.7062)
        #expect(MeanInterval.studentT975(degreesOfFreedom: 2) == 4.3027)
        #expect(MeanInterval.studentT975(degreesOfFreedom: 10) == 2.2281)
        #expect(MeanInterval.studentT975(degreesOfFreedom: 30) == 2.0423)
        // Between table entries: the next smaller tabulated ν (wider).
        #expect(MeanInterval.studentT975(degreesOfFreedom: 45) == 2.0211)
        #expect(MeanInterval.studentT975(degreesOfFreedom: 500) == 1.9799)
        // Decreasing in ν and above the normal quantile.
        let values = (1...200).compactMap { MeanInterval.studentT975(degreesOfFreedom: $0) }
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 >= $1 } && values.allSatisfy { $0 > 1.96 })
    }

    /// The tabulated quantiles are where the t distribution's CDF reaches 0.975: integrate the density
    /// Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) · (1 + t²/ν)^(−(ν+1)/2) from 0 to q (Simpson) and compare with 0.475.
    @Test func tableAgreesWithTheDensity() throws {
        for nu in [1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 40, 60, 120] {
            let q = try #require(MeanInterval.studentT975(degreesOfFreedom: nu))
            let v = Double(nu)
            let c = exp(lgamma((v + 1) / 2) - lgamma(v / 2)) / (v * Double.pi).squareRoot()
            func density(_ t: Double) -> Double { c * pow(1 + t * t / v, -(v + 1) / 2) }
            let n = 20_000
            let h = q / Double(n)
            var sum = density(0) + density(q)
            for i in 1..<n { sum += density(Double(i) * h) * (i % 2 == 1 ? 4 : 2) }
            let area = sum * h / 3
            // 4 decimals of q: the density near q is < 0.07, so the area is within 1e-5 of 0.475.
            #expect(abs(area - 0.475) < 1e-5, "ν = \(nu): area \(area)")
        }
    }
}
