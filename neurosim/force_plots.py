"""Figures of FORCE learning (Sussillo & Abbott 2009, Fig. 2's panels). Each takes ``ax=None``, draws, returns the
Axes (``force_summary`` returns its Figure); never ``plt.show()``.

Inputs are :class:`neurosim.learning.force.ForceRun` objects (``trained``: a run with learning on, ``free``: the
free run after it) and the clean target (T_train + T_free, n_out), time first.
"""

from __future__ import annotations

import numpy as np

from .plots import _axes

__all__ = ["output_vs_target", "readout_change", "unit_rates", "eigenvalues", "force_summary", "spiking_output",
           "spiking_weights", "spiking_force_summary"]


def output_vs_target(trained, free, targets, *, channel: int = 0, ax=None):
    """The target (dashed) and the readout z(t) (solid) during training and free running, split by a line."""
    ax = _axes(ax, figsize=(8, 2.6))
    t = np.concatenate([trained.t, free.t])  # (T,)
    ax.plot(t, np.asarray(targets)[:len(t), channel], "--", color="0.5", lw=1.0, label="target f")
    ax.plot(trained.t, trained.outputs[:, channel], color="tab:red", lw=0.8, label="z, learning")
    ax.plot(free.t, free.outputs[:, channel], color="tab:blue", lw=0.8, label="z, free running")
    ax.axvline(trained.t[-1], color="k", lw=0.6)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("f and z")
    ax.legend(frameon=False, fontsize=7, ncol=3, loc="upper right")
    return ax


def readout_change(trained, *, ax=None):
    """|dW_out| per update (log scale, left) and |W_out| (right axis) over the training time."""
    ax = _axes(ax, figsize=(8, 2.2))
    up = trained.updated
    ax.semilogy(trained.t[up], trained.dw_norm[up], color="tab:orange", lw=0.6, label="|dW| per update")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("|dW_out|")
    right = ax.twinx()
    right.plot(trained.t, trained.w_norm, color="k", lw=1.0, label="|W_out|")
    right.set_ylabel("|W_out|")
    ax.set_title("readout weights during learning", fontsize=9)
    return ax


def unit_rates(trained, free, *, n_units: int = 5, ax=None):
    """s(t) of the first ``n_units`` recorded units, offset for legibility, through training and free running."""
    ax = _axes(ax, figsize=(8, 2.6))
    t = np.concatenate([trained.t, free.t])
    s = np.concatenate([trained.rates, free.rates])[:, :n_units]  # (T, k)
    for i in range(s.shape[1]):
        ax.plot(t, s[:, i] + 2.2 * i, lw=0.6)
    ax.axvline(trained.t[-1], color="k", lw=0.6)
    ax.set_yticks([])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("units (offset)")
    return ax


def eigenvalues(before, after, *, ax=None):
    """Eigenvalues of W_rec before learning and of the folded W_rec + W_fb W_out after, with the unit circle.

    With tanh, the network linearised at the origin, tau dx/dt = -x + W_rec x, grows along every eigenvalue with
    Re > 1 (right of the dotted line): the folded network's few outliers there carry the learned oscillation."""
    ax = _axes(ax, figsize=(4, 4))
    for net, label, kw in ((before, "W_rec before", dict(s=4, color="0.6")),
                           (after, "folded after", dict(s=8, color="tab:red", marker="x"))):
        ev = np.linalg.eigvals(net.W_rec)
        ax.scatter(ev.real, ev.imag, label=f"{label} (max |.| {np.abs(ev).max():.2f})", **kw)
    theta = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(theta), np.sin(theta), "k", lw=0.6)
    ax.axvline(1.0, color="k", ls=":", lw=0.6)
    ax.set_aspect("equal")
    ax.set_xlabel("Re")
    ax.set_ylabel("Im")
    ax.legend(frameon=False, fontsize=7, loc="lower left")
    return ax


def force_summary(trained, free, targets):
    """Output against target, a few units' activity and the readout's change: one Figure of three rows."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True, constrained_layout=True)
    output_vs_target(trained, free, targets, ax=axes[0])
    unit_rates(trained, free, ax=axes[1])
    readout_change(trained, ax=axes[2])
    axes[0].set_title("FORCE: learning, then free running (learning off)", fontsize=9)
    return fig


# -- spiking FORCE (Nicola & Clopath 2017) ------------------------------------------------------------------------


def spiking_output(result, *, ax=None):
    """The target (dashed) and the spiking network's readout z(t) over the whole run, the learning window shaded."""
    ax = _axes(ax, figsize=(8, 2.6))
    c, run = result.config, result.run
    ax.axvspan(c.train_start, c.train_stop, color="0.92", lw=0, label="RLS on")
    ax.plot(run.t, result.targets[:, 0], "--", color="0.5", lw=1.0, label="target f")
    ax.plot(run.t, run.z[:, 0], color="tab:blue", lw=0.7, label="z")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("f and z")
    ax.set_ylim(-2.5, 2.5)
    ax.legend(frameon=False, fontsize=7, ncol=3, loc="upper right")
    return ax


def spiking_weights(result, *, ax=None):
    """W_out of the recorded neurons over time (Nicola & Clopath's Fig. 2 readout panel)."""
    ax = _axes(ax, figsize=(8, 2.0))
    run = result.run
    if len(run.weights_t):
        ax.plot(run.weights_t, run.weights[:, 0, :], lw=0.8)
    ax.axvline(result.config.train_start, color="k", lw=0.5)
    ax.axvline(result.config.train_stop, color="k", lw=0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("W_out (s)")
    return ax


def spiking_force_summary(result, *, n_neurons: int = 100, window: float = 1.0):
    """Raster of ``n_neurons`` neurons in the last ``window`` seconds before learning and of the test period,
    the readout against the target, and the readout weights over time; returns the Figure."""
    import matplotlib.pyplot as plt

    from .plots import raster

    c, run = result.config, result.run
    fig = plt.figure(figsize=(9, 7.5), constrained_layout=True)
    grid = fig.add_gridspec(3, 2, height_ratios=[1.4, 1.0, 0.8])
    keep = run.spike_indices < n_neurons
    for col, (start, title) in enumerate([(c.train_start - window, "before learning"),
                                          (c.duration - window, "after learning (test)")]):
        ax = fig.add_subplot(grid[0, col])
        raster(run.spike_times[keep], run.spike_indices[keep], n_neurons, t_range=(start, start + window), ax=ax)
        ax.set_title(f"{title}: {n_neurons} of {c.n_rec} neurons", fontsize=9)
    spiking_output(result, ax=fig.add_subplot(grid[1, :]))
    spiking_weights(result, ax=fig.add_subplot(grid[2, :]))
    s = result.scores
    fig.suptitle(f"spiking FORCE (Nicola & Clopath 2017), N = {c.n_rec}: peak {s['peak_hz']:.2f} Hz, amplitude "
                 f"ratio {s['amplitude_ratio']:.2f}, aligned NRMSE {s['aligned_nrmse']:.3f}, "
                 f"rate {s['rate_hz']:.1f} Hz", fontsize=9)
    return fig
