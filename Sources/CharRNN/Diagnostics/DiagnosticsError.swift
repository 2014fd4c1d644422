/// A problem with the input of a diagnostic (long-range evaluation, gradient-flow measurement,
/// experiment); `description` is one line naming the option or file and the problem.
public enum DiagnosticsError: Error, Equatable, CustomStringConvertible {
    /// An option value that cannot be used (option name, why).
    case invalidOption(String, String)
    /// The text is too short for what was asked (what, needed units, available units).
    case textTooShort(String, needed: Int, available: Int)
    /// A split of the corpus that is empty.
    case emptySplit(String)

    public var description: String {
        switch self {
        case .invalidOption(let option, let problem): "\(option): \(problem)"
        case .textTooShort(let what, let needed, let available):
            "\(what) needs at least \(needed) units but the text has \(available)"
        case .emptySplit(let problem): problem
        }
    }
}
