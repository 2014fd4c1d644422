import Testing
import Tensor
@testable import NeuralNet

/// Finite-difference checks of one recurrent layer in Double: every parameter, every input element,
/// h0 and c0, through a loss that reads every output step and the final state:
/// L = Σ wY∘Y + Σ wH∘h_T + Σ wC∘c_T with fixed random weights.
@Suite struct LayerGradientTests {
    static let bound = 1e-5

    @Test(arguments: CellKind.allCases)
    func layerGradientsMatchFiniteDifferences(cell: CellKind) {
        let inSize = 3, h = 4, t = 4, b = 2
        let layer: RecurrentLayer<Double> = makeLayer(cell, inputSize: inSize, hiddenSize: h, seed: 11)
        layer.reserve(maxSteps: t, batchSize: b)
        let x = AlignedBuffer(randomArray(t * b * inSize, seed: 1))
        let h0 = AlignedBuffer(randomArray(b * h, scale: 0.5, seed: 2))
        let c0 = AlignedBuffer(randomArray(b * h, scale: 0.5, seed: 3))
        let wY = randomArray(t * b * h, seed: 4), wH = randomArray(b * h, seed: 5), wC = randomArray(b * h, seed: 6)
        let isLSTM = cell == .lstm

        func loss() -> Double {
            layer.forward(input: x.pointer.baseAddress!, steps: t, h0: h0.pointer.baseAddress!,
                          c0: isLSTM ? c0.pointer.baseAddress! : nil)
            var total = 0.0
            for i in 0..<(t * b * h) { total += wY[i] * layer.output[i] }
            let hT = layer.finalH(steps: t)
            for i in 0..<(b * h) { total += wH[i] * hT[i] }
            if isLSTM { let cT = layer.finalC(steps: t); for i in 0..<(b * h) { total += wC[i] * cT[i] } }
            return total
        }

        _ = loss()
        layer.parameters.zeroGradients()
        wY.withUnsafeBufferPointer { wy in wH.withUnsafeBufferPointer { wh in wC.withUnsafeBufferPointer { wc in
            layer.backward(outputGradient: wy.baseAddress!, steps: t, finalHGradient: wh.baseAddress!,
                           finalCGradient: isLSTM ? wc.baseAddress! : nil)
        }}}
        let paramGrads = layer.parameters.gradients.array
        let dX = Array(UnsafeBufferPointer(start: layer.inputGradient, count: t * b * inSize))
        let dH0 = Array(UnsafeBufferPointer(start: layer.initialHGradient, count: b * h))
        let dC0 = Array(UnsafeBufferPointer(start: layer.initialCGradient, count: b * h))

        let p = worstError(values: layer.parameters.values.pointer.baseAddress!, count: paramGrads.count,
                           analytic: paramGrads, loss: loss)
        #expect(p.error < Self.bound, "parameters: worst \(p)")
        let xe = worstError(values: x.pointer.baseAddress!, count: x.count, analytic: dX, loss: loss)
        #expect(xe.error < Self.bound, "input: worst \(xe)")
        let he = worstError(values: h0.pointer.baseAddress!, count: h0.count, analytic: dH0, loss: loss)
        #expect(he.error < Self.bound, "h0: worst \(he)")
        if isLSTM {
            let ce = worstError(values: c0.pointer.baseAddress!, count: c0.count, analytic: dC0, loss: loss)
            #expect(ce.error < Self.bound, "c0: worst \(ce)")
        }
        // The gradients are not trivially zero.
        #expect(paramGrads.contains { abs($0) > 1e-3 } && dX.contains { abs($0) > 1e-3 })
    }
}
