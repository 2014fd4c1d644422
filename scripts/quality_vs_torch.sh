#!/usr/bin/env bash
# Quality at equal wall time: `charrnn train` and ../shared/bench/torch_time_to_quality.py, one after
# the other, each for MINUTES on tinyshakespeare (code points, first 90 % train / next 5 % validation),
# then both validation curves side by side.
#
# Usage: scripts/quality_vs_torch.sh [MINUTES] [OUT] [-- extra charrnn train options]
#   env: PYTHON=...  SKIP_TORCH=1 (only charrnn; reuses OUT/torch.jsonl if present)
#        TORCH_ARGS="--autocast bf16" (extra options of the PyTorch script; with `-- --precision bf16`
#        for charrnn this compares the two mixed precisions)
# Defaults match the reference script: 2×512 LSTM, E=64, dropout 0.25 (not on the embedding),
# B=50, T=100, Adam 2e-3, clip-norm 5, evaluation every 200 steps, PyTorch's module initialization.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-20}
OUT=${2:-runs/quality}
shift $(( $# >= 2 ? 2 : $# )) || true
[ "${1:-}" = "--" ] && shift
PYTHON=${PYTHON:-/root/.cache/charrnn-torch/bin/python}
CORPUS=${CORPUS:-../shared/corpora/tinyshakespeare.txt}
swift build -c release >/dev/null
mkdir -p "$OUT"
rm -rf "$OUT/charrnn"
.build/release/charrnn train "$CORPUS" --unit codepoint --hidden 512 --layers 2 --embed 64 --dropout 0.25 \
  --batch 50 --bptt 100 --optimizer adam --lr 2e-3 --clip-norm 5 --val-fraction 0.05 --test-fraction 0.05 \
  --eval-every 200 --time-limit "${MINUTES}m" --out "$OUT/charrnn" "$@" > "$OUT/charrnn.log" 2>&1
if [ -z "${SKIP_TORCH:-}" ]; then
  # shellcheck disable=SC2086 # TORCH_ARGS is a list of options
  "$PYTHON" ../shared/bench/torch_time_to_quality.py "$CORPUS" --minutes "$MINUTES" ${TORCH_ARGS:-} > "$OUT/torch.jsonl"
fi
"$PYTHON" - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
ours = [json.loads(l) for l in open(f"{out}/charrnn/metrics.jsonl") if '"eval"' in l]
try:
    torch = [json.loads(l) for l in open(f"{out}/torch.jsonl")]
except FileNotFoundError:
    torch = []
print("charrnn: step  minutes  val nats")
for e in ours: print(f"  {e['step']:5d}  {e['time'] / 60:6.2f}  {e['loss']:.4f}")
if ours: print(f"  best {min(e['loss'] for e in ours):.4f}")
print("torch:   step  minutes  val nats")
for e in torch:
    if "step" in e: print(f"  {e['step']:5d}  {e['minutes']:6.2f}  {e['val']:.4f}")
    else: print(f"  final step {e['final_step']}, {e['minutes']} min, val {e['val']}, best {e['best_val']}")
PY
