#!/bin/sh
# Reproduces the seeded tables of README.md ("Vanishing gradients, made visible": error bars and the
# BPTT window's effect): builds in release, generates the long brackets corpus (3,000,000 units,
# distances up to 500; not shipped, 3 MB) and runs `charrnn experiment vanishing` twice with 3 seeds:
# the cells at T = 100, and the BPTT sweep at equal characters of training.
# Budget knobs (the README's numbers used the defaults below): STEPS, HIDDEN, SWEEP.
set -eu
cd "$(dirname "$0")/.."
STEPS=${STEPS:-400}
HIDDEN=${HIDDEN:-64}
SWEEP=${SWEEP:-25,100,400}
swift build -c release
mkdir -p runs
[ -f runs/brackets-long.txt ] || .build/release/charrnn corpus synth brackets --size 3000000 --max-distance 500 --seed 11 \
    -o runs/brackets-long.txt
.build/release/charrnn experiment vanishing --corpus runs/brackets-long.txt --out runs/vanishing-seeds \
    --runs rnn,lstm,gru --seeds 3 --steps "$STEPS" --hidden "$HIDDEN" --eval-every 0 "$@"
.build/release/charrnn experiment vanishing --corpus runs/brackets-long.txt --out runs/bptt-sweep \
    --bptt-sweep "$SWEEP" --seeds 3 --steps "$STEPS" --hidden "$HIDDEN" --eval-every 0 "$@"
