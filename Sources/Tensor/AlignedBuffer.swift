/// A fixed-size, 64-byte-aligned, zero-initialized buffer of scalars that owns its memory.
///
/// The building block of every tensor, workspace and parameter buffer: allocated once, reused,
/// never resized. Reference semantics: copies share storage (use `copy()` for a deep copy).
public final class AlignedBuffer<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    /// The elements; valid for the lifetime of this object.
    public let pointer: UnsafeMutableBufferPointer<Scalar>

    /// Number of elements.
    public var count: Int { pointer.count }

    /// Allocates `count` zeroed elements.
    public init(count: Int) {
        precondition(count >= 0, "AlignedBuffer count must be non-negative")
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Scalar>.stride, alignment: 64)
        let typed = raw.bindMemory(to: Scalar.self, capacity: max(count, 1))
        typed.initialize(repeating: 0, count: max(count, 1))
        pointer = UnsafeMutableBufferPointer(start: typed, count: count)
    }

    /// Allocates a buffer holding `values`.
    public convenience init<C: Collection>(_ values: C) where C.Element == Scalar {
        self.init(count: values.count)
        _ = pointer.initialize(from: values)
    }

    deinit { pointer.baseAddress?.deallocate() }

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
