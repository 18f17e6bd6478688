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


def lambda_curve(calibration, ax=None):
    """The spiking network's score against the rate-to-spike scaling lambda (:func:`calibrate_lambda`), with
    the chosen lambda marked and the rate network's score on the same trials as a dashed line."""
    ax = _axes(ax, figsize=(4.5, 3.2))
    cal = calibration
    ax.plot(cal.lambdas, cal.scores, "o-", ms=4, lw=1.2, label="spiking")
    best = float(cal.scores[list(cal.lambdas).index(cal.lam)])
    ax.plot([cal.lam], [best], "*", ms=12, color="C3", label=f"best: lambda = {cal.lam:g} Hz")
    if cal.rate_score is not None:
        ax.axhline(cal.rate_score, color="k", ls="--", lw=1.0, label="rate network")
    ax.set_xlabel("lambda (Hz)")
    ax.set_ylabel(cal.metric + ("" if cal.higher_is_better else " (lower is better)"))
    ax.set_title(f"rate-to-spike scaling, {cal.n_trials} validation trials", fontsize=9)
    ax.legend(frameon=False, fontsize=7)
    return ax


def raster(times, indices, n_neurons: int, *, dale=None, t_range=None, ax=None, markersize: float = 1.5):
    """Spike raster of one trial: one row per neuron, excitatory (blue) above inhibitory (red) when ``dale``
    signs are given. ``times`` (s) and ``indices`` as in ``Result.extras["spike_times"][b]`` and
    ``["spike_indices"][b]``."""
    from .analysis.spikes import population_raster

    ax = _axes(ax, figsize=(6, 3.5))
    data = population_raster(times, indices, n_neurons, dale=dale, t_range=t_range)
    if dale is None:
        ax.plot(data["t"], data["row"], "|", ms=markersize * 2, color="k")
    else:
        e = data["excitatory"]
        ax.plot(data["t"][e], data["row"][e], "|", ms=markersize * 2, color="C0", label="excitatory")
        ax.plot(data["t"][~e], data["row"][~e], "|", ms=markersize * 2, color="C3", label="inhibitory")
        ax.legend(frameon=False, fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, markerscale=3)
    ax.set_ylim(-0.5, len(data["rows"]) - 0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    return ax


def trajectories(projections: dict, *, n_trials: int = 4, scores: dict | None = None, axes=None):
    """Hidden trajectories of several substrates on one shared PCA basis (PC1 against PC2), one panel each.

    ``projections``: substrate -> (B, T, k) from :meth:`neurosim.analysis.trajectories.PCABasis.project`;
    ``scores``: substrate -> a short alignment label for the panel title. Axes share their limits, so the
    panels can be compared by eye.
    """
    names = list(projections)
    if axes is None:
        axes = np.atleast_1d(_axes(None, nrows=1, ncols=len(names), figsize=(3.3 * len(names), 3.2),
                                   sharex=True, sharey=True, squeeze=False)[0])
    for ax, name in zip(axes, names):
        Z = projections[name]
        for i in range(min(n_trials, Z.shape[0])):
            (line,) = ax.plot(Z[i, :, 0], Z[i, :, 1], lw=0.9)
            ax.plot(Z[i, 0, 0], Z[i, 0, 1], "o", ms=3, color=line.get_color())
        title = name if not scores or name not in scores else f"{name}\n{scores[name]}"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("PC 1")
    axes[0].set_ylabel("PC 2")
    return axes
