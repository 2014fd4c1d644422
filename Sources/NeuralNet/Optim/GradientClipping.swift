import Tensor

/// How gradients are bounded before an optimizer step.
///
/// - `maxValue` clamps every gradient element to `[-maxValue, maxValue]` (char-rnn's and torch-rnn's
///   `grad_params:clamp(-grad_clip, grad_clip)`, PyTorch's `clip_grad_value_`).
/// - `maxNorm` rescales the whole gradient when its global L2 norm (over every parameter, one
///   vector) exceeds `maxNorm`, with the semantics of `torch.nn.utils.clip_grad_norm_`:
///   `coef = maxNorm / (norm + 1e-6)`, gradients are multiplied by `coef` only when `coef < 1`.
///
/// **Order when both are set: value clamp first, then the norm rescale** (what one gets in PyTorch by
/// calling `clip_grad_value_` then `clip_grad_norm_`). The norm rescale is the last operation, so its
/// guarantee holds for the gradient actually applied (‖g‖ ≤ maxNorm, and the direction is the
/// clamped gradient's); clamping after rescaling would let outliers that the rescale already shrank
/// decide the clamp, i.e. the clamp threshold would depend on the size of unrelated gradients.
public struct GradientClipping: Codable, Sendable, Equatable, Hashable {
    /// Global L2-norm bound (`clip_grad_norm_`'s `max_norm`), or nil for no norm clipping. > 0.
    public var maxNorm: Double?
    /// Elementwise bound (`clip_grad_value_`'s `clip_value`), or nil for no clamping. > 0.
    public var maxValue: Double?

    public init(maxNorm: Double? = nil, maxValue: Double? = nil) {
        self.maxNorm = maxNorm
        self.maxValue = maxValue
    }

    /// No clipping (the gradient norm is still measured and non-finite gradients still detected).
    public static let none = GradientClipping()

    /// Throws a one-line error if a bound is not a finite positive number.
    public func validate() throws {
        if let maxNorm, !(maxNorm.isFinite && maxNorm > 0) {
            throw OptimConfigError(option: "--clip-norm", message: "must be a finite number > 0, got \(maxNorm)")
        }
        if let maxValue, !(maxValue.isFinite && maxValue > 0) {
            throw OptimConfigError(option: "--clip-value", message: "must be a finite number > 0, got \(maxValue)")
        }
    }
}

/// What gradient clipping measured and did in one step.
public struct ClipReport: Codable, Sendable, Equatable {
    /// Global L2 norm of the raw gradients (all parameters, before any clamp or rescale), computed
    /// in Double. +inf or NaN when a gradient is not finite.
    public var normBeforeClipping: Double
    /// True if the clamp changed at least one element or the norm rescale fired.
    public var clipped: Bool
    /// False if any gradient element is NaN or ±inf; such a step must be skipped (the optimizer does).
    public var finite: Bool
    /// The factor the (clamped) gradients are multiplied by: `maxNorm / (norm + 1e-6)` when the norm
    /// rescale fires, else 1. `norm` is that of the clamped gradients when `maxValue` is set.
    public var scale: Double
    /// Number of elements the value clamp changed (0 without `maxValue`).
    public var clampedCount: Int

    public init(normBeforeClipping: Double, clipped: Bool, finite: Bool, scale: Double = 1, clampedCount: Int = 0) {
        self.normBeforeClipping = normBeforeClipping
        self.clipped = clipped
        self.finite = finite
        self.scale = scale
        self.clampedCount = clampedCount
    }
}

