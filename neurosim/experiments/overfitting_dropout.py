"""overfitting_dropout (claim c): RNNs overfit a small training set, and dropout helps.

The textbook's Keras example, reproduced as in ``models/sine_prediction_lstm.toml``: ``LSTM(50)``, then
``Dropout(p)`` on the LSTM-to-Dense path, then ``Dense(1)``; Adam (lr 1e-3), MSE, minibatches of 32, no gradient
clipping (Keras' default), trained on a fixed training set of noisy sums of sines (``sine_prediction``). Per seed
and setting (training-set size n in ``train_sizes``, dropout p in ``dropouts``):

- the training curve: the mean minibatch loss over each ``eval_every`` steps, dropout on (what Keras reports as
  ``loss``);
- the validation curve: the MSE on ``val_trials`` fresh trials every ``eval_every`` steps, dropout off
  (Keras' ``val_loss``);
- at the end, the training loss on the whole training set with dropout off, and the generalisation gap
  ``final validation loss - final training loss``.

Checks (issue 15's goals; means over seeds): with p = 0 and the small set, the final validation loss is >= 2x its
own minimum (it turned up again) or >= 3x the final training loss (it never came down to it); the best p > 0 cuts
the small set's final validation loss by >= 20%; the large set shrinks the p = 0 gap >= 5x.
"""

from __future__ import annotations

import numpy as np

from .. import tasks
from ..ann import GatedNetwork, loss_and_grads
from ..learning import train
from . import plotting
from .base import Check, Experiment, register, verdict_from

CONFIG = {
    "seeds": 3,
    "task": {"dt": 0.01, "frequencies": [0.6, 1.3, 2.1], "amplitudes": [0.5, 0.3, 0.2], "observation_noise": 0.05,
             "duration": 2.5, "washout": 0.5},  # models/sine_prediction_lstm.toml
    "n_rec": 50,
    "train_sizes": [64, 4096],
    "dropouts": [0.0, 0.1, 0.2, 0.25],
    "steps": 1000,  # 500 epochs of the 64-trial set, 8 of the 4096-trial set
    "lr": 1e-3,
    "batch_size": 32,
    "eval_every": 25,
    "val_trials": 256,
}

QUICK = {"seeds": 1, "task": {**CONFIG["task"], "duration": 0.6, "washout": 0.1}, "n_rec": 16,
         "train_sizes": [64, 512], "dropouts": [0.0, 0.2], "steps": 40, "eval_every": 10, "val_trials": 32}

# the goals of issue 15
MIN_RATIO, TRAIN_RATIO, DROPOUT_GAIN, GAP_SHRINK = 2.0, 3.0, 0.20, 5.0


def run(config: dict, seed: int) -> list[dict]:
    """One row per (training-set size, dropout p): curves, final losses and the gap. Every p of one size starts
    from the same network and sees the same training set, minibatch order and validation set."""
    task = tasks.make("sine_prediction", **config["task"])
    val = task.sample(config["val_trials"], rng=1_000_003 + seed)
    rows = []
    for n in config["train_sizes"]:
        train_set = task.sample(n, rng=100_003 * seed + n)  # fixed per seed and size
        for p in config["dropouts"]:
            net = GatedNetwork.random(1, config["n_rec"], 1, cell="lstm", init="keras", dt=task.dt, rng=seed)
            net, hist = train(net, train_set, steps=config["steps"], lr=config["lr"],
                              batch_size=config["batch_size"], clip=None, dropout=float(p), validation=val,
                              eval_every=config["eval_every"], rng=seed, progress=False)
            k = config["eval_every"]
            losses = np.asarray(hist.loss, dtype=float)
            train_curve = [float(losses[max(0, s - k):s].mean()) for s in hist.val_step]
            final_train, _ = loss_and_grads(net, train_set)  # the whole training set, dropout off
            val_loss = [float(v) for v in hist.val_loss]
            final_val = val_loss[-1]
            rows.append({"train_trials": int(n), "dropout": float(p), "val_step": list(hist.val_step),
                         "train_curve": train_curve, "val_curve": val_loss, "final_val": final_val,
                         "min_val": float(min(val_loss)), "final_train": float(final_train),
                         "gap": float(final_val - final_train), "val_over_min": float(final_val / min(val_loss)),
                         "val_over_train": float(final_val / final_train), "stopped": hist.stopped})
    return rows


def _mean(rows: list[dict], field: str, **where) -> float:
    vals = [r[field] for r in rows if all(r[k] == v for k, v in where.items())]
    return float(np.mean(vals)) if vals else float("nan")


