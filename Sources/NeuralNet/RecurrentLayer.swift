import Dispatch
import Tensor

/// One recurrent layer (tanh RNN, LSTM or GRU) that runs a whole window of T steps × B streams.
///
/// Math, gate order and parameter shapes are PyTorch's (G gates: 1, 4 or 3):
/// - `weight_ih` G·H×In, `weight_hh` G·H×H, `bias_ih` G·H, `bias_hh` G·H;
/// - RNN:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)
/// - LSTM: (i, f, g, o) = (σ, σ, tanh, σ)(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh),
///         c_t = f∘c_{t−1} + i∘g, h_t = o∘tanh(c_t)
/// - GRU:  r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
///         n = tanh(W_in x + b_in + r∘(W_hn h + b_hn)), h_t = (1−z)∘n + z∘h_{t−1}
///
/// Activations are time-major: row t·B + b of a T·B×n matrix is step t of stream b.
/// `forward` does the input projection of all T steps as one GEMM and only h_{t−1}·W_hhᵀ per step;
/// `backward` does one GEMM per weight gradient over all steps. Workspaces are sized once by
/// `reserve(maxSteps:batchSize:)`; the packed W_hh and backward's window-sized gradients live in a
/// `RecurrentScratch` that the layers of a model share, sized by their first use;
/// after that forward/backward allocate nothing.
public final class RecurrentLayer<Scalar: Real> {
    public let cell: CellKind
    /// In: features per input row.
    public let inputSize: Int
    /// H: features per hidden state.
    public let hiddenSize: Int
    public let weightIH: ParameterSlot, weightHH: ParameterSlot
    public let biasIH: ParameterSlot, biasHH: ParameterSlot
    let parameters: ParameterSet<Scalar>
    private var gateWidth: Int { cell.gateCount * hiddenSize }

    /// Threads this layer computes on: the per-step recurrence splits the B streams into this many
    /// groups, and the whole-window GEMMs are split into this many blocks (`ParallelGemm`). Results
    /// do not depend on it, bit for bit.
    public var threads = 2
    /// The precision of the operands of this layer's matrix products (`LanguageModel.operands`).
    public var operands: OperandPrecision = .f32

    /// Steps the workspaces hold (T_max).
    public private(set) var maxSteps = 0
    /// Streams of the current window (B ≤ `batchCapacity`).
    public private(set) var batchSize = 0
    /// Streams the workspaces hold (B_max); a window of B ≤ B_max streams uses their first rows.
    public private(set) var batchCapacity = 0

    // Window workspaces (shapes for T_max, B; G·H = gateWidth):
    /// (T+1)·B×H: block 0 is h_0 (initial state), block t+1 is h_t (the output of step t).
    private var hs = AlignedBuffer<Scalar>(count: 0)
    /// (T+1)·B×H, LSTM only: block 0 is c_0, block t+1 is c_t.
    private var cs = AlignedBuffer<Scalar>(count: 0)
    /// T·B×H, LSTM only: tanh(c_t).
    private var tanhC = AlignedBuffer<Scalar>(count: 0)
    /// T·B×G·H: input projection (+ biases), then activated gates after forward.
    private var gx = AlignedBuffer<Scalar>(count: 0)
    /// T·B×G·H, GRU only: W_hh h_{t−1} + b_hh per step.
    private var gh = AlignedBuffer<Scalar>(count: 0)
    /// The packed W_hh of forward and backward, and backward's gate gradients and ∂L/∂input:
    /// shared with the model's other layers.
    public let scratch: RecurrentScratch<Scalar>
    /// B×H each: running gradients of one step.
    private var dh = AlignedBuffer<Scalar>(count: 0), dc = AlignedBuffer<Scalar>(count: 0)
    private var dhCarry = AlignedBuffer<Scalar>(count: 0), dcCarry = AlignedBuffer<Scalar>(count: 0)
    // Table-input mode (`forward(table:…)`): V×G·H projected table, V×G·H summed gate gradients per
    // table row, V×In table gradient, and the ids of the last forward.
    private var projectedTable = AlignedBuffer<Scalar>(count: 0)
    private var tableGateGradient = AlignedBuffer<Scalar>(count: 0)
    private var dTable = AlignedBuffer<Scalar>(count: 0)
    private var tableIDs: [Int32] = []
    /// The table and its row count when the last forward read its input rows from a table.
    private var tableOfLastForward: (pointer: UnsafePointer<Scalar>, rows: Int)?
    /// A layer reading its four tensors from `parameters` at the given slots. Layers whose forward
    /// and backward passes never overlap (those of one model) may share one `scratch`; its
    /// `inputGradient` then stays valid until the next backward of any of them.
    public init(
        cell: CellKind, inputSize: Int, hiddenSize: Int, parameters: ParameterSet<Scalar>,
        weightIH: ParameterSlot, weightHH: ParameterSlot, biasIH: ParameterSlot, biasHH: ParameterSlot,
        scratch: RecurrentScratch<Scalar> = RecurrentScratch()
    ) {
        let g = cell.gateCount * hiddenSize
        precondition(weightIH.shape == [g, inputSize] && weightHH.shape == [g, hiddenSize]
                     && biasIH.shape == [g] && biasHH.shape == [g], "recurrent layer slot shapes")
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.parameters = parameters
        self.weightIH = weightIH; self.weightHH = weightHH
        self.biasIH = biasIH; self.biasHH = biasHH
        self.scratch = scratch
    }

