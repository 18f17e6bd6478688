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
        for j in range(trials.n_in):  # inputs in greys, so that colours stay for the substrates
            axes[0, i].plot(t, trials.inputs[i, :, j], lw=0.8, color=str(0.15 + 0.55 * j / max(trials.n_in - 1, 1)))
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
    """Save the figure holding the Axes, close it, and return the path.

    The image is written under a temporary name and renamed (:func:`neurosim._files.atomic`): never half a PNG.
    """
    import os

    import matplotlib.pyplot as plt

    from ._files import atomic

    ax = np.ravel(ax_or_axes)[0]
    fig = ax.figure
    fig.tight_layout()
    try:
        with atomic(path) as tmp:
            fig.savefig(tmp, dpi=110, format=os.path.splitext(os.fspath(path))[1].lstrip(".") or "png")
    finally:
        plt.close(fig)
    return path


def substrate_overlay(reference, other, trials=None, *, trial: int = 0, n_units: int = 4, axes=None):
    """The same trial on two substrates: a few units, the outputs, and their absolute difference.

    ``reference`` and ``other`` are :class:`neurosim.Result` on the same trials (e.g. "ann" and "rate").
    Row 1: ``n_units`` states, reference solid, other dashed; row 2: every output (and the target, dotted,
    when ``trials`` is given); row 3: |reference - other| of the outputs and of all states, log scale.
    ``axes``: three Axes to draw into (default: a new figure). Returns the three Axes.
    """
    if axes is None:
        axes = _axes(None, nrows=3, ncols=1, figsize=(7, 6.5), sharex=True)
    ax_units, ax_out, ax_diff = axes
    t = reference.t
    ref_label, other_label = reference.substrate, other.substrate
    n = min(n_units, reference.states.shape[-1])
    for k in range(n):
        (line,) = ax_units.plot(t, reference.states[trial, :, k], lw=1.4, alpha=0.6,
                                label=ref_label if k == 0 else None)
        ax_units.plot(t, other.states[trial, :, k], "--", color=line.get_color(), lw=1.0,
                      label=other_label if k == 0 else None)
    ax_units.set_ylabel(f"state (units 0-{n - 1})")
    ax_units.legend(frameon=False, fontsize=8)
    ax_units.set_title(f"trial {trial}: {ref_label} (solid) and {other_label} (dashed)", fontsize=9)
    for k in range(reference.outputs.shape[-1]):
        (line,) = ax_out.plot(t, reference.outputs[trial, :, k], lw=1.4, alpha=0.6, label=f"output {k}")
        ax_out.plot(t, other.outputs[trial, :, k], "--", color=line.get_color(), lw=1.0)
        if trials is not None:
            ax_out.plot(t, trials.targets[trial, :, k], ":", color=line.get_color(), lw=0.8)
    ax_out.set_ylabel("outputs")
    ax_out.legend(frameon=False, fontsize=8)
    floor = 1e-18  # exact agreement (0) drawn at the floor of the log axis
    d_out = np.abs(reference.outputs[trial] - other.outputs[trial]).max(axis=-1)
    d_states = np.abs(reference.states[trial] - other.states[trial]).max(axis=-1)
    ax_diff.semilogy(t, np.maximum(d_out, floor), lw=1.0, label="max |Δ output|")
    ax_diff.semilogy(t, np.maximum(d_states, floor), lw=1.0, label="max |Δ state| (all units)")
    top = max(float(d_out.max(initial=0)), float(d_states.max(initial=0)), 1e-15)
    ax_diff.set_ylim(floor / 2, top * 10)
    ax_diff.set_ylabel(f"|{ref_label} - {other_label}|\n(0 drawn at {floor:.0e})")
    ax_diff.set_xlabel("time (s)")
    ax_diff.legend(frameon=False, fontsize=8)
    return axes


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


