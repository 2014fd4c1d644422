#!/usr/bin/env bash
# Side-by-side sampling throughput (one stream, one character at a time): PyTorch's loop in
# ../shared/bench/torch_charlstm.py against `charrnn bench` with each weight format of $WEIGHTS, run
# back to back for each configuration, with the ratios charrnn / PyTorch.
#
# Usage: scripts/sample_vs_torch.sh [CORPUS] [CHARS]
#   env: CELLS="lstm gru"  HIDDEN="128 256 512 1024"  THREADS=2  REPEAT=3  WEIGHTS="f32 f16 int8"  PYTHON=...
# Builds charrnn in release first. REPEAT alternates the three REPEAT times and reports the best of
# each (the machine is shared: quote ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-../shared/corpora/tinyshakespeare.txt}
CHARS=${2:-2000}
REPEAT=${REPEAT:-3}
WEIGHTS=${WEIGHTS:-"f32 f16 int8"}
source scripts/bench_common.sh
ours() {
  "$BIN" bench --cell "$1" --hidden "$2" --layers 2 --embed 64 --batch 50 --bptt 50 --steps 1 \
    --sample "$CHARS" --sample-weights "$3" --threads "$THREADS" --json "$CORPUS"
}

# One column pair (chars/s, ratio to PyTorch) per weight format in $WEIGHTS.
printf '%-5s %5s | %9s' cell H torch
for w in $WEIGHTS; do printf ' | %9s %6s' "ours_$w" ratio; done
printf '\n'
for cell in $CELLS; do
  for h in $HIDDEN; do
    ts=()
    declare -A ours_runs=()
    for _ in $(seq "$REPEAT"); do
      t=$("$PYTHON" "$TORCH_BENCH" "$CORPUS" --cell "$cell" --hidden "$h" --layers 2 --embed 64 --batch 50 \
            --seq 50 --steps 1 --sample "$CHARS" --threads "$THREADS" --json)
      ts+=("$(field "$t" sample_chars_per_s)")
      for w in $WEIGHTS; do
        ours_runs[$w]+=" $(field "$(ours "$cell" "$h" "$w")" sample_chars_per_s)"
      done
    done
    T=$(best "${ts[@]}")
    printf '%-5s %5s | %9s' "$cell" "$h" "$T"
    for w in $WEIGHTS; do
      # shellcheck disable=SC2086
      O=$(best ${ours_runs[$w]})
      printf ' | %9s %6.1f' "$O" "$(echo "$O / $T" | bc -l)"
    done
    printf '\n'
    unset ours_runs
  done
done
