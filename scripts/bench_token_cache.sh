#!/usr/bin/env bash
# Time to first training step and peak RSS of `charrnn train` on a large corpus, cold and warm token cache.
# Usage: scripts/bench_token_cache.sh CORPUS [UNIT...]   (release build in .build/release; default units: byte grapheme)
# Prints one line per run: unit, cache state, seconds to the "parameters" line (corpus loaded, trainer ready),
# seconds to the first step's line, wall seconds of the process, and Maximum resident set size from /usr/bin/time -v.
set -euo pipefail
corpus=${1:?usage: $0 CORPUS [UNIT...]}; shift
units=("${@:-byte grapheme}"); [ $# -eq 0 ] && units=(byte grapheme)
bin=${CHARRNN:-.build/release/charrnn}
work=$(mktemp -d /tmp/bench-token-cache.XXXXXX)
trap 'rm -rf "$work"' EXIT
run() {  # unit label cache-arg
    local unit=$1 label=$2 cache=$3
    rm -rf "$work/run"
    local t0; t0=$(date +%s.%N)
    /usr/bin/time -v -o "$work/time" "$bin" train "$corpus" --unit "$unit" --token-cache "$cache" --max-steps 1 \
        --hidden 32 --layers 1 --embed 16 --eval-every 0 --checkpoint-every 0 --val-fraction 0.001 --test-fraction 0.001 \
        --out "$work/run" 2>&1 | while IFS= read -r line; do echo "$(date +%s.%N) $line"; done > "$work/log"
    local ready step rss wall
    ready=$(awk -v t0="$t0" '/ parameters /{printf "%.2f", $1 - t0; exit}' "$work/log")
    step=$(awk -v t0="$t0" '/ step 1\/1 /{printf "%.2f", $1 - t0; exit}' "$work/log")
    rss=$(awk -F': ' '/Maximum resident/{printf "%.1f MB", $2 / 1024}' "$work/time")
    wall=$(awk -F': ' '/Elapsed/{print $2}' "$work/time")
    printf '%-9s %-6s ready %6ss  first step %6ss  wall %s  peak RSS %s\n' "$unit" "$label" "$ready" "$step" "$wall" "$rss"
}
for unit in "${units[@]}"; do
    run "$unit" off off
    run "$unit" cold "$work/cache"
    run "$unit" warm "$work/cache"
    rm -rf "$work/cache"
done
