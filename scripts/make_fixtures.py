#!/usr/bin/env python3
"""Writes the PyTorch golden fixtures under Tests/NeuralNetTests/Fixtures/ (one JSON per cell).

Run with the project's PyTorch:  /root/.cache/charrnn-torch/bin/python scripts/make_fixtures.py

Each fixture is a 2-layer word_language_model-style RNNModel (nn.Embedding → nn.LSTM/GRU/RNN(tanh)
→ nn.Linear, no dropout, skip none), small sizes, fixed seed, float32, and holds:
  config                 V, E, H, L, T, B, cell
  parameter_names        state_dict order (the registration order the Swift layout must match)
  parameters             name → {shape, values (row-major)}
  inputs, targets        T·B ids, time-major (index t·B + b)
  h0, c0                 initial state [L][B][H] (c0 for LSTM only)
  logits                 T·B×V (row t·B + b), loss (mean cross-entropy)
  gradients              name → values (∂loss/∂θ)
  hT, cT                 final state [L][B][H]
  clip                   max_norm and the pre-clip total norm of torch.nn.utils.clip_grad_norm_
  adam                   lr and defaults; parameters after one clipped Adam step
Weights, inputs and initial state are float32 values (drawn in float32); every computed number
(logits, loss, gradients, states, the Adam step) is computed by PyTorch in float64 from them, so the
fixture is exact to ~1e-15 and a test's tolerance measures only the Swift side's own rounding
(float32 PyTorch would add its own ~3e-5 relative noise on small gradient entries).
"""
import json, os
import torch, torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "NeuralNetTests", "Fixtures")
V, E, H, L, T, B = 10, 6, 8, 2, 5, 3


class RNNModel(nn.Module):
    """The parameter-bearing part of PyTorch's word_language_model RNNModel (dropout 0)."""

    def __init__(self, cell):
        super().__init__()
        self.encoder = nn.Embedding(V, E)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](E, H, L)
        self.decoder = nn.Linear(H, V)
        nn.init.uniform_(self.encoder.weight, -0.5, 0.5)
        nn.init.uniform_(self.decoder.weight, -0.5, 0.5)
        nn.init.uniform_(self.decoder.bias, -0.1, 0.1)

    def forward(self, x, hidden):
        y, hidden = self.rnn(self.encoder(x), hidden)
        return self.decoder(y), hidden


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make(cell, seed):
    torch.manual_seed(seed)
    model = RNNModel(cell)
    inputs = torch.randint(0, V, (T, B))
    targets = torch.randint(0, V, (T, B))
    h0 = torch.empty(L, B, H).uniform_(-0.5, 0.5)
    c0 = torch.empty(L, B, H).uniform_(-0.5, 0.5)
    model, h0, c0 = model.double(), h0.double(), c0.double()
    hidden = (h0, c0) if cell == "lstm" else h0
    logits, final = model(inputs, hidden)
    loss = nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    loss.backward()
    names = [n for n, _ in model.named_parameters()]
    fixture = {
        "config": {"vocabularySize": V, "embeddingSize": E, "hiddenSize": H, "layers": L, "steps": T,
                   "batchSize": B, "cell": cell},
        "parameter_names": names,
        "parameters": {n: {"shape": list(p.shape), "values": flat(p)} for n, p in model.named_parameters()},
        "inputs": [int(v) for v in inputs.reshape(-1)],
        "targets": [int(v) for v in targets.reshape(-1)],
        "h0": flat(h0),
        "c0": flat(c0) if cell == "lstm" else [],
        "logits": flat(logits.reshape(-1, V)),
        "loss": float(loss.detach()),
        "gradients": {n: flat(p.grad) for n, p in model.named_parameters()},
        "hT": flat(final[0] if cell == "lstm" else final),
        "cT": flat(final[1]) if cell == "lstm" else [],
    }
    # One clipped Adam step (lr 0.01, defaults). max_norm is set to half the total norm so it fires.
    total = float(torch.norm(torch.stack([p.grad.norm() for p in model.parameters()])))
    max_norm = round(total / 2, 4)
    returned = float(nn.utils.clip_grad_norm_(model.parameters(), max_norm))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    opt.step()
    fixture["clip"] = {"max_norm": max_norm, "total_norm": returned}
    fixture["adam"] = {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0,
                       "parameters_after": {n: flat(p) for n, p in model.named_parameters()}}
    # The state dict loads back strictly (names and shapes are the contract the Swift side mirrors).
    RNNModel(cell).double().load_state_dict(model.state_dict(), strict=True)
    path = os.path.join(OUT, f"{cell}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"wrote {path}: loss {fixture['loss']:.6f}, grad norm {total:.6f}, max_norm {max_norm}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    for i, cell in enumerate(["lstm", "gru", "rnn"]):
        make(cell, 1234 + i)
