"""What the experiments share: the three textbook cells built one way, and training under one budget (with a
stop once a validation goal is reached)."""

from __future__ import annotations

import numpy as np

from .. import tasks
from ..network import RateNetwork
from .._validate import as_rng
from ..ann import GatedNetwork, forward
from ..learning import BPTT, Adam, loop, train

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


def train_until(net, task: tasks.Task, cfg: dict, seed: int, *, metric: str = "mse", goal: float | None = None):
    """BPTT (Adam, the budget of ``cfg`` as in :func:`fit`) that stops once the validation ``metric`` is below
    ``goal``: the rule runs in chunks of ``eval_every`` steps through :func:`neurosim.learning.loop.run`, keeping
    its parameters and optimizer state between chunks, and ``val_trials`` held-out trials are scored after each.
    Returns ``(net, record)`` with the steps run, the validation curve, the first step below the goal (NaN if
    none) and why it stopped."""
    data_rng, noise_rng = as_rng(seed).spawn(2)
    val = task.sample(cfg["val_trials"], rng=1_000_003 + seed)
    rule = BPTT(net, task, optimizer=Adam(lr=cfg["lr"]),
                batch_size=cfg["batch_size"], clip=cfg["clip"], loss_kw={"loss": None, "l2": 0.0, "l2_rate": 0.0},
                dropout=0.0, data_rng=data_rng, noise_rng=noise_rng)
    record = {"steps": 0, "val_step": [], "val": [], "steps_to_goal": float("nan"), "stopped": "budget"}
    while record["steps"] < cfg["steps"]:
        net, hist = loop.run(rule, min(cfg["eval_every"], cfg["steps"] - record["steps"]), progress=False,
                             name=rule.name)
        record["steps"] += len(hist.loss)
        value = float(task.score(forward(net, val.inputs)[1], val)[metric])
        record["val_step"].append(record["steps"])
        record["val"].append(value)
        if hist.stopped != "completed":
            record["stopped"] = hist.stopped
            break
        if goal is not None and value < goal:
            record["steps_to_goal"], record["stopped"] = float(record["steps"]), f"{metric} < {goal:g}"
            break
    return net, record


def val_curve(history, metric: str) -> tuple[list, list]:
    """(steps, values) of a validation metric over training."""
    return list(history.val_step), [float(m[metric]) for m in history.val_metrics]


def geomean(values) -> float:
    """Geometric mean of positive numbers (the mean of ratios spanning decades); NaN without finite values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.exp(np.mean(np.log(v)))) if v.size else float("nan")
