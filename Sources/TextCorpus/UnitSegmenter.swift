import CICU

/// Receives the units a `UnitSegmenter` produces, in text order.
public protocol UnitSink {
    /// A unit that is one ASCII character (0x00–0x7F): the fast path, no String is built.
    mutating func ascii(_ byte: UInt8)
    /// Any other unit, as UTF-8 (never a single ASCII character; valid only during the call). A byte unit
    /// 0x80–0xFF arrives as the UTF-8 of the scalar U+0080–U+00FF with that value.
    mutating func unit(utf8: UnsafeBufferPointer<UInt8>)
}

/// Turns a stream of well-formed UTF-8 chunks into units: case folding (optional), normalization, then
/// segmentation, all on ICU. Not thread-safe; one per stream.
///
/// **Chunking.** Input may be cut anywhere between scalars: the segmenter only processes text up to the last
/// *safe point* and keeps the rest for the next `feed`. A safe point is a position where every stage
/// (normalization, case folding, segmentation) is provably independent of the text on either side:
/// - after an ASCII control other than CR (UAX #29 GB4 breaks after Control/LF; controls are normalization
///   starters that never compose), for grapheme, code point and byte units;
/// - between two ASCII characters other than CR LF (GB999 applies: neither is Prepend/Extend/ZWJ/RI, and no
///   ASCII character is the second of a canonical composition), for the same units;
/// - after LF for word units (WB3a).
/// The same rule gives the **ASCII fast path**: an ASCII character with safe points on both sides is its own
/// unit and is emitted without ICU, which is exactly what ICU would produce.
///
/// If no safe point appears for `maxPending` bytes (for example a very long line of CJK text), the text is cut
/// at a scalar that has a normalization boundary before it; the last segment (two for words, whose rules look
/// ahead) is held back and processed again with what follows.
public final class UnitSegmenter {
    public let options: TokenizerOptions
    /// Bytes buffered without a safe point before the fallback cut is used.
    var maxPending = 1 << 20

    private var pending: [UInt8] = []
    private let breaker: ICUBreaker?
    private var utf16: [UInt16] = []
    private var scratch: [UInt16] = []
    private var utf8: [UInt8] = []
    private var unitBytes = [UInt8](repeating: 0, count: 64)
    private var ends: [Int] = []
    private let wordMode: Bool

    public init(options: TokenizerOptions) throws {
        self.options = options
        wordMode = options.unit == .word
        switch options.unit {
        case .grapheme: breaker = try ICUBreaker(words: false)
        case .word: breaker = try ICUBreaker(words: true)
        case .codepoint, .byte: breaker = nil
        }
    }

    /// Adds well-formed UTF-8 (cut anywhere between scalars) and emits every unit that is now final.
    public func feed<S: UnitSink>(_ bytes: UnsafeBufferPointer<UInt8>, into sink: inout S) throws {
        pending.append(contentsOf: bytes)
        try drain(final: false, into: &sink)
    }

    /// Emits the remaining units: the end of the text (or of one document) is reached.
    public func finish<S: UnitSink>(into sink: inout S) throws {
        try drain(final: true, into: &sink)
    }

    // MARK: Safe points

    @inline(__always)
    private func isSafe(after previous: UInt8, before next: UInt8?) -> Bool {
        if wordMode { return previous == 0x0A }
        if (previous < 0x20 && previous != 0x0D) || previous == 0x7F { return true }
        guard let next else { return false }
        return previous < 0x80 && next < 0x80 && !(previous == 0x0D && next == 0x0A)
    }

    private func lastSafePoint() -> Int {
        let n = pending.count
        if n == 0 { return 0 }
        return pending.withUnsafeBufferPointer { b in
            if isSafe(after: b[n - 1], before: nil) { return n }
            var p = n - 1
            while p > 0 {
                if isSafe(after: b[p - 1], before: b[p]) { return p }
                p -= 1
            }
            return 0
        }
    }

    private func drain<S: UnitSink>(final: Bool, into sink: inout S) throws {
        if pending.isEmpty { return }
        let cut = final ? pending.count : lastSafePoint()
        if cut == 0 {
            if pending.count > maxPending { try fallbackCut(into: &sink) }
            return
        }
        try pending.withUnsafeBufferPointer { all in
            try process(UnsafeBufferPointer(rebasing: all[0..<cut]), into: &sink)
        }
        pending.removeSubrange(0..<cut)
    }

