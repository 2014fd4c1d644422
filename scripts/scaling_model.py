#!/usr/bin/env python3
"""Predicted data-parallel scaling of charrnn training past this machine.

Reads the measured inputs (scripts/scaling_inputs.sh writes them as JSON):
  - compute: seconds per training step of ONE rank on one thread, for each hidden size and each
    per-rank batch b (streams), from `charrnn bench --threads 1`;
  - links: the all-reduce latency alpha (seconds) and inverse bandwidth beta (seconds per byte) fitted
    from `allreduce_ab` over loopback shared memory, over TCP, and across network namespaces;
  - noise_scale: B_noise in streams from `charrnn gradients --noise-scale` (the critical batch).
and prints, for 2 ... 512 ranks, the predicted step time, the parallel efficiency and the time to a
target loss relative to one rank, with a ring all-reduce of the flat gradient:

    t_allreduce(p) = 2 (p - 1) alpha + 2 (p - 1) / p * bytes * beta
    t_step(p, b)   = t_compute(b) + t_allreduce(p) - hidden
    hidden         = min(overlap * t_allreduce(p), backward share * t_compute(b))
    steps to a loss ~ S_min (1 + B_noise / B)          (McCandlish et al. 2018)

so the time to a loss with p ranks of b streams each is S_min (1 + B_noise / (p b)) t_step(p, b).
Links not measured here (a 10 Gb/s Ethernet, a 100 Gb/s InfiniBand) are typical published figures,
labelled as such; nothing is claimed for them beyond the formula.
"""
import argparse
import json
import math
import sys


def parameter_count(cell, hidden, layers=2, embedding=64, vocabulary=65):
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[cell]
    total = vocabulary * embedding + hidden * vocabulary + vocabulary
    for layer in range(layers):
        inputs = embedding if layer == 0 else hidden
        total += gates * hidden * (inputs + hidden) + 2 * gates * hidden
    return total


def ring_allreduce(p, nbytes, alpha, beta):
    if p == 1:
        return 0.0
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes * beta


def interpolate(table, b):
    """Seconds per step at b streams from the measured points (linear between them, linear beyond)."""
    points = sorted((int(k), v) for k, v in table.items())
    if b <= points[0][0]:
        (b0, t0), (b1, t1) = points[0], points[1]
    elif b >= points[-1][0]:
        (b0, t0), (b1, t1) = points[-2], points[-1]
    else:
        for (b0, t0), (b1, t1) in zip(points, points[1:]):
            if b0 <= b <= b1:
                break
    return t0 + (t1 - t0) * (b - b0) / (b1 - b0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", help="JSON from scripts/scaling_inputs.sh")
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--overlap", type=float, default=None,
                        help="share of the all-reduce hidden behind backward (default: the measured one, else 0)")
    parser.add_argument("--backward-share", type=float, default=0.6,
                        help="share of a step's compute that is backward (the time all-reduce can hide behind)")
    parser.add_argument("--streams-per-rank", type=int, nargs="*", default=[1, 4, 16, 50])
    args = parser.parse_args()
    with open(args.inputs) as f:
        inputs = json.load(f)
    overlap = args.overlap if args.overlap is not None else inputs.get("overlap", 0.0)
    links = dict(inputs["links"])
    links.setdefault("10GbE (typical, not measured)", {"alpha": 25e-6, "beta": 1 / 1.1e9})
    links.setdefault("100Gb InfiniBand (typical, not measured)", {"alpha": 2e-6, "beta": 1 / 11e9})
    noise = inputs.get("noise_scale")
    out = sys.stdout
    for hidden, table in sorted(inputs["compute"].items(), key=lambda kv: int(kv[0])):
        hidden = int(hidden)
        n = parameter_count(args.cell, hidden)
        nbytes = 4 * n
        out.write(f"\n### {args.cell.upper()} 2x{hidden}: {n:,} parameters, {nbytes / 1e6:.1f} MB of gradient per step\n\n")
        out.write(f"Measured one-rank compute (1 thread): "
                  + ", ".join(f"b={b}: {1e3 * t:.1f} ms" for b, t in sorted(((int(k), v) for k, v in table.items()))) + "\n")
        if noise:
            out.write(f"B_noise = {noise:.0f} streams: steps to a loss scale as (1 + {noise:.0f}/B).\n")
        for link, ab in links.items():
            out.write(f"\n**{link}** (alpha {ab['alpha'] * 1e6:.1f} us, {1 / ab['beta'] / 1e9:.2f} GB/s), overlap {overlap:.2f}\n\n")
            out.write("| b per rank | " + " | ".join(f"p={p}" for p in (2, 8, 32, 128, 512)) + " |\n")
            out.write("| --- |" + " --- |" * 5 + "\n")
            for b in args.streams_per_rank:
                t1 = interpolate(table, b)
                cells = []
                for p in (2, 8, 32, 128, 512):
                    ar = ring_allreduce(p, nbytes, ab["alpha"], ab["beta"])
                    hidden_time = min(overlap * ar, args.backward_share * t1)
                    step = t1 + ar - hidden_time
                    efficiency = t1 / step
                    cell = f"{1e3 * step:.0f} ms, eff {efficiency:.2f}"
                    if noise:
                        # Time to a loss relative to ONE rank with the same b.
                        speedup = ((1 + noise / b) * t1) / ((1 + noise / (p * b)) * step)
                        cell += f", {speedup:.1f}x"
                    cells.append(cell)
                out.write(f"| {b} | " + " | ".join(cells) + " |\n")
    if noise:
        out.write(f"\nEach cell: predicted step time, parallel efficiency (compute / step), and speed-up of the time to a "
                  f"target loss against one rank with the same b. Past a global batch p·b of a few times B_noise "
                  f"({noise:.0f} streams) more ranks add little: the step count cannot fall below S_min.\n")


if __name__ == "__main__":
    main()
