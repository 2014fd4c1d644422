import Foundation

/// A seeded pseudo-random generator whose output depends only on the seed: the same seed gives the
/// same numbers on every machine.
///
/// Algorithm (documented so other implementations can reproduce it):
/// - generator: **xoshiro256\*\*** (Blackman & Vigna, 2018) with 256 bits of state `s0…s3`;
/// - seeding: the four state words are four successive outputs of **SplitMix64** started at `seed`
///   (x += 0x9E3779B97F4A7C15; z = x; z = (z ^ (z >> 30)) · 0xBF58476D1CE4E5B9;
///   z = (z ^ (z >> 27)) · 0x94D049BB133111EB; z ^ (z >> 31));
/// - `nextDouble()`: (next() >> 11) · 2^−53, uniform in [0, 1) on a 2^−53 grid;
/// - `nextFloat()`: (next() >> 40) · 2^−24, uniform in [0, 1) on a 2^−24 grid;
/// - `normal()`: Box–Muller, one value per call: u1 = 1 − nextDouble() ∈ (0, 1], u2 = nextDouble(),
///   √(−2 ln u1) · cos(2π u2). (Bit-exactness of normals relies on libm's `log`/`cos`, which are
///   correctly rounded for practically all inputs in glibc; integers and uniforms are exact.)
/// - `next(below:)`: Lemire's unbiased multiply-shift rejection method.
public struct RNG: Sendable, Equatable, Hashable, Codable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator seeded from `seed` through SplitMix64.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// Restores a generator from `stateWords` (4 words, not all zero), e.g. from a checkpoint.
    /// Returns nil when the words cannot be a valid state.
    public init?(stateWords: [UInt64]) {
        guard stateWords.count == 4, stateWords.contains(where: { $0 != 0 }) else { return nil }
        s0 = stateWords[0]; s1 = stateWords[1]; s2 = stateWords[2]; s3 = stateWords[3]
    }

    /// The full state as four words, for saving; `RNG(stateWords:)` restores it exactly.
    public var stateWords: [UInt64] { [s0, s1, s2, s3] }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [lower, upper).
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * nextDouble()
    }

    /// A standard normal sample (Box–Muller, one value per call).
    public mutating func normal() -> Double {
        let u1 = 1 - nextDouble()
        let u2 = nextDouble()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Uniform integer in 0..<bound (bound > 0), unbiased.
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }
}
