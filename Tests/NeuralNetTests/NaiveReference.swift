import Foundation
import Tensor
@testable import NeuralNet

/// A deliberately plain re-implementation of the model's forward pass: one step, one stream, one
/// output element at a time, straight from the PyTorch formulas, with libm nonlinearities and no
/// BLAS. It shares nothing with the fast path except the parameter values (read by name).
struct NaiveReference {
    let config: ModelConfig
    let tensors: [String: [Double]]
    /// Mixed precision: every operand of every product W·x rounded to bf16 (`OperandPrecision.bf16`).
    let roundsOperands: Bool

    init<S: Real>(model: LanguageModel<S>, operands: OperandPrecision = .f32) {
        config = model.config
        roundsOperands = operands == .bf16
        var t: [String: [Double]] = [:]
        for slot in model.parameters.layout.slots {
            t[slot.name] = model.parameters.values(slot).map { Double($0) }
        }
        tensors = t
    }

    /// y = W x + b for a row-major rows×x.count matrix W.
    func affine(_ w: [Double], _ b: [Double]?, _ x: [Double]) -> [Double] {
        let cols = x.count, rows = w.count / cols
        return (0..<rows).map { r in
            var s = b?[r] ?? 0
            for j in 0..<cols { s += rounded(w[r * cols + j]) * rounded(x[j]) }
            return s
        }
    }

    func rounded(_ x: Double) -> Double { roundsOperands ? Double(OperandPrecision.roundedToBF16(Float(x))) : x }

    func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// Runs T steps for B streams; `h`, `c` are [layer][stream][H] and are updated to the final
    /// state. Returns logits [t][b][V] and per-token losses [t][b].
    func run(inputs: [Int32], targets: [Int32], batch: Int, h: inout [[[Double]]], c: inout [[[Double]]])
        -> (logits: [[[Double]]], losses: [[Double]]) {
        let steps = inputs.count / batch, e = config.embeddingSize, hs = config.hiddenSize
        var logits: [[[Double]]] = [], losses: [[Double]] = []
        for t in 0..<steps {
            var stepLogits: [[Double]] = [], stepLosses: [Double] = []
            for b in 0..<batch {
                let id = Int(inputs[t * batch + b])
                let x = Array(tensors["encoder.weight"]![(id * e)..<((id + 1) * e)])
                var below = x
                var layerOutputs: [[Double]] = []
                for k in 0..<config.layers {
                    var input = below
                    if k > 0 && config.skip == .dense { input = x + below }
                    let gi = affine(tensors["rnn.weight_ih_l\(k)"]!, tensors["rnn.bias_ih_l\(k)"]!, input)
                    let gh = affine(tensors["rnn.weight_hh_l\(k)"]!, tensors["rnn.bias_hh_l\(k)"]!, h[k][b])
                    var newH = [Double](repeating: 0, count: hs)
                    switch config.cell {
                    case .rnn:
                        for j in 0..<hs { newH[j] = tanh(gi[j] + gh[j]) }
                    case .lstm:
                        for j in 0..<hs {
                            let i = sigmoid(gi[j] + gh[j]), f = sigmoid(gi[hs + j] + gh[hs + j])
                            let g = tanh(gi[2 * hs + j] + gh[2 * hs + j]), o = sigmoid(gi[3 * hs + j] + gh[3 * hs + j])
                            c[k][b][j] = f * c[k][b][j] + i * g
                            newH[j] = o * tanh(c[k][b][j])
                        }
                    case .gru:
                        for j in 0..<hs {
                            let r = sigmoid(gi[j] + gh[j]), z = sigmoid(gi[hs + j] + gh[hs + j])
                            let n = tanh(gi[2 * hs + j] + r * gh[2 * hs + j])
                            newH[j] = (1 - z) * n + z * h[k][b][j]
                        }
                    }
                    h[k][b] = newH
                    var out = newH
                    if config.skip == .residual && k > 0 { for j in 0..<hs { out[j] += input[j] } }
                    layerOutputs.append(out)
                    below = out
                }
                let decoderIn = config.skip == .dense ? layerOutputs.flatMap { $0 } : below
                let l = affine(tensors["decoder.weight"]!, tensors["decoder.bias"]!, decoderIn)
                let m = l.max()!
                let lse = m + log(l.map { exp($0 - m) }.reduce(0, +))
                stepLogits.append(l)
                stepLosses.append(lse - l[Int(targets[t * batch + b])])
            }
            logits.append(stepLogits)
            losses.append(stepLosses)
        }
        return (logits, losses)
    }
}
