#!/usr/bin/env python3
"""Writes the small seed corpora in Fuzz/corpus/<target>/ (run from anywhere; overwrites seeds).

Each seed is a valid or nearly valid input, so the fuzzers start past the first checks.
The checkpoint seeds describe a tiny run: LSTM, 1 layer, hidden 8, embedding 4, 5 units, batch 2.
"""
import gzip, io, json, os, struct, zipfile, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, bytes)."""
    header, offset, body = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        body += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + body


def member(name, method):
    """A zip member header with a fixed date, so the seeds are the same on every run."""
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = method
    return info


def floats(n, start=0.0):
    return struct.pack("<%df" % n, *[start + 0.25 * k for k in range(n)])


# Safetensors
put("FuzzSafetensors", "f32-two", safetensors([("a", "F32", [2, 2], floats(4)), ("b", "F32", [3], floats(3))],
                                              {"format": "pt"}))
put("FuzzSafetensors", "mixed-dtypes", safetensors([("h", "F16", [2], b"\x00\x3c\x00\xc0"), ("i", "I64", [1], b"\x07" + b"\0" * 7),
                                                    ("u", "U8", [3], b"abc"), ("z", "BF16", [0], b""), ("d", "F64", [1], struct.pack("<d", 1.5))]))
put("FuzzSafetensors", "empty-header", struct.pack("<Q", 2) + b"{}")

# config.json and vocab.json of the tiny run
tokenizer = {"case_fold": False, "normalization": "nfc", "unit": "grapheme"}
optimizer = {"alpha": 0.99, "beta1": 0.9, "beta2": 0.999, "centered": False, "dampening": 0, "eps": 1e-08,
             "kind": "adam", "learningRate": 0.002, "momentum": 0, "nesterov": False, "weightDecay": 0}
schedule = {"schedule": {"constant": {}}, "warmupSteps": 0}
config = {
    "corpus": {"fingerprint": "21b98f93b2796067", "paths": ["corpus.txt"], "testUnits": 30, "trainUnits": 100,
               "units": 145, "validationUnits": 15},
    "format_version": 1, "icu_version": "72.1",
    "model": {"cell": "lstm", "dropout": 0, "embeddingDropout": 0, "embeddingSize": 4, "hiddenSize": 8,
              "initialization": {"embeddingInitRange": 0.1, "encoderDecoder": "torch", "orthogonalRecurrent": False},
              "layers": 1, "skip": "none", "vocabularySize": 5},
    "tokenizer": tokenizer,
    "training": {"batchSize": 2, "bptt": 10, "checkpointEvery": 200, "clipping": {"maxNorm": 5}, "evalEvery": 200,
                 "logEvery": 1, "maxSteps": 3, "minCount": 1, "optimizer": optimizer, "schedule": schedule,
                 "seed": 1, "testFraction": 0.2, "threads": 2, "validationBatchSize": 10, "validationFraction": 0.1},
}
put("FuzzRunConfiguration", "tiny-lstm.json", json.dumps(config, indent=1, sort_keys=True))
gru = json.loads(json.dumps(config))
gru["model"].update(cell="gru", layers=2, skip="dense", dropout=0.25)
gru["training"]["schedule"] = {"schedule": {"cosine": {"minimum": 0.0001}}, "warmupSteps": 10}
gru["training"]["clipping"] = {"value": 1}
gru["initializedFrom"] = "runs/base/best"
put("FuzzRunConfiguration", "gru-cosine.json", json.dumps(gru, sort_keys=True))

vocab = {"format": "charrnn-vocabulary", "tokenizer": tokenizer, "units": ["<unk>", " ", "a", "é", "👍🏽"],
         "unknown": "<unk>", "version": 1}
put("FuzzVocabulary", "five-units.json", json.dumps(vocab, indent=1, ensure_ascii=False))
words = dict(vocab, tokenizer={"case_fold": True, "normalization": "nfkc", "unit": "codepoint"}, units=["<unk>", "\n", "\u0001x"])
put("FuzzVocabulary", "codepoint.json", json.dumps(words))
byte_units = dict(vocab, tokenizer={"case_fold": False, "normalization": "none", "unit": "byte"}, units=["<unk>", "\u0000", "\u00ff", "A"])
put("FuzzVocabulary", "byte.json", json.dumps(byte_units))

# trainer-state.json + NUL + trainer-state.safetensors (Adam: 2 buffers of the model's 669 parameters... kept
# short here: the loader checks names, dtypes and the carried state's shape, not buffer lengths)
state = {"best_validation_loss": 2.92, "clipped_steps": 0, "dropout_rng": [1, 2, 3, 4], "elapsed": 0.5,
         "last_validation_loss": "nan",
         "optimizer": {"bufferNames": ["exp_avg", "exp_avg_sq"], "clipping": {"maxNorm": 5}, "config": optimizer,
                       "parameterCount": 4, "skippedSteps": 0, "stepCount": 3, "version": 1},
         "position": {"epoch": 0, "window": 3},
         "scheduler": {"baseLearningRate": 0.002, "config": schedule,
                       "plateau": {"badValidations": 0, "cooldownCounter": 0, "learningRate": 0.002, "reductions": 0},
                       "totalSteps": 3},
         "skipped_steps": 0, "step": 3, "stalledValidations": 1}
tensors = safetensors([("optimizer.exp_avg", "F32", [4], floats(4)), ("optimizer.exp_avg_sq", "F32", [4], floats(4)),
                       ("state.h_l0", "F32", [2, 8], floats(16)), ("state.c_l0", "F32", [2, 8], floats(16))],
                      {"format": "charrnn-trainer-state", "format_version": "1"})
put("FuzzTrainerState", "adam-lstm", json.dumps(state, sort_keys=True).encode() + b"\0" + tensors)

# Corpus reader: first byte = options (bit 0 replaceInvalid, bits 1-7 chunk size - 1)
text = "Hello, world.\nGrüße — ☃ 👍🏽\r\nline three\n".encode()
put("FuzzCorpusReader", "utf8-strict", bytes([6 << 1]) + text)
put("FuzzCorpusReader", "invalid-replacing", bytes([(3 << 1) | 1]) + b"ab\xc3(\xe2\x82x\xf0\x9f\x98\xed\xa0\x80z\xf4\x90" + text[:10] + b"\xe2\x82")
put("FuzzCorpusReader", "gzip-two-members", bytes([127 << 1]) + gzip.compress(text, mtime=0) + gzip.compress(b"second member\n", mtime=0))
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr(member("a.txt", zipfile.ZIP_STORED), "stored text\n")
    z.writestr(member("dir/b.txt", zipfile.ZIP_DEFLATED), text * 3)
put("FuzzCorpusReader", "zip-text", bytes([31 << 1]) + buf.getvalue())

# Zip archives
put("FuzzZipArchive", "stored-deflated.zip", buf.getvalue())
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr(member("dir/", zipfile.ZIP_STORED), b"")
    z.writestr(member("empty.txt", zipfile.ZIP_DEFLATED), b"")
    z.writestr(member("big.txt", zipfile.ZIP_DEFLATED), b"x" * 5000)
put("FuzzZipArchive", "dir-empty-big.zip", buf.getvalue())
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    with z.open(member("zip64.txt", zipfile.ZIP_STORED), "w", force_zip64=True) as f:
        f.write(b"zip64 member\n")
put("FuzzZipArchive", "zip64.zip", buf.getvalue())

# UTF-8
put("FuzzUTF8Validation", "mixed", text + b"\xc0\xaf\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80\xf0\x9f\x98")
put("FuzzUTF8Validation", "ascii", b"plain ASCII text, long enough for the eight-byte fast path\n")

# --lr-schedule: first byte = warmup + 16
for name, warmup, spec in [("constant", 0, "constant"), ("step", 5, "step:2:0.5"), ("exp", 0, "exp:0.95"),
                           ("cosine", 100, "cosine:1e-5"), ("plateau", 0, "plateau:0.5:3:1:1e-6"),
                           ("plateau-short", 16, "PLATEAU:0.1:0"),
                           ("duration-minutes", 0, "20m"), ("duration-hours", 0, "1.5h"), ("cadence-steps", 0, "200")]:
    put("FuzzLRSchedule", name, bytes([warmup + 16]) + spec.encode())
