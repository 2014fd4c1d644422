/// The per-element update loops, one fused pass over the flat buffers each. Every loop first forms
/// the effective gradient `clamp(g, −c, c) · s` (c = +∞ and s = 1 when not clipping, which is the
/// identity on finite values), so clipping never needs its own write pass.
///
/// Scalar hyperparameters are computed in Double and rounded once to `Scalar`, as PyTorch does with
/// Python-float arguments on float32 tensors; the operation order follows PyTorch's single-tensor code.
///
/// Speed: each variant's inner loop is an `@inline(__always)` body called with literal `Bool`s, so
/// after inlining the loop has no branches and auto-vectorizes. Weight decay is applied
/// unconditionally (`g + 0·p == g`, `p · 1 == p` exactly), which also keeps the loops branch-free.
/// Square roots are taken of `x.magnitude`: on Linux `squareRoot()` lowers to libm `sqrtf` behind an
/// errno check for negative inputs, which blocks vectorization; with `fabs` the check folds away and
/// the loop uses packed square roots. The arguments are non-negative sums of squares, so the value is
/// unchanged (centered RMSprop clamps a rounding-negative variance to 0 where PyTorch would return NaN).
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

    // MARK: SGD

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
        let k = SGDConstants<S>(c: S(clampValue), s: S(scale), wd: S(weightDecay), negLR: S(-lr),
                                mu: S(momentum), oneMinusD: S(1 - dampening))
        let n = p.count
        let pp = p.baseAddress!, g = gr.baseAddress!
        guard let b = buf?.baseAddress else {
            sgdLoop(n, pp, g, pp, k, momentum: false, first: false, nesterov: false)
            return
        }
        switch (firstStep, nesterov) {
        case (true, true): sgdLoop(n, pp, g, b, k, momentum: true, first: true, nesterov: true)
        case (true, false): sgdLoop(n, pp, g, b, k, momentum: true, first: true, nesterov: false)
        case (false, true): sgdLoop(n, pp, g, b, k, momentum: true, first: false, nesterov: true)
        case (false, false): sgdLoop(n, pp, g, b, k, momentum: true, first: false, nesterov: false)
        }
    }

    struct SGDConstants<S> {
        var c, s, wd, negLR, mu, oneMinusD: S
    }

    @inline(__always)
    static func sgdLoop<S: BinaryFloatingPoint>(
        _ n: Int, _ p: UnsafeMutablePointer<S>, _ gr: UnsafeMutablePointer<S>, _ buf: UnsafeMutablePointer<S>,
        _ k: SGDConstants<S>, momentum: Bool, first: Bool, nesterov: Bool
    ) {
        let c = k.c, s = k.s, wd = k.wd, negLR = k.negLR, mu = k.mu, oneMinusD = k.oneMinusD
        for i in 0..<n {
            var g = effective(gr[i], c, s) + wd * p[i]
            if momentum {
                let b = first ? g : buf[i] * mu + oneMinusD * g
                buf[i] = b
                g = nesterov ? g + mu * b : b
            }
            p[i] = p[i] + negLR * g
        }
    }

    // MARK: RMSprop

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
        let w = 1 - alpha
        let k = RMSPropConstants<S>(c: S(clampValue), s: S(scale), wd: S(weightDecay), negLR: S(-lr),
                                    a: S(alpha), oneMinusA: S(1 - alpha), e: S(eps), mu: S(momentum),
                                    lw: S(w), lOneMinusW: S(1 - w))
        let small = abs(w) < 0.5
        let n = p.count, pp = p.baseAddress!, g = gr.baseAddress!, sq = v.baseAddress!
        let m = ga?.baseAddress ?? sq, b = buf?.baseAddress ?? sq
        switch (ga != nil, buf != nil, small) {
        case (false, false, _): rmspropLoop(n, pp, g, sq, m, b, k, centered: false, momentum: false, small: true)
        case (false, true, _): rmspropLoop(n, pp, g, sq, m, b, k, centered: false, momentum: true, small: true)
        case (true, false, true): rmspropLoop(n, pp, g, sq, m, b, k, centered: true, momentum: false, small: true)
        case (true, true, true): rmspropLoop(n, pp, g, sq, m, b, k, centered: true, momentum: true, small: true)
        case (true, false, false): rmspropLoop(n, pp, g, sq, m, b, k, centered: true, momentum: false, small: false)
        case (true, true, false): rmspropLoop(n, pp, g, sq, m, b, k, centered: true, momentum: true, small: false)
        }
    }

    struct RMSPropConstants<S> {
        var c, s, wd, negLR, a, oneMinusA, e, mu, lw, lOneMinusW: S
    }

    @inline(__always)
    static func rmspropLoop<S: BinaryFloatingPoint>(
        _ n: Int, _ p: UnsafeMutablePointer<S>, _ gr: UnsafeMutablePointer<S>, _ v: UnsafeMutablePointer<S>,
        _ ga: UnsafeMutablePointer<S>, _ buf: UnsafeMutablePointer<S>, _ k: RMSPropConstants<S>,
        centered: Bool, momentum: Bool, small: Bool
    ) {
        let c = k.c, s = k.s, wd = k.wd, negLR = k.negLR, a = k.a, oneMinusA = k.oneMinusA
        let e = k.e, mu = k.mu, lw = k.lw, lOneMinusW = k.lOneMinusW
        for i in 0..<n {
            let g = effective(gr[i], c, s) + wd * p[i]
            let sq = v[i] * a + oneMinusA * g * g
            v[i] = sq
            let d: S
            if centered {
                let m = lerp(ga[i], g, lw, lOneMinusW, small)
                ga[i] = m
                let variance = sq - m * m
                d = (variance > 0 ? variance : 0).magnitude.squareRoot() + e
            } else {
                d = sq.magnitude.squareRoot() + e
            }
            if momentum {
                let b = buf[i] * mu + g / d
                buf[i] = b
                p[i] = p[i] + negLR * b
            } else {
                p[i] = p[i] + negLR * g / d  // addcdiv: p + (value·g)/d
            }
        }
    }

    // MARK: Adam / AdamW

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
        let w = 1 - beta1
        let k = AdamConstants<S>(
            c: S(clampValue), s: S(scale), wd: decoupled ? 0 : S(weightDecay),
            decay: decoupled ? S(1 - lr * weightDecay) : 1, lw: S(w), lOneMinusW: S(1 - w),
            b2: S(beta2), oneMinusB2: S(1 - beta2), e: S(eps), bc2: S(biasCorrection2Sqrt),
            negStep: S(-(lr / biasCorrection1)))
        let n = p.count, pp = p.baseAddress!, g = gr.baseAddress!, mm = m.baseAddress!, vv = v.baseAddress!
        if abs(w) < 0.5 {
            adamLoop(n, pp, g, mm, vv, k, small: true)
        } else {
            adamLoop(n, pp, g, mm, vv, k, small: false)
        }
    }

    struct AdamConstants<S> {
        var c, s, wd, decay, lw, lOneMinusW, b2, oneMinusB2, e, bc2, negStep: S
    }

    @inline(__always)
    static func adamLoop<S: BinaryFloatingPoint>(
        _ n: Int, _ p: UnsafeMutablePointer<S>, _ gr: UnsafeMutablePointer<S>, _ m: UnsafeMutablePointer<S>,
        _ v: UnsafeMutablePointer<S>, _ k: AdamConstants<S>, small: Bool
    ) {
        let c = k.c, s = k.s, wd = k.wd, decay = k.decay, lw = k.lw, lOneMinusW = k.lOneMinusW
        let b2 = k.b2, oneMinusB2 = k.oneMinusB2, e = k.e, bc2 = k.bc2, negStep = k.negStep
        for i in 0..<n {
            let x = p[i] * decay
            let g = effective(gr[i], c, s) + wd * x
            let mi = lerp(m[i], g, lw, lOneMinusW, small)
            m[i] = mi
            let vi = v[i] * b2 + oneMinusB2 * g * g
            v[i] = vi
            let d = vi.magnitude.squareRoot() / bc2 + e
            p[i] = x + negStep * mi / d  // addcdiv: p + (value·m)/d
        }
    }
}
