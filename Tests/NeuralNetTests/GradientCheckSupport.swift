import Tensor
@testable import NeuralNet

/// Relative error |a − b| / max(|a| + |b|, floor). The floor (1e-4) keeps gradients that are
/// practically zero from turning finite-difference noise into large ratios: for them the check is
/// effectively absolute, |a − b| < bound · 1e-4.
func relativeError(_ a: Double, _ b: Double, floor: Double = 1e-4) -> Double {
    abs(a - b) / max(abs(a) + abs(b), floor)
}

/// Central difference (f(x+h) − f(x−h)) / 2h of `loss` with respect to `pointer[index]`, restoring
/// the value afterwards. In Double with h = 1e-6, truncation is ~h²·f''' ≈ 1e-12 and rounding
/// ~ε·|f|/h ≈ 1e-10, so analytic and numeric gradients agree to ~1e-7 relative or better.
func numericGradient(_ pointer: UnsafeMutablePointer<Double>, _ index: Int, step: Double = 1e-6,
                     loss: () -> Double) -> Double {
    let saved = pointer[index]
    pointer[index] = saved + step
    let plus = loss()
    pointer[index] = saved - step
    let minus = loss()
    pointer[index] = saved
    return (plus - minus) / (2 * step)
}

/// Worst relative error over all elements of a buffer (analytic gradient in `analytic`).
func worstError(values: UnsafeMutablePointer<Double>, count: Int, analytic: [Double],
                loss: () -> Double) -> (error: Double, index: Int) {
    var worst = (error: 0.0, index: -1)
    for i in 0..<count {
        let numeric = numericGradient(values, i, loss: loss)
        let e = relativeError(numeric, analytic[i])
        if e > worst.error { worst = (e, i) }
    }
    return worst
}

/// Deterministic test data.
func randomArray(_ count: Int, scale: Double = 1, seed: UInt64) -> [Double] {
    var rng = RNG(seed: seed)
    return (0..<count).map { _ in rng.uniform(-scale, scale) }
}

func randomIDs(_ count: Int, below v: Int, seed: UInt64) -> [Int32] {
    var rng = RNG(seed: seed)
    return (0..<count).map { _ in Int32(rng.next(below: UInt64(v))) }
}

/// A standalone recurrent layer with its own parameter set (uniform ±0.5 weights).
func makeLayer<S: Real>(_ cell: CellKind, inputSize: Int, hiddenSize: Int, seed: UInt64) -> RecurrentLayer<S> {
    var layout = ParameterLayout()
    let g = cell.gateCount * hiddenSize
    let wih = layout.add("rnn.weight_ih_l0", shape: [g, inputSize])
    let whh = layout.add("rnn.weight_hh_l0", shape: [g, hiddenSize])
    let bih = layout.add("rnn.bias_ih_l0", shape: [g])
    let bhh = layout.add("rnn.bias_hh_l0", shape: [g])
    let set = ParameterSet<S>(layout: layout)
    var rng = RNG(seed: seed)
    Initializers.uniform(set.values.pointer, bound: 0.5, rng: &rng)
    return RecurrentLayer(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, parameters: set,
                          weightIH: wih, weightHH: whh, biasIH: bih, biasHH: bhh)
}

/// One cell kind with one skip wiring, for tests that run every combination.
struct CellSkipCase: CustomStringConvertible, Sendable {
    let cell: CellKind, skip: SkipMode
    var description: String { "\(cell)-\(skip)" }

    /// Every cell with every skip mode.
    static let all = CellKind.allCases.flatMap { c in SkipMode.allCases.map { CellSkipCase(cell: c, skip: $0) } }
}
