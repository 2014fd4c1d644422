import Foundation

/// Token ids stored in the narrowest integer type that holds them: one byte per unit for a vocabulary of
/// at most 256 ids (every character corpus of one script), two for at most 65,536, four otherwise.
///
/// A random-access collection of `Int32` ids with the index semantics of `ArraySlice`: a slice
/// (`ids[range]`, itself a `TokenIDs`) shares the storage and keeps the indices of the whole. Immutable;
/// built by `TokenIDBuffer`. Hot loops copy runs out with `copy(_:into:)` (one width switch per run).
public struct TokenIDs: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public typealias Element = Int32
    public typealias Index = Int
    public typealias SubSequence = TokenIDs
    public typealias Indices = Range<Int>

    let storage: TokenIDBuffer
    public let startIndex: Int
    public let endIndex: Int

    init(storage: TokenIDBuffer, bounds: Range<Int>) {
        self.storage = storage
        startIndex = bounds.lowerBound
        endIndex = bounds.upperBound
    }

    /// The ids of `ids`, stored in the narrowest width that holds them all.
    public init<S: Sequence>(_ ids: S) where S.Element == Int32 {
        let buffer = TokenIDBuffer()
        for id in ids { buffer.append(id) }
        buffer.narrow()
        self.init(storage: buffer, bounds: 0..<buffer.count)
    }

    public init(arrayLiteral elements: Int32...) { self.init(elements) }

    /// `ids` itself when it is a `TokenIDs` (no copy), else its ids in a new `TokenIDs`.
    public static func wrapping<C: Sequence>(_ ids: C) -> TokenIDs where C.Element == Int32 {
        (ids as? TokenIDs) ?? TokenIDs(ids)
    }

    /// Bytes per id (1, 2 or 4).
    public var bytesPerID: Int { storage.width.rawValue }

    /// True when the ids are read in place from a memory-mapped token cache file (no copy in this
    /// process's heap); false for ids in heap memory.
    public var isMemoryMapped: Bool { storage.isMapped }

    public subscript(position: Int) -> Int32 {
        precondition(position >= startIndex && position < endIndex, "TokenIDs index \(position) out of range")
        return storage[position]
    }

    public subscript(bounds: Range<Int>) -> TokenIDs {
        precondition(bounds.lowerBound >= startIndex && bounds.upperBound <= endIndex, "TokenIDs range out of range")
        return TokenIDs(storage: storage, bounds: bounds)
    }

    /// Iterates without a bounds check per id (the range was checked when the slice was made).
    public struct Iterator: IteratorProtocol {
        let storage: TokenIDBuffer
        var position: Int
        let end: Int
        public mutating func next() -> Int32? {
            guard position < end else { return nil }
            defer { position += 1 }
            return storage[position]
        }
    }

    public func makeIterator() -> Iterator { Iterator(storage: storage, position: startIndex, end: endIndex) }

    public var indices: Range<Int> { startIndex..<endIndex }
    public func index(after i: Int) -> Int { i + 1 }
    public func index(before i: Int) -> Int { i - 1 }

    /// Writes the ids at `range` (indices of this collection) to `destination`, as `Int32`.
    public func copy(_ range: Range<Int>, into destination: UnsafeMutablePointer<Int32>) {
        precondition(range.lowerBound >= startIndex && range.upperBound <= endIndex, "TokenIDs range out of range")
        storage.copy(range, into: destination)
    }

    /// The ids as an array (4 bytes each).
    public var array: [Int32] {
        [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { copy(indices, into: base) }
            initialized = count
        }
    }

    public static func == (lhs: TokenIDs, rhs: TokenIDs) -> Bool { lhs.elementsEqual(rhs) }

    /// FNV-1a (64-bit) over the ids' little-endian bytes as `Int32` (4 bytes an id, whatever the stored
    /// width): the value a byte-by-byte hash of `array` gives, computed on the stored ids. For one- and
    /// two-byte ids the zero high bytes only multiply by the FNV prime, so they fold into one multiplication
    /// by its power (100 M one-byte ids: one multiply each instead of four and an iterator call).
    public func fnv1a64OfInt32Bytes() -> UInt64 { storage.fnv1a64OfInt32Bytes(indices) }

    public var description: String { array.description }
}

