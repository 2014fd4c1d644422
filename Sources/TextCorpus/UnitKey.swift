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