    /// Processes text whose start and end are safe points.
    private func process<S: UnitSink>(_ region: UnsafeBufferPointer<UInt8>, into sink: inout S) throws {
        if wordMode {
            _ = try slow(region, holdBack: 0, into: &sink)
            return
        }
        let n = region.count
        let fold = options.caseFold
        var i = 0  // invariant: i is a safe point
        while i < n {
            // Fast path: ASCII characters with a safe point after them (one before is the invariant).
            while i < n {
                let b = region[i]
                if b >= 0x80 { break }
                if b == 0x0D && i + 1 < n && region[i + 1] == 0x0A {
                    // CR LF: one grapheme cluster (GB3); the position after LF is safe (GB4).
                    if options.unit == .grapheme {
                        withUnsafeBytes(of: (UInt8(0x0D), UInt8(0x0A))) { sink.unit(utf8: $0.bindMemory(to: UInt8.self)) }
                    } else {
                        sink.ascii(0x0D)
                        sink.ascii(0x0A)
                    }
                    i += 2
                    continue
                }
                if i + 1 < n {
                    let c = region[i + 1]
                    if !(c < 0x80 && b != 0x0D) && !isSafe(after: b, before: c) { break }
                }
                sink.ascii(fold && b >= 0x41 && b <= 0x5A ? b + 0x20 : b)
                i += 1
            }
            if i >= n { break }
            // Slow path up to the next safe point.
            var j = i + 1
            while j < n && !isSafe(after: region[j - 1], before: region[j]) { j += 1 }
            _ = try slow(UnsafeBufferPointer(rebasing: region[i..<j]), holdBack: 0, into: &sink)
            i = j
        }
    }

    /// Used when `pending` grew past `maxPending` without a safe point.
    private func fallbackCut<S: UnitSink>(into sink: inout S) throws {
        let n = pending.count
        var m = max(n / 2, n - 4096)
        let found: Bool = pending.withUnsafeBufferPointer { b in
            while m > 0 {
                while m > 0 && (b[m] & 0xC0) == 0x80 { m -= 1 }
                if m == 0 { return false }
                if options.normalization == .none
                    || cicu_has_boundary_before(ICUText.formCode(options.normalization), Int32(bitPattern: Self.scalar(b, at: m))) != 0 {
                    return true
                }
                m -= 1
            }
            return false
        }
        guard found else { return }
        let holdBack = options.unit == .word ? 2 : (options.unit == .grapheme ? 1 : 0)
        let region = pending
        let held = try region.withUnsafeBufferPointer { all in
            try slow(UnsafeBufferPointer(rebasing: all[0..<m]), holdBack: holdBack, into: &sink)
        }
        var tail = Array(String(decoding: held, as: UTF16.self).utf8)
        tail.append(contentsOf: pending[m...])
        pending = tail
    }

