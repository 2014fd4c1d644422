import Tensor

/// The loss: per token, log Σ_j exp(logits_j) − logit[target] (nats), and its gradient.
///
/// Named buffers: `logSumExps` (T·B, kept for `logProbability`) and `logitGradient` (∂L/∂logits,
/// T·B×V, after backward). The forward records the logits, targets and window shape it saw.
final class SoftmaxCrossEntropyStage<Scalar: Real> {
    /// V.
    let vocabularySize: Int
    private var logSumExpBuffer = AlignedBuffer<Scalar>(count: 0)  // T·B
    private var gradientBuffer = AlignedBuffer<Scalar>(count: 0)   // T·B×V
    private var targets: [Int32] = []
    /// Rows the workspaces hold.
    private(set) var capacity = 0
    /// What the last forward saw: its logits (T·B×V, unchanged until backward), rows T·B and
    /// streams B; nil before the first forward.
    private(set) var record: (logits: UnsafePointer<Scalar>, rows: Int, streams: Int)?

    init(vocabularySize: Int) { self.vocabularySize = vocabularySize }

    /// Makes the workspaces hold `rows` rows. They only grow; growing forgets the last forward.
    func reserve(rows: Int) {
        guard rows > capacity else { return }
        capacity = rows
        logSumExpBuffer = AlignedBuffer(count: rows)
        gradientBuffer = AlignedBuffer(count: rows * vocabularySize)
        record = nil
    }

    /// ∂L/∂logits after backward (T·B×V).
    var logitGradient: UnsafeMutablePointer<Scalar> { gradientBuffer.pointer.baseAddress! }

    /// The mean cross-entropy (nats per token) of `logits` (T·B×V) against `targets` (T·B ids in
    /// 0..<V), B = `streams`; keeps each row's log Σ exp.
    func forward(logits: UnsafePointer<Scalar>, targets: [Int32], streams b: Int, threads: Int) -> Double {
        let n = targets.count, v = vocabularySize
        precondition(n <= capacity && n % b == 0, "loss: \(n) targets for \(b) streams, capacity \(capacity)")
        self.targets = targets
        let lse = logSumExpBuffer.pointer.baseAddress!
        let total = self.targets.withUnsafeBufferPointer { tg in
            let tgP = tg.baseAddress!
            return ParallelChunks.sum(extent: n, itemCost: v, threads: threads) { r in
                Kernels.softmaxCrossEntropy(logits: logits + r.lowerBound * v, rows: r.count, cols: v,
                                            targets: tgP + r.lowerBound, logSumExp: lse + r.lowerBound)
            }
        }
        record = (logits, n, b)
        return total / Double(n)
    }

    /// ∂L/∂logits of the last forward into `logitGradient`: of the sum of token losses divided by
    /// `normalizer` (`.allSteps`), or of the mean over the B tokens of the last step (`.lastStep`,
    /// other rows zero).
    @discardableResult
    func backward(scope: LossScope, normalizer: Int, threads: Int) -> UnsafeMutablePointer<Scalar> {
        guard let (logits, n, b) = record else { preconditionFailure("loss: backward needs a forward first") }
        let v = vocabularySize, dLog = logitGradient, lse = logSumExpBuffer.pointer.baseAddress!
        targets.withUnsafeBufferPointer { tg in
            let tgP = tg.baseAddress!
            switch scope {
            case .allSteps:
                ParallelChunks.run(extent: n, itemCost: v, threads: threads) { _, r in
                    Kernels.softmaxCrossEntropyBackward(
                        logits: logits + r.lowerBound * v, rows: r.count, cols: v, targets: tgP + r.lowerBound,
                        logSumExp: lse + r.lowerBound, scale: 1 / Scalar(normalizer), grad: dLog + r.lowerBound * v)
                }
            case .lastStep:
                let first = n - b
                Kernels.fill(dLog, count: first * v)
                Kernels.softmaxCrossEntropyBackward(
                    logits: logits + first * v, rows: b, cols: v, targets: tgP + first,
                    logSumExp: lse + first, scale: 1 / Scalar(b), grad: dLog + first * v)
            }
        }
        return dLog
    }

    /// log Σ_j exp(logits[row, j]) of the last forward.
    func logSumExp(row: Int) -> Double { Double(logSumExpBuffer[row]) }

    /// The target of row `row` of the last forward.
    func target(row: Int) -> Int { Int(targets[row]) }

    /// Base addresses of the workspaces (for tests that check nothing is reallocated).
    var workspaceAddresses: [UnsafeRawPointer] {
        [UnsafeRawPointer(logSumExpBuffer.pointer.baseAddress!), UnsafeRawPointer(logitGradient)]
    }
}
