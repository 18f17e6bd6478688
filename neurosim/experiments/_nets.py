"""What the experiments share: the three textbook cells built one way, training under one budget, and the
first step at which a validation metric reached a goal."""

from __future__ import annotations

import numpy as np

from .. import tasks
from ..ann import GatedNetwork
from ..network import RateNetwork
from ..training import train

CELLS = ("rnn", "lstm", "gru")
LABELS = {"rnn": "Elman", "lstm": "LSTM", "gru": "GRU"}


def build(cell: str, n_in: int, n_rec: int, n_out: int, *, dt: float, seed: int, g: float = 1.0,
          input_scale: float = 1.0, forget_bias: float | None = None):
    """An Elman network (``cell="rnn"``: tanh, alpha = dt / tau = 1, W_rec ~ N(0, g^2 / N), W_in ~
    N(0, input_scale^2 / n_in)) or an LSTM / GRU with Keras' initialisation (``forget_bias`` replaces the LSTM's
    forget-gate bias, Keras' unit_forget_bias = 1)."""
    if cell == "rnn":
        return RateNetwork.random(n_in, n_rec, n_out, tau=dt, dt=dt, g=g, input_scale=input_scale, rng=seed)
    net = GatedNetwork.random(n_in, n_rec, n_out, cell=cell, init="keras", dt=dt, rng=seed)
    if cell == "lstm" and forget_bias is not None:
        b = net.b_ih.copy()
        b[n_rec:2 * n_rec] = forget_bias  # gate order i, f, g, o
        net = net.replace(b_ih=b)
    return net


def fit(net, task: tasks.Task, cfg: dict, seed: int, **overrides):
    """``neurosim.train`` under the experiment's budget: ``cfg`` gives steps, lr, batch_size, clip, val_trials and
    eval_every; returns ``(net, history)``."""
    kw = dict(steps=cfg["steps"], lr=cfg["lr"], batch_size=cfg["batch_size"], clip=cfg["clip"],
              validation=cfg["val_trials"], eval_every=cfg["eval_every"], rng=seed, progress=False)
    return train(net, task, **{**kw, **overrides})


def first_step_below(history, metric: str, goal: float) -> float:
    """The first validation step at which ``metric`` was below ``goal``; NaN if it never was."""
    for step, m in zip(history.val_step, history.val_metrics):
        if m[metric] < goal:
            return float(step)
    return float("nan")


def val_curve(history, metric: str) -> tuple[list, list]:
    """(steps, values) of a validation metric over training."""
    return list(history.val_step), [float(m[metric]) for m in history.val_metrics]


def geomean(values) -> float:
    """Geometric mean of positive numbers (the mean of ratios spanning decades); NaN without finite values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.exp(np.mean(np.log(v)))) if v.size else float("nan")
