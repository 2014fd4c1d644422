#!/usr/bin/env python3
"""Writes Tests/NeuralNetTests/Fixtures/bf16_autocast_{lstm,gru,rnn}.json: one training step (forward,
loss, backward) of a tiny 2-layer LSTM, GRU or tanh-RNN language model run by PyTorch under
torch.autocast("cpu", dtype=torch.bfloat16), with the per-element error bounds the Swift test
(PyTorchAutocastFixtureTests) holds `--precision bf16` to.

Run with the project's PyTorch (about a minute per cell):
    /root/.cache/charrnn-torch/bin/python scripts/make_bf16_fixture.py [lstm] [gru] [rnn]

Why explicit ops and not nn.LSTM/nn.GRU/nn.RNN: under CPU autocast nn.LSTM goes to oneDNN's bf16
RNN primitive, which needs AVX-512; on this machine (AMD EPYC family 25, AVX2 only) PyTorch 2.15
fails with "could not create a primitive descriptor for the LSTM forward propagation primitive" at
every size tried, and where it does run its internal roundings are oneDNN's, not documented;
nn.GRU and nn.RNN take internal paths of their own (nn.GRU returns f32, nn.RNN bf16). So the model
here is the word_language_model shape (encoder, 2 layers, decoder; same parameter names,
strict-loadable into RNNModel) with the cell written in PyTorch ops the way a user writes one
(PyTorch's equations, `cell_step`): the matrix products are F.linear (autocast runs them in bf16),
the gate and cell math is f32. Every rounding autocast then does is known:
  forward   operands x, h, W, b of each F.linear rounded to bf16 (RNE); the product accumulated in
            f32 and its output rounded to bf16 (input projection over the window, recurrent product
            per step, decoder → bf16 logits); cross_entropy runs in f32 (autocast's fp32 list).
  backward  the gradient reaching each bf16 output rounded to bf16; the products dX = dY·W,
            dW = dYᵀ·X and db = Σ dY each rounded to bf16; a weight's bf16 copy is cached by autocast
            for the whole step, so the T per-step gradients of W_hh and b_hh are summed in bf16
            (rounding after each add, last step first) before the f32 leaf receives them.
charrnn's mixed precision rounds only the operands (and not the biases); everything else is f32.
`emulate` below recomputes the step in float64 with exactly these roundings; the script prints how
many elements differ from PyTorch's autocast numbers (none of the bf16 logits or gradients, for all
three cells: the roundings above are all there is; the f32 loss and state differ at f32 rounding).

The bound. Write each rounding site k as v_k(1 + ε_k), |ε_k| ≤ u = 2⁻⁸ (bf16 keeps 8 significand
bits; round to nearest). To first order an output y of either computation is y_exact + Σ_k c_k ε_k
with c_k = ∂y/∂ε_k = (∂y/∂v_k)·v_k. Sites that round the same value in both computations and feed
the same consumers (weights, embedding rows, h0) have the same ε_k in both and cancel. Every other
site is PyTorch's alone or a value that already differs between the two, which the two may round to
neighbouring bf16 numbers; so
    |ours − torch| ≤ u·(Σ_torch sites |c_k| + Σ_our sites |c_k|)     (first order)
and, as rounding errors are spread over ±half an ulp (variance ≤ u²v²/3),
    E|ours − torch|² ≤ (u²/3)·(Σ_torch c_k² + Σ_ours c_k²).
The script computes the c_k exactly (Jacobian of the float64 emulation, forward and hand-written
backward, with respect to all ε at ε = 0) and writes per element worst = Σ|c_k| and rms =
sqrt(Σ c_k²) for logits, loss, every gradient and the final state.
"""
import json, os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "NeuralNetTests", "Fixtures")
V, E, H, L, T, B = 11, 5, 7, 2, 4, 3
NAMES = ["encoder.weight"] + [f"rnn.{w}_l{k}" for k in range(L) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")] \
    + ["decoder.weight", "decoder.bias"]


GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def draw(cell, seed):
    """Float32 weights (word_language_model ranges), ids and initial state."""
    G = GATES[cell] * H
    g = torch.Generator().manual_seed(seed)
    bound = 1 / H ** 0.5
    p = {"encoder.weight": torch.empty(V, E).uniform_(-0.5, 0.5, generator=g)}
    for k in range(L):
        inp = E if k == 0 else H
        p[f"rnn.weight_ih_l{k}"] = torch.empty(G, inp).uniform_(-bound, bound, generator=g)
        p[f"rnn.weight_hh_l{k}"] = torch.empty(G, H).uniform_(-bound, bound, generator=g)
        p[f"rnn.bias_ih_l{k}"] = torch.empty(G).uniform_(-bound, bound, generator=g)
        p[f"rnn.bias_hh_l{k}"] = torch.empty(G).uniform_(-bound, bound, generator=g)
    p["decoder.weight"] = torch.empty(V, H).uniform_(-0.5, 0.5, generator=g)
    p["decoder.bias"] = torch.empty(V).uniform_(-0.1, 0.1, generator=g)
    inputs = torch.randint(0, V, (T, B), generator=g)
    targets = torch.randint(0, V, (T, B), generator=g)
    h0 = torch.empty(L, B, H).uniform_(-0.5, 0.5, generator=g)
    c0 = torch.empty(L, B, H).uniform_(-0.5, 0.5, generator=g)
    return p, inputs, targets, h0, c0


def cell_step(cell, gx, gh, h, c):
    """The f32 cell math of one step from the input-side and hidden-side products (B×G each):
    PyTorch's LSTM (i, f, g, o), GRU (r, z, n) and tanh RNN equations. Returns h, c and what the
    backward needs."""
    if cell == "lstm":
        i, f, g, o = (gx + gh).chunk(4, 1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c_new = f * c + i * g
        h_new = o * torch.tanh(c_new)
        return h_new, c_new, (i, f, g, o)
    if cell == "gru":
        xr, xz, xn = gx.chunk(3, 1)
        hr, hz, hn = gh.chunk(3, 1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return (1 - z) * n + z * h, None, (r, z, n, hn)
    h_new = torch.tanh(gx + gh)
    return h_new, None, (h_new,)


def cell_step_backward(cell, saved, dh, dc, h_prev, c_prev, c_new):
    """∂L/∂gx, ∂L/∂gh (B×G), the direct part of ∂L/∂h_prev (GRU's z·dh, else 0) and ∂L/∂c_prev."""
    if cell == "lstm":
        i, f, g, o = saved
        tc = torch.tanh(c_new)
        dct = dc + dh * o * (1 - tc * tc)
        d = torch.cat([dct * g * i * (1 - i), dct * c_prev * f * (1 - f), dct * i * (1 - g * g),
                       dh * tc * o * (1 - o)], 1)
        return d, d, 0, dct * f
    if cell == "gru":
        r, z, n, hn = saved
        dnp = dh * (1 - z) * (1 - n * n)
        drp = dnp * hn * r * (1 - r)
        dzp = dh * (h_prev - n) * z * (1 - z)
        return torch.cat([drp, dzp, dnp], 1), torch.cat([drp, dzp, dnp * r], 1), dh * z, None
    (h_new,) = saved
    d = dh * (1 - h_new * h_new)
    return d, d, 0, None


class ExplicitRNNModel(nn.Module):
    """word_language_model's RNNModel (dropout 0) with the cell in explicit ops: the products are
    F.linear (bf16 under autocast, cast back to f32), the cell math is `cell_step` in f32."""

    def __init__(self, cell, p):
        super().__init__()
        self.cell = cell
        self.encoder = nn.Embedding(V, E)
        self.rnn = nn.Module()
        for k in range(L):
            for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                self.rnn.register_parameter(f"{w}_l{k}", nn.Parameter(p[f"rnn.{w}_l{k}"].clone()))
        self.decoder = nn.Linear(H, V)
        with torch.no_grad():
            self.encoder.weight.copy_(p["encoder.weight"])
            self.decoder.weight.copy_(p["decoder.weight"])
            self.decoder.bias.copy_(p["decoder.bias"])

    def forward(self, ids, h0, c0):
        x = self.encoder(ids)
        hT, cT = [], []
        for k in range(L):
            w = lambda n: getattr(self.rnn, f"{n}_l{k}")
            gx = F.linear(x, w("weight_ih"), w("bias_ih")).float()       # T×B×G, one product per window
            h, c, outs = h0[k], c0[k], []
            for t in range(T):
                gh = F.linear(h, w("weight_hh"), w("bias_hh")).float()   # B×G, one product per step
                h, c, _ = cell_step(self.cell, gx[t], gh, h, c)
                outs.append(h)
            x = torch.stack(outs)
            hT.append(h); cT.append(c)
        return self.decoder(x), torch.stack(hT), (torch.stack(cT) if self.cell == "lstm" else None)


def torch_autocast_step(cell, p, inputs, targets, h0, c0):
    model = ExplicitRNNModel(cell, p)
    assert [n for n, _ in model.named_parameters()] == NAMES
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits, hT, cT = model(inputs, h0, c0)
        loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    assert logits.dtype == torch.bfloat16 and loss.dtype == torch.float32 and hT.dtype == torch.float32
    loss.backward()
    # The parameters load back strictly into the real nn.LSTM/GRU/RNN model.
    real = nn.Module()
    real.encoder, real.decoder = nn.Embedding(V, E), nn.Linear(H, V)
    real.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](E, H, L)
    real.load_state_dict(model.state_dict(), strict=True)
    return {"logits": logits.detach().double().reshape(-1), "loss": loss.detach().double().reshape(1),
            "hT": hT.detach().double().reshape(-1),
            "cT": cT.detach().double().reshape(-1) if cT is not None else torch.zeros(0, dtype=torch.float64),
            **{n: q.grad.double().reshape(-1) for n, q in model.named_parameters()}}


def bf16(x):
    """Round to bfloat16, ties to even (via float32, as PyTorch rounds its float32 results)."""
    return x.float().bfloat16().double()


def emulate(cell, p, inputs, targets, h0, c0, structure, site):
    """One step in float64. `structure` is "torch" (autocast's roundings) or "ours" (charrnn
    --precision bf16: operands only). `site(v, same)` is applied at every rounding; `same` marks the
    roundings both computations do to identical values with identical consumers."""
    torch_ = structure == "torch"
    out = lambda v: site(v, False) if torch_ else v        # a product's output: rounded by autocast only
    N = T * B
    ids, tg = inputs.reshape(-1), targets.reshape(-1)
    W = {n: site(p[n], True) for n in NAMES if "weight" in n and n != "encoder.weight"}
    bias = {n: (site(p[n], False) if torch_ else p[n]) for n in NAMES if "bias" in n}
    x = site(p["encoder.weight"][ids], True)                # embedding rows as layer 0's operand
    saved, hT, cT = [], [], []
    for k in range(L):
        wih, whh = W[f"rnn.weight_ih_l{k}"], W[f"rnn.weight_hh_l{k}"]
        bih, bhh = bias[f"rnn.bias_ih_l{k}"], bias[f"rnn.bias_hh_l{k}"]
        if torch_:
            gx = out(x @ wih.T + bih)
        else:  # ours adds b_hh on the input side except for GRU (whose b_hn sits inside r∘(·))
            gx = x @ wih.T + bih + (0 if cell == "gru" else bhh)
        h, c = h0[k], c0[k]
        steps = []
        for t in range(T):
            hr = site(h, t == 0)
            if torch_:
                gh = out(hr @ whh.T + bhh)
            else:
                gh = hr @ whh.T + (bhh if cell == "gru" else 0)
            h_new, c_new, keep = cell_step(cell, gx[t * B:(t + 1) * B], gh, h, c)
            steps.append((hr, h, c, c_new, keep, h_new))
            h, c = h_new, c_new
        saved.append((x, steps))
        hT.append(h); cT.append(c)
        x = site(torch.cat([s[5] for s in steps]), False)   # next layer's / decoder's operand
    wdec, bdec = W["decoder.weight"], bias["decoder.bias"]
    logits = out(x @ wdec.T + bdec)
    lse = torch.logsumexp(logits, 1)
    loss = (lse - logits[torch.arange(N), tg]).mean()
    grads = {}
    dlog = (torch.softmax(logits, 1) - F.one_hot(tg, V).double()) / N
    g = site(dlog, False)
    grads["decoder.weight"] = out(g.T @ x)
    grads["decoder.bias"] = out(g.sum(0)) if torch_ else dlog.sum(0)
    dx = out(g @ wdec)
    for k in reversed(range(L)):
        xin, steps = saved[k]
        whh, wih = W[f"rnn.weight_hh_l{k}"], W[f"rnn.weight_ih_l{k}"]
        dh_carry = torch.zeros(B, H, dtype=torch.float64)
        dc_carry = torch.zeros(B, H, dtype=torch.float64) if cell == "lstm" else None
        gx_r, gx_p, gh_r, gh_p, hrs = [None] * T, [None] * T, [None] * T, [None] * T, [None] * T
        dwhh = dbhh = None
        for t in reversed(range(T)):
            hr, h_prev, c_prev, c_new, keep, _ = steps[t]
            dh = dx[t * B:(t + 1) * B] + dh_carry
            dgx, dgh, direct, dc_carry = cell_step_backward(cell, keep, dh, dc_carry, h_prev, c_prev, c_new)
            rx = site(dgx, False)
            # the hidden-side gradient equals the input-side one except GRU's n part: same rounding
            rh = rx if cell != "gru" else torch.cat([rx[:, :2 * H], site(dgh[:, 2 * H:], False)], 1)
            dh_carry = out(rh @ whh) + direct
            if torch_:
                # autocast's cached bf16 W_hh / b_hh: per-step gradients summed in bf16, last step first
                step_w, step_b = out(rh.T @ hr), out(rh.sum(0))
                dwhh = step_w if dwhh is None else out(dwhh + step_w)
                dbhh = step_b if dbhh is None else out(dbhh + step_b)
            gx_r[t], gx_p[t], gh_r[t], gh_p[t], hrs[t] = rx, dgx, rh, dgh, hr
        G, P = torch.cat(gx_r), torch.cat(gx_p)
        if not torch_:
            dwhh, dbhh = torch.cat(gh_r).T @ torch.cat(hrs), torch.cat(gh_p).sum(0)
        grads[f"rnn.weight_hh_l{k}"], grads[f"rnn.bias_hh_l{k}"] = dwhh, dbhh
        grads[f"rnn.weight_ih_l{k}"] = out(G.T @ xin)
        grads[f"rnn.bias_ih_l{k}"] = out(G.sum(0)) if torch_ else P.sum(0)
        dx = out(G @ wih)
    grads["encoder.weight"] = torch.zeros(V, E, dtype=torch.float64).index_add(0, ids, dx)
    return {"logits": logits.reshape(-1), "loss": loss.reshape(1), "hT": torch.cat(hT).reshape(-1),
            "cT": torch.cat(cT).reshape(-1) if cell == "lstm" else torch.zeros(0, dtype=torch.float64),
            **{n: grads[n].reshape(-1) for n in NAMES}}


KEYS = ["logits", "loss", "hT", "cT"] + NAMES


def sensitivities(cell, p, inputs, targets, h0, c0, structure):
    """Per output element: Σ_k |c_k| and Σ_k c_k² over the rounding sites that do not cancel."""
    sizes = []
    emulate(cell, p, inputs, targets, h0, c0, structure,
            lambda v, same: (sizes.append(0 if same else v.numel()), v)[1])
    total = sum(sizes)

    def f(eps):
        offset = [0]

        def site(v, same):
            if same:
                return v
            e = eps[offset[0]:offset[0] + v.numel()].reshape(v.shape)
            offset[0] += v.numel()
            return v * (1 + e)
        r = emulate(cell, p, inputs, targets, h0, c0, structure, site)
        return torch.cat([r[k] for k in KEYS])
    jac = torch.func.jacrev(f)(torch.zeros(total, dtype=torch.float64))
    return jac.abs().sum(1), (jac * jac).sum(1), total


def split(flat, like):
    out, i = {}, 0
    for k in KEYS:
        n = like[k].numel()
        out[k] = flat[i:i + n]
        i += n
    return out


def make(cell, seed):
    p, inputs, targets, h0, c0 = draw(cell, seed)
    ref = torch_autocast_step(cell, p, inputs, targets, h0, c0)
    pd = {n: v.double() for n, v in p.items()}
    h0d, c0d = h0.double(), c0.double()
    emu = emulate(cell, pd, inputs, targets, h0d, c0d, "torch", lambda v, same: bf16(v))
    ours = emulate(cell, pd, inputs, targets, h0d, c0d, "ours", lambda v, same: bf16(v))
    exact = emulate(cell, pd, inputs, targets, h0d, c0d, "torch", lambda v, same: v)
    wt, st, nt = sensitivities(cell, pd, inputs, targets, h0d, c0d, "torch")
    wo, so, no = sensitivities(cell, pd, inputs, targets, h0d, c0d, "ours")
    worst, rms = split(wt + wo, ref), split((st + so).sqrt(), ref)
    u = 2.0 ** -8
    print(f"{cell}: rounding sites that do not cancel: torch {nt}, ours {no}")
    print(f"{'tensor':18} {'emul≠torch':>10} {'|emul-torch|/uW':>15} {'|ours-torch|/uW':>15} "
          f"{'‖ours-torch‖/(u/√3)‖R‖':>22} {'‖torch-exact‖/‖torch‖':>21}")
    for k in KEYS:
        t, e, o, x = ref[k], emu[k], ours[k], exact[k]
        if t.numel() == 0:
            continue
        wb = u * worst[k] + 1e-30
        nb = u / 3 ** 0.5 * rms[k].norm()
        print(f"{k:18} {int((t != e).sum()):4}/{t.numel():<5} {float(((e - t).abs() / wb).max()):15.4f} "
              f"{float(((o - t).abs() / wb).max()):15.4f} {float((o - t).norm() / nb):22.4f} "
              f"{float((t - x).norm() / t.norm()):21.2e}")
    flat = lambda v: [float(a) for a in v.reshape(-1).tolist()]
    fixture = {
        "config": {"vocabularySize": V, "embeddingSize": E, "hiddenSize": H, "layers": L, "steps": T,
                   "batchSize": B, "cell": cell},
        "parameter_names": NAMES,
        "parameters": {n: {"shape": list(p[n].shape), "values": flat(p[n])} for n in NAMES},
        "inputs": [int(v) for v in inputs.reshape(-1)],
        "targets": [int(v) for v in targets.reshape(-1)],
        "h0": flat(h0), "c0": flat(c0) if cell == "lstm" else [],
        "logits": flat(ref["logits"]), "loss": float(ref["loss"][0]),
        "hT": flat(ref["hT"]), "cT": flat(ref["cT"]),
        "gradients": {n: flat(ref[n]) for n in NAMES},
        "worst": {k: flat(worst[k]) for k in KEYS if ref[k].numel() > 0},
        "rms": {k: flat(rms[k]) for k in KEYS if ref[k].numel() > 0},
        "torch_version": torch.__version__,
    }
    path = os.path.join(OUT, f"bf16_autocast_{cell}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"wrote {path}: loss {fixture['loss']:.6f}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    for i, cell in enumerate(sys.argv[1:] or ["lstm", "gru", "rnn"]):
        make(cell, 2026 + ["lstm", "gru", "rnn"].index(cell))
