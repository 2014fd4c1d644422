import Foundation
import Testing
@testable import CharRNN

@Suite struct ReportGradientFlowTests {
    @Test func decayFactorOfGeometricSequences() throws {
        for ratio in [0.5, 0.9, 1.0, 1.1] {
            let norms = (0..<40).map { 3.0 * pow(ratio, Double($0)) }
            let fitted = try #require(GradientFlowFit.decayFactor(norms))
            #expect(abs(fitted - ratio) < 1e-9)
        }
        // Zeros are left out of the fit.
        let withZeros = [4.0, 2.0, 0.0, 0.5, 0.0]
        #expect(abs(try #require(GradientFlowFit.decayFactor(withZeros)) - 0.5) < 1e-12)
        #expect(GradientFlowFit.decayFactor([1.0]) == nil)
        #expect(GradientFlowFit.decayFactor([0, 0, 2]) == nil)
    }

    @Test func vanishDistanceIsFirstBelowTheRelativeThreshold() {
        let norms = (0..<30).map { pow(0.5, Double($0)) }
        // 0.5^19 ≈ 1.9e-6 ≥ 1e-6 > 0.5^20 ≈ 9.5e-7.
        #expect(GradientFlowFit.vanishDistance(norms) == 20)
        #expect(GradientFlowFit.vanishDistance(Array(norms.prefix(20))) == nil)
        #expect(GradientFlowFit.vanishDistance([0, 0]) == nil)
    }

    @Test func aggregationOverWindows() throws {
        // Two windows a·r^k and b·r^k: geometric mean √(ab)·r^k, max max(a, b)·r^k.
        let r = 0.8
        let w1 = (0..<10).map { 2.0 * pow(r, Double($0)) }
        let w2 = (0..<10).map { 8.0 * pow(r, Double($0)) }
        let layer = GradientFlowResult.Layer(layer: 1, windowNorms: [w1, w2], windowCellNorms: [w2, w2])
        for k in 0..<10 {
            #expect(abs(layer.norms[k] - 4.0 * pow(r, Double(k))) < 1e-12)
            #expect(layer.maxNorms[k] == w2[k])
            #expect(abs(layer.cellNorms![k] - w2[k]) < 1e-12)
        }
        #expect(abs(layer.decayFactor! - r) < 1e-9)
        #expect(layer.vanishDistance == nil)
        // A zero in one window makes that distance's geometric mean zero.
        #expect(GradientFlowFit.geometricMean([[1, 0], [4, 5]]) == [2, 0])
    }

    @Test func jsonUsesSnakeCaseKeys() throws {
        let layer = GradientFlowResult.Layer(layer: 0, windowNorms: [[1, 0.1, 0.01]])
        let result = GradientFlowResult(cell: "lstm", hidden: 128, length: 3, windows: 1,
                                        initialization: "xavier", layers: [layer])
        let text = String(decoding: try result.encoded(), as: UTF8.self)
        for key in ["\"layers\"", "\"decay_factor\"", "\"norms\"", "\"max_norms\"", "\"vanish_distance\"", "\"init\""] {
            #expect(text.contains(key), "missing \(key)")
        }
        #expect(try GradientFlowResult.decode(result.encoded()) == result)
        // An overflowing norm still writes and reads back.
        var overflowing = result
        overflowing.layers[0].maxNorms[0] = .infinity
        #expect(try GradientFlowResult.decode(overflowing.encoded()).layers[0].maxNorms[0] == .infinity)
    }
}