    private static func scalar(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt32 {
        let b0 = UInt32(b[i])
        if b0 < 0x80 { return b0 }
        func cont(_ k: Int) -> UInt32 { i + k < b.count ? UInt32(b[i + k] & 0x3F) : 0 }
        if b0 < 0xE0 { return (b0 & 0x1F) << 6 | cont(1) }
        if b0 < 0xF0 { return (b0 & 0x0F) << 12 | cont(1) << 6 | cont(2) }
        return (b0 & 0x07) << 18 | cont(1) << 12 | cont(2) << 6 | cont(3)
    }

    // MARK: ICU path

    /// Folds, normalizes and segments `bytes` with ICU, emitting all segments but the last `holdBack`,
    /// whose (already transformed) UTF-16 text is returned.
    private func slow<S: UnitSink>(
        _ bytes: UnsafeBufferPointer<UInt8>, holdBack: Int, into sink: inout S
    ) throws -> [UInt16] {
        if bytes.isEmpty { return [] }
        var length = try ICUText.transform("u_strFromUTF8", into: &utf16, estimate: bytes.count) { out, capacity, status in
            cicu_utf8_to_utf16(bytes.baseAddress, Int32(bytes.count), out, capacity, &status)
        }
        if options.caseFold {
            let source = utf16
            length = try ICUText.transform("u_strFoldCase", into: &scratch, estimate: length + length / 2 + 8) { out, capacity, status in
                source.withUnsafeBufferPointer { cicu_fold_case($0.baseAddress, Int32(length), out, capacity, &status) }
            }
            swap(&utf16, &scratch)
        }
        if options.normalization != .none {
            let form = ICUText.formCode(options.normalization)
            var status: Int32 = 0
            let prefix = utf16.withUnsafeBufferPointer { cicu_normalized_prefix(form, $0.baseAddress, Int32(length), &status) }
            try ICUText.check(status, "unorm2_spanQuickCheckYes")
            if Int(prefix) < length {
                let source = utf16
                length = try ICUText.transform("unorm2_normalize", into: &scratch, estimate: length + length / 2 + 8) { out, capacity, status in
                    source.withUnsafeBufferPointer { cicu_normalize(form, $0.baseAddress, Int32(length), out, capacity, &status) }
                }
                swap(&utf16, &scratch)
            }
        }
        let text = utf16
        return try text.withUnsafeBufferPointer { all in
            let text = UnsafeBufferPointer(rebasing: all[0..<length])
            switch options.unit {
            case .grapheme, .word:
                ends.removeAll(keepingCapacity: true)
                try breaker!.segments(text) { ends.append($0) }
                let emitCount = max(0, ends.count - holdBack)
                var start = 0
                for k in 0..<emitCount {
                    emit(UnsafeBufferPointer(rebasing: text[start..<ends[k]]), into: &sink)
                    start = ends[k]
                }
                return Array(text[start...])
            case .codepoint:
                var i = 0
                while i < length {
                    let width = (text[i] & 0xFC00) == 0xD800 && i + 1 < length && (text[i + 1] & 0xFC00) == 0xDC00 ? 2 : 1
                    emit(UnsafeBufferPointer(rebasing: text[i..<(i + width)]), into: &sink)
                    i += width
                }
                return []
            case .byte:
                let count = try ICUText.transform8(into: &utf8, text)
                for k in 0..<count {
                    let byte = utf8[k]
                    if byte < 0x80 {
                        sink.ascii(byte)
                    } else {
                        let pair: (UInt8, UInt8) = (0xC0 | byte >> 6, 0x80 | byte & 0x3F)
                        withUnsafeBytes(of: pair) { sink.unit(utf8: $0.bindMemory(to: UInt8.self)) }
                    }
                }
                return []
            }
        }
    }

    /// Emits one segment (UTF-16) as UTF-8.
    @inline(__always)
    private func emit<S: UnitSink>(_ segment: UnsafeBufferPointer<UInt16>, into sink: inout S) {
        if segment.count == 1 && segment[0] < 0x80 {
            sink.ascii(UInt8(segment[0]))
            return
        }
        if unitBytes.count < segment.count * 3 { unitBytes = [UInt8](repeating: 0, count: segment.count * 3) }
        unitBytes.withUnsafeMutableBufferPointer { out in
            var n = 0
            var i = 0
            let count = segment.count
            while i < count {
                var c = UInt32(segment[i])
                i += 1
                if c & 0xFC00 == 0xD800, i < count, segment[i] & 0xFC00 == 0xDC00 {
                    c = 0x10000 + ((c - 0xD800) << 10) + (UInt32(segment[i]) - 0xDC00)
                    i += 1
                }
                if c < 0x80 {
                    out[n] = UInt8(c); n += 1
                } else if c < 0x800 {
                    out[n] = UInt8(0xC0 | c >> 6); out[n + 1] = UInt8(0x80 | c & 0x3F); n += 2
                } else if c < 0x10000 {
                    out[n] = UInt8(0xE0 | c >> 12); out[n + 1] = UInt8(0x80 | (c >> 6) & 0x3F)
                    out[n + 2] = UInt8(0x80 | c & 0x3F); n += 3
                } else {
                    out[n] = UInt8(0xF0 | c >> 18); out[n + 1] = UInt8(0x80 | (c >> 12) & 0x3F)
                    out[n + 2] = UInt8(0x80 | (c >> 6) & 0x3F); out[n + 3] = UInt8(0x80 | c & 0x3F); n += 4
                }
            }
            sink.unit(utf8: UnsafeBufferPointer(rebasing: out[0..<n]))
        }
    }
}

extension ICUText {
    /// UTF-16 → UTF-8 into a reusable buffer; returns the byte count.
    static func transform8(into output: inout [UInt8], _ text: UnsafeBufferPointer<UInt16>) throws -> Int {
        let needed = text.count * 3 + 4
        if output.count < needed { output = [UInt8](repeating: 0, count: needed) }
        var status: Int32 = 0
        let length = output.withUnsafeMutableBufferPointer {
            cicu_utf16_to_utf8(text.baseAddress, Int32(text.count), $0.baseAddress, Int32($0.count), &status)
        }
        try check(status, "u_strToUTF8")
        return Int(length)
    }
}
