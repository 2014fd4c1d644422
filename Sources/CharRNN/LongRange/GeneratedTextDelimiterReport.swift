import Foundation

/// How well a sampled text keeps its delimiters balanced (for `charrnn generate --report`).
///
/// Uses the rules of ``DelimiterScan``: every closer is classified as *matched* (closes the
/// innermost open delimiter), *mismatched* (something else is innermost) or *unmatched* (nothing is
/// open). Matched and mismatched closers have a distance to the innermost open delimiter, so the
/// match share is reported per ``DistanceBucket``; unmatched closers are counted apart.
public struct GeneratedTextDelimiterReport: Codable, Sendable, Equatable {
    /// One distance bucket: closers whose innermost open delimiter was that far back.
    public struct Bucket: Codable, Sendable, Equatable {
        public var label: String
        public var lower: Int
        public var upper: Int?
        /// Closers seen with an innermost open delimiter at this distance.
        public var closers: Int
        /// Of those, closers that matched it.
        public var matched: Int
        /// `matched / closers`; nil when `closers` is 0.
        public var matchShare: Double?

        enum CodingKeys: String, CodingKey {
            case label, lower, upper, closers, matched
            case matchShare = "match_share"
        }
    }

    /// Units in the text.
    public var units: Int
    /// Openers seen.
    public var openers: Int
    /// Openers closed before the end of the text.
    public var closedOpeners: Int
    /// Closers seen (matched + mismatched + unmatched).
    public var closers: Int
    /// Closers that matched the innermost open delimiter.
    public var matchedClosers: Int
    /// Closers while something else was innermost.
    public var mismatchedClosers: Int
    /// Closers with nothing open.
    public var unmatchedClosers: Int
    /// Share of all closers that matched the innermost open delimiter; nil without closers.
    public var matchShare: Double?
    /// Share of openers closed before the end; nil without openers.
    public var closedShare: Double?
    public var buckets: [Bucket]

    enum CodingKeys: String, CodingKey {
        case units, openers, closers, buckets
        case closedOpeners = "closed_openers"
        case matchedClosers = "matched_closers"
        case mismatchedClosers = "mismatched_closers"
        case unmatchedClosers = "unmatched_closers"
        case matchShare = "match_share"
        case closedShare = "closed_share"
    }

    /// Measures `units` (grapheme units of the generated text).
    public init(units: [String], delimiters: DelimiterSet = .standard,
                buckets: [DistanceBucket] = DistanceBucket.standard) {
        let scan = DelimiterScan(units: units, delimiters: delimiters)
        self.units = units.count
        openers = scan.openers
        closedOpeners = scan.targets.count
        closers = scan.closers
        matchedClosers = scan.targets.count
        mismatchedClosers = scan.mismatchedClosers
        unmatchedClosers = scan.unmatchedClosers
        matchShare = closers > 0 ? Double(matchedClosers) / Double(closers) : nil
        closedShare = openers > 0 ? Double(closedOpeners) / Double(openers) : nil
        var seen = [Int](repeating: 0, count: buckets.count)
        var matched = seen
        for target in scan.targets {
            if let b = DistanceBucket.index(of: target.distance, in: buckets) { seen[b] += 1; matched[b] += 1 }
        }
        for distance in scan.mismatchedDistances {
            if let b = DistanceBucket.index(of: distance, in: buckets) { seen[b] += 1 }
        }
        self.buckets = buckets.indices.map { i in
            Bucket(label: buckets[i].label, lower: buckets[i].lower, upper: buckets[i].upper, closers: seen[i],
                   matched: matched[i], matchShare: seen[i] > 0 ? Double(matched[i]) / Double(seen[i]) : nil)
        }
    }

    /// Measures the grapheme clusters of `text`.
    public init(text: String, delimiters: DelimiterSet = .standard) {
        self.init(units: text.map(String.init), delimiters: delimiters)
    }

    /// A multi-line human-readable summary.
    public var rendered: String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        var lines = ["Delimiters in the generated text (\(units) units):"]
        if openers == 0 && closers == 0 {
            lines.append("  no delimiters found")
            return lines.joined(separator: "\n")
        }
        lines.append("  openers: \(openers), closed before the end: \(closedOpeners) (\(percent(closedShare)))")
        lines.append("  closers: \(closers), matching the innermost open one: \(matchedClosers) (\(percent(matchShare))), "
                     + "mismatched: \(mismatchedClosers), with nothing open: \(unmatchedClosers)")
        lines.append("  distance    closers   matched   share")
        for bucket in buckets {
            let label = bucket.label.padding(toLength: 10, withPad: " ", startingAt: 0)
            let c = "\(bucket.closers)".padding(toLength: 9, withPad: " ", startingAt: 0)
            let m = "\(bucket.matched)".padding(toLength: 9, withPad: " ", startingAt: 0)
            lines.append("  \(label)  \(c) \(m) \(percent(bucket.matchShare))")
        }
        return lines.joined(separator: "\n")
    }
}
