/// A position whose unit is fixed by an earlier one: a closer matching the innermost open delimiter
/// (or, for the recall task, a key reproduced after a cue).
///
/// Positions are 0-based indices into the evaluated unit sequence. The unit at `position` is the
/// one to predict, so a model is scored on its distribution for unit `position` given units
/// `0..<position` — the output produced after reading unit `position − 1`.
public struct LongRangeTarget: Codable, Sendable, Equatable {
    /// Index of the unit to predict (the closer).
    public var position: Int
    /// Index of the unit it depends on (the opener).
    public var openerPosition: Int
    /// `position − openerPosition` (≥ 1).
    public var distance: Int
    /// The expected unit at `position`.
    public var expected: String
    /// Index of `expected` in the candidate list (``DelimiterSet/closers`` or the key alphabet).
    public var expectedIndex: Int

    public init(position: Int, openerPosition: Int, expected: String, expectedIndex: Int) {
        self.position = position; self.openerPosition = openerPosition
        self.distance = position - openerPosition; self.expected = expected
        self.expectedIndex = expectedIndex
    }

    enum CodingKeys: String, CodingKey {
        case position, distance, expected
        case openerPosition = "opener_position"
        case expectedIndex = "expected_index"
    }
}

/// The scoring targets of a unit sequence and what could not be scored, found with a delimiter stack.
///
/// Rules, unit by unit:
/// - a symmetric delimiter (`"`) closes when the innermost open delimiter is the same unit, and
///   opens otherwise;
/// - an opener is pushed;
/// - a closer matching the innermost open delimiter pops it and yields a ``LongRangeTarget``;
/// - a closer while delimiters are open but not matching the innermost one is a *mismatched* closer:
///   counted and skipped, the stack unchanged (so an apostrophe `’` inside “…” does not unwind it);
/// - a closer with nothing open is an *unmatched* closer: counted and skipped;
/// - openers still open at the end are counted as unclosed.
public struct DelimiterScan: Sendable, Equatable {
    /// Targets in order of position.
    public var targets: [LongRangeTarget] = []
    /// Openers seen (including symmetric delimiters that opened).
    public var openers = 0
    /// Closers seen (matched, mismatched and unmatched).
    public var closers = 0
    /// Closers skipped because something else was innermost; with the distance to that innermost opener.
    public var mismatchedDistances: [Int] = []
    /// Closers skipped because nothing was open.
    public var unmatchedClosers = 0
    /// Openers never closed.
    public var unclosedOpeners = 0

    /// Closers skipped because something else was innermost.
    public var mismatchedClosers: Int { mismatchedDistances.count }

    /// Scans `units` (grapheme units, e.g. from the tokenizer or `Array(text).map(String.init)`).
    public init(units: some Sequence<String>, delimiters: DelimiterSet = .standard) {
        var stack: [(position: Int, opener: String, closer: String)] = []
        for (position, unit) in units.enumerated() {
            if let top = stack.last, top.closer == unit {
                stack.removeLast()
                closers += 1
                targets.append(LongRangeTarget(position: position, openerPosition: top.position, expected: unit,
                                               expectedIndex: delimiters.closerIndex(unit)!))
            } else if let closer = delimiters.closer(for: unit) {
                stack.append((position, unit, closer))
                openers += 1
            } else if delimiters.isCloser(unit) {
                closers += 1
                if let top = stack.last {
                    mismatchedDistances.append(position - top.position)
                } else {
                    unmatchedClosers += 1
                }
            }
        }
        unclosedOpeners = stack.count
    }

    /// Scans the grapheme clusters of `text`.
    public init(text: String, delimiters: DelimiterSet = .standard) {
        self.init(units: text.lazy.map(String.init), delimiters: delimiters)
    }
}

/// Targets of the synthetic `recall` task: after a `@` comes a key, after a later `?` the same key
/// must be reproduced. Each `?` that is not the last unit, with a `@ key` seen before it, makes the
/// unit after it a target whose expected unit is the most recent `@` key (the unit actually after `?` is not
/// trusted: a generated text is scored against the last key). Distance is from that key to the
/// position after `?`.
public struct RecallScan: Sendable, Equatable {
    public var targets: [LongRangeTarget] = []
    /// Cues (`?`) with no earlier key.
    public var cuesWithoutKey = 0

    /// The key alphabet of the synthetic task: A–Z.
    public static let keys: [String] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".map(String.init)

    public init(units: some Sequence<String>, keys: [String] = RecallScan.keys,
                keyMarker: String = "@", cueMarker: String = "?") {
        let array = Array(units)
        var lastKey: (position: Int, key: String, index: Int)?
        for position in array.indices.dropLast() {
            let next = array[position + 1]
            if array[position] == keyMarker, let index = keys.firstIndex(of: next) {
                lastKey = (position + 1, next, index)
            } else if array[position] == cueMarker {
                guard let key = lastKey else { cuesWithoutKey += 1; continue }
                targets.append(LongRangeTarget(position: position + 1, openerPosition: key.position,
                                               expected: key.key, expectedIndex: key.index))
            }
        }
    }
}