    /// Sets the current window's batch size and makes the workspaces hold windows of `maxSteps`
    /// steps × `batchSize` streams. They only grow: smaller windows reuse them.
    public func reserve(maxSteps steps: Int, batchSize streams: Int) {
        batchSize = streams
        if steps <= maxSteps && streams <= batchCapacity { return }
        maxSteps = max(steps, maxSteps); batchCapacity = max(streams, batchCapacity)
        let t = maxSteps, b = batchCapacity
        let h = hiddenSize, g = gateWidth, isLSTM = cell == .lstm, isGRU = cell == .gru
        hs = AlignedBuffer(count: (t + 1) * b * h)
        cs = AlignedBuffer(count: isLSTM ? (t + 1) * b * h : 0)
        tanhC = AlignedBuffer(count: isLSTM ? t * b * h : 0)
        gx = AlignedBuffer(count: t * b * g)
        gh = AlignedBuffer(count: isGRU ? t * b * g : 0)
        dh = AlignedBuffer(count: b * h); dc = AlignedBuffer(count: b * h)
        dhCarry = AlignedBuffer(count: b * h); dcCarry = AlignedBuffer(count: b * h)
    }

    private var W: (ih: UnsafeMutablePointer<Scalar>, hh: UnsafeMutablePointer<Scalar>,
                    bih: UnsafeMutablePointer<Scalar>, bhh: UnsafeMutablePointer<Scalar>) {
        (parameters.values(weightIH).baseAddress!, parameters.values(weightHH).baseAddress!,
         parameters.values(biasIH).baseAddress!, parameters.values(biasHH).baseAddress!)
    }

    // MARK: Forward

    /// Runs `steps` steps. `input` is T·B×In; `h0` (and `c0` for LSTM) are B×H. Afterwards `output`
    /// holds the T·B×H outputs and `finalH`/`finalC` the state after the last step.
    public func forward(
        input: UnsafePointer<Scalar>, steps t: Int, h0: UnsafePointer<Scalar>, c0: UnsafePointer<Scalar>?
    ) {
        precondition(t >= 1 && t <= maxSteps, "steps \(t) outside 1...\(maxSteps)")
        let n = t * batchSize, g = gateWidth
        let w = W
        let gxP = gx.pointer.baseAddress!
        inputOfLastForward = input
        tableOfLastForward = nil
        // Input projection of all steps: gx = X·W_ihᵀ + biases (one GEMM).
        broadcastInputBiases(into: gxP, rows: n)
        ParallelGemm.gemm(threads: threads, operands: operands, transA: false, transB: true, m: n, n: g, k: inputSize, a: input,
                    lda: inputSize, b: w.ih, ldb: inputSize, c: gxP, ldc: g, accumulate: true)
        runRecurrence(steps: t, h0: h0, c0: c0)
    }

