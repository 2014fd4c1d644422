/// Train / validation / test as contiguous ranges of unit positions: train first, then validation, then
/// test. Sizes are `floor(count × fraction)` for validation and test; train takes the rest — or, for a corpus
/// loaded with split files, the units of those files.
public struct CorpusSplits: Sendable, Equatable, Codable {
    public let train: Range<Int>
    public let validation: Range<Int>
    public let test: Range<Int>

    /// Splits `count` units. Throws `invalidOption` when a fraction is outside [0, 1) or they sum to ≥ 1.
    public init(count: Int, validationFraction: Double = 0.05, testFraction: Double = 0.05) throws {
        for (name, value) in [("validation fraction", validationFraction), ("test fraction", testFraction)] {
            guard value.isFinite, value >= 0, value < 1 else {
                throw CorpusError.invalidOption(name: name, reason: "must be in [0, 1), got \(value)")
            }
        }
        guard validationFraction + testFraction < 1 else {
            throw CorpusError.invalidOption(
                name: "split fractions",
                reason: "validation + test must be below 1, got \(validationFraction + testFraction)")
        }
        let validationCount = Int((Double(count) * validationFraction).rounded(.down))
        let testCount = Int((Double(count) * testFraction).rounded(.down))
        let trainCount = count - validationCount - testCount
        train = 0..<trainCount
        validation = trainCount..<(trainCount + validationCount)
        test = (trainCount + validationCount)..<count
    }

    /// Consecutive ranges of the given sizes (each at least 0): train, then validation, then test.
    public init(trainCount: Int, validationCount: Int, testCount: Int) {
        train = 0..<trainCount
        validation = trainCount..<(trainCount + validationCount)
        test = (trainCount + validationCount)..<(trainCount + validationCount + testCount)
    }
}
