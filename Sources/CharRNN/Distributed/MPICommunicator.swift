import CMPI
import Foundation

/// `MPI_COMM_WORLD` of Open MPI, loaded at run time through the `CMPI` shim (no MPI at build time).
/// One per process: `initialize()` loads and initializes MPI once and returns the same object after.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    nonisolated(unsafe) private static var shared: MPICommunicator?

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// Loads Open MPI (`CHARRNN_MPI_LIBRARY`, default `libmpi.so.40`), calls MPI_Init_thread and
    /// returns the world communicator. MPI is finalized when the process exits normally.
    /// - Throws: `CommunicatorError.cannotLoad` (library or symbol missing), `.failed`.
    public static func initialize() throws -> MPICommunicator {
        if let shared { return shared }
        let library = ProcessInfo.processInfo.environment["CHARRNN_MPI_LIBRARY"] ?? "libmpi.so.40"
        var reason = [CChar](repeating: 0, count: 512)
        guard cmpi_load(library, &reason, reason.count) == 0 else {
            throw CommunicatorError.cannotLoad(String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        try check(cmpi_init(), "MPI_Init_thread")
        var rank: Int32 = 0, size: Int32 = 0
        try check(cmpi_rank(&rank), "MPI_Comm_rank")
        try check(cmpi_size(&size), "MPI_Comm_size")
        let world = MPICommunicator(rank: Int(rank), size: Int(size))
        shared = world
        atexit { _ = cmpi_finalize() }
        return world
    }

    static func check(_ status: Int32, _ function: String) throws {
        if status != 0 { throw CommunicatorError.failed(function: function, code: status) }
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
        try Self.check(cmpi_allreduce_sum_float(base, Int64(buffer.count)), "MPI_Allreduce")
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
        try Self.check(cmpi_allreduce_sum_double(base, Int64(buffer.count)), "MPI_Allreduce")
    }

    public func startAllreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> any PendingReduction {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return CompletedReduction() }
        guard buffer.count <= Int(Int32.max) else {
            throw CommunicatorError.invalidArgument("startAllreduceSum: \(buffer.count) floats exceed one MPI count (\(Int32.max))")
        }
        let pending = MPIReduction()
        try Self.check(cmpi_iallreduce_sum_float(base, Int32(buffer.count), &pending.request), "MPI_Iallreduce")
        return pending
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        try Self.check(cmpi_broadcast_bytes(base, Int64(bytes.count), Int32(root)), "MPI_Bcast")
    }

    public func allgather(_ value: UInt64) throws -> [UInt64] {
        var values = [UInt64](repeating: 0, count: size)
        try Self.check(cmpi_allgather_uint64(value, &values), "MPI_Allgather")
        return values
    }

    public func gather(_ block: UnsafeBufferPointer<Float>, counts: [Int], root: Int) throws -> [Float]? {
        guard counts.count == size, counts.indices.contains(rank), counts[rank] == block.count else {
            throw CommunicatorError.invalidArgument("gather: counts \(counts) do not match rank \(rank)'s block of \(block.count) floats")
        }
        let total = counts.reduce(0, +)
        guard total <= Int(Int32.max) else {
            throw CommunicatorError.invalidArgument("gather: \(total) floats exceed one MPI count (\(Int32.max))")
        }
        var offsets = [Int32](), offset: Int32 = 0
        for count in counts { offsets.append(offset); offset += Int32(count) }
        let counts32 = counts.map { Int32($0) }
        var received = [Float](repeating: 0, count: rank == root ? max(total, 1) : 1)
        var dummy: Float = 0
        let status = withUnsafePointer(to: &dummy) { dummyP in
            cmpi_gather_floats(block.baseAddress ?? dummyP, Int32(block.count), &received, counts32, offsets, Int32(root))
        }
        try Self.check(status, "MPI_Gatherv")
        return rank == root ? Array(received.prefix(total)) : nil
    }

    public func barrier() throws { try Self.check(cmpi_barrier(), "MPI_Barrier") }

    public func abort(code: Int32) -> Never {
        cmpi_abort(code)
        exit(code)  // cmpi_abort does not return; this satisfies the type checker
    }
}

/// An MPI_Iallreduce in flight.
final class MPIReduction: PendingReduction {
    var request: UnsafeMutableRawPointer?
    private var done = false

    func wait() throws {
        if done { return }
        try MPICommunicator.check(cmpi_wait(&request), "MPI_Wait")
        done = true
    }

    func test() throws -> Bool {
        if done { return true }
        var flag: Int32 = 0
        try MPICommunicator.check(cmpi_test(&request, &flag), "MPI_Test")
        done = flag != 0
        return done
    }
}