    /// Like `forward(input:…)` for an input whose row r is row `ids[r]` of `table` (V×In, e.g. an
    /// embedding matrix; `ids` holds T·B entries in 0..<V). The input projection becomes a lookup in
    /// table·W_ihᵀ + biases (V×G·H, one small GEMM) instead of a T·B-row GEMM, and backward leaves
    /// ∂L/∂table in `tableGradient` (V×In) instead of ∂L/∂input. Same results up to rounding.
    /// `table` must stay unchanged until backward.
    public func forward(
        table: UnsafePointer<Scalar>, tableRows v: Int, ids: UnsafeBufferPointer<Int32>, steps t: Int,
        h0: UnsafePointer<Scalar>, c0: UnsafePointer<Scalar>?
    ) {
        precondition(t >= 1 && t <= maxSteps, "steps \(t) outside 1...\(maxSteps)")
        let n = t * batchSize, g = gateWidth
        precondition(ids.count == n && ids.allSatisfy { $0 >= 0 && Int($0) < v }, "table ids")
        reserveTable(rows: v)
        let proj = projectedTable.pointer.baseAddress!
        broadcastInputBiases(into: proj, rows: v)
        Scalar.gemm(operands: operands, transA: false, transB: true, m: v, n: g, k: inputSize, a: table, lda: inputSize,
                    b: W.ih, ldb: inputSize, c: proj, ldc: g, accumulate: true)
        let gxP = gx.pointer.baseAddress!, idP = ids.baseAddress!
        ParallelChunks.run(extent: n, itemCost: g, threads: threads) { _, r in
            ModelKernels.gatherRows(table: proj, cols: g, ids: idP + r.lowerBound, rows: r.count,
                                    into: gxP + r.lowerBound * g)
        }
        tableIDs.removeAll(keepingCapacity: true)
        tableIDs.append(contentsOf: ids)
        inputOfLastForward = nil
        tableOfLastForward = (table, v)
        runRecurrence(steps: t, h0: h0, c0: c0)
    }

    /// Sizes the workspaces of `forward(table:…)` for a table of `v` rows (forward does this itself;
    /// calling it up front keeps the first table forward from allocating).
    public func reserveTable(rows v: Int) {
        let g = gateWidth
        if projectedTable.count != v * g {
            projectedTable = AlignedBuffer(count: v * g)
            tableGateGradient = AlignedBuffer(count: v * g)
            dTable = AlignedBuffer(count: v * inputSize)
        }
    }

    /// Fills `rows` rows of G·H with the biases that belong to the input side: b_ih + b_hh, or only
    /// b_ih for GRU (whose b_hn sits inside r∘(·)).
    private func broadcastInputBiases(into matrix: UnsafeMutablePointer<Scalar>, rows: Int) {
        let w = W
        if cell == .gru {
            Kernels.broadcastRows(w.bih, into: matrix, rows: rows, cols: gateWidth, threads: threads)
        } else {
            Kernels.broadcastRowSum(w.bih, w.bhh, into: matrix, rows: rows, cols: gateWidth, threads: threads)
        }
    }

    /// The recurrence of forward once gx holds the input projection of every step.
    private func runRecurrence(steps t: Int, h0: UnsafePointer<Scalar>, c0: UnsafePointer<Scalar>?) {
        let b = batchSize, h = hiddenSize, g = gateWidth
        Kernels.copy(h0, srcStride: h, into: hs.pointer.baseAddress!, dstStride: h, rows: b, cols: h)
        if cell == .lstm {
            Kernels.copy(c0!, srcStride: h, into: cs.pointer.baseAddress!, dstStride: h, rows: b, cols: h)
        }
        scratch.packedRecurrentWeight.pack(W.hh, ld: h, transposed: true, k: h, n: g, operands: operands)
        forEachStreamGroup(parallel: true) { self.forwardSteps(t, streams: $0, gemmThreads: $1) }
    }

