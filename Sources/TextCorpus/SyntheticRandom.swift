/// The pseudo-random generator behind the synthetic corpora: SplitMix64 (Steele, Lea & Flood 2014).
///
/// Chosen because it is fully specified by a few lines of integer arithmetic, so a corpus made from
/// a seed is identical on every machine and Swift version (Swift's own `SystemRandomNumberGenerator`
/// is not seedable and its algorithms for `random(in:)` are not guaranteed stable):
///
///     state ← state + 0x9E3779B97F4A7C15
///     z ← (state ⊕ (state ≫ 30)) · 0xBF58476D1CE4E5B9
///     z ← (z ⊕ (z ≫ 27)) · 0x94D049BB133111EB
///     output z ⊕ (z ≫ 31)                          (all arithmetic mod 2⁶⁴)
///
/// Derived draws are documented on each method and use only this output stream.
public struct SyntheticRandom: Sendable {
    /// The generator's 64-bit state.
    public private(set) var state: UInt64

    /// A generator whose first output is SplitMix64's first output for `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound` (`bound` ≥ 1) by rejection: outputs below
    /// `2⁶⁴ mod bound` are discarded, then the output is reduced modulo `bound`, so there is no bias.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound >= 1, "bound must be positive")
        let b = UInt64(bound)
        let threshold = (0 &- b) % b
        while true {
            let r = next()
            if r >= threshold { return Int(r % b) }
        }
    }

    /// A uniform double in [0, 1): the top 53 bits of the next output divided by 2⁵³.
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// `true` with probability `p` (`unit() < p`).
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

}

/// Draws distances `d` in `1...m` with probability proportional to `1/d` (a discrete log-uniform,
/// "Zipf with exponent 1" law): each order of magnitude of distance is about equally likely, so short
/// distances are common and distances out to the maximum still appear regularly.
///
/// The cumulative weights `H_j = 1/1 + … + 1/j` are summed once in `Double` (basic IEEE operations
/// only, no libm calls, so the table is the same on every machine). A draw with bound `m` takes
/// `u = unit() · H_m` and returns the smallest `j` with `H_j > u`. Bounds below the table's size
/// reuse its prefix, which is exactly the law truncated to `1...m`.
public struct HarmonicDistanceSampler: Sendable {
    /// `cumulative[j − 1] = H_j` for `j` in `1...maximum`.
    public let cumulative: [Double]

    /// A sampler for distances up to `maximum` (≥ 1).
    public init(maximum: Int) {
        precondition(maximum >= 1, "maximum must be positive")
        var sums: [Double] = []
        sums.reserveCapacity(maximum)
        var total = 0.0
        for j in 1...maximum {
            total += 1.0 / Double(j)
            sums.append(total)
        }
        cumulative = sums
    }

    /// The largest distance this sampler can draw.
    public var maximum: Int { cumulative.count }

    /// Probability that a draw with bound `m` is at most `d`: `H_d / H_m`.
    public func cdf(_ d: Int, bound m: Int) -> Double {
        if d < 1 { return 0 }
        return cumulative[min(d, m) - 1] / cumulative[m - 1]
    }

    /// A distance in `1...min(bound, maximum)`.
    public func draw(bound: Int, using random: inout SyntheticRandom) -> Int {
        let m = min(max(bound, 1), maximum)
        let u = random.unit() * cumulative[m - 1]
        var low = 0, high = m - 1          // smallest index with cumulative > u
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > u { high = mid } else { low = mid + 1 }
        }
        return low + 1
    }
}
