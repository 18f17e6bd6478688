"""Matplotlib helpers. Each takes ``ax=None`` (or ``axes``), draws, and returns the Axes; never ``plt.show()``."""

from __future__ import annotations

import numpy as np


def _axes(ax=None, **subplots):
    import matplotlib

    if ax is not None:
        return ax
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(**subplots)[1]


def loss_curve(history, ax=None):
    """Training loss per step and validation loss, log scale."""
    ax = _axes(ax, figsize=(5, 3.2))
    ax.plot(np.arange(1, len(history.loss) + 1), history.loss, lw=0.8, label="train")
    if history.val_step:
        ax.plot(history.val_step, history.val_loss, "o-", ms=3, label="validation")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(frameon=False)
    ax.set_title(f"training ({history.stopped.split(';')[0]})", fontsize=9)
    return ax


def outputs_vs_targets(trials, outputs, *, n_trials: int = 3, axes=None, labels=None):
    """Inputs (top row), then outputs (solid) against targets (dashed) for the first ``n_trials`` trials, one
    row per output channel.

    ``outputs`` is one array (B, T, n_out) or a dict label -> array, to overlay several substrates.
    Unscored target steps are drawn faint.
    """
    series = outputs if isinstance(outputs, dict) else {labels or "output": outputs}
    n_out, n = trials.n_out, min(n_trials, trials.n_trials)
    if axes is None:
        axes = np.atleast_2d(_axes(None, nrows=n_out + 1, ncols=n, figsize=(3.2 * n, 1.6 * (n_out + 1) + 0.6),
                                   sharex=True, squeeze=False))
    t = trials.t
    for i in range(n):
        axes[0, i].plot(t, trials.inputs[i], lw=0.8)
        axes[0, i].set_title(f"trial {i}", fontsize=9)
        if i == 0:
            axes[0, i].set_ylabel("inputs")
        for k in range(n_out):
            ax = axes[k + 1, i]
            scored = trials.mask[i, :, k] > 0
            ax.plot(t, np.where(scored, trials.targets[i, :, k], np.nan), "k--", lw=1.2, label="target")
            ax.plot(t, np.where(scored, np.nan, trials.targets[i, :, k]), "k--", lw=0.6, alpha=0.25)
            for label, y in series.items():
                ax.plot(t, y[i, :, k], lw=1.0, label=label)
            if i == 0:
                ax.set_ylabel(f"output {k}")
            if k == n_out - 1:
                ax.set_xlabel("time (s)")
    axes[1, 0].legend(frameon=False, fontsize=7)
    return axes


def save(ax_or_axes, path: str) -> str:
    """Save the figure holding the Axes, close it, and return the path."""
    import matplotlib.pyplot as plt

    ax = np.ravel(ax_or_axes)[0]
    fig = ax.figure
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
