

/// Fused per-step kernels of the three cells: the gate nonlinearities, the state update and their
/// derivatives, each one pass over the B×H (or B×G·H) block of one step. `Float` runs the C versions
/// in the CKernels target (AVX-512 when the CPU has it, 16 lanes wide); `Double` runs the generic
/// loops of `RealKernels`, the reference the Float kernels are tested against.
///
/// Layouts: a gate block is B rows of G·H, gate k of stream b at `gates[b·G·H + k·H + j]`.
public enum CellKernels {
    // MARK: LSTM — gates (i, f, g, o); c = f∘c₋ + i∘g; h = o∘tanh(c)

    /// In: `gates` pre-activations (B×4H), `cPrev` (B×H). Out: `gates` activated in place,
    /// `c`, `tanhC`, `h` (B×H each; `c` may alias `cPrev`).
    public static func lstmForward<S: Real>(
        batch: Int, hidden h: Int, gates: UnsafeMutablePointer<S>, cPrev: UnsafePointer<S>,
        c: UnsafeMutablePointer<S>, tanhC: UnsafeMutablePointer<S>, hOut: UnsafeMutablePointer<S>
    ) {
        S._lstmForward(batch: batch, hidden: h, gates: gates, cPrev: cPrev, c: c, tanhC: tanhC, hOut: hOut)
    }

    /// In: `dOut` (∂L/∂h_t from above, B×H), `dhCarry` (∂L/∂h_t through h_{t+1}), `dcCarry`
    /// (∂L/∂c_t through c_{t+1}), activated `gates`, `cPrev`, `tanhC`.
    /// Out: `dGates` (∂L/∂pre-activations, B×4H), `dh` (total ∂L/∂h_t), `dc` (total ∂L/∂c_t),
    /// `dcCarry` overwritten with ∂L/∂c_{t−1} = dc∘f.
    public static func lstmBackward<S: Real>(
        batch: Int, hidden h: Int, dOut: UnsafePointer<S>, dhCarry: UnsafePointer<S>,
        dcCarry: UnsafeMutablePointer<S>, gates: UnsafePointer<S>, cPrev: UnsafePointer<S>,
        tanhC: UnsafePointer<S>, dGates: UnsafeMutablePointer<S>, dh: UnsafeMutablePointer<S>,
        dc: UnsafeMutablePointer<S>
    ) {
        S._lstmBackward(batch: batch, hidden: h, dOut: dOut, dhCarry: dhCarry, dcCarry: dcCarry, gates: gates, cPrev: cPrev, tanhC: tanhC, dGates: dGates, dh: dh, dc: dc)
    }

    // MARK: GRU — gates (r, z, n); n = tanh(x_n + r∘(W_hn h + b_hn)); h = (1−z)∘n + z∘h₋

    /// In: `gx` (input projection + b_ih, B×3H), `gh` (W_hh h₋ + b_hh, B×3H), `hPrev`.
    /// Out: `gx` overwritten with activated (r, z, n); `hOut` (may alias `hPrev`).
    public static func gruForward<S: Real>(
        batch: Int, hidden h: Int, gx: UnsafeMutablePointer<S>, gh: UnsafePointer<S>,
        hPrev: UnsafePointer<S>, hOut: UnsafeMutablePointer<S>
    ) {
        S._gruForward(batch: batch, hidden: h, gx: gx, gh: gh, hPrev: hPrev, hOut: hOut)
    }

    /// In: `dOut`, `dhCarry` (in: ∂L/∂h_t through h_{t+1}; out: the direct part z∘dh of
    /// ∂L/∂h_{t−1}, to which the caller adds dGh·W_hh), activated `gates`, `gh`, `hPrev`.
    /// Out: `dGx` (∂L/∂ input pre-activations), `dGh` (∂L/∂ W_hh h + b_hh), `dh` (total ∂L/∂h_t).
    public static func gruBackward<S: Real>(
        batch: Int, hidden h: Int, dOut: UnsafePointer<S>, dhCarry: UnsafeMutablePointer<S>,
        gates: UnsafePointer<S>, gh: UnsafePointer<S>, hPrev: UnsafePointer<S>,
        dGx: UnsafeMutablePointer<S>, dGh: UnsafeMutablePointer<S>, dh: UnsafeMutablePointer<S>
    ) {
        S._gruBackward(batch: batch, hidden: h, dOut: dOut, dhCarry: dhCarry, gates: gates, gh: gh, hPrev: hPrev, dGx: dGx, dGh: dGh, dh: dh)
    }

    // MARK: tanh RNN — h = tanh(pre)

    /// `hOut[i] = tanh(pre[i])` for B×H elements.
    public static func rnnForward<S: Real>(
        count: Int, pre: UnsafePointer<S>, hOut: UnsafeMutablePointer<S>
    ) {
        S._rnnForward(count: count, pre: pre, hOut: hOut)
    }

    /// `dh = dOut + dhCarry`, `dPre = dh ∘ (1 − h²)`.
    public static func rnnBackward<S: Real>(
        count: Int, dOut: UnsafePointer<S>, dhCarry: UnsafePointer<S>, hOut: UnsafePointer<S>,
        dPre: UnsafeMutablePointer<S>, dh: UnsafeMutablePointer<S>
    ) {
        S._rnnBackward(count: count, dOut: dOut, dhCarry: dhCarry, hOut: hOut, dPre: dPre, dh: dh)
    }
}