def psychometric(coherences, accuracies: dict, *, counts=None, ax=None):
    """The psychometric curve of each substrate in one Axes: accuracy (fraction correct) against coherence.

    ``coherences`` (C,) the tested coherences; ``accuracies`` maps a label (a substrate) to its (C,) accuracies at
    them, e.g. a decision task's ``accuracy_c<c>`` scores. ``counts`` (C,), the trials per coherence, adds binomial
    standard errors sqrt(p (1 - p) / n) as error bars. Chance (0.5) is drawn dashed; the x axis is logarithmic with
    0 drawn at half the smallest nonzero coherence (the convention of Britten et al. 1992). Substrates that agree
    to round-off draw on top of each other.
    """
    ax = _axes(ax, figsize=(4.5, 3.4))
    c = np.asarray(coherences, dtype=float)  # (C,)
    nonzero = c[c > 0]
    zero_at = nonzero.min() / 2 if nonzero.size else 1.0
    x = np.where(c > 0, c, zero_at)
    order = np.argsort(x)
    markers = "osD^v<>"
    lowest = 0.4
    for i, (label, acc) in enumerate(accuracies.items()):
        p = np.asarray(acc, dtype=float)  # (C,)
        err = None if counts is None else np.sqrt(p * (1 - p) / np.maximum(np.asarray(counts, dtype=float), 1))
        lowest = min(lowest, float(np.nanmin(p)) - 0.05) if np.any(np.isfinite(p)) else lowest
        ax.errorbar(x[order], p[order], yerr=None if err is None else err[order], marker=markers[i % len(markers)],
                    ms=4, lw=1.2, capsize=2, label=label)
    ax.axhline(0.5, color="k", ls="--", lw=0.8)
    if np.all(x > 0) and x.size > 1:
        ax.set_xscale("log")
        ax.set_xticks(x[order])
        ax.set_xticklabels(["0" if v == 0 else f"{v:g}" for v in c[order]], fontsize=7)
        ax.minorticks_off()
    ax.set_ylim(max(lowest, -0.02), 1.02)
    ax.set_xlabel("coherence")
    ax.set_ylabel("accuracy (fraction correct)")
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


def sweep_summary(rows, *, x: str, metric: str, hue: str | None = None, ax=None):
    """``metric`` against ``x`` from a sweep's rows (dicts): the mean over the rows that share ``x`` (and
    ``hue``), i.e. over seeds, with the seeds' range (lowest to highest) as a band and the single values as dots.

    The band is the range, not mean ± sd: for a few seeds that is the spread actually seen, and it stays within
    the values a bounded metric can take (mean + sd of R^2 values near 1 exceeds 1)."""
    ax = _axes(ax, figsize=(5, 3.4))
    groups: dict = {}
    for row in rows:
        value = row.get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            groups.setdefault(row.get(hue) if hue else None, {}).setdefault(row[x], []).append(float(value))
    xs_all = sorted({k for g in groups.values() for k in g}, key=lambda v: (isinstance(v, str), v))
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in xs_all)
    position = {v: (v if numeric else i) for i, v in enumerate(xs_all)}
    for label, by_x in groups.items():
        xs = sorted(by_x, key=lambda v: position[v])
        pos = np.array([position[v] for v in xs], dtype=float)
        mean = np.array([np.mean(by_x[v]) for v in xs])
        low, high = (np.array([fn(by_x[v]) for v in xs]) for fn in (np.min, np.max))
        (line,) = ax.plot(pos, mean, "o-", ms=4, lw=1.2, label=None if label is None else f"{hue} = {label}")
        ax.fill_between(pos, low, high, color=line.get_color(), alpha=0.2, lw=0)
        for p, v in zip(pos, xs):
            ax.plot(np.full(len(by_x[v]), p), by_x[v], ".", ms=2.5, color=line.get_color(), alpha=0.6)
    if not numeric:
        ax.set_xticks(range(len(xs_all)), [str(v) for v in xs_all])
    ax.set_xlabel(x)
    ax.set_ylabel(f"{metric} (mean and range over seeds)")
    if hue and groups:
        ax.legend(frameon=False, fontsize=8)
    return ax