/// Measures and applies `GradientClipping` on a flat gradient buffer.
///
/// `measure` is one read-only pass; the `Optimizer` then folds the clamp and the scale into its own
/// update loop, so a clipped optimizer step costs two passes over the gradients and never writes them.
/// `clip` does the same in place for callers that want the clipped gradients themselves
/// (PyTorch's `clip_grad_value_` + `clip_grad_norm_`).
public enum GradientClipper {
    /// The clip report for `gradients` under `clipping`, without modifying anything.
    @_specialize(exported: false, where Scalar == Float)
    @_specialize(exported: false, where Scalar == Double)
    public static func measure<Scalar: BinaryFloatingPoint & Sendable>(
        _ gradients: UnsafeMutableBufferPointer<Scalar>, clipping: GradientClipping
    ) -> ClipReport {
        let n = gradients.count
        // Four partial sums in Double: no overflow or precision loss from Float squares, and
        // independent accumulators let the loop pipeline.
        var r0 = 0.0, r1 = 0.0, r2 = 0.0, r3 = 0.0
        var c0 = 0.0, c1 = 0.0, c2 = 0.0, c3 = 0.0
        var clampedCount = 0
        let n4 = n & ~3
        if let maxValue = clipping.maxValue {
            // A Float square is exact in Double, so clamp(g)² == min(g², c²) and |g| > c ⇔ g² > c².
            let c = Double(Scalar(maxValue))
            let cc = c * c
            // Counts kept in Double lanes (exact below 2^53) so the loop stays in vector registers.
            var k0 = 0.0, k1 = 0.0, k2 = 0.0, k3 = 0.0
            var i = 0
            while i < n4 {
                let a = Double(gradients[i]), b = Double(gradients[i + 1])
                let d = Double(gradients[i + 2]), e = Double(gradients[i + 3])
                let a2 = a * a, b2 = b * b, d2 = d * d, e2 = e * e
                r0 += a2; r1 += b2; r2 += d2; r3 += e2
                c0 += a2 > cc ? cc : a2; c1 += b2 > cc ? cc : b2
                c2 += d2 > cc ? cc : d2; c3 += e2 > cc ? cc : e2
                k0 += a2 > cc ? 1 : 0; k1 += b2 > cc ? 1 : 0; k2 += d2 > cc ? 1 : 0; k3 += e2 > cc ? 1 : 0
                i += 4
            }
            while i < n {
                let a = Double(gradients[i])
                let a2 = a * a
                r0 += a2; c0 += a2 > cc ? cc : a2; k0 += a2 > cc ? 1 : 0
                i += 1
            }
            clampedCount = Int((k0 + k1) + (k2 + k3))
        } else {
            var i = 0
            while i < n4 {
                let a = Double(gradients[i]), b = Double(gradients[i + 1])
                let d = Double(gradients[i + 2]), e = Double(gradients[i + 3])
                r0 += a * a; r1 += b * b; r2 += d * d; r3 += e * e
                i += 4
            }
            while i < n {
                let a = Double(gradients[i])
                r0 += a * a
                i += 1
            }
        }
        let rawSquares = (r0 + r1) + (r2 + r3)
        let rawNorm = rawSquares.squareRoot()
        guard rawNorm.isFinite else {
            return ClipReport(normBeforeClipping: rawSquares.isNaN ? .nan : rawNorm, clipped: false, finite: false,
                              scale: 1, clampedCount: 0)
        }
        let clampedNorm = clipping.maxValue == nil ? rawNorm : ((c0 + c1) + (c2 + c3)).squareRoot()
        var scale = 1.0
        if let maxNorm = clipping.maxNorm {
            let coef = maxNorm / (clampedNorm + 1e-6)
            if coef < 1 { scale = coef }
        }
        return ClipReport(normBeforeClipping: rawNorm, clipped: scale < 1 || clampedCount > 0, finite: true,
                          scale: scale, clampedCount: clampedCount)
    }

    /// Clamps then rescales `gradients` in place and returns the report. Non-finite gradients are left
    /// untouched (report `finite == false`).
    @_specialize(exported: false, where Scalar == Float)
    @_specialize(exported: false, where Scalar == Double)
    @discardableResult
    public static func clip<Scalar: BinaryFloatingPoint & Sendable>(
        _ gradients: UnsafeMutableBufferPointer<Scalar>, clipping: GradientClipping
    ) -> ClipReport {
        let report = measure(gradients, clipping: clipping)
        guard report.finite, report.clipped else { return report }
        let c = Scalar(clipping.maxValue ?? .infinity)
        let s = Scalar(report.scale)
        for i in 0..<gradients.count {
            let g = gradients[i]
            gradients[i] = (g > c ? c : (g < -c ? -c : g)) * s
        }
        return report
    }

    /// `clip` on a parameter set's gradients.
    @discardableResult
    public static func clip<Scalar>(_ parameters: ParameterSet<Scalar>, clipping: GradientClipping) -> ClipReport {
        clip(parameters.gradients.pointer, clipping: clipping)
    }
}
