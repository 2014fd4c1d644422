/// The probability one model (or n-gram) gave to the right unit at each long-range target: the
/// input of the position-aware measure (``PositionAwareAccuracy``) and of the error breakdown
/// (``ErrorBreakdown``), after Karpathy, Johnson & Fei-Fei (2015), "Visualizing and understanding
/// recurrent networks".
///
/// `probabilities[i]` is P(`targets[i].expected`) as unit `targets[i].position`, read from the
/// source's full distribution over the vocabulary (not renormalized over the closers). A target is an
/// *error* when that probability is below ``errorThreshold`` (0.5): the source would not commit to
/// the right next unit, whichever other unit it preferred.
public struct CloserPredictions: Sendable, Equatable {
    /// Name shown in tables (`lstm`, `5-gram`, …).
    public var label: String
    /// The scored targets, in order of position.
    public var targets: [LongRangeTarget]
    /// P(expected unit) per target, aligned with `targets`.
    public var probabilities: [Double]

    /// A probability below this (or NaN) on the right unit is an error.
    public static let errorThreshold = 0.5

    /// - Throws: `DiagnosticsError.invalidOption("probabilities", …)` when the counts differ.
    public init(label: String, targets: [LongRangeTarget], probabilities: [Double]) throws {
        guard targets.count == probabilities.count else {
            throw DiagnosticsError.invalidOption("probabilities", "\(probabilities.count) values for \(targets.count) targets")
        }
        self.label = label; self.targets = targets; self.probabilities = probabilities
    }

    /// The expected candidate's entry of each row of `candidateProbabilities` (row i aligned with
    /// `targets[i]`, columns with the candidate list the targets' `expectedIndex` refers to).
    /// - Throws: `DiagnosticsError.invalidOption("probabilities", …)` for a row count that differs
    ///   from the targets' or a row too short for its target's index.
    public init(label: String, targets: [LongRangeTarget], candidateProbabilities: [[Double]]) throws {
        guard targets.count == candidateProbabilities.count else {
            throw DiagnosticsError.invalidOption("probabilities", "\(candidateProbabilities.count) rows for \(targets.count) targets")
        }
        var expected: [Double] = []
        expected.reserveCapacity(targets.count)
        for (target, row) in zip(targets, candidateProbabilities) {
            guard target.expectedIndex >= 0 && target.expectedIndex < row.count else {
                throw DiagnosticsError.invalidOption("probabilities", "a row of \(row.count) candidates has no index \(target.expectedIndex)")
            }
            expected.append(row[target.expectedIndex])
        }
        try self.init(label: label, targets: targets, probabilities: expected)
    }

    /// Whether target `i` is an error (P(expected) < 0.5, or not a number).
    public func isError(_ i: Int) -> Bool { !(probabilities[i] >= Self.errorThreshold) }
}
