import Foundation
import NeuralNet
import Testing
import TestSupport
import TextCorpus
@testable import CharRNN

/// A Python with PyTorch: `$CHARRNN_TORCH_PYTHON`, the project's venv
/// (/root/.cache/charrnn-torch/bin/python) or `python3` on the PATH, whichever imports torch first;
/// nil when none does (the tests that need it are then skipped).
enum TorchPython {
    static let executable: URL? = {
        var candidates: [URL] = []
        if let configured = ProcessInfo.processInfo.environment["CHARRNN_TORCH_PYTHON"], !configured.isEmpty {
            candidates.append(URL(fileURLWithPath: configured))
        }
        candidates.append(URL(fileURLWithPath: "/root/.cache/charrnn-torch/bin/python"))
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append(URL(fileURLWithPath: String(folder)).appendingPathComponent("python3"))
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) && (try? run($0, ["-c", "import torch"])) == 0 }
    }()

    /// Runs `python arguments`, output discarded; returns the exit status.
    @discardableResult
    static func run(_ python: URL, _ arguments: [String]) throws -> Int32 {
        try TestProcess.status(python, arguments)
    }
}

/// Import of state dicts written by real PyTorch: a word_language_model-style `RNNModel` (LSTM with
/// 2 layers in F32 and no `<unk>`; GRU with tied weights (only decoder.weight saved) in BF16 and `<unk>` at id 3; tanh RNN with 2
/// layers in F16), saved in the safetensors format by hand (no `safetensors` package needed), and
/// the logits PyTorch computes on 12 ids. charrnn's logits on the same ids must agree to 1e-5
/// relative to each row's largest logit.
@Suite(.enabled(if: TorchPython.executable != nil, "no Python with torch")) struct PyTorchImportTests {
    static let script = #"""
import json, struct, sys, torch
out = sys.argv[1]
torch.manual_seed(20261201)

def tensor_bytes(t, dtype):
    t = t.detach().contiguous().flatten()
    if dtype == "F32":
        return struct.pack("<%df" % t.numel(), *t.tolist())
    torch_dtype = torch.float16 if dtype == "F16" else torch.bfloat16
    return struct.pack("<%dh" % t.numel(), *t.to(torch_dtype).view(torch.int16).tolist())

def save(path, tensors, dtype):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        blob = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob); offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text))); f.write(text); [f.write(b) for b in blobs]

class RNNModel(torch.nn.Module):
    """word_language_model's RNNModel (dropout 0), encoder → rnn → decoder."""
    def __init__(self, kind, ntoken, ninp, nhid, nlayers, tie):
        super().__init__()
        self.encoder = torch.nn.Embedding(ntoken, ninp)
        self.rnn = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN_TANH": torch.nn.RNN}[kind](ninp, nhid, nlayers)
        self.decoder = torch.nn.Linear(nhid, ntoken)
        if tie: self.decoder.weight = self.encoder.weight
    def forward(self, ids):
        output, _ = self.rnn(self.encoder(ids))
        return self.decoder(output)

cases = [
    # name, cell, units, E, H, L, tied, dtype
    ("lstm", "LSTM", ["a", "b", " ", "\n", "é", "(", ")"], 5, 6, 2, False, "F32"),
    ("gru", "GRU", ["x", "y", "z", "<unk>", "w", "!"], 8, 8, 1, True, "BF16"),
    ("rnn", "RNN_TANH", ["<unk>", "q", "r", "s", "t"], 4, 7, 2, False, "F16"),
]
summary = []
for name, kind, units, e, h, layers, tie, dtype in cases:
    model = RNNModel(kind, len(units), e, h, layers, tie).eval()
    with torch.no_grad():
        for p in model.parameters():  # weights as the file stores them, so both sides use the same values
            if dtype != "F32": p.copy_(p.to(torch.float16 if dtype == "F16" else torch.bfloat16).float())
    state = model.state_dict()
    if tie: del state["encoder.weight"]  # stored once: safetensors' save_model keeps decoder.weight
    save(f"{out}/{name}.safetensors", state, dtype)
    with open(f"{out}/{name}.vocab.json", "w", encoding="utf-8") as f: json.dump(units, f, ensure_ascii=False)
    ids = torch.randint(0, len(units), (12,), generator=torch.Generator().manual_seed(7))
    with torch.no_grad(): logits = model(ids.view(-1, 1)).view(len(ids), len(units))
    summary.append({"name": name, "ids": ids.tolist(), "logits": logits.tolist()})
with open(f"{out}/cases.json", "w") as f: json.dump(summary, f)
"""#

    struct Case: Decodable {
        var name: String
        var ids: [Int]
        var logits: [[Double]]
    }

    @Test func importedModelsComputePyTorchsLogits() throws {
        let python = try #require(TorchPython.executable)
        let directory = try SharedCorpora.temporaryDirectory("charrnn-torch-import")
        defer { try? FileManager.default.removeItem(at: directory) }
        let scriptURL = directory.appendingPathComponent("make.py")
        try Data(Self.script.utf8).write(to: scriptURL)
        #expect(try TorchPython.run(python, [scriptURL.path, directory.path]) == 0)
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: directory.appendingPathComponent("cases.json")))
        #expect(cases.map(\.name) == ["lstm", "gru", "rnn"])
        let expected: [String: (CellKind, Int, SafetensorsDType)] = ["lstm": (.lstm, 2, .f32), "gru": (.gru, 1, .bf16), "rnn": (.rnn, 2, .f16)]
        for item in cases {
            let path = directory.appendingPathComponent("\(item.name).safetensors").path
            let file = try SafetensorsFile.read(from: URL(fileURLWithPath: path))
            let units = try StateDictImport.Units.read(from: directory.appendingPathComponent("\(item.name).vocab.json"))
            let checkpoint = try StateDictImport.checkpoint(fromStateDict: file, path: path, units: units,
                                                            tokenizer: TokenizerOptions(unit: .codepoint, normalization: .none))
            let (cell, layers, dtype) = try #require(expected[item.name])
            let config = checkpoint.configuration.model
            #expect(config.cell == cell && config.layers == layers && file.tensors.allSatisfy { $0.dtype == dtype }, "\(item.name)")
            #expect(checkpoint.vocabulary.units.first == "<unk>")
            // PyTorch id i is the unit units[i]; charrnn's id for it comes from the imported vocabulary.
            let v = config.vocabularySize
            let ours = units.units.map { checkpoint.vocabulary.id(of: $0) }
            #expect(Set(ours).count == units.units.count)
            #expect(ours.contains(Vocabulary.unknownID) == units.units.contains("<unk>"))
            #expect(v == units.units.count + (units.units.contains("<unk>") ? 0 : 1))
            let logits = WeightsFixture.logits(checkpoint.model, ids: item.ids.map { ours[$0] })
            #expect(item.logits.count == item.ids.count)
            for (t, row) in item.logits.enumerated() {
                let scale = row.map(abs).max() ?? 1
                for (j, theirs) in row.enumerated() {
                    let mine = Double(logits[t * v + Int(ours[j])])
                    #expect(abs(mine - theirs) <= 1e-5 * scale, "\(item.name) step \(t) unit \(j): \(mine) vs \(theirs)")
                }
                if !units.units.contains("<unk>") { #expect(logits[t * v] == StateDictImport.unknownBias) }
            }
        }
    }
}
