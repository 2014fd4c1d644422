#!/bin/sh
# Reproduces the seeded tables of README.md ("Vanishing gradients, made visible": error bars and the
# BPTT window's effect): builds in release, generates the brackets corpus with distances up to 500
# (1,000,000 units; not shipped) and runs `charrnn experiment vanishing` with 3 seeds: RNN, LSTM and
# GRU at T = 100, then the BPTT sweep at equal characters of training (960,000 characters a run).
# The T = 100 point of the sweep is the first experiment's runs (same options and seeds).
set -eu
cd "$(dirname "$0")/.."
swift build -c release
mkdir -p runs
[ -f runs/brackets-1m.txt ] || .build/release/charrnn corpus synth brackets --size 1000000 --max-distance 500 --seed 11 \
    -o runs/brackets-1m.txt
set -- --corpus runs/brackets-1m.txt --seeds 3 --steps 1200 --bptt 100 --hidden 32 --embed 16 --batch 8 --lr 4e-3 \
    --eval-every 0 --threads 1 "$@"
nice -n 10 .build/release/charrnn experiment vanishing "$@" --out runs/vanishing-seeds --runs rnn,lstm,gru
nice -n 10 .build/release/charrnn experiment vanishing "$@" --out runs/bptt-sweep --bptt-sweep 25,50,200,400 --ngram-order 0
