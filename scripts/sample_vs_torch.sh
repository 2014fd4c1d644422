#!/usr/bin/env bash
# Side-by-side sampling throughput (one stream, one character at a time): PyTorch's loop in
# ../shared/bench/torch_charlstm.py against `charrnn bench` with f32 and with f16 weights, run back
# to back for each configuration, with the ratios charrnn / PyTorch.
#
# Usage: scripts/sample_vs_torch.sh [CORPUS] [CHARS]
#   env: CELLS="lstm gru"  HIDDEN="128 256 512 1024"  THREADS=2  REPEAT=3  PYTHON=...
# Builds charrnn in release first. REPEAT alternates the three REPEAT times and reports the best of
# each (the machine is shared: quote ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-../shared/corpora/tinyshakespeare.txt}
CHARS=${2:-2000}
REPEAT=${REPEAT:-3}
source scripts/bench_common.sh
ours() {
  "$BIN" bench --cell "$1" --hidden "$2" --layers 2 --embed 64 --batch 50 --bptt 50 --steps 1 \
    --sample "$CHARS" --sample-weights "$3" --threads "$THREADS" --json "$CORPUS"
}

printf '%-5s %5s | %9s | %9s %6s | %9s %6s\n' cell H torch ours_f32 ratio ours_f16 ratio
for cell in $CELLS; do
  for h in $HIDDEN; do
    ts=(); o32=(); o16=()
    for _ in $(seq "$REPEAT"); do
      t=$("$PYTHON" "$TORCH_BENCH" "$CORPUS" --cell "$cell" --hidden "$h" --layers 2 --embed 64 --batch 50 \
            --seq 50 --steps 1 --sample "$CHARS" --threads "$THREADS" --json)
      ts+=("$(field "$t" sample_chars_per_s)")
      o32+=("$(field "$(ours "$cell" "$h" f32)" sample_chars_per_s)")
      o16+=("$(field "$(ours "$cell" "$h" f16)" sample_chars_per_s)")
    done
    T=$(best "${ts[@]}"); A=$(best "${o32[@]}"); B=$(best "${o16[@]}")
    printf '%-5s %5s | %9s | %9s %6.1f | %9s %6.1f\n' "$cell" "$h" "$T" "$A" "$(echo "$A / $T" | bc -l)" \
      "$B" "$(echo "$B / $T" | bc -l)"
  done
done
