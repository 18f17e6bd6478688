"""Spike-train statistics: firing rates, their distribution, ISI irregularity, spike-count variability,
raster data, and a rate unit's trace beside its spiking counterpart's.

Spike data of one trial are two arrays of equal length, as Brian2's SpikeMonitor gives them and as
``simulate(..., substrate="spiking").extras`` holds them per trial: ``times`` (seconds) and ``indices``
(neuron 0..N-1). Every function is pure numpy.

Reference values (tested against them): a Poisson process has ISI CV = 1 and Fano factor = 1 in any window; a
perfectly regular train has CV = 0, and Fano factor 0 in windows that are whole multiples of its period.
"""

from __future__ import annotations

import numpy as np

from .._validate import as_array, check_positive

__all__ = ["firing_rates", "rate_distribution", "isi_cv", "spike_counts", "fano_factor", "population_raster",
           "compare_traces"]


def _spikes(times, indices, n_neurons: int):
    times = as_array(times, "times", ndim=1, dtype=float)
    indices = as_array(indices, "indices", ndim=1)
    if times.shape != indices.shape:
        raise ValueError(f"indices: expected one neuron index per spike time, {times.shape}, got {indices.shape}")
    n_neurons = check_positive(n_neurons, "n_neurons", integer=True)
    if indices.size and (indices.min() < 0 or indices.max() >= n_neurons):
        raise ValueError(f"indices: expected neuron indices in [0, {n_neurons}), got values in "
                         f"[{indices.min()}, {indices.max()}]; pass n_neurons = the population size")
    return times, indices.astype(np.int64), n_neurons


def firing_rates(times, indices, n_neurons: int, duration: float, t_start: float = 0.0) -> np.ndarray:
    """Mean firing rate (Hz) of each neuron over ``[t_start, t_start + duration)``: count / duration, (N,)."""
    times, indices, n = _spikes(times, indices, n_neurons)
    duration = check_positive(duration, "duration")
    inside = (times >= t_start) & (times < t_start + duration)
    return np.bincount(indices[inside], minlength=n) / duration


def rate_distribution(rates, bins=20) -> dict:
    """The distribution of firing rates (Hz): histogram ``counts`` over ``edges`` and summary statistics
    (mean, median, standard deviation, fraction of silent neurons, maximum)."""
    rates = as_array(rates, "rates", dtype=float).ravel()
    counts, edges = np.histogram(rates, bins=bins)
    return {"counts": counts, "edges": edges, "mean": float(np.mean(rates)), "median": float(np.median(rates)),
            "std": float(np.std(rates)), "fraction_silent": float(np.mean(rates == 0)),
            "max": float(np.max(rates))}


def isi_cv(times, indices, n_neurons: int, min_spikes: int = 3) -> np.ndarray:
    """Coefficient of variation of each neuron's interspike intervals, std(ISI) / mean(ISI), (N,).

    NaN for neurons with fewer than ``min_spikes`` spikes (too few intervals to estimate it).
    """
    times, indices, n = _spikes(times, indices, n_neurons)
    min_spikes = check_positive(min_spikes, "min_spikes", integer=True)
    cv = np.full(n, np.nan)
    order = np.lexsort((times, indices))  # by neuron, then by time
    t, idx = times[order], indices[order]
    bounds = np.searchsorted(idx, np.arange(n + 1))
    for k in range(n):
        spikes = t[bounds[k]:bounds[k + 1]]
        if len(spikes) >= max(min_spikes, 2):
            isi = np.diff(spikes)
            cv[k] = np.std(isi) / np.mean(isi) if np.mean(isi) > 0 else np.nan
    return cv


def spike_counts(times, indices, n_neurons: int, edges) -> np.ndarray:
    """Spike counts of each neuron in the time bins ``edges`` (seconds, increasing), (N, len(edges) - 1)."""
    times, indices, n = _spikes(times, indices, n_neurons)
    edges = as_array(edges, "edges", ndim=1, dtype=float)
    if edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges: expected at least two increasing bin edges in seconds")
    counts, _, _ = np.histogram2d(indices, times, bins=[np.arange(n + 1) - 0.5, edges])
    return counts.astype(np.int64)


def fano_factor(counts, axis: int = -1) -> np.ndarray:
    """Fano factor var(count) / mean(count) along ``axis`` (time windows of one train, or trials).

    ``counts`` from :func:`spike_counts`, e.g. (N, n_windows) -> (N,); for the across-trial Fano factor stack
    each trial's counts in one window, (B, N), and use ``axis=0``. NaN where the mean count is 0.
    """
    counts = as_array(counts, "counts", dtype=float)
    mean = counts.mean(axis=axis)
    var = counts.var(axis=axis, ddof=1) if counts.shape[axis] > 1 else np.full_like(mean, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean > 0, var / np.where(mean > 0, mean, 1.0), np.nan)


def population_raster(times, indices, n_neurons: int, *, neurons=None, t_range=None, dale=None) -> dict:
    """What a raster plot draws: ``t`` (spike times) and ``row`` (the row of each spike), plus ``rows`` (the
    neuron on each row) and ``excitatory`` (per spike, when ``dale`` signs are given).

    neurons: the neurons to show, in row order (default all); t_range: (start, stop) seconds; dale: (N,) +1/-1
    signs; with it and no ``neurons``, excitatory neurons come first.
    """
    times, indices, n = _spikes(times, indices, n_neurons)
    if neurons is None:
        neurons = np.arange(n) if dale is None else np.argsort(-np.asarray(dale), kind="stable")
    neurons = as_array(neurons, "neurons", ndim=1).astype(np.int64)
    row_of = np.full(n, -1)
    row_of[neurons] = np.arange(len(neurons))
    keep = row_of[indices] >= 0
    if t_range is not None:
        keep &= (times >= t_range[0]) & (times < t_range[1])
    out = {"t": times[keep], "row": row_of[indices[keep]], "rows": neurons}
    if dale is not None:
        out["excitatory"] = np.asarray(dale)[indices[keep]] > 0
    return out


def compare_traces(rate, spiking, axis: int = -2) -> dict:
    """A rate unit's trace beside its spiking counterpart's filtered trace.

    rate and spiking: arrays of the same shape with time on ``axis``, e.g. the rate network's f(x) (B, T, N)
    and the spiking network's r / lam (B, T, N) (``Result.extras["filtered_rates"] / lam``). Returns per-trace Pearson
    ``correlation`` over time, ``rmse``, and ``nrmse`` (RMSE over the rate trace's standard deviation), each of
    the shape with ``axis`` removed, and their means over all traces.
    """
    a = as_array(rate, "rate", dtype=float)
    b = as_array(spiking, "spiking", dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"spiking: expected the rate traces' shape {a.shape}, got {b.shape}")
    da = a - a.mean(axis=axis, keepdims=True)
    db = b - b.mean(axis=axis, keepdims=True)
    sa, sb = np.sqrt((da**2).sum(axis=axis)), np.sqrt((db**2).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where((sa > 0) & (sb > 0), (da * db).sum(axis=axis) / (sa * sb), np.nan)
        rmse = np.sqrt(np.mean((a - b) ** 2, axis=axis))
        nrmse = np.where(a.std(axis=axis) > 0, rmse / a.std(axis=axis), np.nan)
    return {"correlation": corr, "rmse": rmse, "nrmse": nrmse, "mean_correlation": float(np.nanmean(corr)),
            "mean_rmse": float(np.mean(rmse))}
