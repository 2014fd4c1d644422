import Foundation
import Testing
import Tensor
@testable import CharRNN
import NeuralNet

/// The cell search on synthetic activation matrices, and gate saturation on hand-made gate values.
@Suite struct CellSearchTests {
    /// N steps × H units of noise in (−1, 1) for `layers` layers (h, and c for LSTM).
    static func noise(steps n: Int, hidden h: Int, layers: Int, seed: UInt64) -> [[Float]] {
        var rng = RNG(seed: seed)
        return (0..<layers).map { _ in (0..<(n * h)).map { _ in Float(rng.nextDouble() * 2 - 1) } }
    }

    @Test func plantedUnitIsFoundAndUnrelatedUnitsAreNot() {
        let n = 2000, h = 24
        // The property: a quote-like on/off signal in stretches.
        let property = (0..<n).map { t in (t / 37) % 3 == 0 ? 1.0 : 0.0 }
        var hidden = Self.noise(steps: n, hidden: h, layers: 2, seed: 7)
        var cells = Self.noise(steps: n, hidden: h, layers: 2, seed: 8)
        // Planted: c1:13 = −(property) + noise (a unit that goes negative inside).
        var rng = RNG(seed: 9)
        for t in 0..<n { cells[1][t * h + 13] = Float(-property[t] + 0.3 * (rng.nextDouble() - 0.5)) }
        // A weaker one: h0:5 follows the property half the time.
        for t in 0..<n where t % 2 == 0 { hidden[0][t * h + 5] = Float(property[t] * 0.8) }
        let activations = CellActivations(cell: .lstm, hiddenSize: h, steps: n, hidden: hidden, cellStates: cells)
        let top = CellSearch.topUnits(activations, property: property, count: 5, threshold: 0.2)
        #expect(top.first?.unit == UnitID(state: .c, layer: 1, index: 13))
        #expect((top.first?.r ?? 0) < -0.95)
        #expect(top.count == 2, "only the two planted units pass |r| ≥ 0.2: \(top)")
        #expect(top.dropFirst().first?.unit == UnitID(state: .h, layer: 0, index: 5))
        // With no threshold, the noise units come after, all far below the planted one.
        let all = CellSearch.topUnits(activations, property: property, count: 200, threshold: 0)
        #expect(all.count == 2 * 2 * h)
        #expect(all.dropFirst(2).allSatisfy { abs($0.r) < 0.1 })
        // A constant property has no correlated unit.
        #expect(CellSearch.topUnits(activations, property: Array(repeating: 1, count: n), count: 5).isEmpty)
    }

    @Test func pearsonOnKnownSamples() throws {
        #expect(try #require(CellSearch.pearson([1, 2, 3, 4], [2, 4, 6, 8])) == 1)
        #expect(try #require(CellSearch.pearson([1, 2, 3, 4], [8, 6, 4, 2])) == -1)
        // x = 1…5, y = 2, 1, 4, 3, 5: Σdxdy = 8, Σdx² = 10, Σdy² = 10 → r = 0.8.
        #expect(abs(try #require(CellSearch.pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])) - 0.8) < 1e-12)
        #expect(CellSearch.pearson([1, 1, 1], [1, 2, 3]) == nil)
        // The column form agrees with the pairwise one.
        let matrix: [Float] = [1, 5, 2, 5, 3, 5, 4, 5, 5, 5]      // 5 rows × 2 columns, column 1 constant
        let rs = CellSearch.correlations(matrix: matrix, columns: 2, property: [2, 1, 4, 3, 5])
        #expect(abs((rs[0] ?? 0) - 0.8) < 1e-9)
        #expect(rs[1] == nil)
    }