    /// Runs the per-step recurrence `body(streams, gemmThreads)` in parallel, one of two ways:
    /// - W_hh up to `RecurrentThreading.streamSplitLimitBytes`: the B streams are split into
    ///   `threads` groups that run concurrently for the whole window, each with its own per-step products (`gemmThreads` 1).
    ///   No synchronization per step; each thread reads the packed W_hh from its own cache.
    /// - larger W_hh: all streams in one group, and each per-step product is split by columns
    ///   between threads (`gemmThreads` = `threads`), so each core streams only its part of W_hh.
    /// The recurrences of different streams are independent and every row is computed by the same
    /// code either way, so results do not depend on the choice.
    private func forEachStreamGroup(parallel: Bool, _ body: (Range<Int>, Int) -> Void) {
        let groups = min(threads, batchSize)
        let weightBytes = gateWidth * hiddenSize * MemoryLayout<Scalar>.stride
        if !parallel || groups < 2 || weightBytes > RecurrentThreading.streamSplitLimitBytes {
            body(0..<batchSize, parallel ? threads : 1)
            return
        }
        let b = batchSize
        // The groups touch disjoint rows of the shared workspaces; the box only carries the
        // non-Sendable closure into the worker threads, which all finish before this returns.
        withoutActuallyEscaping(body) { body in
            let boxed = UncheckedSendableBox(body)
            DispatchQueue.concurrentPerform(iterations: groups) { i in
                boxed.value((i * b / groups)..<((i + 1) * b / groups), 1)
            }
        }
    }

    /// The per-step part of forward for streams `streams`: h_{t−1}·W_hhᵀ and the cell kernel.
    private func forwardSteps(_ t: Int, streams: Range<Int>, gemmThreads: Int) {
        let b = batchSize, h = hiddenSize, g = gateWidth, m = streams.count, s0 = streams.lowerBound
        let w = W, packed = scratch.packedRecurrentWeight
        let hsP = hs.pointer.baseAddress!, gxP = gx.pointer.baseAddress!
        switch cell {
        case .lstm:
            let csP = cs.pointer.baseAddress!, tcP = tanhC.pointer.baseAddress!
            for s in 0..<t {
                let row = s * b + s0, next = (s + 1) * b + s0
                let gates = gxP + row * g
                packed.multiply(m: m, a: hsP + row * h, lda: h, into: gates, ldc: g, accumulate: true,
                                threads: gemmThreads)
                CellKernels.lstmForward(batch: m, hidden: h, gates: gates, cPrev: csP + row * h,
                                        c: csP + next * h, tanhC: tcP + row * h, hOut: hsP + next * h)
            }
        case .gru:
            let ghP = gh.pointer.baseAddress!
            for s in 0..<t {
                let row = s * b + s0, next = (s + 1) * b + s0
                let hhs = ghP + row * g
                Kernels.broadcastRows(w.bhh, into: hhs, rows: m, cols: g)
                packed.multiply(m: m, a: hsP + row * h, lda: h, into: hhs, ldc: g, accumulate: true,
                                threads: gemmThreads)
                CellKernels.gruForward(batch: m, hidden: h, gx: gxP + row * g, gh: hhs,
                                       hPrev: hsP + row * h, hOut: hsP + next * h)
            }
        case .rnn:
            for s in 0..<t {
                let row = s * b + s0, next = (s + 1) * b + s0
                let pre = gxP + row * g
                packed.multiply(m: m, a: hsP + row * h, lda: h, into: pre, ldc: g, accumulate: true,
                                threads: gemmThreads)
                CellKernels.rnnForward(count: m * h, pre: pre, hOut: hsP + next * h)
            }
        }
    }

    /// The outputs of the last forward: T·B×H, row t·B + b.
    public var output: UnsafeMutablePointer<Scalar> { hs.pointer.baseAddress! + batchSize * hiddenSize }

