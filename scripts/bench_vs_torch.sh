#!/usr/bin/env bash
# Side-by-side throughput: PyTorch (../shared/bench/torch_charlstm.py) and `charrnn bench`, run
# back to back for each configuration, with the ratios charrnn / PyTorch.
#
# Usage: scripts/bench_vs_torch.sh [CORPUS] [STEPS]
#   env: CELLS="lstm gru"  HIDDEN="128 256 512 1024"  THREADS=2  REPEAT=1  PYTHON=...
#        PRECISION=f32|bf16 (bf16: PyTorch under --autocast bf16, charrnn with --precision bf16)
# Builds charrnn in release first. The machine is shared: quote ratios, not absolute numbers;
# REPEAT>1 alternates the two REPEAT times and reports the best of each.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-../shared/corpora/tinyshakespeare.txt}
STEPS=${2:-10}
REPEAT=${REPEAT:-1}
PRECISION=${PRECISION:-f32}
TORCH_EXTRA=(); [ "$PRECISION" = bf16 ] && TORCH_EXTRA=(--autocast bf16)
source scripts/bench_common.sh

printf '%-5s %5s | %10s %10s %6s | %10s %10s %6s | %8s %8s %6s | %7s %7s | %6s\n' \
  cell H torch_trn ours_trn ratio torch_eval ours_eval ratio torch_smp ours_smp ratio rss_t rss_o gflops
for cell in $CELLS; do
  for h in $HIDDEN; do
    tt=(); ot=(); te=(); oe=(); ts=(); os=(); tr=0; orss=0; gf=0
    for _ in $(seq "$REPEAT"); do
      t=$("$PYTHON" "$TORCH_BENCH" "$CORPUS" --cell "$cell" --hidden "$h" --layers 2 --embed 64 --batch 50 \
            --seq 50 --steps "$STEPS" --threads "$THREADS" ${TORCH_EXTRA[@]+"${TORCH_EXTRA[@]}"} --json)
      o=$("$BIN" bench --cell "$cell" --hidden "$h" --layers 2 --embed 64 --batch 50 --bptt 50 \
            --steps "$STEPS" --threads "$THREADS" --precision "$PRECISION" --json "$CORPUS")
      tt+=("$(field "$t" train_chars_per_s)"); ot+=("$(field "$o" train_chars_per_s)")
      te+=("$(field "$t" eval_chars_per_s)"); oe+=("$(field "$o" eval_chars_per_s)")
      ts+=("$(field "$t" sample_chars_per_s)"); os+=("$(field "$o" sample_chars_per_s)")
      tr=$(field "$t" peak_rss_mb); orss=$(field "$o" peak_rss_mb); gf=$(field "$o" train_gflops)
    done
    T1=$(best "${tt[@]}"); O1=$(best "${ot[@]}"); T2=$(best "${te[@]}"); O2=$(best "${oe[@]}")
    T3=$(best "${ts[@]}"); O3=$(best "${os[@]}")
    printf '%-5s %5s | %10s %10s %6.2f | %10s %10s %6.2f | %8s %8s %6.2f | %7s %7s | %6s\n' \
      "$cell" "$h" "$T1" "$O1" "$(echo "$O1 / $T1" | bc -l)" "$T2" "$O2" "$(echo "$O2 / $T2" | bc -l)" \
      "$T3" "$O3" "$(echo "$O3 / $T3" | bc -l)" "$tr" "$orss" "$gf"
  done
done
