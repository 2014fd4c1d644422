/// A malformed optimizer, clipping or schedule setting, or an optimizer state that does not fit.
/// `description` is one line naming the option (or state file part) and the problem, e.g.
/// `--lr-schedule 'step:x:0.5': EVERY must be a positive integer, got 'x'`.
public struct OptimConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The option or state part at fault, e.g. `--optimizer`, `--lr-schedule`, `optimizer state`.
    public let option: String
    /// What is wrong with it.
    public let message: String

    public init(option: String, message: String) {
        self.option = option
        self.message = message
    }

    public var description: String { "\(option): \(message)" }
}