/// A growable id buffer in `malloc` memory that widens itself (UInt8 → UInt16 → Int32) when an id does
/// not fit, and grows by `realloc` (which moves large blocks by remapping pages, not copying them).
/// When memory runs out, `append` stops storing and sets `failed`; the reader checks it and throws
/// `TokenStorageError.outOfMemory` instead of aborting. Once wrapped in a `TokenIDs` it is not mutated.
///
/// A buffer can also be a read-only view of ids inside a memory-mapped token cache file
/// (`init(mapping:offset:count:width:)`): nothing is copied, and such a buffer is never mutated.
final class TokenIDBuffer: @unchecked Sendable {
    enum Width: Int { case uint8 = 1, uint16 = 2, int32 = 4 }

    private(set) var width: Width = .uint8
    private(set) var count = 0
    private var capacity = 0
    private var base: UnsafeMutableRawPointer?
    /// Bytes that could not be allocated, once an allocation failed (and nothing is appended after it).
    private(set) var failedAllocation: Int?
    /// The mapped file the ids live in, for a buffer made by `init(mapping:…)` (then `base` is not ours to free).
    private let mapping: MappedFile?

    init() { mapping = nil }

    /// The `count` ids of `width` bytes each at byte `offset` of `mapping` (a multiple of the width; the
    /// caller checked that they lie inside it). Read-only: mutating such a buffer is a programming error.
    init(mapping: MappedFile, offset: Int, count: Int, width: Width) {
        precondition(offset % width.rawValue == 0 && offset + count * width.rawValue <= mapping.count, "mapped ids out of range")
        self.mapping = mapping
        self.width = width
        self.count = count
        self.capacity = count
        self.base = mapping.base.map { UnsafeMutableRawPointer(mutating: $0 + offset) }
    }

    deinit { if mapping == nil { free(base) } }

    /// True when the ids are a view into a mapped file.
    var isMapped: Bool { mapping != nil }

