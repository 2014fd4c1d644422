/// Batches for truncated backpropagation through time.
///
/// The ids are cut into B contiguous streams of S = ⌊(N − 1) / B⌋ steps each; stream b covers ids
/// `[b·S, (b+1)·S]` (one more id for the last target). An epoch walks each stream in windows of T steps,
/// `⌈S / T⌉` windows, the last one shorter when T does not divide S. Window w of stream b continues exactly
/// where window w − 1 of stream b ended, so a trainer carries the hidden state from one window to the next
/// and resets it when `isFirstInEpoch`.
///
/// Layout is time-major: element `t·B + b` of `inputs` is step t of stream b; `targets` is the same with
/// every id shifted by one position in the stream.
public struct BatchStream: Sendable {
    /// One window.
    public struct Batch: Sendable, Equatable {
        /// steps × batchSize ids, time-major.
        public var inputs: [Int32]
        /// steps × batchSize ids, time-major: the id following each input.
        public var targets: [Int32]
        /// T for this window (≤ sequenceLength; shorter only for the last window of an epoch).
        public var steps: Int
        /// B.
        public var batchSize: Int
        /// Epoch number, from 0.
        public var epoch: Int
        /// Window number within the epoch, from 0.
        public var window: Int
        /// True for window 0: the streams restart, reset carried state.
        public var isFirstInEpoch: Bool
        /// True for the last window of the epoch.
        public var isLastInEpoch: Bool
    }

    /// Where the stream is: the next window `next()` returns. Codable for trainer checkpoints.
    public struct Position: Sendable, Equatable, Codable {
        public var epoch: Int
        public var window: Int
        public init(epoch: Int = 0, window: Int = 0) {
            self.epoch = epoch
            self.window = window
        }
    }

    /// The ids the streams are cut from (stored as narrow as `TokenIDs` allows; windows are `Int32`).
    public let ids: TokenIDs
    /// B: parallel streams.
    public let batchSize: Int
    /// T: steps per window.
    public let sequenceLength: Int
    /// S: steps per stream and epoch.
    public let streamLength: Int
    /// Windows per epoch, ⌈S / T⌉.
    public let windowsPerEpoch: Int
    /// The next window to return.
    public var position: Position

    /// - Parameters:
    ///   - requireFullWindow: when true (training), at least one full window is needed: N ≥ B·T + 1.
    ///     When false (evaluation on a short split), N ≥ B + 1 suffices.
    ///   - position: where to resume (a saved `position`); a window past the end of an epoch is clamped to
    ///     the last window, so resume with the same ids, B and T.
    /// - Throws: `corpusTooShort`, or `invalidOption` for B or T below 1.
    public init(ids: TokenIDs, batchSize: Int, sequenceLength: Int, requireFullWindow: Bool = true,
                position: Position = Position()) throws {
        guard batchSize >= 1 else { throw CorpusError.invalidOption(name: "--batch", reason: "must be at least 1, got \(batchSize)") }
        guard sequenceLength >= 1 else { throw CorpusError.invalidOption(name: "--bptt", reason: "must be at least 1, got \(sequenceLength)") }
        // Overflow-safe: B and T come from options; a product beyond Int is certainly more than the ids.
        let window = requireFullWindow ? MemorySize.product(batchSize, sequenceLength) : batchSize
        guard let window, window < Int.max, ids.count >= window + 1 else {
            let needed = window.map { $0 == Int.max ? Int.max : $0 + 1 } ?? Int.max
            throw CorpusError.corpusTooShort(units: ids.count, needed: needed, batchSize: batchSize, sequenceLength: sequenceLength)
        }
        self.ids = ids
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.streamLength = (ids.count - 1) / batchSize
        self.windowsPerEpoch = (streamLength + sequenceLength - 1) / sequenceLength
        self.position = Position(epoch: max(0, position.epoch), window: min(max(0, position.window), windowsPerEpoch - 1))
    }

    /// Convenience: the same over any collection of ids (an array, an array slice; a `TokenIDs` is not copied).
    public init<C: Collection>(ids: C, batchSize: Int, sequenceLength: Int, requireFullWindow: Bool = true,
                               position: Position = Position()) throws where C.Element == Int32 {
        try self.init(ids: TokenIDs.wrapping(ids), batchSize: batchSize, sequenceLength: sequenceLength,
                      requireFullWindow: requireFullWindow, position: position)
    }

    /// Steps in window `window` (T, or less for the last one).
    public func steps(inWindow window: Int) -> Int {
        min(sequenceLength, streamLength - window * sequenceLength)
    }

    /// Window `window` of epoch `epoch` (the content does not depend on the epoch).
    public func batch(window: Int, epoch: Int = 0) -> Batch {
        let steps = steps(inWindow: window)
        var inputs = [Int32](repeating: 0, count: steps * batchSize)
        var targets = inputs
        inputs.withUnsafeMutableBufferPointer { inputBuffer in
            targets.withUnsafeMutableBufferPointer { targetBuffer in
                _ = fill(window: window, inputs: inputBuffer, targets: targetBuffer)
            }
        }
        return Batch(inputs: inputs, targets: targets, steps: steps, batchSize: batchSize, epoch: epoch,
                     window: window, isFirstInEpoch: window == 0, isLastInEpoch: window == windowsPerEpoch - 1)
    }

    /// Writes window `window` into caller buffers of at least steps × B elements (time-major); returns steps.
    @discardableResult
    public func fill(window: Int, inputs: UnsafeMutableBufferPointer<Int32>, targets: UnsafeMutableBufferPointer<Int32>) -> Int {
        let steps = steps(inWindow: window)
        precondition(inputs.count >= steps * batchSize && targets.count >= steps * batchSize, "batch buffers too small")
        // Each stream's run of steps + 1 ids is copied out as Int32, then laid out time-major.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: steps + 1) { run in
            let source = run.baseAddress!, base = ids.startIndex + window * sequenceLength
            for b in 0..<batchSize {
                let streamStart = b * streamLength + base
                ids.copy(streamStart..<(streamStart + steps + 1), into: source)
                for t in 0..<steps {
                    inputs[t * batchSize + b] = source[t]
                    targets[t * batchSize + b] = source[t + 1]
                }
            }
        }
        return steps
    }

    /// Returns the window at `position` and advances; after the last window of an epoch comes window 0 of
    /// the next epoch.
    public mutating func next() -> Batch {
        let batch = batch(window: position.window, epoch: position.epoch)
        if position.window + 1 >= windowsPerEpoch {
            position = Position(epoch: position.epoch + 1, window: 0)
        } else {
            position.window += 1
        }
        return batch
    }
}
