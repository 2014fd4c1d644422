import Foundation

/// Sums a flat gradient buffer over all ranks while backward runs: each bucket (a range of the
/// buffer that backward has finished — the decoder, then each layer from the top, the encoder) is
/// handed to a non-blocking all-reduce at once, and `finish()` waits for all of them before the
/// optimizer reads the buffer. With `overlapped` false, `finish()` instead sums the whole buffer in
/// one blocking all-reduce (the baseline the overlap is measured against).
///
/// Open MPI has no progress thread by default: a non-blocking collective advances when MPI is
/// called, so `ready` also tests the buckets in flight each time a new one starts.
public final class GradientReducer {
    public let communicator: any Communicator
    public let gradients: UnsafeMutableBufferPointer<Float>
    /// Non-blocking buckets during backward (true) or one blocking all-reduce after it (false).
    public let overlapped: Bool
    /// Seconds spent, over all steps so far, inside MPI calls on this rank's critical path: starting
    /// and testing buckets plus waiting for them (overlapped), or the blocking all-reduce.
    public private(set) var communicationSeconds = 0.0
    /// Of `communicationSeconds`, the part spent in the final waits (overlapped) or the blocking call.
    public private(set) var waitSeconds = 0.0
    /// Steps reduced so far.
    public private(set) var steps = 0
    private var pending: [any PendingReduction] = []
    private var failure: (any Error)?

    public init(communicator: any Communicator, gradients: UnsafeMutableBufferPointer<Float>, overlapped: Bool = true) {
        self.communicator = communicator
        self.gradients = gradients
        self.overlapped = overlapped
    }

    /// Backward's `gradientsReady`: starts summing `range` of the buffer (overlapped mode).
    public func ready(_ range: Range<Int>) {
        guard overlapped, failure == nil, !range.isEmpty else { return }
        let start = Self.now()
        do {
            let bucket = UnsafeMutableBufferPointer(rebasing: gradients[range])
            pending.append(try communicator.startAllreduceSum(bucket))
            for reduction in pending { _ = try reduction.test() }
        } catch {
            failure = error
        }
        communicationSeconds += Self.now() - start
    }

    /// Completes this step's sum: afterwards `gradients` holds the sum over ranks on every rank.
    public func finish() throws {
        let start = Self.now()
        defer {
            let spent = Self.now() - start
            communicationSeconds += spent
            waitSeconds += spent
            steps += 1
        }
        if let failure { self.failure = nil; pending.removeAll(); throw failure }
        if overlapped {
            for reduction in pending { try reduction.wait() }
            pending.removeAll()
        } else {
            try communicator.allreduceSum(gradients)
        }
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}

/// Times collective operations (for planning: the α–β model of an all-reduce).
public enum AllreduceTiming {
    /// Mean seconds of one blocking in-place sum of `count` floats over all ranks of
    /// `communicator`, over `repetitions` calls after one warm-up call; every rank must call it with
    /// the same arguments (a barrier precedes the timed calls). 0 for a single process.
    public static func secondsPerAllreduce(_ communicator: any Communicator, count: Int, repetitions: Int = 20) throws -> Double {
        guard count >= 1, repetitions >= 1 else {
            throw CommunicatorError.invalidArgument("secondsPerAllreduce: count and repetitions must be at least 1, got \(count) and \(repetitions)")
        }
        if communicator.size == 1 { return 0 }
        var buffer = [Float](repeating: 1, count: count)
        try buffer.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0) }
        try communicator.barrier()
        let start = GradientReducer.now()
        for _ in 0..<repetitions {
            try buffer.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0) }
        }
        return (GradientReducer.now() - start) / Double(repetitions)
    }
}
