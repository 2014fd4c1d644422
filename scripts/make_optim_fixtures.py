#!/usr/bin/env python3
"""Writes the optimizer / clipping / learning-rate-schedule golden fixtures used by
Tests/NeuralNetTests/Optim*.swift, Clip*.swift and Schedule*.swift.

Run with the project's PyTorch environment:
    /root/.cache/charrnn-torch/bin/python scripts/make_optim_fixtures.py

Files (Tests/NeuralNetTests/Fixtures/):
  optim_sgd.json, optim_rmsprop.json, optim_adam.json, optim_adamw.json
      A few named float32 parameter tensors (flattened in registration order, the layout of a Swift
      ParameterSet), a sequence of gradient sets, and per case: the optimizer's hyperparameters, the
      gradient-clipping settings, the learning rate used at each step, and after each step the global
      gradient norm returned by clip_grad_norm_ (before clipping), whether it clipped, and all parameters.
      Gradients are scaled so clip_grad_norm_ fires on some steps and not on others.
  optim_schedules.json
      Learning rates produced by torch.optim.lr_scheduler (StepLR, ExponentialLR, CosineAnnealingLR,
      LinearLR warmup, ChainedScheduler of warmup and a main schedule, ReduceLROnPlateau fed a fixed
      validation-loss history), one value per scheduler clock tick.

All values are float32 written as exact decimal doubles (Python floats), so Swift reads them back bit
for bit. torch runs the single-tensor (foreach=False) optimizer code paths, the CPU default.
"""
import json
import math
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "NeuralNetTests", "Fixtures")

NAMES = ["layer.weight", "layer.bias", "decoder.weight"]
SHAPES = [[3, 4], [4], [2, 3]]
STEPS = 5
# Per-step gradient scale: steps 1 and 3 have large gradients so a max_norm of 2 clips them.
GRAD_SCALES = [0.3, 2.5, 0.2, 4.0, 0.5]
# Learning-rate multipliers per step (the optimizer must use the lr it is given at each step).
LR_FACTORS = [1.0, 1.0, 0.5, 0.5, 0.25]


def flat(tensors):
    return [float(x) for t in tensors for x in t.detach().reshape(-1).tolist()]


def make_params_and_grads():
    g = torch.Generator().manual_seed(1234)
    params = [torch.randn(*s, generator=g, dtype=torch.float32) for s in SHAPES]
    grads = []
    for k in range(STEPS):
        grads.append([torch.randn(*s, generator=g, dtype=torch.float32) * GRAD_SCALES[k] for s in SHAPES])
    # Make a few gradient entries large so clip-by-value has something to clamp.
    grads[1][0][0, 0] = 3.0
    grads[3][2][1, 2] = -5.0
    return params, grads


def run_case(kind, hyper, base_lr, max_norm=None, clip_value=None):
    params0, grads = make_params_and_grads()
    params = [p.clone().requires_grad_(True) for p in params0]
    if kind == "sgd":
        opt = torch.optim.SGD(params, lr=base_lr, foreach=False, **hyper)
    elif kind == "rmsprop":
        opt = torch.optim.RMSprop(params, lr=base_lr, foreach=False, **hyper)
    elif kind == "adam":
        opt = torch.optim.Adam(params, lr=base_lr, foreach=False, **hyper)
    elif kind == "adamw":
        opt = torch.optim.AdamW(params, lr=base_lr, foreach=False, **hyper)
    else:
        raise ValueError(kind)
    steps = []
    for k in range(STEPS):
        lr = base_lr * LR_FACTORS[k]
        for group in opt.param_groups:
            group["lr"] = lr
        for p, gr in zip(params, grads[k]):
            p.grad = gr.clone()
        raw_norm = float(torch.linalg.vector_norm(torch.cat([p.grad.reshape(-1) for p in params]).double()))
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_(params, clip_value)
        norm = None
        clipped = False
        if max_norm is not None:
            total = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
            norm = total
            clipped = max_norm / (total + 1e-6) < 1.0
        opt.step()
        steps.append({
            "lr": lr,
            "raw_grad_norm": raw_norm,
            "clip_norm": norm,
            "clipped": clipped,
            "params": flat(params),
        })
    return {
        "optimizer": kind,
        "hyper": hyper,
        "max_norm": max_norm,
        "clip_value": clip_value,
        "steps": steps,
    }


def header():
    params, grads = make_params_and_grads()
    return {
        "names": NAMES,
        "shapes": SHAPES,
        "initial": flat(params),
        "grads": [flat(gs) for gs in grads],
    }


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(path))


