/// The per-element update loops, one fused pass over the flat buffers each. Every loop first forms
/// the effective gradient `clamp(g, −c, c) · s` (c = +∞ and s = 1 when not clipping, which is the
/// identity on finite values), so clipping never needs its own write pass.
///
/// Scalar hyperparameters are computed in Double and rounded once to `Scalar`, as PyTorch does with
/// Python-float arguments on float32 tensors; the operation order follows PyTorch's single-tensor code.
enum OptimizerKernels {
    /// Clamped and scaled gradient element.
    @inline(__always)
    static func effective<S: BinaryFloatingPoint>(_ g: S, _ c: S, _ s: S) -> S {
        (g > c ? c : (g < -c ? -c : g)) * s
    }

    /// PyTorch's `torch.lerp(start, end, w)`: `start + w·(end − start)` for |w| < 0.5, else
    /// `end − (end − start)·(1 − w)`.
    @inline(__always)
    static func lerp<S: BinaryFloatingPoint>(_ start: S, _ end: S, _ w: S, _ oneMinusW: S, _ small: Bool) -> S {
        small ? start + w * (end - start) : end - (end - start) * oneMinusW
    }

    /// SGD: g ← g + wd·p; with momentum b ← g (first step) or b ← μ·b + (1−d)·g, then
    /// g ← g + μ·b (Nesterov) or g ← b; p ← p − lr·g.
    @_specialize(exported: false, where S == Float)
    @_specialize(exported: false, where S == Double)
    static func sgd<S: BinaryFloatingPoint>(
        values p: UnsafeMutableBufferPointer<S>, gradients gr: UnsafeMutableBufferPointer<S>,
        momentumBuffer buf: UnsafeMutableBufferPointer<S>?, firstStep: Bool,
        lr: Double, momentum: Double, dampening: Double, nesterov: Bool, weightDecay: Double,
        clampValue: Double, scale: Double
    ) {
        let c = S(clampValue), s = S(scale), wd = S(weightDecay), negLR = S(-lr)
        let mu = S(momentum), oneMinusD = S(1 - dampening)
        let useWD = weightDecay != 0
        guard let buf else {
            for i in 0..<p.count {
                var g = effective(gr[i], c, s)
                if useWD { g = g + wd * p[i] }
                p[i] = p[i] + negLR * g
            }
            return
        }
        for i in 0..<p.count {
            var g = effective(gr[i], c, s)
            if useWD { g = g + wd * p[i] }
            let b = firstStep ? g : buf[i] * mu + oneMinusD * g
            buf[i] = b
            g = nesterov ? g + mu * b : b
            p[i] = p[i] + negLR * g
        }
    }

    /// RMSprop: g ← g + wd·p; v ← α·v + (1−α)·g²; centered: ḡ ← lerp(ḡ, g, 1−α), d = √(v − ḡ²) + ε,
    /// else d = √v + ε; with momentum b ← μ·b + g/d, p ← p − lr·b; else p ← p − lr·g/d.
    @_specialize(exported: false, where S == Float)
    @_specialize(exported: false, where S == Double)
    static func rmsprop<S: BinaryFloatingPoint>(
        values p: UnsafeMutableBufferPointer<S>, gradients gr: UnsafeMutableBufferPointer<S>,
        squareAvg v: UnsafeMutableBufferPointer<S>, gradAvg ga: UnsafeMutableBufferPointer<S>?,
        momentumBuffer buf: UnsafeMutableBufferPointer<S>?,
        lr: Double, alpha: Double, eps: Double, momentum: Double, weightDecay: Double,
        clampValue: Double, scale: Double
    ) {
        let c = S(clampValue), s = S(scale), wd = S(weightDecay), negLR = S(-lr)
        let a = S(alpha), oneMinusA = S(1 - alpha), e = S(eps), mu = S(momentum)
        let w = 1 - alpha, small = abs(w) < 0.5
        let lw = S(w), lOneMinusW = S(1 - w)
        let useWD = weightDecay != 0
        for i in 0..<p.count {
            var g = effective(gr[i], c, s)
            if useWD { g = g + wd * p[i] }
            let sq = v[i] * a + oneMinusA * g * g
            v[i] = sq
            let d: S
            if let ga {
                let m = lerp(ga[i], g, lw, lOneMinusW, small)
                ga[i] = m
                d = (sq - m * m).squareRoot() + e
            } else {
                d = sq.squareRoot() + e
            }
            if let buf {
                let b = buf[i] * mu + g / d
                buf[i] = b
                p[i] = p[i] + negLR * b
            } else {
                p[i] = p[i] + negLR * g / d  // addcdiv: p + (value·g)/d
            }
        }
    }

    /// Adam / AdamW at step t (1-based): AdamW p ← p·(1 − lr·wd), Adam g ← g + wd·p;
    /// m ← lerp(m, g, 1−β₁); v ← β₂·v + (1−β₂)·g²; p ← p − (lr/(1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε).
    @_specialize(exported: false, where S == Float)
    @_specialize(exported: false, where S == Double)
    static func adam<S: BinaryFloatingPoint>(
        values p: UnsafeMutableBufferPointer<S>, gradients gr: UnsafeMutableBufferPointer<S>,
        expAvg m: UnsafeMutableBufferPointer<S>, expAvgSq v: UnsafeMutableBufferPointer<S>,
        lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double, decoupled: Bool,
        biasCorrection1: Double, biasCorrection2Sqrt: Double,
        clampValue: Double, scale: Double
    ) {
        let c = S(clampValue), s = S(scale), wd = S(weightDecay)
        let decay = S(1 - lr * weightDecay)
        let w = 1 - beta1, small = abs(w) < 0.5
        let lw = S(w), lOneMinusW = S(1 - w)
        let b2 = S(beta2), oneMinusB2 = S(1 - beta2), e = S(eps)
        let bc2 = S(biasCorrection2Sqrt), negStep = S(-(lr / biasCorrection1))
        let useL2 = weightDecay != 0 && !decoupled, useDecay = weightDecay != 0 && decoupled
        for i in 0..<p.count {
            var g = effective(gr[i], c, s)
            var x = p[i]
            if useDecay { x = x * decay }
            if useL2 { g = g + wd * x }
            let mi = lerp(m[i], g, lw, lOneMinusW, small)
            m[i] = mi
            let vi = v[i] * b2 + oneMinusB2 * g * g
            v[i] = vi
            let d = vi.squareRoot() / bc2 + e
            p[i] = x + negStep * mi / d  // addcdiv: p + (value·m)/d
        }
    }
}
