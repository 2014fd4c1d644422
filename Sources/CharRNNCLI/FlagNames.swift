import ArgumentParser

/// The one place where the library's parameter names map to `charrnn` flags.
///
/// Library validation names parameters as the library spells them (`hiddenSize must be at least 1
/// (got 0)` from `ModelConfig.validationError`); the command line shows the flag the user typed
/// (`--hidden must be at least 1 (got 0)`). Library errors that already name a flag
/// (`OptimConfigError`, `SamplingError`, `TrainingOptions.validationError`) pass through unchanged.
enum FlagNames {
    /// Library parameter name (as it begins a library message) → flag. Longest names are tried first.
    static let flagOfParameter: [String: String] = [
        "vocabularySize": "--max-vocab",
        "embeddingSize": "--embed",
        "hiddenSize": "--hidden",
        "layers": "--layers",
        "dropout": "--dropout",
        "embedding dropout": "--embed-dropout",
        "embeddingDropout": "--embed-dropout",
        "forgetGateBias": "--forget-bias",
        "maxNorm": "--clip-norm",
        "maxValue": "--clip-value",
        "learningRate": "--lr",
        "warmupSteps": "--warmup",
        "temperature": "--temperature",
        "topK": "--top-k",
        "topP": "--top-p",
        "threads": "--threads",
        "batchSize": "--batch",
        "bptt": "--bptt",
    ]

    /// `message` with a leading library parameter name replaced by its flag; unchanged when it starts
    /// with none (for example when it already names a flag).
    static func flagged(_ message: String) -> String {
        for name in flagOfParameter.keys.sorted(by: { $0.count > $1.count }) where message.hasPrefix(name) {
            let rest = message.dropFirst(name.count)
            guard let next = rest.first, next == " " || next == ":" else { continue }
            return flagOfParameter[name, default: name] + rest
        }
        return message
    }

    /// A `ValidationError` carrying a library message with its parameter named as a flag.
    static func validationError(_ libraryMessage: String) -> ValidationError {
        ValidationError(flagged(libraryMessage))
    }
}

/// The checks every numeric flag of every command goes through, so that one kind of mistake gets one
/// kind of message (`--FLAG must be …, got VALUE`) whichever command it is given to. Each throws a
/// `ValidationError`, which the entry point (`CharRNNCommand.main`) prints as one line with exit status 1.
/// A nil value (flag not given) always passes.
enum FlagCheck {
    /// The most compute threads a command accepts: far above any machine this runs on, low enough
    /// that a typo cannot ask for millions of threads.
    static let maximumThreads = 1024

    /// `value` ≥ `minimum`.
    static func atLeast(_ minimum: Int, _ value: Int?, _ flag: String) throws {
        if let value, value < minimum { throw ValidationError("\(flag) must be at least \(minimum), got \(value)") }
    }

    /// `value` in `range`.
    static func within(_ range: ClosedRange<Int>, _ value: Int?, _ flag: String) throws {
        if let value, !range.contains(value) {
            throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
    }

    /// `--threads`: 1 … `maximumThreads`.
    static func threads(_ value: Int?, _ flag: String = "--threads") throws {
        try within(1...maximumThreads, value, flag)
    }

    /// A finite number (not NaN or ±inf).
    static func finite(_ value: Double?, _ flag: String) throws {
        if let value, !value.isFinite { throw ValidationError("\(flag) must be a finite number, got \(value)") }
    }

    /// A finite number > 0.
    static func positive(_ value: Double?, _ flag: String) throws {
        if let value, !(value.isFinite && value > 0) {
            throw ValidationError("\(flag) must be a finite number > 0, got \(value)")
        }
    }

    /// A finite number ≥ 0.
    static func nonNegative(_ value: Double?, _ flag: String) throws {
        if let value, !(value.isFinite && value >= 0) {
            throw ValidationError("\(flag) must be a finite number ≥ 0, got \(value)")
        }
    }

    /// A probability or fraction in [0, 1).
    static func fraction(_ value: Double?, _ flag: String) throws {
        if let value, !(value >= 0 && value < 1) { throw ValidationError("\(flag) must be in [0, 1), got \(value)") }
    }

    /// A number in (0, 1].
    static func unitInterval(_ value: Double?, _ flag: String) throws {
        if let value, !(value > 0 && value <= 1) { throw ValidationError("\(flag) must be in (0, 1], got \(value)") }
    }
}
