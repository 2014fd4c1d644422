import Tensor

/// The first stage of the window: x = drop_e(encoder[ids]), T·B×E rows (row t·B + b), and how
/// layer 0 reads it.
///
/// Named buffers: `rows` (x, after embedding dropout) and `gradient` (∂L/∂x, which every reader of
/// x adds into during backward). When x is not dropped out, layer 0 may read its input straight
/// from the encoder table (`RecurrentLayer.forward(table:…)`): the forward records that choice
/// (`Record.table`) and backward follows it — ∂L/∂encoder then receives layer 0's V×E table
/// gradient plus, when a later layer or the decoder reads x (dense skip), the scattered ∂L/∂x.
final class EmbeddingStage<Scalar: Real> {
    /// How layer 0 read the embedding in the last forward.
    enum Record: Equatable {
        /// Layer 0 read its input rows from the encoder table by id; x was not masked.
        case table
        /// Layer 0 read the gathered rows x, `masked` when embedding dropout was applied.
        case rows(masked: Bool)
    }

    let parameters: ParameterSet<Scalar>
    /// encoder.weight, V×E.
    let encoderWeight: ParameterSlot
    /// V and E.
    let vocabularySize: Int, width: Int
    /// Whether a later layer or the decoder reads x too (`ModelPlan.embeddingReadBeyondLayer0`).
    let readBeyondLayer0: Bool
    /// drop_e, slot 0.
    let dropout: DropoutStage<Scalar>
    private var rowBuffer = AlignedBuffer<Scalar>(count: 0)        // x: T·B×E
    private var gradientBuffer = AlignedBuffer<Scalar>(count: 0)   // ∂L/∂x: T·B×E
    private var ids: [Int32] = []
    /// Rows the workspaces hold.
    private(set) var capacity = 0
    /// The last forward's record; nil before the first forward.
    private(set) var record: Record?

    init(parameters: ParameterSet<Scalar>, encoderWeight: ParameterSlot, dropout p: Double, readBeyondLayer0: Bool) {
        self.parameters = parameters
        self.encoderWeight = encoderWeight
        vocabularySize = encoderWeight.shape[0]
        width = encoderWeight.shape[1]
        self.readBeyondLayer0 = readBeyondLayer0
        dropout = DropoutStage(p: p, width: width, slot: 0)
    }

    /// Makes the workspaces hold `rows` rows. They only grow; growing forgets the last forward.
    func reserve(rows: Int) {
        guard rows > capacity else { return }
        capacity = rows
        rowBuffer = AlignedBuffer(count: rows * width)
        gradientBuffer = AlignedBuffer(count: rows * width)
        dropout.reserve(rows: rows)
        record = nil
    }

    /// x of the last forward (T·B×E).
    var rows: UnsafeMutablePointer<Scalar> { rowBuffer.pointer.baseAddress! }
    /// ∂L/∂x (T·B×E), complete once every reader of x has passed its gradient down.
    var gradient: UnsafeMutablePointer<Scalar> { gradientBuffer.pointer.baseAddress! }

    /// Decides how layer 0 reads x for `ids` (T·B ids in 0..<V, time-major): from the table when
    /// `tableAllowed`, x is not masked (embedding dropout applies only when `training`) and the
    /// window has at least V rows (the V-row table then costs no more than the window's own rows;
    /// the forward's bits are the same either way: one chain per element from the bias,
    /// `Real.gemm`). Gathers x and applies the dropout unless the table serves layer 0 and nothing
    /// else reads x.
    func forward(ids: [Int32], steps t: Int, streams b: Int, training: Bool, tableAllowed: Bool,
                 key: StreamDropoutKey?, rng: inout RNG) {
        let n = t * b
        precondition(ids.count == n && n <= capacity, "embedding: \(ids.count) ids for \(t)×\(b) rows, capacity \(capacity)")
        self.ids = ids
        let masked = dropout.applies(training: training)
        record = tableAllowed && !masked && n >= vocabularySize ? .table : .rows(masked: masked)
        if rowsNeeded {
            self.ids.withUnsafeBufferPointer { idP in
                ModelKernels.gatherRows(table: parameters.values(encoderWeight).baseAddress!, cols: width,
                                        ids: idP.baseAddress!, rows: n, into: rows)
            }
        }
        // Unmasked (the only case that may skip the gather) this draws nothing and records identity.
        dropout.forward(rows, steps: t, streams: b, training: training, key: key, rng: &rng)
    }

    /// Calls `body` with the encoder table (V×E), V and the ids of the last forward: the input of
    /// layer 0 when `record` is `.table`.
    func readTable(_ body: (_ table: UnsafePointer<Scalar>, _ rows: Int, _ ids: UnsafeBufferPointer<Int32>) -> Void) {
        ids.withUnsafeBufferPointer { body(parameters.values(encoderWeight).baseAddress!, vocabularySize, $0) }
    }

    /// Whether the last forward's x is read (by layer 0, or by a later layer or the decoder), and so
    /// whether backward needs ∂L/∂x.
    private var rowsNeeded: Bool { record != .table || readBeyondLayer0 }

    /// Starts backward: zeroes ∂L/∂x (when anything will add to it) for the readers to add into.
    func startBackward() {
        precondition(record != nil, "embedding: backward needs a forward first")
        if rowsNeeded { Kernels.fill(gradient, count: ids.count * width) }
    }

    /// Adds layer 0's ∂L/∂table (V×E) into ∂L/∂encoder; only after a `.table` forward.
    func addTableGradient(_ tableGradient: UnsafePointer<Scalar>) {
        precondition(record == .table, "embedding: layer 0 did not read the table in the last forward")
        Kernels.add(tableGradient, srcStride: width, into: parameters.gradients(encoderWeight).baseAddress!,
                    dstStride: width, rows: vocabularySize, cols: width)
    }

    /// Finishes backward once every reader of x has added its share to `gradient`: through the
    /// dropout mask, then each row's gradient added into its id's row of ∂L/∂encoder.
    func backward() {
        precondition(record != nil, "embedding: backward needs a forward first")
        guard rowsNeeded else { return }
        dropout.backward(gradient)
        ids.withUnsafeBufferPointer { idP in
            ModelKernels.scatterAddRows(gradient, cols: width, ids: idP.baseAddress!, rows: idP.count,
                                        into: parameters.gradients(encoderWeight).baseAddress!)
        }
    }

    /// Base addresses of the workspaces (for tests that check nothing is reallocated).
    var workspaceAddresses: [UnsafeRawPointer] {
        [UnsafeRawPointer(rows), UnsafeRawPointer(gradient)] + dropout.workspaceAddresses
    }
}