    /// The gate activations of the last forward: T·B×G·H, row t·B + b, gate k of unit j at column
    /// k·H + j — LSTM (i, f, g, o) and GRU (r, z, n) after their nonlinearities (σ, or tanh for g
    /// and n); for the tanh RNN (G = 1) the pre-activation. Valid until the next forward.
    public var gateActivations: UnsafePointer<Scalar> { UnsafePointer(gx.pointer.baseAddress!) }

    /// The cell states c_t of the last forward (LSTM only): T·B×H, row t·B + b.
    public var cellStates: UnsafePointer<Scalar> {
        precondition(cell == .lstm, "only LSTM layers have a cell state")
        return UnsafePointer(cs.pointer.baseAddress! + batchSize * hiddenSize)
    }

    /// h after step `steps` of the last forward (B×H).
    public func finalH(steps t: Int) -> UnsafePointer<Scalar> {
        UnsafePointer(hs.pointer.baseAddress! + t * batchSize * hiddenSize)
    }

    /// c after step `steps` of the last forward (B×H; LSTM only).
    public func finalC(steps t: Int) -> UnsafePointer<Scalar> {
        precondition(cell == .lstm, "only LSTM layers have a cell state")
        return UnsafePointer(cs.pointer.baseAddress! + t * batchSize * hiddenSize)
    }

    // MARK: Backward