    @Test func unitNamesRoundTrip() {
        #expect(UnitID(parsing: "h0:17") == UnitID(state: .h, layer: 0, index: 17))
        #expect(UnitID(parsing: "c2:3")?.description == "c2:3")
        for bad in ["x0:1", "h0", "h:1", "h0:-1", "h0:1:2", "", "c1:a"] { #expect(UnitID(parsing: bad) == nil, "\(bad)") }
    }

    @Test func gateSaturationSharesOnHandMadeGates() {
        // LSTM, H = 2, N = 4 steps; blocks i, f, g, o of 2 units each.
        let rows: [[Float]] = [
            // i0   i1    f0    f1    g0   g1   o0    o1
            [0.05, 0.50, 0.95, 0.95, -1, 1, 0.50, 0.09],
            [0.05, 0.50, 0.95, 0.05, -1, 1, 0.50, 0.09],
            [0.20, 0.91, 0.95, 0.50, -1, 1, 0.50, 0.09],
            [0.05, 0.99, 0.10, 0.90, -1, 1, 0.50, 0.09],
        ]
        let gates = rows.flatMap { $0 }
        let activations = CellActivations(cell: .lstm, hiddenSize: 2, steps: 4, hidden: [Array(repeating: 0, count: 8)],
                                          cellStates: [Array(repeating: 0, count: 8)], gates: [gates])
        let all = GateSaturation.all(activations)
        #expect(all.map(\.gate) == ["input", "forget", "output"])      // g is the tanh candidate, not a gate
        let input = all[0], forget = all[1], output = all[2]
        #expect(input.unitLeft == [0.75, 0] && input.unitRight == [0, 0.5])
        #expect(input.leftShare == 3.0 / 8 && input.rightShare == 2.0 / 8)
        // 0.10 and 0.90 are not saturated (strict bounds).
        #expect(forget.unitLeft == [0, 0.25] && forget.unitRight == [0.75, 0.25])
        #expect(forget.leftShare == 1.0 / 8 && forget.rightShare == 4.0 / 8)
        #expect(output.unitLeft == [0, 1] && output.rightShare == 0)
        #expect(GateSaturation.gates(of: .gru).map(\.name) == ["reset", "update"])
        #expect(GateSaturation.all(CellActivations(cell: .rnn, hiddenSize: 2, steps: 4, hidden: [Array(repeating: 0, count: 8)])).isEmpty)
    }

    @Test func recordingMemoryIsCheckedAgainstTheMachine() throws {
        let config = ModelConfig(vocabularySize: 6, embeddingSize: 4, hiddenSize: 5, layers: 2, cell: .lstm, skip: .none, dropout: 0)
        // Per step: 2 layers × 5 units × (h + c + 4 gates) floats.
        #expect(CellActivations.memoryNeed(steps: 10, config: config) == 10 * 2 * 5 * 6 * 4)
        #expect(CellActivations.memoryNeed(steps: Int.max / 2, config: config) == nil)
        try CellActivations.checkMemory(steps: 10, config: config, available: 2400)
        #expect(throws: (any Error).self) { try CellActivations.checkMemory(steps: 11, config: config, available: 2400) }
        do { try CellActivations.checkMemory(steps: 11, config: config, available: 2400) } catch {
            #expect("\(error)".hasPrefix("--length 11: recording every unit of the model would need"))
        }
    }

    @Test func recordingMatchesTheModelsOwnWindow() throws {
        // Recording in windows of 7 must give the same h as one forward over the whole text.
        let config = ModelConfig(vocabularySize: 6, embeddingSize: 4, hiddenSize: 5, layers: 2, cell: .lstm, skip: .none, dropout: 0.3)
        let model = LanguageModel<Float>(config: config, seed: 3)
        let ids: [Int32] = (0..<40).map { Int32(($0 * 7 + $0 / 3) % 6) }
        let rng = model.dropoutRNG.stateWords
        let recorded = CellActivations.record(model: model, ids: ids, window: 7)
        #expect(model.dropoutRNG.stateWords == rng)                      // no dropout drawn
        let state = RecurrentState<Float>(config: config, batchSize: 1)
        model.forward(inputs: ids, targets: ids, batchSize: 1, state: state, training: false)
        for k in 0..<2 {
            let whole = Array(UnsafeBufferPointer(start: model.layers[k].output, count: 40 * 5))
            let cells = Array(UnsafeBufferPointer(start: model.layers[k].cellStates, count: 40 * 5))
            #expect(zip(whole, recorded.hidden[k]).allSatisfy { abs($0 - $1) < 1e-5 })
            #expect(zip(cells, recorded.cellStates[k]).allSatisfy { abs($0 - $1) < 1e-5 })
            // Gates are σ outputs in (0, 1) except the g block (tanh).
            let g = recorded.gates[k]
            #expect(g.count == 40 * 4 * 5)
            #expect((0..<40).allSatisfy { t in (0..<5).allSatisfy { j in g[t * 20 + 5 + j] > 0 && g[t * 20 + 5 + j] < 1 } })
        }
        #expect(recorded.series(UnitID(state: .c, layer: 1, index: 2), count: 3)
                == [recorded.cellStates[1][2], recorded.cellStates[1][7], recorded.cellStates[1][12]])
    }
}
