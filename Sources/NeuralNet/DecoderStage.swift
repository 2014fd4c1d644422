import Tensor

/// The linear decoder: logits = input · decoder.weightᵀ + decoder.bias, T·B×V from an input of
/// T·B×D (D = `ModelPlan.decoderInputWidth`).
///
/// Named buffers: `logits` (T·B×V) and `inputGradient` (∂L/∂input, T·B×D, after backward). The
/// forward records the input it read, which backward needs for ∂L/∂weight.
final class DecoderStage<Scalar: Real> {
    let parameters: ParameterSet<Scalar>
    /// decoder.weight (V×D) and decoder.bias (V).
    let weight: ParameterSlot, bias: ParameterSlot
    /// V and D.
    let vocabularySize: Int, inputWidth: Int
    private var logitBuffer = AlignedBuffer<Scalar>(count: 0)      // T·B×V
    private var inputGradientBuffer = AlignedBuffer<Scalar>(count: 0)  // T·B×D
    /// Rows the workspaces hold.
    private(set) var capacity = 0
    /// The input of the last forward (T·B×D, which the caller keeps unchanged until backward) and
    /// its row count; nil before the first forward.
    private(set) var record: (input: UnsafePointer<Scalar>, rows: Int)?

    init(parameters: ParameterSet<Scalar>, weight: ParameterSlot, bias: ParameterSlot) {
        self.parameters = parameters
        self.weight = weight; self.bias = bias
        vocabularySize = weight.shape[0]
        inputWidth = weight.shape[1]
    }

    /// Makes the workspaces hold `rows` rows. They only grow; growing forgets the last forward.
    func reserve(rows: Int) {
        guard rows > capacity else { return }
        capacity = rows
        logitBuffer = AlignedBuffer(count: rows * vocabularySize)
        inputGradientBuffer = AlignedBuffer(count: rows * inputWidth)
        record = nil
    }

    /// The logits of the last forward (T·B×V, row t·B + b).
    var logits: UnsafeMutablePointer<Scalar> { logitBuffer.pointer.baseAddress! }
    /// ∂L/∂input after backward (T·B×D).
    var inputGradient: UnsafeMutablePointer<Scalar> { inputGradientBuffer.pointer.baseAddress! }

    /// logits (n×V) = input (n×D) · weightᵀ + bias.
    func forward(input: UnsafePointer<Scalar>, rows n: Int, threads: Int, operands: OperandPrecision) {
        precondition(n <= capacity, "decoder: \(n) rows, the workspaces hold \(capacity) (reserve first)")
        let v = vocabularySize, d = inputWidth
        Kernels.broadcastRows(parameters.values(bias).baseAddress!, into: logits, rows: n, cols: v, threads: threads)
        ParallelGemm.gemm(threads: threads, operands: operands, transA: false, transB: true, m: n, n: v, k: d,
                          a: input, lda: d, b: parameters.values(weight).baseAddress!, ldb: d, c: logits, ldc: v,
                          accumulate: true)
        record = (input, n)
    }

    /// From ∂L/∂logits (the last forward's rows × V): adds ∂L/∂weight = dLogitsᵀ·input and
    /// ∂L/∂bias = column sums into the parameter gradients, and leaves ∂L/∂input = dLogits·weight in
    /// `inputGradient`.
    func backward(_ dLogits: UnsafePointer<Scalar>, threads: Int, operands: OperandPrecision) {
        guard let (input, n) = record else { preconditionFailure("decoder: backward needs a forward first") }
        let v = vocabularySize, d = inputWidth
        ParallelGemm.gemm(threads: threads, operands: operands, transA: true, transB: false, m: v, n: d, k: n,
                          a: dLogits, lda: v, b: input, ldb: d,
                          c: parameters.gradients(weight).baseAddress!, ldc: d, accumulate: true)
        Kernels.addColumnSums(dLogits, rows: n, cols: v, into: parameters.gradients(bias).baseAddress!, threads: threads)
        ParallelGemm.gemm(threads: threads, operands: operands, transA: false, transB: false, m: n, n: d, k: v,
                          a: dLogits, lda: v, b: parameters.values(weight).baseAddress!, ldb: d,
                          c: inputGradient, ldc: d, accumulate: false)
    }

    /// Base addresses of the workspaces (for tests that check nothing is reallocated).
    var workspaceAddresses: [UnsafeRawPointer] { [UnsafeRawPointer(logits), UnsafeRawPointer(inputGradient)] }
}
