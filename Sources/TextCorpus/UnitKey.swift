/// A unit's UTF-8 bytes as a dictionary key.
///
/// Units are compared by their bytes, not by `String ==` (which treats canonically equivalent spellings as
/// equal and must normalize to hash): after NFC/NFKC equivalent spellings are already identical bytes, and
/// with normalization `.none` they must stay distinct units. Units up to 24 bytes (nearly all) are stored
/// inline; longer ones keep a byte array.
struct UnitKey: Hashable {
    private var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0
    private var length: Int
    private var overflow: [UInt8]?

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        length = bytes.count
        if bytes.count <= 24 {
            var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
            withUnsafeMutableBytes(of: &words) { raw in
                if let base = bytes.baseAddress { raw.baseAddress!.copyMemory(from: base, byteCount: bytes.count) }
            }
            (w0, w1, w2) = words
            overflow = nil
        } else {
            overflow = Array(bytes)
        }
    }

    /// A cheap, well-mixed 64-bit hash (multiply–xorshift), for `UnitTable`; not for hostile input.
    var fastHash: UInt64 {
        var h = UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15
        if let overflow {
            for byte in overflow { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        } else {
            h = (h ^ w0) &* 0xBF58_476D_1CE4_E5B9
            h = (h ^ (h >> 31) ^ w1) &* 0x94D0_49BB_1331_11EB
            h = (h ^ (h >> 29) ^ w2) &* 0xBF58_476D_1CE4_E5B9
        }
        return h ^ (h >> 32)
    }

    init(_ text: String) {
        var text = text
        self = text.withUTF8 { UnitKey($0) }
    }
}

extension UnitSink {
    /// Convenience for sinks fed from Strings.
    mutating func unit(_ text: String) {
        var text = text
        text.withUTF8 { unit(utf8: $0) }
    }
}

/// An open-addressing hash table from unit bytes to ids (linear probing, load ≤ 1/2). Faster than
/// `Dictionary` here because `UnitKey.fastHash` skips SipHash's per-lookup seeding and finalization.
struct UnitTable {
    private var keys: [UnitKey?]
    private var values: [Int32]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UnitKey?](repeating: nil, count: size)
        values = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    func find(_ key: UnitKey) -> Int32? {
        var slot = Int(truncatingIfNeeded: key.fastHash) & mask
        while let existing = keys[slot] {
            if existing == key { return values[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Inserts or replaces.
    mutating func insert(_ key: UnitKey, _ value: Int32) {
        if (count + 1) * 2 > keys.count { grow() }
        var slot = Int(truncatingIfNeeded: key.fastHash) & mask
        while let existing = keys[slot] {
            if existing == key { values[slot] = value; return }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        values[slot] = value
        count += 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UnitKey?](repeating: nil, count: oldKeys.count * 2)
        values = [Int32](repeating: -1, count: oldKeys.count * 2)
        mask = keys.count - 1
        count = 0
        for (slot, key) in oldKeys.enumerated() {
            if let key { insert(key, oldValues[slot]) }
        }
    }
}