def check(rows: list[dict], config: dict):
    small, large = min(config["train_sizes"]), max(config["train_sizes"])
    ps = sorted(config["dropouts"])
    to_min = _mean(rows, "val_over_min", train_trials=small, dropout=0.0)
    to_train = _mean(rows, "val_over_train", train_trials=small, dropout=0.0)
    overfit = to_min >= MIN_RATIO or to_train >= TRAIN_RATIO
    val0 = _mean(rows, "final_val", train_trials=small, dropout=0.0)
    by_p = {p: _mean(rows, "final_val", train_trials=small, dropout=p) for p in ps if p > 0}
    best_p = min(by_p, key=by_p.get) if by_p else float("nan")
    gain = 1.0 - by_p[best_p] / val0 if by_p else float("nan")
    gap_small = _mean(rows, "gap", train_trials=small, dropout=0.0)
    gap_large = _mean(rows, "gap", train_trials=large, dropout=0.0)
    if gap_small <= 0:  # no gap on the small set: nothing for the large set to shrink
        shrink = float("nan")
    elif gap_large > 0:
        shrink = gap_small / gap_large
    else:  # the large set closed the gap entirely
        shrink = float("inf")
    checks = [
        Check(f"p = 0, {small} trials: final val / its minimum (or final val / final train {to_train:.3g}, "
              f"goal >= {TRAIN_RATIO:g})", to_min, f">= {MIN_RATIO:g}", overfit, "issue 15 goal"),
        Check(f"best p ({best_p:g}) cuts the final val loss on {small} trials by", gain, f">= {DROPOUT_GAIN:g}",
              bool(gain >= DROPOUT_GAIN), "issue 15 goal"),
        Check(f"p = 0 gap, {small} / {large} trials", shrink, f">= {GAP_SHRINK:g}",
              bool(shrink >= GAP_SHRINK), "issue 15 goal"),
    ]
    summary = (f"With {small} training trials and no dropout the LSTM ends at validation MSE {val0:.3g}, "
               f"{to_min:.3g}x its own minimum and {to_train:.3g}x its final training MSE "
               f"{_mean(rows, 'final_train', train_trials=small, dropout=0.0):.3g} (gap {gap_small:.3g}); "
               f"{'it overfits' if overfit else 'it does not overfit by the stated measure'}. "
               f"The best dropout, p = {best_p:g}, changes the final validation MSE by {-100 * gain:+.1f}%. "
               f"With {large} trials the p = 0 gap is {gap_large:.3g}"
               + (" (no gap to shrink on the small set). " if gap_small <= 0 else f", {shrink:.3g}x smaller. ")
               + f"Means over {len({r['seed'] for r in rows})} seed(s).")
    return verdict_from(checks, summary)


def figures(rows: list[dict], config: dict) -> dict:
    import matplotlib.pyplot as plt

    sizes, ps = config["train_sizes"], config["dropouts"]
    fig, axes = plt.subplots(1, len(sizes) + 1, figsize=(4.6 * (len(sizes) + 1), 3.6))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, n in zip(axes, sizes):
        for i, p in enumerate(ps):
            sel = [r for r in rows if r["train_trials"] == n and r["dropout"] == p]
            style = {"color": colours[i % len(colours)]}
            plotting.curves(sel[0]["val_step"], {f"val, p = {p:g}": plotting.mean_sd(sel, "val_curve"),
                                                 f"train, p = {p:g}": plotting.mean_sd(sel, "train_curve")},
                            ax=ax, styles={f"val, p = {p:g}": style, f"train, p = {p:g}": {**style, "ls": "--"}},
                            xlabel="step", ylabel="MSE", logy=True, legend=(n == sizes[0]),
                            title=f"{n} training trials: validation (solid), training (dashed)")
    series = {}
    for n in sizes:
        stats = [plotting.mean_sd([r for r in rows if r["train_trials"] == n and r["dropout"] == p], "final_val")
                 for p in ps]
        series[f"{n} trials"] = (np.array([m for m, _ in stats]), np.array([s for _, s in stats]))
    plotting.curves(ps, series, ax=axes[-1], xlabel="dropout p", ylabel="final validation MSE", logy=True,
                    title="final validation loss against dropout", styles={k: {"marker": "o"} for k in series})
    fig.tight_layout()
    return {"learning_curves": fig}


EXPERIMENT = register(Experiment(
    name="overfitting_dropout",
    claim="RNNs overfit a small training set, and dropout (the Keras example's Dropout(0.2) after LSTM(50)) helps.",
    citation="Srivastava et al. (2014) JMLR 15:1929; Keras recurrent regression example (Chollet 2017, sec. 6.3)",
    description=("The Keras example's model (LSTM(50), Dropout(p), Dense(1); Adam, MSE, batch 32) trained on a "
                 "fixed set of 64 or 4096 noisy sine windows, with dropout p in {0, 0.1, 0.2, 0.25}; training "
                 "loss (minibatches, dropout on) and validation loss (fresh trials, dropout off) every 25 steps, "
                 "the final training loss on the whole set, and the gap between them."),
    config=CONFIG, quick=QUICK, run=run, check=check, figures=figures, keys=("train_trials", "dropout"),
    columns=("final_train", "final_val", "min_val", "gap", "val_over_min", "val_over_train")))
