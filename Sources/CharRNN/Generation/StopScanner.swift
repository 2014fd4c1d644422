/// Follows one sample's generated text, unit by unit, and cuts it right after the first stop string.
///
/// The sample's text is the bytes of its units (the prime excluded). A stop string matches wherever
/// its bytes end first; when several end at the same byte the longest wins. The text is cut right
/// after that byte: a unit that holds more than the end of the stop string (a word or grapheme unit)
/// loses the rest. With `strip` the stop string itself is removed too.
///
/// `append` hands back the bytes that are final, so a caller can print as it goes and never print
/// past a stop: keeping the stop string, every byte is final at once; stripping it, the scanner holds
/// back the longest end of the text that could still grow into a stop string (at most `longest − 1`
/// bytes), which `finish()` releases when the sample ends without a stop.
public struct StopScanner: Sendable {
    /// The stop strings looked for (none: the text is never cut).
    public let stops: StopStrings
    /// Whether the stop string is removed from `text` once matched.
    public let strip: Bool
    /// The sample's text so far; once stopped, cut after the stop string (and without it when stripping).
    public private(set) var text: [UInt8] = []
    /// The index in `stops.strings` of the stop string that ended the sample, or nil.
    public private(set) var matched: Int?
    /// Bytes of `text` already handed out.
    private var released = 0

    /// A scanner for one sample, before its first unit.
    public init(stops: StopStrings, strip: Bool) {
        self.stops = stops; self.strip = strip
    }

    /// Whether a stop string has been generated (no more units are taken).
    public var isStopped: Bool { matched != nil }

    /// Adds one unit's bytes; returns the bytes that became final (to print). Nothing once stopped.
    public mutating func append<Bytes: Collection>(_ unit: Bytes) -> ArraySlice<UInt8> where Bytes.Element == UInt8 {
        guard matched == nil else { return [] }
        let start = text.count
        text.append(contentsOf: unit)
        if start < text.count {
            for end in (start + 1)...text.count {
                guard let index = match(endingAt: end) else { continue }
                matched = index
                text.removeSubrange(end...)
                if strip { text.removeLast(stops.patterns[index].count) }
                return release(upTo: text.count)
            }
        }
        return release(upTo: text.count - (strip ? heldBack() : 0))
    }

    /// Ends the sample: returns the bytes still held back (none after a stop).
    public mutating func finish() -> ArraySlice<UInt8> {
        release(upTo: text.count)
    }

    /// The longest stop string whose bytes end at `text[end - 1]`.
    private func match(endingAt end: Int) -> Int? {
        var best: Int?
        for (index, pattern) in stops.patterns.enumerated() where pattern.count <= end {
            if text[(end - pattern.count)..<end].elementsEqual(pattern),
               best.map({ stops.patterns[$0].count < pattern.count }) ?? true {
                best = index
            }
        }
        return best
    }

    /// The length of the longest end of `text` that is the start of some stop string (shorter than it).
    private func heldBack() -> Int {
        var length = min(text.count, stops.longest - 1)
        while length > 0 {
            let tail = text[(text.count - length)...]
            if stops.patterns.contains(where: { $0.count > length && $0.starts(with: tail) }) { return length }
            length -= 1
        }
        return 0
    }

    private mutating func release(upTo end: Int) -> ArraySlice<UInt8> {
        guard end > released else { return [] }
        defer { released = end }
        return text[released..<end]
    }
}
