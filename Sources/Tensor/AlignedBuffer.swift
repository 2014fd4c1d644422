import Foundation

/// A fixed-size, 64-byte-aligned, zero-initialized buffer of scalars that owns its memory.
///
/// The building block of every tensor, workspace and parameter buffer: allocated once, reused,
/// never resized. Reference semantics: copies share storage (use `copy()` for a deep copy).
public final class AlignedBuffer<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    /// The elements; valid for the lifetime of this object.
    public let pointer: UnsafeMutableBufferPointer<Scalar>

    /// Number of elements.
    public var count: Int { pointer.count }

    /// The ledger that counted this buffer (the task's `AllocationLedger.current` when it was made).
    private let ledger: AllocationLedger?

    /// Allocates `count` zeroed elements, throwing instead of aborting when `count` is negative, its byte
    /// size overflows `Int`, or the system has no memory for it. For sizes not already checked against
    /// the machine's memory (see `ModelMemory` in NeuralNet).
    public init(checkedCount count: Int) throws(AllocationError) {
        guard count >= 0 else { throw AllocationError(count: count, elementSize: MemoryLayout<Scalar>.stride) }
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<Scalar>.stride)
        var raw: UnsafeMutableRawPointer?
        guard !overflow, posix_memalign(&raw, 64, bytes) == 0, let raw else {
            throw AllocationError(count: count, elementSize: MemoryLayout<Scalar>.stride)
        }
        let typed = raw.bindMemory(to: Scalar.self, capacity: max(count, 1))
        typed.initialize(repeating: 0, count: max(count, 1))
        pointer = UnsafeMutableBufferPointer(start: typed, count: count)
        ledger = AllocationLedger.current
        ledger?.allocated(bytes: bytes)
    }

    /// Allocates `count` zeroed elements. The model and its workspaces call this with sizes that
    /// `ModelMemory` has checked (without overflow) against the machine's memory before the model was
    /// built; a size that still cannot be allocated stops the program with `AllocationError`'s message.
    public convenience init(count: Int) {
        do {
            try self.init(checkedCount: count)
        } catch {
            preconditionFailure(error.description)
        }
    }

    /// Allocates a buffer holding `values`.
    public convenience init<C: Collection>(_ values: C) where C.Element == Scalar {
        self.init(count: values.count)
        _ = pointer.initialize(from: values)
    }

    deinit {
        ledger?.freed(bytes: max(count, 1) * MemoryLayout<Scalar>.stride)
        free(pointer.baseAddress)
    }

    public subscript(index: Int) -> Scalar {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0) }

    /// A deep copy with its own storage.
    public func copy() -> AlignedBuffer<Scalar> { AlignedBuffer(pointer) }

    /// The elements as an array (for tests and serialization, not hot paths).
    public var array: [Scalar] { Array(pointer) }
}

/// An `AlignedBuffer` that cannot be allocated: a negative count, a byte size beyond `Int`, or no memory.
public struct AllocationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Elements asked for.
    public var count: Int
    /// Bytes per element.
    public var elementSize: Int

    public var description: String {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
        return count < 0 ? "cannot allocate a buffer of \(count) elements"
            : "cannot allocate \(count) elements of \(elementSize) bytes"
                + (overflow ? " (more than 8 EiB)" : " (\(bytes) bytes): out of memory")
    }
}

/// Counts the bytes held by the `AlignedBuffer`s made while it is `current` (on the task that set
/// it), e.g. to compare what a model really holds with `ModelMemory`'s estimate.
public final class AllocationLedger: @unchecked Sendable {
    /// The ledger of the current task, if any (set with `AllocationLedger.$current.withValue`).
    @TaskLocal public static var current: AllocationLedger?

    private let lock = NSLock()
    private var held = 0

    public init() {}

    /// Bytes of the counted buffers that are still allocated.
    public var heldBytes: Int { lock.withLock { held } }

    func allocated(bytes: Int) { lock.withLock { held += bytes } }
    func freed(bytes: Int) { lock.withLock { held -= bytes } }
}