    /// Backpropagates through the last forward of `steps` steps.
    ///
    /// - `outputGradient`: ∂L/∂output, T·B×H (not modified).
    /// - `finalHGradient`/`finalCGradient`: ∂L/∂h_T and ∂L/∂c_T (B×H), or nil for zero.
    /// - `observer`: called once per step, from t = T−1 down to 0, with the total ∂L/∂h_t and (LSTM)
    ///   ∂L/∂c_t, both B×H.
    ///
    /// Adds into the four parameter gradients; leaves ∂L/∂input in `inputGradient` (T·B×In; after a
    /// table forward, ∂L/∂table in `tableGradient` instead) and
    /// ∂L/∂h_0, ∂L/∂c_0 in `initialHGradient`/`initialCGradient` (B×H).
    public func backward(
        outputGradient: UnsafePointer<Scalar>, steps t: Int,
        finalHGradient: UnsafePointer<Scalar>?, finalCGradient: UnsafePointer<Scalar>?,
        observer: ((_ step: Int, _ dh: UnsafePointer<Scalar>, _ dc: UnsafePointer<Scalar>?) -> Void)? = nil
    ) {
        precondition(t >= 1 && t <= maxSteps, "steps \(t) outside 1...\(maxSteps)")
        let b = batchSize, h = hiddenSize, g = gateWidth, n = t * b, bh = b * h
        let w = W
        let capacity = maxSteps * batchCapacity
        scratch.reserveGradients(gates: capacity * g, hiddenGates: cell == .gru ? capacity * g : 0,
                                 input: capacity * inputSize)
        let hsP = hs.pointer.baseAddress!, dGxP = scratch.gates.pointer.baseAddress!
        let dhC = dhCarry.pointer.baseAddress!, dcC = dcCarry.pointer.baseAddress!
        if let finalHGradient { Kernels.copy(finalHGradient, into: dhC, count: bh) } else { Kernels.fill(dhC, count: bh) }
        if cell == .lstm {
            if let finalCGradient { Kernels.copy(finalCGradient, into: dcC, count: bh) } else { Kernels.fill(dcC, count: bh) }
        }
        scratch.packedRecurrentWeight.pack(w.hh, ld: h, transposed: false, k: g, n: h, operands: operands)
        forEachStreamGroup(parallel: observer == nil) { streams, gemmThreads in
            self.backwardSteps(t, streams: streams, gemmThreads: gemmThreads, outputGradient: outputGradient,
                               observer: observer)
        }
        // Weight gradients over all steps, one GEMM each; the hidden-side pre-activation gradient
        // equals the input-side one except for GRU.
        let dHidden = cell == .gru ? UnsafePointer(scratch.hiddenGates.pointer.baseAddress!) : UnsafePointer(dGxP)
        let gIH = parameters.gradients(weightIH).baseAddress!, gHH = parameters.gradients(weightHH).baseAddress!
        ParallelGemm.gemm(threads: threads, operands: operands, transA: true, transB: false, m: g, n: h, k: n, a: dHidden, lda: g,
                    b: hsP, ldb: h, c: gHH, ldc: h, accumulate: true)
        let gBIH = parameters.gradients(biasIH).baseAddress!, gBHH = parameters.gradients(biasHH).baseAddress!
        if cell == .gru {
            Kernels.addColumnSums(dGxP, rows: n, cols: g, into: gBIH, threads: threads)
            Kernels.addColumnSums(dHidden, rows: n, cols: g, into: gBHH, threads: threads)
        } else {
            // Both biases get the column sums of the same gate gradients: one pass over them.
            Kernels.addColumnSums(dGxP, rows: n, cols: g, into: gBIH, alsoInto: gBHH, threads: threads)
        }
        if let (table, v) = tableOfLastForward {
            // Input rows are table rows: sum the gate gradients per table row (S, V×G·H); then
            // ∂W_ih += Sᵀ·table and ∂table = S·W_ih.
            let sums = tableGateGradient.pointer.baseAddress!
            Kernels.fill(sums, count: v * g)
            tableIDs.withUnsafeBufferPointer { ids in
                ModelKernels.scatterAddRows(dGxP, cols: g, ids: ids.baseAddress!, rows: n, into: sums)
            }
            Scalar.gemm(operands: operands, transA: true, transB: false, m: g, n: inputSize, k: v, a: sums, lda: g,
                        b: table, ldb: inputSize, c: gIH, ldc: inputSize, accumulate: true)
            Scalar.gemm(operands: operands, transA: false, transB: false, m: v, n: inputSize, k: g, a: sums, lda: g,
                        b: w.ih, ldb: inputSize, c: dTable.pointer.baseAddress!, ldc: inputSize, accumulate: false)
            return
        }
        ParallelGemm.gemm(threads: threads, operands: operands, transA: true, transB: false, m: g, n: inputSize, k: n, a: dGxP, lda: g,
                    b: inputOfLastForward!, ldb: inputSize, c: gIH, ldc: inputSize, accumulate: true)
        ParallelGemm.gemm(threads: threads, operands: operands, transA: false, transB: false, m: n, n: inputSize, k: g, a: dGxP, lda: g,
                    b: w.ih, ldb: inputSize, c: scratch.input.pointer.baseAddress!, ldc: inputSize, accumulate: false)
    }

