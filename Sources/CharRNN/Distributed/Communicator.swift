import Foundation

/// A problem in the collective layer; `description` is one line.
public enum CommunicatorError: Error, Equatable, CustomStringConvertible {
    /// The process was started by mpirun but Open MPI could not be loaded (the reason from dlopen/dlsym).
    case cannotLoad(String)
    /// An MPI call returned an error code.
    case failed(function: String, code: Int32)
    /// A buffer or count that the call cannot take (which parameter and why).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .cannotLoad(let reason):
            "started by mpirun (OMPI_COMM_WORLD_SIZE is set) but Open MPI cannot be loaded: \(reason); install openmpi-bin or set CHARRNN_MPI_LIBRARY to libmpi's path"
        case .failed(let function, let code): "\(function) failed with MPI error \(code)"
        case .invalidArgument(let message): message
        }
    }
}

/// An all-reduce in flight (see `Communicator.startAllreduceSum`). The buffer it was started on
/// must stay alive and untouched until `wait()` returns.
public protocol PendingReduction: AnyObject {
    /// Blocks until the reduction is complete (the buffer then holds the sum). Idempotent.
    func wait() throws
    /// Lets MPI make progress; true when the reduction is complete.
    func test() throws -> Bool
}

/// The processes of one job and the collective operations data-parallel training needs, over
/// `MPI_COMM_WORLD` (`MPICommunicator`) or one process alone (`SingleProcess`, where every
/// operation is the identity). Every rank must make the same calls in the same order; calls come
/// from one thread.
public protocol Communicator: AnyObject {
    /// This process's rank, 0..<size.
    var rank: Int { get }
    /// Number of processes in the job.
    var size: Int { get }
    /// Replaces `buffer` on every rank with the element-wise sum of all ranks' buffers.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Replaces `buffer` on every rank with the element-wise sum of all ranks' buffers.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Starts a non-blocking in-place sum of `buffer` (at most Int32.max elements).
    func startAllreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> any PendingReduction
    /// Replaces `bytes` on every rank with `root`'s (every rank passes the same count).
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Every rank's `value`, in rank order, on every rank.
    func allgather(_ value: UInt64) throws -> [UInt64]
    /// Rank r sends `block` (`counts[r]` floats); `root` receives the blocks concatenated in rank
    /// order and the others nil. Every rank passes the same `counts` (size entries).
    func gather(_ block: UnsafeBufferPointer<Float>, counts: [Int], root: Int) throws -> [Float]?
    /// Returns when every rank has called it.
    func barrier() throws
    /// Ends every process of the job with exit status `code` (MPI_Abort). Does not return.
    func abort(code: Int32) -> Never
}

extension Communicator {
    /// True on rank 0, the rank that writes files.
    public var isRoot: Bool { rank == 0 }

    /// The sum of `value` over all ranks, on every rank.
    public func sum(_ value: Double) throws -> Double {
        var box = [value]
        try box.withUnsafeMutableBufferPointer { try allreduceSum($0) }
        return box[0]
    }

    /// The element-wise sum of `values` over all ranks, on every rank.
    public func sum(_ values: [Double]) throws -> [Double] {
        var box = values
        try box.withUnsafeMutableBufferPointer { try allreduceSum($0) }
        return box
    }

    /// True on every rank when `flag` is true on any rank (used to agree on stopping).
    public func any(_ flag: Bool) throws -> Bool { try sum(flag ? 1 : 0) > 0 }
}

/// The communicator of a process started by `mpirun`, or `SingleProcess` otherwise.
public enum Communicators {
    /// The environment variable Open MPI's launcher sets in every rank it starts.
    public static let launcherVariable = "OMPI_COMM_WORLD_SIZE"

    /// True when this process was started by Open MPI's mpirun (`OMPI_COMM_WORLD_SIZE` is set).
    public static var startedByMPI: Bool { ProcessInfo.processInfo.environment[launcherVariable] != nil }

    /// `MPICommunicator` (Open MPI loaded and initialized) when started by mpirun, else a
    /// `SingleProcess`; a plain run never loads MPI.
    /// - Throws: `CommunicatorError.cannotLoad` when mpirun started the process but libmpi is missing.
    public static func fromEnvironment() throws -> any Communicator {
        startedByMPI ? try MPICommunicator.initialize() : SingleProcess()
    }
}

/// One process alone: rank 0 of 1; every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    public func startAllreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> any PendingReduction {
        CompletedReduction()
    }
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
    public func allgather(_ value: UInt64) throws -> [UInt64] { [value] }
    public func gather(_ block: UnsafeBufferPointer<Float>, counts: [Int], root: Int) throws -> [Float]? {
        guard counts == [block.count] else {
            throw CommunicatorError.invalidArgument("gather: counts \(counts) do not match the block of \(block.count) floats")
        }
        return Array(block)
    }
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
}

/// A reduction that is already complete.
final class CompletedReduction: PendingReduction {
    func wait() throws {}
    func test() throws -> Bool { true }
}
