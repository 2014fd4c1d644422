import Foundation

/// How the next unit is drawn from the model's logits.
public struct SamplingOptions: Sendable, Equatable, Codable {
    /// Softmax temperature, > 0: logits are divided by it (below 1 sharpens, above 1 flattens).
    public var temperature: Double = 1
    /// Keep only the `topK` most probable units (nil or 0: all).
    public var topK: Int? = nil
    /// Nucleus sampling: keep the smallest set of most probable units whose probability sums to at
    /// least `topP` (in (0, 1]; nil: all).
    public var topP: Double? = nil
    /// Always take the most probable unit (ties go to the lowest id); ignores the other options.
    public var greedy: Bool = false

    public init(temperature: Double = 1, topK: Int? = nil, topP: Double? = nil, greedy: Bool = false) {
        self.temperature = temperature; self.topK = topK; self.topP = topP; self.greedy = greedy
    }

    /// Checks the ranges; the error names the option.
    public func validate() throws {
        guard temperature > 0, temperature.isFinite else {
            throw SamplingError.invalidOption("--temperature must be a finite number > 0, got \(temperature)")
        }
        if let topK, topK < 0 { throw SamplingError.invalidOption("--top-k must be ≥ 0, got \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) {
            throw SamplingError.invalidOption("--top-p must be in (0, 1], got \(topP)")
        }
    }
}

/// A problem with sampling options or input.
public enum SamplingError: Error, Equatable, CustomStringConvertible {
    case invalidOption(String)
    public var description: String {
        switch self { case .invalidOption(let message): message }
    }
}

/// Draws unit ids from logits according to `SamplingOptions`. Reuses its scratch buffers, so one
/// sampler per vocabulary size allocates nothing per draw.
public struct TokenSampler: Sendable {
    public let options: SamplingOptions
    private var probabilities: [Double]
    private var order: [Int32]

    public init(options: SamplingOptions, vocabularySize: Int) {
        self.options = options
        probabilities = [Double](repeating: 0, count: vocabularySize)
        order = (0..<Int32(vocabularySize)).map { $0 }
    }

    /// The id drawn from `logits` (V values) given `uniform`, a number in [0, 1) from the caller's
    /// seeded generator (so the same seed gives the same text).
    ///
    /// A unit whose logit is −inf (how `Generator` masks `<unk>`) or NaN is never drawn while any other
    /// unit has a number; units at +inf share all the probability. Only when every logit is −inf or
    /// NaN does the draw fall back to the last id whose logit is not −inf (else the last id), so a
    /// masked id 0 is never returned from a vocabulary of two units or more.
    public mutating func sample(logits: UnsafeBufferPointer<Float>, uniform: Double) -> Int32 {
        let count = logits.count
        precondition(count == probabilities.count, "logits size \(count) ≠ vocabulary size \(probabilities.count)")
        // The largest logit that is a number (NaN compares false, so it never wins).
        var best = -1
        for index in 0..<count where !logits[index].isNaN && logits[index] > -.infinity {
            if best < 0 || logits[index] > logits[best] { best = index }
        }
        guard best >= 0 else {
            let fallback = (0..<count).last(where: { logits[$0] != -.infinity }) ?? count - 1
            return Int32(fallback)
        }
        if options.greedy { return Int32(best) }
        // Softmax at temperature, in Double for a stable cumulative sum.
        let maximum = Double(logits[best])
        var total = 0.0
        for index in 0..<count {
            let logit = Double(logits[index])
            let value = logit.isNaN ? 0
                : maximum == .infinity ? (logit == .infinity ? 1 : 0)
                : exp((logit - maximum) / options.temperature)
            probabilities[index] = value
            total += value
        }
        for index in 0..<count { probabilities[index] /= total }

        let truncates = (options.topK.map { $0 > 0 && $0 < count } ?? false) || (options.topP.map { $0 < 1 } ?? false)
        if !truncates {
            return Self.draw(uniform, from: probabilities)
        }
        // Sort ids by descending probability (ties: lower id first) and keep the head.
        for index in 0..<count { order[index] = Int32(index) }
        order.sort { probabilities[Int($0)] > probabilities[Int($1)]
            || (probabilities[Int($0)] == probabilities[Int($1)] && $0 < $1) }
        var kept = min(count, options.topK.flatMap { $0 > 0 ? $0 : nil } ?? count)
        if let topP = options.topP, topP < 1 {
            var cumulative = 0.0
            for rank in 0..<kept {
                cumulative += probabilities[Int(order[rank])]
                if cumulative >= topP { kept = rank + 1; break }
            }
        }
        var keptTotal = 0.0
        for rank in 0..<kept { keptTotal += probabilities[Int(order[rank])] }
        var target = uniform * keptTotal
        for rank in 0..<kept {
            target -= probabilities[Int(order[rank])]
            if target < 0 { return order[rank] }
        }
        return order[kept - 1]
    }

    private static func draw(_ uniform: Double, from probabilities: [Double]) -> Int32 {
        var target = uniform
        var last = 0
        for index in probabilities.indices where probabilities[index] > 0 {
            target -= probabilities[index]
            last = index
            if target < 0 { return Int32(index) }
        }
        return Int32(last)  // rounding left a sliver: the last unit with non-zero probability
    }
}
