"""Claim (a): an RNN, ``h_t = f(W x_t + U h_{t-1} + b)``, keeps long-range dependencies in sequences.

What is measured, in two parts.

1. The ``adding`` problem at T in ``lengths`` steps, for an Elman network (tanh, alpha = 1, g = ``g``), an LSTM
   and a GRU (Keras' initialisation), all with ``n_rec`` units under one budget: at most ``steps`` steps of Adam
   (lr, batch size and gradient clipping in the config), validation MSE on ``val_trials`` held-out trials every
   ``eval_every`` steps, stopping once it is below ``goal_mse``. Reported: the first step below the goal, the best
   validation MSE, the test MSE on fresh trials, and the baseline of always answering 1. For this task's variant
   (two values U(0, 1) summed; :class:`neurosim.tasks.memory.Adding`) that baseline is the variance of the sum,
   2 / 12 = 1/6; the experiment measures it on the test trials too.
   A network that keeps only one of the two values (say the recent one) and guesses the other's mean 1/2 has
   MSE Var(U) = 1/12: a best MSE near 0.083 means half the task is remembered.
2. ``delayed_recall`` (dt = ``recall_dt``, the task's default 0.01 s, so the delays are 25 to 200 steps): each cell is trained once for ``recall_steps`` steps on delays drawn
   uniformly from the range of ``delays``, then tested at each fixed delay: R^2 of the recalled value. The
   trained Elman network is also run on the Brian2 rate substrate and, converted by
   :func:`neurosim.to_spiking` (lam = ``lam`` Hz), on the LIF spiking substrate: the brain's side of the claim.
   The delay at which R^2 (mean over seeds) falls below 0.5 is interpolated linearly between the tested delays.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import tasks
from ..ann import forward
from . import _nets
from .base import Check, Experiment, register, verdict_from

SOURCE = "issue 15 goal"
SOURCE_CONTROL = "issue 15 goal (the control); Hochreiter & Schmidhuber 1997, Experiment 4"
SOURCE_LONG = "issue 15 goal; Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015 (Elman fails at T >= 100)"

CONFIG = {
    "seeds": 3, "n_rec": 64, "cells": ["rnn", "lstm", "gru"], "g": 1.0,
    "dt": 0.01, "lengths": [20, 50, 100, 200],
    "steps": 3000, "lr": 1e-3, "batch_size": 32, "clip": 1.0, "val_trials": 256, "eval_every": 100,
    "goal_mse": 0.01, "test_trials": 512,
    "recall_dt": 0.01, "delays": [0.25, 0.5, 1.0, 1.5, 2.0], "recall_steps": 2000, "recall_test_trials": 256,
    "substrates": ["rate", "spiking"], "substrate_trials": 32, "lam": 40.0, "device": "runtime",
    "target": "cython",
}
QUICK = {"seeds": 2, "n_rec": 32, "lengths": [10, 20], "steps": 100, "val_trials": 64, "eval_every": 50,
         "test_trials": 64, "recall_dt": 0.05, "delays": [0.25, 0.5], "recall_steps": 100, "recall_test_trials": 32,
         "substrate_trials": 4}

# goals (issue 15)
CONTROL_T, LONG_T = 20, 100
ELMAN_LONG_MIN = 0.12  # at T = 100 the Elman network's best validation MSE stays above
LSTM_LONG_SEEDS = 2  # of 3: the LSTM reaches the goal at T = 100 on at least this many seeds
DELAY_RATIO_MAX = 0.5  # Elman's R^2 = 0.5 delay at most half of the LSTM's
R2_LEVEL = 0.5
BASELINE_MSE = 1.0 / 6.0  # always answering 1: Var(U1 + U2) = 2 / 12
ONE_VALUE_MSE = 1.0 / 12.0  # knowing one of the two values exactly and guessing the other's mean: Var(U) = 1 / 12


def _adding_rows(config: dict, seed: int) -> list[dict]:
    rows = []
    for T in config["lengths"]:
        task = tasks.make("adding", duration=T * config["dt"], dt=config["dt"])
        test = task.sample(config["test_trials"], rng=2_000_000 + seed)
        baseline = tasks.regression_metrics(np.ones_like(test.targets), test)["mse"]
        for cell in config["cells"]:
            net = _nets.build(cell, task.n_in, config["n_rec"], task.n_out, dt=config["dt"], seed=seed,
                              g=config["g"])
            net, rec = _nets.train_until(net, task, config, seed, metric="mse", goal=config["goal_mse"])
            rows.append({"part": "adding", "cell": cell, "network": _nets.LABELS[cell], "T": T,
                         "steps_run": rec["steps"], "steps_to_goal": rec["steps_to_goal"],
                         "best_val_mse": float(np.min(rec["val"])), "final_val_mse": rec["val"][-1],
                         "test_mse": task.score(forward(net, test.inputs)[1], test)["mse"],
                         "baseline_mse": baseline, "val_step": rec["val_step"], "val_mse": rec["val"],
                         "stopped": rec["stopped"]})
    return rows


def _recall_rows(config: dict, seed: int) -> list[dict]:
    from ..simulate import simulate
    from ..spiking import to_spiking

    dt, delays = config["recall_dt"], config["delays"]
    train_task = tasks.make("delayed_recall", dt=dt, delay=(min(delays), max(delays)))
    budget = {**config, "steps": config["recall_steps"]}
    rows = []
    for cell in config["cells"]:
        net = _nets.build(cell, train_task.n_in, config["n_rec"], train_task.n_out, dt=dt, seed=seed, g=config["g"])
        net, rec = _nets.train_until(net, train_task, budget, seed, metric="mse")
        spiking, notes = None, []
        if cell == "rnn" and "spiking" in config["substrates"]:
            with warnings.catch_warnings(record=True) as caught:  # a conversion warning is a result: kept
                warnings.simplefilter("always")
                spiking = to_spiking(net, lam=config["lam"])
            notes = [str(w.message) for w in caught]
        for d in delays:
            task = tasks.make("delayed_recall", dt=dt, delay=d)
            test = task.sample(config["recall_test_trials"], rng=3_000_000 + seed)
            base = {"part": "recall", "cell": cell, "network": _nets.LABELS[cell], "delay": d}
            rows.append({**base, "substrate": "ann", **task.score(forward(net, test.inputs)[1], test),
                         "train_steps": rec["steps"], "final_val_mse": rec["val"][-1]})
            if cell != "rnn":
                continue
            few = test[:config["substrate_trials"]]  # Brian2 runs are slow: fewer trials, the ANN's R^2 beside
            y_ann = forward(net, few.inputs)[1]
            same = {"r2_ann_same_trials": task.score(y_ann, few)["r2"]}
            options = dict(device=config["device"], target=config["target"], rng=seed)
            if "rate" in config["substrates"]:
                res = simulate(net, few, "rate", **options)
                rows.append({**base, "substrate": "rate", **task.score(res.outputs, few), **same,
                             "max_dev_from_ann": float(np.max(np.abs(res.outputs - y_ann)))})
            if spiking is not None:
                res = simulate(spiking, few, "spiking", **options)
                rows.append({**base, "substrate": "spiking", **task.score(res.outputs, few), **same,
                             "mean_rate_hz": float(np.mean(res.extras["firing_rates"])), "lam": config["lam"],
                             "max_dev_from_ann": float(np.max(np.abs(res.outputs - y_ann))),
                             "conversion_warnings": notes})
    return rows


def run(config: dict, seed: int) -> list[dict]:
    unknown = sorted(set(config["cells"]) - set(_nets.CELLS))
    if unknown:
        raise ValueError(f"long_range_memory cells: unknown {unknown}; known: {list(_nets.CELLS)}")
    return _adding_rows(config, seed) + _recall_rows(config, seed)


def _crossing(delays, r2) -> float:
    """The delay at which R^2 first falls below R2_LEVEL, linear between tested delays; inf if it never does."""
    for i, v in enumerate(r2):
        if v < R2_LEVEL:
            if i == 0:
                return float(delays[0])
            d0, d1, v0 = delays[i - 1], delays[i], r2[i - 1]
            return float(d0 + (d1 - d0) * (v0 - R2_LEVEL) / (v0 - v))
    return float("inf")


def crossings(rows: list[dict], config: dict) -> dict:
    """{(cell, substrate): delay where the mean R^2 over seeds falls below 0.5}."""
    out = {}
    recall = [r for r in rows if r["part"] == "recall"]
    for key in dict.fromkeys((r["cell"], r["substrate"]) for r in recall):
        r2 = [np.mean([r["r2"] for r in recall if (r["cell"], r["substrate"]) == key and r["delay"] == d])
              for d in config["delays"]]
        out[key] = _crossing(config["delays"], r2)
    return out


def check(rows: list[dict], config: dict):
    adding = [r for r in rows if r["part"] == "adding"]
    sel = lambda cell, T: [r for r in adding if r["cell"] == cell and r["T"] == T]  # noqa: E731
    goal, budget = config["goal_mse"], config["steps"]
    reached = lambda rs: sum(np.isfinite(r["steps_to_goal"]) for r in rs)  # noqa: E731
    checks = []
    for cell in ("rnn", "lstm"):
        rs = sel(cell, CONTROL_T)
        n = reached(rs)
        checks.append(Check(f"T = {CONTROL_T}: {_nets.LABELS[cell]} seeds reaching MSE < {goal:g} within {budget} "
                            "steps, fraction", n / len(rs) if rs else float("nan"), "= 1 (every seed)",
                            bool(rs) and n == len(rs), SOURCE_CONTROL))
    rs = sel("lstm", LONG_T)
    n_lstm = reached(rs)
    checks.append(Check(f"T = {LONG_T}: LSTM seeds reaching MSE < {goal:g} within {budget} steps", float(n_lstm),
                        f">= {LSTM_LONG_SEEDS} of {len(rs)}", bool(rs) and n_lstm >= LSTM_LONG_SEEDS, SOURCE))
    rs = sel("rnn", LONG_T)
    elman_best = min((r["best_val_mse"] for r in rs), default=float("nan"))
    checks.append(Check(f"T = {LONG_T}: Elman best validation MSE (lowest over seeds and training)", elman_best,
                        f"> {ELMAN_LONG_MIN:g}", bool(rs) and elman_best > ELMAN_LONG_MIN, SOURCE_LONG))
    cross = crossings(rows, config)
    e, l_ = cross.get(("rnn", "ann"), float("nan")), cross.get(("lstm", "ann"), float("nan"))
    l_known = min(l_, max(config["delays"]))  # an LSTM that never falls below 0.5 is credited the longest delay
    ratio = e / l_known if np.isfinite(e) else float("nan")
    checks.append(Check("delay where recall R^2 < 0.5: Elman / LSTM", ratio, f"<= {DELAY_RATIO_MAX:g}",
                        bool(np.isfinite(ratio)) and ratio <= DELAY_RATIO_MAX, SOURCE))
    table = []
    for T in config["lengths"]:
        table.append(f"T = {T}: " + ", ".join(
            f"{_nets.LABELS[c]} {np.mean([r['best_val_mse'] for r in sel(c, T)]):.3g} "
            f"({reached(sel(c, T))}/{len(sel(c, T))} < {goal:g})" for c in config["cells"] if sel(c, T)))
    baseline = np.mean([r["baseline_mse"] for r in adding]) if adding else float("nan")
    fmt = lambda d: "never in the tested range" if not np.isfinite(d) else f"{d:.2f} s"  # noqa: E731
    summary = (f"Adding, best validation MSE (mean over {len({r['seed'] for r in rows})} seeds; seeds reaching "
               f"{goal:g} within {budget} steps): " + "; ".join(table) + f". The baseline of always answering 1 is "
               f"MSE {baseline:.4f} on the test trials (1/6 = {BASELINE_MSE:.4f} for this variant); keeping only one "
               f"of the two values gives 1/12 = {ONE_VALUE_MSE:.4f}. Delayed recall (dt = {config['recall_dt']:g} s, "
               f"delays {min(config['delays']) / config['recall_dt']:.0f} to "
               f"{max(config['delays']) / config['recall_dt']:.0f} steps): "
               "R^2 falls below 0.5 at " + ", ".join(f"{_nets.LABELS[c]} on {s} {fmt(d)}" for (c, s), d in
                                                    cross.items()) + ".")
    return verdict_from(checks, summary)


def figures(rows: list[dict], config: dict) -> dict:
    from .plotting import curves, mean_sd

    adding = [r for r in rows if r["part"] == "adding"]
    lengths = config["lengths"]
    series = {}
    for cell in config["cells"]:
        pts = [mean_sd([r for r in adding if r["cell"] == cell and r["T"] == T], "best_val_mse") for T in lengths]
        series[_nets.LABELS[cell]] = (np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
    ax1 = curves(lengths, series, logy=True, xlabel="sequence length T (steps)", ylabel="best validation MSE",
                 title=f"adding, at most {config['steps']} steps", styles={k: {"marker": "o"} for k in series})
    ax1.axhline(BASELINE_MSE, color="0.5", ls="--", lw=0.8, label="always 1 (1/6)")
    ax1.axhline(ONE_VALUE_MSE, color="0.7", ls="-.", lw=0.8, label="one value kept (1/12)")
    ax1.axhline(config["goal_mse"], color="0.5", ls=":", lw=0.8, label=f"goal {config['goal_mse']:g}")
    ax1.legend(frameon=False, fontsize=7)
    T = LONG_T if LONG_T in lengths else lengths[-1]
    ax2 = None
    for r in [r for r in adding if r["T"] == T]:
        ax2 = curves(r["val_step"], {f"{r['network']} seed {r['seed']}": (np.array(r["val_mse"]), None)}, ax=ax2,
                     logy=True, xlabel="training step", ylabel="validation MSE", legend=False,
                     title=f"adding at T = {T}: validation during training")
    ax2.axhline(config["goal_mse"], color="0.5", ls=":", lw=0.8)
    ax2.legend(frameon=False, fontsize=6)
    recall = [r for r in rows if r["part"] == "recall"]
    series = {}
    for cell, sub in dict.fromkeys((r["cell"], r["substrate"]) for r in recall):
        pts = [mean_sd([r for r in recall if (r["cell"], r["substrate"], r["delay"]) == (cell, sub, d)], "r2")
               for d in config["delays"]]
        label = _nets.LABELS[cell] + ("" if sub == "ann" else f" on Brian2 {sub}")
        series[label] = (np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
    same = [r for r in recall if r["substrate"] == "rate" or r["substrate"] == "spiking"]
    if same:  # the ANN on the few trials the Brian2 substrates ran, so that like is compared with like
        sub = same[0]["substrate"]
        pts = [mean_sd([r for r in same if r["substrate"] == sub and r["delay"] == d], "r2_ann_same_trials")
               for d in config["delays"]]
        series["Elman, on the Brian2 trials"] = (np.array([p[0] for p in pts]), None)
    ax3 = curves(config["delays"], series, xlabel="delay (s)", ylabel="recall R^2",
                 title=f"delayed recall (dt = {config['recall_dt']:g} s)",
                 styles={k: {"marker": "o", "ls": "-" if " on " not in k else "--"} for k in series}
                 | {"Elman, on the Brian2 trials": {"ls": ":", "color": "k", "lw": 0.8}})
    ax3.axhline(R2_LEVEL, color="0.5", ls=":", lw=0.8)
    ax3.set_ylim(max(-1.0, ax3.get_ylim()[0]), 1.05)
    return {"adding": ax1.figure, "adding_training": ax2.figure, "recall": ax3.figure}


EXPERIMENT = register(Experiment(
    name="long_range_memory",
    claim="An RNN, h_t = f(W x_t + U h_{t-1} + b), keeps long-range dependencies in sequences.",
    citation="Elman 1990; Hochreiter & Schmidhuber 1997 (adding, Experiment 4); Romo et al. 1999 (delayed recall)",
    description="The adding problem at T = 20, 50, 100 and 200 steps for an Elman network, an LSTM and a GRU "
                "(64 units) under one budget of at most 3000 Adam steps, scored by validation MSE against the goal "
                "0.01 and the baseline 1/6 of always answering 1; and delayed recall, R^2 of the recalled value "
                "against the delay (0.25 to 2 s) for the same cells trained on the whole delay range, with the "
                "trained Elman network also run as Brian2 rate neurons and, converted, as LIF spiking neurons.",
    config=CONFIG, quick=QUICK, run=run, check=check, figures=figures,
    keys=("part", "network", "substrate", "T", "delay"),
    columns=("steps_to_goal", "best_val_mse", "test_mse", "baseline_mse", "r2", "r2_ann_same_trials", "mse",
             "max_dev_from_ann", "mean_rate_hz"),
))
