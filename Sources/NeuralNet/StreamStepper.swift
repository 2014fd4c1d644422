import CKernels
import Tensor

/// Generation's one-stream fast path: advances a single stream of a `LanguageModel<Float>` by one
/// token per call and writes the next token's logits.
///
/// Computes what `LanguageModel.step` computes for a batch of one (same cells, skip wiring and
/// decoder; equal up to float rounding), from a copy of the weights repacked at init for one-row
/// products: per block of 32 hidden units every gate row sits together, so each thread finishes
/// its units' new h and c in registers and the threads meet once per layer. Layer 0 reads its
/// input sums from a V×G·H table (embedding·W_ihᵀ) when that table fits in 64 MiB.
///
/// The copy is taken at init: later changes to the model's parameters are not seen. Not
/// thread-safe; one caller at a time.
public final class StreamStepper {
    /// How the copied weights are stored. Arithmetic is f32 in every format: weights are widened
    /// to f32 in registers and products accumulate in f32. The layer-0 table and the state stay f32.
    public enum WeightFormat: String, Sendable, CaseIterable {
        /// The model's f32 values: the same function as `LanguageModel.step`, up to rounding.
        case f32
        /// IEEE half precision (11 significant bits, relative rounding error ≤ 2⁻¹¹ per weight;
        /// biases too): half the bytes each step reads.
        case f16
        /// bfloat16 (8 significant bits, round to nearest even: relative error ≤ 2⁻⁸ per weight;
        /// biases stay f32): half the bytes each step reads, f32's range.
        case bf16
        /// 8-bit integers with one f32 scale per output row (per gate row of a unit, separately for
        /// W_ih and W_hh, and per row of the decoder): s = max|w_row| / 127, q = round(w / s) in
        /// [−127, 127], so every weight is within s/2 of s·q; biases stay f32. A quarter of f32's
        /// bytes. The dot products sum x·q in f32 and apply s once per row.
        case int8

        /// The engine's element type (CK_STREAM_*).
        var kernelPrecision: Int32 {
            switch self {
            case .f32: Int32(CK_STREAM_F32)
            case .f16: Int32(CK_STREAM_F16)
            case .bf16: Int32(CK_STREAM_BF16)
            case .int8: Int32(CK_STREAM_INT8)
            }
        }
    }

    public let config: ModelConfig
    /// The format the weights are stored in: the one asked for, except `.f32` when some weight
    /// does not fit it (f16: |w| > 65504; bf16: rounds to ±∞; any format: a value not finite).
    public let weightFormat: WeightFormat
    /// Threads that share every step (the caller's and `threads − 1` workers that spin between
    /// steps and sleep when idle). Results do not depend on it.
    public let threads: Int

    private let team: OpaquePointer?
    private let ops: [ck_stream_op]
    /// Storage the operations point into (kept alive here).
    private let storage: [AlignedBuffer<Float>]
    private let halfStorage: [AlignedBuffer<Float16>]
    /// bf16 or int8 weights in the engine's low-precision layout (bytes, in f32-sized storage).
    private let lowStorage: [AlignedBuffer<Float>]
    private let hidden: [(AlignedBuffer<Float>, AlignedBuffer<Float>)]
    private let cells: [AlignedBuffer<Float>]
    private let logitBuffer: AlignedBuffer<Float>
    /// A copy of the embedding table, when a step needs embedding rows: for layer 0's input when it
    /// has no table, and for the first E values of every dense layer input (`embeddingTargets`).
    private let embeddingCopy: UnsafePointer<Float>?
    private let embeddingTargets: [UnsafeMutablePointer<Float>]
    private var parity: Int32 = 0

    /// Packs `model`'s current weights; the state starts at zero.
    public convenience init(model: LanguageModel<Float>, threads: Int = 2, weightFormat: WeightFormat = .f32) {
        self.init(model: model, threads: threads, weightFormat: weightFormat, tableLimitBytes: 64 << 20)
    }

