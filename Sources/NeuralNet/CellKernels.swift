import Tensor

/// Fused per-step kernels of the three cells: the gate nonlinearities, the state update and their
/// derivatives, each one pass over the B×H (or B×G·H) block of one step. Pre-specialized for Float
/// and Double so unspecialized generic layer code still runs vectorized loops.
///
/// Layouts: a gate block is B rows of G·H, gate k of stream b at `gates[b·G·H + k·H + j]`.
enum CellKernels {
    // MARK: LSTM — gates (i, f, g, o); c = f∘c₋ + i∘g; h = o∘tanh(c)

    /// In: `gates` pre-activations (B×4H), `cPrev` (B×H). Out: `gates` activated in place,
    /// `c`, `tanhC`, `h` (B×H each; `c` may alias `cPrev`).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func lstmForward<S: Real>(
        batch: Int, hidden h: Int, gates: UnsafeMutablePointer<S>, cPrev: UnsafePointer<S>,
        c: UnsafeMutablePointer<S>, tanhC: UnsafeMutablePointer<S>, hOut: UnsafeMutablePointer<S>
    ) {
        for b in 0..<batch {
            let g = gates + b * 4 * h, cp = cPrev + b * h
            let co = c + b * h, tco = tanhC + b * h, ho = hOut + b * h
            for j in 0..<h {
                let iv = S.kernelSigmoid(g[j])
                let fv = S.kernelSigmoid(g[h + j])
                let gv = S.kernelTanh(g[2 * h + j])
                let ov = S.kernelSigmoid(g[3 * h + j])
                g[j] = iv; g[h + j] = fv; g[2 * h + j] = gv; g[3 * h + j] = ov
                let cv = fv * cp[j] + iv * gv
                let tc = S.kernelTanh(cv)
                co[j] = cv; tco[j] = tc; ho[j] = ov * tc
            }
        }
    }

    /// In: `dOut` (∂L/∂h_t from above, B×H), `dhCarry` (∂L/∂h_t through h_{t+1}), `dcCarry`
    /// (∂L/∂c_t through c_{t+1}), activated `gates`, `cPrev`, `tanhC`.
    /// Out: `dGates` (∂L/∂pre-activations, B×4H), `dh` (total ∂L/∂h_t), `dc` (total ∂L/∂c_t),
    /// `dcCarry` overwritten with ∂L/∂c_{t−1} = dc∘f.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func lstmBackward<S: Real>(
        batch: Int, hidden h: Int, dOut: UnsafePointer<S>, dhCarry: UnsafePointer<S>,
        dcCarry: UnsafeMutablePointer<S>, gates: UnsafePointer<S>, cPrev: UnsafePointer<S>,
        tanhC: UnsafePointer<S>, dGates: UnsafeMutablePointer<S>, dh: UnsafeMutablePointer<S>,
        dc: UnsafeMutablePointer<S>
    ) {
        for b in 0..<batch {
            let g = gates + b * 4 * h, dg = dGates + b * 4 * h
            let o = b * h
            for j in 0..<h {
                let iv = g[j], fv = g[h + j], gv = g[2 * h + j], ov = g[3 * h + j]
                let tc = tanhC[o + j]
                let dhv = dOut[o + j] + dhCarry[o + j]
                let dcv = dcCarry[o + j] + dhv * ov * (1 - tc * tc)
                dg[j] = dcv * gv * iv * (1 - iv)
                dg[h + j] = dcv * cPrev[o + j] * fv * (1 - fv)
                dg[2 * h + j] = dcv * iv * (1 - gv * gv)
                dg[3 * h + j] = dhv * tc * ov * (1 - ov)
                dh[o + j] = dhv
                dc[o + j] = dcv
                dcCarry[o + j] = dcv * fv
            }
        }
    }

    // MARK: GRU — gates (r, z, n); n = tanh(x_n + r∘(W_hn h + b_hn)); h = (1−z)∘n + z∘h₋

    /// In: `gx` (input projection + b_ih, B×3H), `gh` (W_hh h₋ + b_hh, B×3H), `hPrev`.
    /// Out: `gx` overwritten with activated (r, z, n); `hOut` (may alias `hPrev`).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func gruForward<S: Real>(
        batch: Int, hidden h: Int, gx: UnsafeMutablePointer<S>, gh: UnsafePointer<S>,
        hPrev: UnsafePointer<S>, hOut: UnsafeMutablePointer<S>
    ) {
        for b in 0..<batch {
            let x = gx + b * 3 * h, hh = gh + b * 3 * h
            let o = b * h
            for j in 0..<h {
                let r = S.kernelSigmoid(x[j] + hh[j])
                let z = S.kernelSigmoid(x[h + j] + hh[h + j])
                let n = S.kernelTanh(x[2 * h + j] + r * hh[2 * h + j])
                let hp = hPrev[o + j]
                x[j] = r; x[h + j] = z; x[2 * h + j] = n
                hOut[o + j] = (1 - z) * n + z * hp
            }
        }
    }

    /// In: `dOut`, `dhCarry` (in: ∂L/∂h_t through h_{t+1}; out: the direct part z∘dh of
    /// ∂L/∂h_{t−1}, to which the caller adds dGh·W_hh), activated `gates`, `gh`, `hPrev`.
    /// Out: `dGx` (∂L/∂ input pre-activations), `dGh` (∂L/∂ W_hh h + b_hh), `dh` (total ∂L/∂h_t).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func gruBackward<S: Real>(
        batch: Int, hidden h: Int, dOut: UnsafePointer<S>, dhCarry: UnsafeMutablePointer<S>,
        gates: UnsafePointer<S>, gh: UnsafePointer<S>, hPrev: UnsafePointer<S>,
        dGx: UnsafeMutablePointer<S>, dGh: UnsafeMutablePointer<S>, dh: UnsafeMutablePointer<S>
    ) {
        for b in 0..<batch {
            let g = gates + b * 3 * h, hh = gh + b * 3 * h
            let dx = dGx + b * 3 * h, dhh = dGh + b * 3 * h
            let o = b * h
            for j in 0..<h {
                let r = g[j], z = g[h + j], n = g[2 * h + j]
                let dhv = dOut[o + j] + dhCarry[o + j]
                let dnPre = dhv * (1 - z) * (1 - n * n)
                let dzPre = dhv * (hPrev[o + j] - n) * z * (1 - z)
                let drPre = dnPre * hh[2 * h + j] * r * (1 - r)
                dx[j] = drPre; dx[h + j] = dzPre; dx[2 * h + j] = dnPre
                dhh[j] = drPre; dhh[h + j] = dzPre; dhh[2 * h + j] = dnPre * r
                dh[o + j] = dhv
                dhCarry[o + j] = dhv * z
            }
        }
    }

    // MARK: tanh RNN — h = tanh(pre)

    /// `hOut[i] = tanh(pre[i])` for B×H elements.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func rnnForward<S: Real>(
        count: Int, pre: UnsafePointer<S>, hOut: UnsafeMutablePointer<S>
    ) {
        for i in 0..<count { hOut[i] = S.kernelTanh(pre[i]) }
    }

    /// `dh = dOut + dhCarry`, `dPre = dh ∘ (1 − h²)`.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func rnnBackward<S: Real>(
        count: Int, dOut: UnsafePointer<S>, dhCarry: UnsafePointer<S>, hOut: UnsafePointer<S>,
        dPre: UnsafeMutablePointer<S>, dh: UnsafeMutablePointer<S>
    ) {
        for i in 0..<count {
            let dhv = dOut[i] + dhCarry[i]
            let hv = hOut[i]
            dh[i] = dhv
            dPre[i] = dhv * (1 - hv * hv)
        }
    }
}
