/// Which long-range task a text is scored on.
public enum LongRangeTaskChoice: String, Sendable, CaseIterable, Codable {
    /// Decide from the text (``detect(units:)``).
    case auto
    /// Closing delimiters, matched with a delimiter stack.
    case delimiters
    /// The synthetic `recall` task (`@K … ?K`).
    case recall

    /// The task to score `units` on: `.recall` when the text looks like the synthetic recall
    /// corpus, `.delimiters` otherwise.
    ///
    /// A text "looks like recall" when it has recall cues (`?` after an `@` key), no matched
    /// delimiter pairs, and at least 90% of its cues are followed by the last key — which holds for
    /// the generated corpus (every cue is) and hardly ever for natural text.
    public static func detect(units: [String]) -> LongRangeResult.Task {
        let recall = RecallScan(units: units)
        guard !recall.targets.isEmpty else { return .delimiters }
        if !DelimiterScan(units: units).targets.isEmpty { return .delimiters }
        let reproduced = recall.targets.filter { units[$0.position] == $0.expected }.count
        return Double(reproduced) >= 0.9 * Double(recall.targets.count) ? .recall : .delimiters
    }

    /// This choice applied to `units` (`.auto` detects).
    public func resolve(units: [String]) -> LongRangeResult.Task {
        switch self {
        case .auto: Self.detect(units: units)
        case .delimiters: .delimiters
        case .recall: .recall
        }
    }
}