def optimizer_fixtures():
    cases = {
        "optim_sgd.json": [
            ("plain", run_case("sgd", {}, 0.1)),
            ("momentum", run_case("sgd", {"momentum": 0.9}, 0.1, max_norm=2.0)),
            ("nesterov_wd", run_case("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, 0.05,
                                     max_norm=2.0)),
            ("dampening", run_case("sgd", {"momentum": 0.8, "dampening": 0.3}, 0.1)),
            ("clip_value", run_case("sgd", {}, 0.1, clip_value=1.0)),
            ("clip_value_then_norm", run_case("sgd", {"momentum": 0.5}, 0.1, max_norm=1.5, clip_value=1.0)),
        ],
        "optim_rmsprop.json": [
            ("charrnn", run_case("rmsprop", {"alpha": 0.95, "eps": 1e-8}, 2e-3, max_norm=2.0)),
            ("momentum_wd", run_case("rmsprop", {"alpha": 0.9, "eps": 1e-6, "momentum": 0.9,
                                                 "weight_decay": 0.01}, 1e-2)),
            ("centered", run_case("rmsprop", {"alpha": 0.99, "eps": 1e-8, "centered": True, "momentum": 0.5},
                                  1e-2, max_norm=2.0)),
        ],
        "optim_adam.json": [
            ("default", run_case("adam", {}, 1e-3)),
            ("clipped", run_case("adam", {"betas": (0.9, 0.99), "eps": 1e-8}, 2e-3, max_norm=2.0)),
            ("l2", run_case("adam", {"betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1}, 1e-2, max_norm=2.0)),
        ],
        "optim_adamw.json": [
            ("default", run_case("adamw", {}, 1e-3)),
            ("clipped_wd", run_case("adamw", {"betas": (0.9, 0.98), "eps": 1e-8, "weight_decay": 0.1}, 5e-3,
                                    max_norm=2.0)),
        ],
    }
    for filename, named in cases.items():
        obj = header()
        obj["cases"] = []
        for name, case in named:
            case["name"] = name
            case["hyper"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in case["hyper"].items()}
            obj["cases"].append(case)
        write(filename, obj)


def lrs_of(make_schedulers, ticks, base_lr=0.1, metrics=None):
    """Learning rate in effect before each of `ticks` scheduler steps (index t = after t steps)."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_schedulers(opt)
    out = []
    for t in range(ticks):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if metrics is not None:
            sched.step(metrics[t])
        else:
            sched.step()
    out.append(opt.param_groups[0]["lr"])
    return out


def schedule_fixtures():
    L = torch.optim.lr_scheduler
    base = 0.1
    cases = []
    cases.append({"name": "step", "spec": "step:3:0.5", "clock": "epoch", "base_lr": base,
                  "lrs": lrs_of(lambda o: L.StepLR(o, step_size=3, gamma=0.5), 12, base)})
    cases.append({"name": "exp", "spec": "exp:0.9", "clock": "epoch", "base_lr": base,
                  "lrs": lrs_of(lambda o: L.ExponentialLR(o, gamma=0.9), 12, base)})
    cases.append({"name": "cosine", "spec": "cosine:0.001", "clock": "step", "base_lr": base, "total_steps": 20,
                  "lrs": lrs_of(lambda o: L.CosineAnnealingLR(o, T_max=20, eta_min=0.001), 20, base)})
    cases.append({"name": "cosine_zero", "spec": "cosine:0", "clock": "step", "base_lr": base, "total_steps": 7,
                  "lrs": lrs_of(lambda o: L.CosineAnnealingLR(o, T_max=7, eta_min=0.0), 7, base)})
    n = 5
    cases.append({"name": "warmup", "spec": "constant", "warmup": n, "clock": "step", "base_lr": base,
                  "lrs": lrs_of(lambda o: L.LinearLR(o, start_factor=1 / (n + 1), end_factor=1.0, total_iters=n),
                                10, base)})
    cases.append({"name": "warmup_cosine", "spec": "cosine:0", "warmup": 4, "clock": "step", "base_lr": base,
                  "total_steps": 16,
                  "lrs": lrs_of(lambda o: L.ChainedScheduler([
                      L.LinearLR(o, start_factor=1 / 5, end_factor=1.0, total_iters=4),
                      L.CosineAnnealingLR(o, T_max=16, eta_min=0.0)]), 16, base)})
    losses = [5.0, 4.0, 3.9996, 3.9999, 4.1, 4.0, 3.5, 3.6, 3.7, 3.8, 3.9, 3.95, 3.96, 3.97, 3.98, 3.99,
              2.0, 2.1, 2.2, 2.3, 2.4, 2.5]
    cases.append({"name": "plateau", "spec": "plateau:0.5:2", "clock": "validation", "base_lr": base,
                  "losses": losses,
                  "lrs": lrs_of(lambda o: L.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=2), len(losses),
                                base, metrics=losses)})
    cases.append({"name": "plateau_cooldown_min", "spec": "plateau:0.3:1:2:0.002", "clock": "validation",
                  "base_lr": base, "losses": losses,
                  "lrs": lrs_of(lambda o: L.ReduceLROnPlateau(o, mode="min", factor=0.3, patience=1, cooldown=2,
                                                              min_lr=0.002), len(losses), base, metrics=losses)})
    write("optim_schedules.json", {"cases": cases})


if __name__ == "__main__":
    torch.set_num_threads(1)
    optimizer_fixtures()
    schedule_fixtures()
