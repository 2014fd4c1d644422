/// An opening unit and the unit that closes it. A symmetric pair (opener == closer, like `"`)
/// closes when it is the innermost open delimiter and opens otherwise.
public struct DelimiterPair: Codable, Sendable, Equatable, Hashable {
    public var opener: String
    public var closer: String

    public init(_ opener: String, _ closer: String) {
        self.opener = opener; self.closer = closer
    }

    /// Whether the same unit opens and closes (`"`).
    public var isSymmetric: Bool { opener == closer }
}

/// The delimiters a long-range evaluation tracks, and the ordered list of closing units
/// (``closers``) that probability vectors are aligned with.
public struct DelimiterSet: Sendable, Equatable {
    public let pairs: [DelimiterPair]
    /// Distinct closing units in pair order: the candidate set for type accuracy.
    public let closers: [String]
    private let closerForOpener: [String: String]
    private let openersForCloser: [String: Set<String>]

    /// A set from `pairs` (openers must be distinct).
    public init(pairs: [DelimiterPair]) {
        self.pairs = pairs
        var closers: [String] = []
        var closerForOpener: [String: String] = [:]
        var openersForCloser: [String: Set<String>] = [:]
        for pair in pairs {
            if !closers.contains(pair.closer) { closers.append(pair.closer) }
            closerForOpener[pair.opener] = pair.closer
            openersForCloser[pair.closer, default: []].insert(pair.opener)
        }
        self.closers = closers
        self.closerForOpener = closerForOpener
        self.openersForCloser = openersForCloser
    }

    /// `( ) [ ] { } “ ” ‘ ’ « »` and the straight quote `"`; closers in the order
    /// `) ] } ” ’ » "`.
    public static let standard = DelimiterSet(pairs: [
        DelimiterPair("(", ")"), DelimiterPair("[", "]"), DelimiterPair("{", "}"),
        DelimiterPair("“", "”"), DelimiterPair("‘", "’"), DelimiterPair("«", "»"),
        DelimiterPair("\"", "\""),
    ])

    /// The closer that matches `opener`, or nil when `opener` opens nothing.
    public func closer(for opener: String) -> String? { closerForOpener[opener] }

    /// Whether `unit` can close some delimiter.
    public func isCloser(_ unit: String) -> Bool { openersForCloser[unit] != nil }

    /// Index of `closer` in ``closers``.
    public func closerIndex(_ closer: String) -> Int? { closers.firstIndex(of: closer) }

    /// The vocabulary id of each closer (aligned with ``closers``), nil when the vocabulary lacks it.
    /// `idForUnit` maps a unit to its id.
    public func closerIDs(_ idForUnit: (String) -> Int?) -> [Int?] { closers.map(idForUnit) }
}