    /// The per-step part of backward for streams `streams` (t = T−1 down to 0): the cell kernel
    /// and ∂L/∂h_{t−1} = dGates·W_hh. The observer (only given for all streams) sees each step.
    private func backwardSteps(
        _ t: Int, streams: Range<Int>, gemmThreads: Int, outputGradient: UnsafePointer<Scalar>,
        observer: ((_ step: Int, _ dh: UnsafePointer<Scalar>, _ dc: UnsafePointer<Scalar>?) -> Void)?
    ) {
        let b = batchSize, h = hiddenSize, g = gateWidth, m = streams.count, s0 = streams.lowerBound
        let hsP = hs.pointer.baseAddress!, gxP = gx.pointer.baseAddress!
        let dGxP = scratch.gates.pointer.baseAddress!, packed = scratch.packedRecurrentWeight
        let dhP = dh.pointer.baseAddress! + s0 * h, dcP = dc.pointer.baseAddress! + s0 * h
        let dhC = dhCarry.pointer.baseAddress! + s0 * h, dcC = dcCarry.pointer.baseAddress! + s0 * h
        switch cell {
        case .lstm:
            let csP = cs.pointer.baseAddress!, tcP = tanhC.pointer.baseAddress!
            for s in stride(from: t - 1, through: 0, by: -1) {
                let row = s * b + s0
                let dGates = dGxP + row * g
                CellKernels.lstmBackward(batch: m, hidden: h, dOut: outputGradient + row * h, dhCarry: dhC,
                                         dcCarry: dcC, gates: gxP + row * g, cPrev: csP + row * h,
                                         tanhC: tcP + row * h, dGates: dGates, dh: dhP, dc: dcP)
                observer?(s, dhP, dcP)
                packed.multiply(m: m, a: dGates, lda: g, into: dhC, ldc: h, accumulate: false,
                                threads: gemmThreads)
            }
        case .gru:
            let ghP = gh.pointer.baseAddress!, dGhP = scratch.hiddenGates.pointer.baseAddress!
            for s in stride(from: t - 1, through: 0, by: -1) {
                let row = s * b + s0
                let dhh = dGhP + row * g
                CellKernels.gruBackward(batch: m, hidden: h, dOut: outputGradient + row * h, dhCarry: dhC,
                                        gates: gxP + row * g, gh: ghP + row * g, hPrev: hsP + row * h,
                                        dGx: dGxP + row * g, dGh: dhh, dh: dhP)
                observer?(s, dhP, nil)
                packed.multiply(m: m, a: dhh, lda: g, into: dhC, ldc: h, accumulate: true,
                                threads: gemmThreads)
            }
        case .rnn:
            for s in stride(from: t - 1, through: 0, by: -1) {
                let row = s * b + s0
                let dPre = dGxP + row * g
                CellKernels.rnnBackward(count: m * h, dOut: outputGradient + row * h, dhCarry: dhC,
                                        hOut: hsP + (row + b) * h, dPre: dPre, dh: dhP)
                observer?(s, dhP, nil)
                packed.multiply(m: m, a: dPre, lda: g, into: dhC, ldc: h, accumulate: false,
                                threads: gemmThreads)
            }
        }
    }

    /// The input pointer of the last forward (the caller keeps that buffer alive and unchanged
    /// until backward: it is needed for ∂L/∂W_ih).
    var inputOfLastForward: UnsafePointer<Scalar>?

    /// Base addresses of the workspaces (for tests that check a window allocates nothing).
    var workspaceAddresses: [UnsafeRawPointer] {
        [hs, cs, tanhC, gx, gh, dh, dc, dhCarry, dcCarry, projectedTable, tableGateGradient, dTable]
            .map { UnsafeRawPointer($0.pointer.baseAddress!) } + scratch.addresses
    }

    /// ∂L/∂table after a backward through `forward(table:…)`: V×In.
    public var tableGradient: UnsafePointer<Scalar> { UnsafePointer(dTable.pointer.baseAddress!) }

    /// ∂L/∂input after backward through `forward(input:…)`: T·B×In, in the shared
    /// `scratch` (valid until the next backward of a layer sharing it).
    public var inputGradient: UnsafePointer<Scalar> { UnsafePointer(scratch.input.pointer.baseAddress!) }
    /// ∂L/∂h_0 after backward: B×H.
    public var initialHGradient: UnsafePointer<Scalar> { UnsafePointer(dhCarry.pointer.baseAddress!) }
    /// ∂L/∂c_0 after backward (LSTM): B×H.
    public var initialCGradient: UnsafePointer<Scalar> { UnsafePointer(dcCarry.pointer.baseAddress!) }
}

/// How recurrent layers share the per-step work between threads.
public enum RecurrentThreading {
    /// Largest W_hh (bytes) for which each thread runs its own group of streams rather than a share
    /// of every step's columns. With W_hh packed once per window, splitting streams measured faster
    /// at every size tried (LSTM H = 512: 8.6k vs 7.8k chars/s; H = 1024, 16 MiB: 2.29k vs 2.21k),
    /// so the limit is the L3 size (32 MiB here); larger W_hh were not measured.
    public static let streamSplitLimitBytes = 32 << 20
}

/// Carries a value into `DispatchQueue.concurrentPerform` workers whose accesses the caller has
/// made disjoint.
struct UncheckedSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
