"""Cross-check a CharRNN checkpoint in PyTorch.

Loads CHECKPOINT/model.safetensors into a module with the layout of PyTorch's word_language_model
`RNNModel` (encoder, rnn, decoder) with load_state_dict(strict=True), scores the ids of a text as one
stream, and prints nats per unit — to compare with `charrnn eval CHECKPOINT TEXT --batch 1 --json`.

    py=$(../shared/bench/setup-torch.sh)
    $py scripts/check_torch_load.py runs/quotes/best corpora/synth/quotes.txt --units 5000

Units are taken as code points (the text must be one code point per unit, as the shipped corpora
and tiny-shakespeare are), looked up in CHECKPOINT/vocab.json.
"""
import argparse, json, math, sys
import torch, torch.nn as nn
from safetensors.torch import load_file

p = argparse.ArgumentParser()
p.add_argument("checkpoint"); p.add_argument("text"); p.add_argument("--units", type=int, default=0)
a = p.parse_args()
config = json.load(open(f"{a.checkpoint}/config.json"))
model_config = config["model"]
if model_config.get("skip", "none") != "none":
    sys.exit("only skip 'none' checkpoints have RNNModel's shapes")
vocab = json.load(open(f"{a.checkpoint}/vocab.json"))
units = vocab["units"] if isinstance(vocab, dict) else vocab
index = {u: i for i, u in enumerate(units)}
V, E, H, L = model_config["vocabularySize"], model_config["embeddingSize"], model_config["hiddenSize"], model_config["layers"]
cell = model_config["cell"]

class RNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(V, E)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}.get(cell, lambda *x: nn.RNN(*x, nonlinearity="tanh"))(E, H, L)
        self.decoder = nn.Linear(H, V)
    def forward(self, x, h):
        y, h = self.rnn(self.encoder(x), h)
        return self.decoder(y), h

m = RNNModel().double()
state = {k: v.double() for k, v in load_file(f"{a.checkpoint}/model.safetensors").items()}
m.load_state_dict(state, strict=True)
text = open(a.text, encoding="utf-8").read()
ids = torch.tensor([index.get(c, 0) for c in text])
if a.units: ids = ids[: a.units]
with torch.no_grad():
    logits, _ = m(ids[:-1].view(-1, 1), None)
    nats = nn.functional.cross_entropy(logits.view(-1, V), ids[1:]).item()
print(json.dumps({"nats_per_unit": nats, "bits_per_unit": nats / math.log(2), "units": len(ids) - 1}))
