"""Figure helpers shared by the experiments: each takes ``ax=None``, draws from rows already averaged, and returns
the Axes (as :mod:`neurosim.plots`); the experiment's ``figures`` function returns ``{name: ax.figure}``."""

from __future__ import annotations

import numpy as np

from ..plots import _axes

__all__ = ["mean_sd", "curves"]


def mean_sd(rows: list[dict], field: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over ``rows`` of a list-valued (curve) or scalar ``field``; non-finite
    entries are left out of each point's statistics."""
    vals = np.array([r.get(field) for r in rows], dtype=float)  # (n, ...); missing or None -> nan
    finite = np.isfinite(vals)
    n = finite.sum(axis=0)
    total = np.where(finite, vals, 0.0).sum(axis=0)
    mean = np.divide(total, n, out=np.full(total.shape, np.nan), where=n > 0)
    dev = np.where(finite, vals - mean, 0.0)
    sd = np.sqrt(np.divide((dev**2).sum(axis=0), n, out=np.full(total.shape, np.nan), where=n > 0))
    return mean, sd


def curves(x, series: dict, *, ax=None, xlabel: str = "", ylabel: str = "", title: str = "", logy: bool = False,
           styles: dict | None = None, legend: bool = True):
    """Lines with a shaded band: ``series`` maps a label to ``(mean, sd)`` over ``x`` (sd may be None).
    ``styles`` maps a label to keyword arguments of ``ax.plot`` (colour, line style)."""
    ax = _axes(ax, figsize=(5.5, 3.6))
    x = np.asarray(x, dtype=float)
    for label, (mean, sd) in series.items():
        kw = {"lw": 1.3, **(styles or {}).get(label, {})}
        (line,) = ax.plot(x, mean, label=label, **kw)
        if sd is not None and np.any(np.asarray(sd) > 0):
            lo, hi = np.asarray(mean) - sd, np.asarray(mean) + sd
            if logy:
                lo = np.where(lo > 0, lo, np.asarray(mean) / 10)
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.15, lw=0)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    if legend:
        ax.legend(frameon=False, fontsize=7)
    return ax
