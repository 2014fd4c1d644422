/// Parameter initializers drawing from a seeded `RNG`. Values are drawn in Double and rounded to
/// `Scalar`, element by element in row-major order, so the same seed fills the same numbers.
public enum Initializers {
    /// Fills `buffer` with uniform values in [−bound, bound).
    public static func uniform<Scalar: Real>(
        _ buffer: UnsafeMutableBufferPointer<Scalar>, bound: Double, rng: inout RNG
    ) {
        for i in buffer.indices { buffer[i] = Scalar(rng.uniform(-bound, bound)) }
    }

    /// Fills `buffer` with normal values of mean 0 and standard deviation `std`.
    public static func normal<Scalar: Real>(
        _ buffer: UnsafeMutableBufferPointer<Scalar>, std: Double, rng: inout RNG
    ) {
        for i in buffer.indices { buffer[i] = Scalar(std * rng.normal()) }
    }

    /// Fills the n×n row-major matrix at `matrix` (row stride `n`) with a random orthogonal
    /// matrix times `gain`: the Q factor of a Gaussian matrix, computed by modified Gram–Schmidt
    /// on its columns (done twice for numerical orthogonality), in Double. Taking Q with a positive
    /// R diagonal makes it Haar-distributed.
    public static func orthogonal<Scalar: Real>(
        _ matrix: UnsafeMutablePointer<Scalar>, n: Int, gain: Double = 1, rng: inout RNG
    ) {
        // Columns stored contiguously: q[j*n + i] = element (i, j).
        var q = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n { q[j * n + i] = rng.normal() } }
        for j in 0..<n {
            for _ in 0..<2 {
                for p in 0..<j {
                    var dot = 0.0
                    for i in 0..<n { dot += q[p * n + i] * q[j * n + i] }
                    for i in 0..<n { q[j * n + i] -= dot * q[p * n + i] }
                }
            }
            var norm = 0.0
            for i in 0..<n { norm += q[j * n + i] * q[j * n + i] }
            norm = norm.squareRoot()
            for i in 0..<n { q[j * n + i] /= norm }
        }
        for i in 0..<n { for j in 0..<n { matrix[i * n + j] = Scalar(gain * q[j * n + i]) } }
    }
}
