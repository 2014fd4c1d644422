import Tensor

/// Dropout masks drawn per stream from a counter: the mask of stream `s` in layer `ℓ` of window
/// `w` depends only on (seed, w, s, ℓ), never on which other streams share the batch. So a batch
/// split over ranks (each computing a block of streams) drops exactly what one process would.
///
/// Draw (documented so it can be reproduced): for each stream, `RNG(seed: key(seed, w, s, ℓ))`
/// gives T·width floats in time order (step 0's `width` values first); a value u < p drops
/// (mask 0), otherwise the mask is 1/(1 − p). key folds its four words through SplitMix64's
/// finalizer: k = mix(seed); k = mix(k ^ w); k = mix(k ^ s); k = mix(k ^ ℓ), with
/// mix(z) = z ⊕ (z ≫ 31) after z = (z + 0x9E3779B97F4A7C15), z = (z ⊕ z ≫ 30)·0xBF58476D1CE4E5B9,
/// z = (z ⊕ z ≫ 27)·0x94D049BB133111EB. ℓ = 0 is the embedding, ℓ = k + 1 the output of layer k.
public struct StreamDropoutKey: Sendable, Equatable {
    /// The run's seed.
    public var seed: UInt64
    /// Window counter (the trainer uses its optimizer step).
    public var window: UInt64
    /// Global index of the first stream of the batch being computed (a rank's block start).
    public var firstStream: Int

    public init(seed: UInt64, window: UInt64, firstStream: Int) {
        self.seed = seed; self.window = window; self.firstStream = firstStream
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The seed of stream `stream`'s generator (global index) for layer slot `layer`.
    public func streamSeed(stream: Int, layer: Int) -> UInt64 {
        var k = Self.mix(seed)
        k = Self.mix(k ^ window)
        k = Self.mix(k ^ UInt64(stream))
        return Self.mix(k ^ UInt64(layer))
    }

    /// Fills a time-major T·B×`width` mask (row t·B + b) for `streams` = B streams, global indices
    /// `firstStream ..< firstStream + B`, layer slot `layer`, drop probability `p`.
    public func fill<Scalar: Real>(_ mask: UnsafeMutablePointer<Scalar>, steps: Int, streams: Int, width: Int,
                                   p: Double, layer: Int) {
        let keep = Scalar(1 / (1 - p)), threshold = Float(p)
        for b in 0..<streams {
            var rng = RNG(seed: streamSeed(stream: firstStream + b, layer: layer))
            for t in 0..<steps {
                let row = mask + (t * streams + b) * width
                for i in 0..<width { row[i] = rng.nextFloat() < threshold ? 0 : keep }
            }
        }
    }
}