    /// `tableLimitBytes`: the largest layer-0 table used instead of W_ih (tests set 0 to run the
    /// W_ih path).
    init(model: LanguageModel<Float>, threads: Int, weightFormat: WeightFormat, tableLimitBytes: Int) {
        let config = model.config
        self.config = config
        let layerCount = config.layers, h = config.hiddenSize, e = config.embeddingSize
        let v = config.vocabularySize, g = config.cell.gateCount
        let kind: Int32 = switch config.cell {
        case .lstm: Int32(CK_STREAM_LSTM)
        case .gru: Int32(CK_STREAM_GRU)
        case .rnn: Int32(CK_STREAM_RNN)
        }
        hidden = (0..<layerCount).map { _ in (AlignedBuffer(count: h), AlignedBuffer(count: h)) }
        cells = (0..<layerCount).map { _ in AlignedBuffer(count: config.cell == .lstm ? h : 0) }
        logitBuffer = AlignedBuffer(count: v)
        team = ck_stream_team_create(Int32(max(1, threads)))
        self.threads = Int(ck_stream_team_threads(team))

        var storage: [AlignedBuffer<Float>] = [], ops: [ck_stream_op] = [], embeddingTargets: [UnsafeMutablePointer<Float>] = []
        var packedWeights: [AlignedBuffer<Float>] = []  // per operation
        func packedBuffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let b = AlignedBuffer<Float>(count: count)
            packedWeights.append(b)
            return b.pointer.baseAddress!
        }
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let b = AlignedBuffer<Float>(count: count)
            storage.append(b)
            return b.pointer.baseAddress!
        }
        // Layer inputs and the decoder input, laid out as `model.plan` says; the embedding row is
        // copied into every segment that reads it (except layer 0's when the table replaces it).
        let plan = model.plan
        let usesTable = v * g * h * MemoryLayout<Float>.size <= tableLimitBytes
        let inputs: [UnsafeMutablePointer<Float>] = plan.layers.map { buffer($0.inputWidth) }
        let decoderInput = buffer(plan.decoderInputWidth)
        for (k, layer) in plan.layers.enumerated() where !(k == 0 && usesTable) {
            for segment in layer.segments where segment.source == .embedding { embeddingTargets.append(inputs[k] + segment.offset) }
        }
        for segment in plan.decoderSegments where segment.source == .embedding { embeddingTargets.append(decoderInput + segment.offset) }

        let embeddingPointer = UnsafePointer(model.parameters.values(model.encoderWeight).baseAddress!)
        for (k, layer) in model.layers.enumerated() {
            let p = model.parameters
            let wih = p.values(layer.weightIH).baseAddress!, whh = p.values(layer.weightHH).baseAddress!
            let bih = p.values(layer.biasIH).baseAddress!, bhh = p.values(layer.biasHH).baseAddress!
            let inputSize = k == 0 && usesTable ? 0 : plan.layers[k].inputWidth
            let packed = packedBuffer(Int(ck_stream_packed_count(kind, Int64(h), Int64(inputSize), Int64(h))))
            ck_stream_pack(kind, Int64(h), Int64(inputSize), Int64(h), wih, whh, bih, bhh, packed)
            var table: UnsafePointer<Float>? = nil
            if k == 0 && usesTable {
                let sums = AlignedBuffer<Float>(count: v * g * h)
                Float.gemm(transA: false, transB: true, m: v, n: g * h, k: e, a: embeddingPointer, lda: e,
                           b: wih, ldb: e, c: sums.pointer.baseAddress!, ldc: g * h, accumulate: false)
                let rows = buffer(v * Int(ck_stream_table_row_count(kind, Int64(h))))
                ck_stream_pack_table(kind, Int64(h), Int64(v), sums.pointer.baseAddress!, rows)
                table = UnsafePointer(rows)
            }
            // Outputs: o_k goes to every segment that reads it (the engine writes up to two).
            let targets = plan.consumers(ofLayer: k).map { reader in
                (reader.layer.map { inputs[$0] } ?? decoderInput) + reader.segment.offset
            }
            precondition(targets.count <= 2 && (!plan.layers[k].residual || plan.layers[k].inputWidth == h),
                         "the one-stream engine writes a layer's output to at most two readers")
            ops.append(ck_stream_op(
                kind: kind, residual: plan.layers[k].residual ? 1 : 0, precision: Int32(CK_STREAM_F32),
                units: Int64(h), inputs: Int64(inputSize), recurrent: Int64(h),
                packed: packed, table: table, x: inputSize > 0 ? UnsafePointer(inputs[k]) : nil,
                h: (hidden[k].0.pointer.baseAddress!, hidden[k].1.pointer.baseAddress!),
                c: config.cell == .lstm ? cells[k].pointer.baseAddress! : nil,
                out: (targets.first, targets.count > 1 ? targets[1] : nil)))
        }
        let d = plan.decoderInputWidth
        let decoderPacked = packedBuffer(Int(ck_stream_packed_count(Int32(CK_STREAM_LINEAR), Int64(v), Int64(d), 0)))
        ck_stream_pack(Int32(CK_STREAM_LINEAR), Int64(v), Int64(d), 0,
                       model.parameters.values(model.decoderWeight).baseAddress!, nil,
                       model.parameters.values(model.decoderBias).baseAddress!, nil, decoderPacked)
        ops.append(ck_stream_op(
            kind: Int32(CK_STREAM_LINEAR), residual: 0, precision: Int32(CK_STREAM_F32),
            units: Int64(v), inputs: Int64(d), recurrent: 0, packed: decoderPacked, table: nil,
            x: UnsafePointer(decoderInput), h: (nil, nil), c: nil, out: (logitBuffer.pointer.baseAddress!, nil)))
        var embeddingCopy: UnsafePointer<Float>? = nil
        if !embeddingTargets.isEmpty {
            let copy = buffer(v * e)
            Kernels.copy(embeddingPointer, into: copy, count: v * e)
            embeddingCopy = UnsafePointer(copy)
        }
        // Half precision, bf16 or int8: every operation's packed weights, or none.
        var halfStorage: [AlignedBuffer<Float16>] = [], lowStorage: [AlignedBuffer<Float>] = []
        var format = WeightFormat.f32
        if weightFormat == .f16, let copies = Self.halfPrecisionCopies(of: packedWeights) {
            for i in ops.indices {
                ops[i].packed = UnsafeRawPointer(copies[i].pointer.baseAddress!)
                ops[i].precision = Int32(CK_STREAM_F16)
            }
            halfStorage = copies
            format = .f16
            packedWeights = []  // the f32 copies are no longer read
        } else if weightFormat == .bf16 || weightFormat == .int8,
                  let copies = Self.lowPrecisionCopies(of: packedWeights, ops: ops, format: weightFormat) {
            for i in ops.indices {
                ops[i].packed = UnsafeRawPointer(copies[i].pointer.baseAddress!)
                ops[i].precision = weightFormat.kernelPrecision
            }
            lowStorage = copies
            format = weightFormat
            packedWeights = []
        }
        self.weightFormat = format
        self.halfStorage = halfStorage
        self.lowStorage = lowStorage
        self.embeddingCopy = embeddingCopy
        self.embeddingTargets = embeddingTargets
        self.ops = ops
        self.storage = storage + packedWeights
    }

    deinit { ck_stream_team_destroy(team) }

    /// f16 copies of packed weights (one per buffer), or nil when some value does not fit.
    private static func halfPrecisionCopies(of packed: [AlignedBuffer<Float>]) -> [AlignedBuffer<Float16>]? {
        var copies: [AlignedBuffer<Float16>] = []
        for buffer in packed {
            let half = AlignedBuffer<Float16>(count: buffer.count)
            let bits = UnsafeMutableRawPointer(half.pointer.baseAddress!).assumingMemoryBound(to: UInt16.self)
            guard ck_stream_to_f16(buffer.pointer.baseAddress!, Int64(buffer.count), bits) != 0 else { return nil }
            copies.append(half)
        }
        return copies
    }

    /// bf16 or int8 copies of packed f32 weights (one per operation, in the layout of `format`), or
    /// nil when some value does not fit.
    private static func lowPrecisionCopies(of packed: [AlignedBuffer<Float>], ops: [ck_stream_op],
                                           format: WeightFormat) -> [AlignedBuffer<Float>]? {
        var copies: [AlignedBuffer<Float>] = []
        for (buffer, op) in zip(packed, ops) {
            let bytes = Int(ck_stream_lowp_count(format.kernelPrecision, op.kind, op.units, op.inputs, op.recurrent))
            let copy = AlignedBuffer<Float>(count: (bytes + 3) / 4)
            guard ck_stream_to_lowp(format.kernelPrecision, op.kind, op.units, op.inputs, op.recurrent,
                                    buffer.pointer.baseAddress!, copy.pointer.baseAddress!) != 0 else { return nil }
            copies.append(copy)
        }
        return copies
    }

    /// The weights the steps multiply by, widened (dequantized) to f32 in PyTorch's layout: per
    /// layer W_ih (G·H × input width; nil when layer 0 reads the table, whose sums come from the
    /// model's f32 W_ih) and W_hh (G·H × H), and the decoder's weight (V × D). For tests.
    func effectiveWeights() -> (layers: [(ih: [Float]?, hh: [Float])], decoder: [Float]) {
        let precision = weightFormat.kernelPrecision
        let unpacked = ops.map { op -> (ih: [Float], hh: [Float]) in
            let g = Int(op.kind == Int32(CK_STREAM_LSTM) ? 4 : op.kind == Int32(CK_STREAM_GRU) ? 3 : 1)
            var packed = [Float](repeating: 0, count: Int(ck_stream_packed_count(op.kind, op.units, op.inputs, op.recurrent)))
            ck_stream_dequantize(precision, op.kind, op.units, op.inputs, op.recurrent, op.packed, &packed)
            var ih = [Float](repeating: 0, count: g * Int(op.units * op.inputs))
            var hh = [Float](repeating: 0, count: g * Int(op.units * op.recurrent))
            ck_stream_unpack(op.kind, op.units, op.inputs, op.recurrent, packed, &ih, &hh)
            return (ih, hh)
        }
        let layers = zip(ops.dropLast(), unpacked).map { op, w in (ih: op.inputs > 0 ? w.ih : nil, hh: w.hh) }
        return (layers, unpacked.last?.ih ?? [])
    }

    /// Sets the state to zero (the start of a text).
    public func reset() {
        for (a, b) in hidden { a.zero(); b.zero() }
        for c in cells { c.zero() }
    }

    /// Feeds `token` (an id below the vocabulary size), advancing the state, and writes the
    /// next-token logits (V values) into `logits`.
    public func step(token: Int32, logits: UnsafeMutableBufferPointer<Float>) {
        let v = config.vocabularySize, e = config.embeddingSize
        precondition(token >= 0 && Int(token) < v, "token id outside 0..<\(v)")
        precondition(logits.count >= v, "step: logits need \(v) values")
        if let embeddingCopy {
            for target in embeddingTargets { Kernels.copy(embeddingCopy + Int(token) * e, into: target, count: e) }
        }
        ops.withUnsafeBufferPointer { ops in
            ck_stream_run(team, ops.baseAddress, Int32(ops.count), token, parity)
        }
        parity = 1 - parity
        Kernels.copy(logitBuffer.pointer.baseAddress!, into: logits.baseAddress!, count: v)
    }

    /// Copies stream `stream` of `state` into this stepper's state.
    public func load(_ state: RecurrentState<Float>, stream: Int = 0) {
        let h = config.hiddenSize
        for k in 0..<config.layers {
            let current = parity == 0 ? hidden[k].0 : hidden[k].1
            Kernels.copy(state.h[k].pointer.baseAddress! + stream * h, into: current.pointer.baseAddress!, count: h)
            if state.hasCell && config.cell == .lstm {
                Kernels.copy(state.c[k].pointer.baseAddress! + stream * h, into: cells[k].pointer.baseAddress!, count: h)
            }
        }
    }

    /// Copies this stepper's state into stream `stream` of `state`.
    public func store(into state: RecurrentState<Float>, stream: Int = 0) {
        let h = config.hiddenSize
        for k in 0..<config.layers {
            let current = parity == 0 ? hidden[k].0 : hidden[k].1
            Kernels.copy(current.pointer.baseAddress!, into: state.h[k].pointer.baseAddress! + stream * h, count: h)
            if state.hasCell && config.cell == .lstm {
                Kernels.copy(cells[k].pointer.baseAddress!, into: state.c[k].pointer.baseAddress! + stream * h, count: h)
            }
        }
    }
}