    /// The ids' bytes as stored (`count × width`, little-endian on this machine), for writing them out.
    var rawBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : count * width.rawValue) }

    /// Makes room for `units` ids at the current width without failing: a hint (such as a file's
    /// declared size) is capped so it cannot reserve much more than a real corpus would use.
    func reserve(hint units: Int) {
        let capped = min(max(units, 0), Self.maximumReservation)
        if capped > capacity { _ = grow(to: capped) }
    }

    /// Largest reservation taken from a hint: 64 Mi ids (64 MiB at one byte per id).
    static let maximumReservation = 1 << 26

    @inline(__always)
    func append(_ id: Int32) {
        if count == capacity {
            guard failedAllocation == nil, grow(to: max(capacity * 2, 4096)) else { return }
        }
        switch width {
        case .uint8 where id >= 0 && id <= 0xFF:
            base.unsafelyUnwrapped.storeBytes(of: UInt8(truncatingIfNeeded: id), toByteOffset: count, as: UInt8.self)
        case .uint16 where id >= 0 && id <= 0xFFFF:
            base.unsafelyUnwrapped.storeBytes(of: UInt16(truncatingIfNeeded: id), toByteOffset: count &* 2, as: UInt16.self)
        case .int32:
            base.unsafelyUnwrapped.storeBytes(of: id, toByteOffset: count &* 4, as: Int32.self)
        default:
            guard convert(to: id >= 0 && id <= 0xFFFF ? .uint16 : .int32) else { return }
            append(id)
            return
        }
        count += 1
    }

    subscript(index: Int) -> Int32 {
        get {
            switch width {
            case .uint8: Int32(base.unsafelyUnwrapped.load(fromByteOffset: index, as: UInt8.self))
            case .uint16: Int32(base.unsafelyUnwrapped.load(fromByteOffset: index * 2, as: UInt16.self))
            case .int32: base.unsafelyUnwrapped.load(fromByteOffset: index * 4, as: Int32.self)
            }
        }
        set {
            precondition(fits(newValue, in: width), "id \(newValue) does not fit the buffer's width")
            switch width {
            case .uint8: base.unsafelyUnwrapped.storeBytes(of: UInt8(newValue), toByteOffset: index, as: UInt8.self)
            case .uint16: base.unsafelyUnwrapped.storeBytes(of: UInt16(newValue), toByteOffset: index * 2, as: UInt16.self)
            case .int32: base.unsafelyUnwrapped.storeBytes(of: newValue, toByteOffset: index * 4, as: Int32.self)
            }
        }
    }

    /// Makes the width hold every id below `bound` (false when memory for the wider copy runs out).
    func widen(forIDsBelow bound: Int) -> Bool {
        let target = Self.width(forIDsBelow: bound)
        return target.rawValue <= width.rawValue || convert(to: target)
    }

    /// Replaces every id by `table[id]` in place (the new ids must fit the current width).
    func remap(_ table: [Int32]) {
        precondition(mapping == nil, "mapped token ids are read-only")
        table.withUnsafeBufferPointer { map in
            switch width {
            case .uint8:
                let p = base?.assumingMemoryBound(to: UInt8.self)
                for k in 0..<count { p.unsafelyUnwrapped[k] = UInt8(map[Int(p.unsafelyUnwrapped[k])]) }
            case .uint16:
                let p = base?.assumingMemoryBound(to: UInt16.self)
                for k in 0..<count { p.unsafelyUnwrapped[k] = UInt16(map[Int(p.unsafelyUnwrapped[k])]) }
            case .int32:
                let p = base?.assumingMemoryBound(to: Int32.self)
                for k in 0..<count { p.unsafelyUnwrapped[k] = map[Int(p.unsafelyUnwrapped[k])] }
            }
        }
    }

    /// Calls `body` with every id in order (one width switch for the whole run).
    func forEach(_ body: (Int, Int32) -> Void) {
        switch width {
        case .uint8:
            let p = base?.assumingMemoryBound(to: UInt8.self)
            for k in 0..<count { body(k, Int32(p.unsafelyUnwrapped[k])) }
        case .uint16:
            let p = base?.assumingMemoryBound(to: UInt16.self)
            for k in 0..<count { body(k, Int32(p.unsafelyUnwrapped[k])) }
        case .int32:
            let p = base?.assumingMemoryBound(to: Int32.self)
            for k in 0..<count { body(k, p.unsafelyUnwrapped[k]) }
        }
    }

    /// Reverses the ids in `range` in place.
    func reverse(_ range: Range<Int>) {
        precondition(mapping == nil, "mapped token ids are read-only")
        var i = range.lowerBound, j = range.upperBound - 1
        while i < j {
            let a = self[i]
            self[i] = self[j]
            self[j] = a
            i += 1; j -= 1
        }
    }

    func copy(_ range: Range<Int>, into destination: UnsafeMutablePointer<Int32>) {
        guard !range.isEmpty, let base else { return }
        switch width {
        case .uint8:
            let p = base.assumingMemoryBound(to: UInt8.self)
            for k in range { destination[k - range.lowerBound] = Int32(p[k]) }
        case .uint16:
            let p = base.assumingMemoryBound(to: UInt16.self)
            for k in range { destination[k - range.lowerBound] = Int32(p[k]) }
        case .int32:
            (destination).update(from: base.assumingMemoryBound(to: Int32.self) + range.lowerBound, count: range.count)
        }
    }

    /// See `TokenIDs.fnv1a64OfInt32Bytes()`.
    func fnv1a64OfInt32Bytes(_ range: Range<Int>) -> UInt64 {
        let prime: UInt64 = 0x100_0000_01b3
        let prime2 = prime &* prime, prime3 = prime2 &* prime, prime4 = prime3 &* prime
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        guard !range.isEmpty, let base else { return hash }
        switch width {
        case .uint8:
            let p = base.assumingMemoryBound(to: UInt8.self)
            for k in range { hash = (hash ^ UInt64(p[k])) &* prime4 }
        case .uint16:
            let p = base.assumingMemoryBound(to: UInt16.self)
            for k in range {
                let id = UInt64(p[k])
                hash = (((hash ^ (id & 0xFF)) &* prime) ^ (id >> 8)) &* prime3
            }
        case .int32:
            let p = base.assumingMemoryBound(to: Int32.self)
            for k in range {
                var value = UInt64(UInt32(bitPattern: p[k]))
                for _ in 0..<4 {
                    hash = (hash ^ (value & 0xFF)) &* prime
                    value >>= 8
                }
            }
        }
        return hash
    }

    /// The narrowest width that holds ids below `bound` (a vocabulary size).
    static func width(forIDsBelow bound: Int) -> Width {
        bound <= 0x100 ? .uint8 : bound <= 0x1_0000 ? .uint16 : .int32
    }

    /// Stores the ids in the narrowest width that holds them (a copy when it is narrower; kept as is
    /// when memory for the copy is short) and returns unused capacity to the system.
    func narrow() {
        var largest: Int32 = 0
        forEach { _, id in largest = max(largest, id) }
        let target = Self.width(forIDsBelow: Int(largest) + 1)
        if target.rawValue < width.rawValue { _ = convert(to: target) }
        if count < capacity && count > 0, let shrunk = realloc(base, count * width.rawValue) {
            base = shrunk; capacity = count
        }
    }

    private func fits(_ id: Int32, in width: Width) -> Bool {
        switch width {
        case .uint8: id >= 0 && id <= 0xFF
        case .uint16: id >= 0 && id <= 0xFFFF
        case .int32: true
        }
    }

    /// Grows the capacity to `newCapacity` ids; false (with `failedAllocation` set) when memory runs out.
    private func grow(to newCapacity: Int) -> Bool {
        precondition(mapping == nil, "mapped token ids are read-only")
        let (bytes, overflow) = newCapacity.multipliedReportingOverflow(by: width.rawValue)
        guard !overflow, let grown = realloc(base, max(bytes, 1)) else {
            failedAllocation = overflow ? Int.max : bytes
            return false
        }
        base = grown
        capacity = newCapacity
        return true
    }

    /// Re-stores every id at `newWidth` (a new block; the old one is freed); false when memory runs out.
    private func convert(to newWidth: Width) -> Bool {
        precondition(mapping == nil, "mapped token ids are read-only")
        let newCapacity = max(capacity, 1)
        let (bytes, overflow) = newCapacity.multipliedReportingOverflow(by: newWidth.rawValue)
        guard !overflow, let block = malloc(bytes) else {
            failedAllocation = overflow ? Int.max : bytes
            return false
        }
        let old = (base, width)
        base = block
        width = newWidth
        capacity = newCapacity
        if let oldBase = old.0 {
            switch old.1 {
            case .uint8:
                let p = oldBase.assumingMemoryBound(to: UInt8.self)
                for k in 0..<count { self[k] = Int32(p[k]) }
            case .uint16:
                let p = oldBase.assumingMemoryBound(to: UInt16.self)
                for k in 0..<count { self[k] = Int32(p[k]) }
            case .int32:
                let p = oldBase.assumingMemoryBound(to: Int32.self)
                for k in 0..<count { self[k] = p[k] }
            }
        }
        free(old.0)
        return true
    }

    /// Throws `TokenStorageError.outOfMemory` when an allocation failed while reading `sources`.
    func checkAllocation(sources: @autoclosure () -> String) throws {
        if let bytes = failedAllocation {
            throw TokenStorageError.outOfMemory(sources: sources(), units: count, bytes: bytes)
        }
    }
}

/// The corpus's ids could not be stored.
public enum TokenStorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An allocation of `bytes` failed after `units` ids of `sources` were stored.
    case outOfMemory(sources: String, units: Int, bytes: Int)

    public var description: String {
        switch self {
        case .outOfMemory(let sources, let units, let bytes):
            "\(sources): out of memory after \(units) units (could not allocate \(MemorySize.describe(bytes == Int.max ? nil : bytes)) "
                + "for the token ids; this machine has \(MemorySize.describe(MachineMemory.available)))"
        }
    }
}
