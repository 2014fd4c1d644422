/// Cuts text into units according to `TokenizerOptions` (ICU normalization, case folding, segmentation).
///
/// For whole strings; `makeSegmenter()` gives the streaming form that corpus loading uses, which produces
/// exactly the same units however the text is chunked.
public struct Tokenizer: Sendable, Hashable {
    public let options: TokenizerOptions

    public init(_ options: TokenizerOptions = TokenizerOptions()) {
        self.options = options
    }

    /// A streaming segmenter with these options.
    public func makeSegmenter() throws -> UnitSegmenter {
        try UnitSegmenter(options: options)
    }

    /// The units of `text`, in order. Throws only when ICU fails (missing data).
    public func units(of text: String) throws -> [String] {
        var sink = CollectingSink()
        let segmenter = try makeSegmenter()
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return [] }
        try bytes.withUnsafeMutableBufferPointer { try segmenter.feed(UnsafeBufferPointer($0), into: &sink) }
        try segmenter.finish(into: &sink)
        bytes = []
        return sink.units
    }

    /// Joins units back into text: plain concatenation, except for byte units, whose bytes are
    /// reassembled and decoded as UTF-8 (ill-formed sequences, for example from sampling, become U+FFFD).
    public func join<C: Sequence>(_ units: C) -> String where C.Element == String {
        Self.join(units, unit: options.unit)
    }

    static func join<C: Sequence>(_ units: C, unit: TokenUnit) -> String where C.Element == String {
        guard unit == .byte else { return units.joined() }
        var bytes: [UInt8] = []
        for unit in units {
            for scalar in unit.unicodeScalars {
                if scalar.value < 0x100 {
                    bytes.append(UInt8(scalar.value))
                } else {
                    bytes.append(contentsOf: Array(String(scalar).utf8))
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Collects units as strings.
struct CollectingSink: UnitSink {
    var units: [String] = []
    mutating func ascii(_ byte: UInt8) { units.append(String(Unicode.Scalar(byte))) }
    mutating func unit(utf8: UnsafeBufferPointer<UInt8>) { units.append(String(decoding: utf8, as: UTF8.self)) }
}
