#!/usr/bin/env bash
# Measures the inputs of scripts/scaling_model.py on this machine and writes them as JSON (stdout):
#   compute   seconds per training step of one rank on one thread, per hidden size and per-rank batch b
#             (`charrnn bench corpora/tinyshakespeare.txt --threads 1`, 2-layer LSTM, E = 64, T = 50);
#   links     all-reduce alpha (s) and beta (s/byte) from scripts/mpi/allreduce_ab.c on 2 ranks:
#             shared memory, TCP over loopback and, when NETNS=1, TCP across two network namespaces;
#   noise_scale  B_noise (streams) when CHECKPOINT and CORPUS are given (`charrnn gradients --noise-scale`).
# Usage: scripts/scaling_inputs.sh [CHECKPOINT CORPUS] > scaling.json   (HIDDEN="512 1024" STREAMS="1 4 16 50")
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
HIDDEN=${HIDDEN:-"512 1024"}
STREAMS=${STREAMS:-"1 4 16 50"}
BIN=.build/release/charrnn
[ -x "$BIN" ] || swift build -c release >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpicc -O2 -o "$work/allreduce_ab" scripts/mpi/allreduce_ab.c

# alpha: half the time of a 1-float all-reduce on 2 ranks (a ring on 2 ranks sends 2 messages);
# beta: the slope between 16 Ki and 256 Ki floats (the time of 2 (p-1)/p = 1 buffer's bytes).
fit() {
    awk 'NR > 2 { t[$1] = $2 * 1e-6 } END {
        a = t[1] / 2; b = (t[262144] - t[16384]) / ((262144 - 16384) * 4);
        printf "{\"alpha\": %.3e, \"beta\": %.3e}", a, b }' "$1"
}
mpirun -np 2 "$work/allreduce_ab" 262144 30 > "$work/shm.txt"
mpirun -np 2 --mca btl tcp,self "$work/allreduce_ab" 262144 30 > "$work/tcp.txt"
links="\"shared memory, 2 ranks (measured)\": $(fit "$work/shm.txt"), \"TCP loopback, 2 ranks (measured)\": $(fit "$work/tcp.txt")"
if [ "${NETNS:-0}" = 1 ]; then
    scripts/mpi_netns.sh --hosts 2 --exec "$work/allreduce_ab" 262144 30 > "$work/netns.txt"
    links="$links, \"TCP across network namespaces, 2 ranks (measured)\": $(fit "$work/netns.txt")"
fi

compute=""
for h in $HIDDEN; do
    row=""
    for b in $STREAMS; do
        s=$("$BIN" bench corpora/tinyshakespeare.txt --hidden "$h" --batch "$b" --bptt 50 --steps 5 --threads 1 --sample 0 --json |
            python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["batch"] * r["seq"] / r["train_chars_per_s"])')
        row="$row${row:+, }\"$b\": $s"
    done
    compute="$compute${compute:+, }\"$h\": {$row}"
done

noise=null
if [ $# -ge 2 ]; then
    noise=$("$BIN" gradients "$1" --corpus "$2" --noise-scale --batch 32 --noise-group 1 --length 64 --windows 20 --json |
            python3 -c 'import json,sys; r=json.load(sys.stdin); print(r.get("noise_scale_streams") or "null")')
fi
printf '{"links": {%s}, "compute": {%s}, "noise_scale": %s}\n' "$links" "$compute" "$noise"
