"""Metrics for generated signals, defined once: errors, lag-tolerant correlation, spectra, and FORCE's success.

A signal is (T,) or (T, n) (time first, n channels sharing one lag); ``output`` and ``target`` have the same
shape. For a free-running generator a small phase lag is not a failure, so the lag-aware metrics search lags
``l`` in ``[-max_lag, max_lag]`` steps and compare ``output[t + l]`` with ``target[t]`` on the overlap.

    nrmse        sqrt(mean((y - f)^2)) / std(f)                              (as in ``tasks.regression_metrics``)
    mae          mean |y - f|
    best_lag_correlation   max over lags of the Pearson correlation of y[t + l] and f[t]
    aligned_nrmse          min over lags of the NRMSE of y[t + l] against f[t] (the window-aligned NRMSE)
    peak_frequency         the frequency (Hz) of the largest non-DC peak of |FFT(y - mean y)|, zero-padded
    amplitude_ratio        std(y) / std(f)  (RMS amplitudes about the means)

``force_success``: the lag-tolerant correlation >= 0.95 and the NRMSE <= 0.1 over the first two target periods
of free running, lags within +-1/6 of the period (issue 10's definition of "Sussillo & Abbott succeeded").
"""

from __future__ import annotations

import numpy as np

from .._validate import as_array, check_finite, check_positive

__all__ = ["nrmse", "mae", "best_lag_correlation", "aligned_nrmse", "peak_frequency", "amplitude_ratio",
           "lag_steps", "force_success", "SUCCESS_CORRELATION", "SUCCESS_NRMSE", "SUCCESS_PERIODS", "LAG_FRACTION"]

SUCCESS_CORRELATION = 0.95  # issue 10: lag-tolerant correlation >= 0.95 ...
SUCCESS_NRMSE = 0.1  # ... and NRMSE <= 0.1 ...
SUCCESS_PERIODS = 2  # ... over the first two target periods of free running
LAG_FRACTION = 1 / 6  # lags searched within +-1/6 of the target period


def _pair(output, target, name: str):
    y = check_finite(as_array(output, f"{name} output", dtype=float), f"{name} output")
    f = check_finite(as_array(target, f"{name} target", dtype=float), f"{name} target")
    if y.shape != f.shape or y.ndim not in (1, 2) or y.shape[0] < 2:
        raise ValueError(f"{name}: expected output and target of one shape (T,) or (T, n) with T >= 2, got "
                         f"{y.shape} and {f.shape}")
    return (y[:, None], f[:, None]) if y.ndim == 1 else (y, f)


def _std(f: np.ndarray, name: str) -> float:
    s = float(np.std(f))
    if s == 0:
        raise ValueError(f"{name}: the target is constant (std 0), so a normalised error is undefined")
    return s


def nrmse(output, target) -> float:
    """RMSE over the target's standard deviation (all channels and steps together)."""
    y, f = _pair(output, target, "nrmse")
    return float(np.sqrt(np.mean((y - f) ** 2)) / _std(f, "nrmse"))


def mae(output, target) -> float:
    """Mean absolute error."""
    y, f = _pair(output, target, "mae")
    return float(np.mean(np.abs(y - f)))


def _overlap(y, f, lag: int):
    """output[t + lag] and target[t] on the steps where both exist."""
    T = len(f)
    return (y[lag:], f[:T - lag]) if lag >= 0 else (y[:T + lag], f[-lag:])


def _lags(max_lag, T: int, name: str) -> range:
    max_lag = check_positive(max_lag, f"{name} max_lag", integer=True, allow_zero=True)
    if max_lag >= T - 1:
        raise ValueError(f"{name}: max_lag = {max_lag} steps leaves no overlap of two steps in T = {T}; use a "
                         "smaller max_lag or a longer signal")
    return range(-max_lag, max_lag + 1)


def best_lag_correlation(output, target, max_lag: int = 0) -> tuple[float, int]:
    """(correlation, lag): the largest Pearson correlation of output[t + lag] with target[t], |lag| <= max_lag."""
    y, f = _pair(output, target, "best_lag_correlation")
    best = (-np.inf, 0)
    for lag in _lags(max_lag, len(f), "best_lag_correlation"):
        a, b = _overlap(y, f, lag)
        a, b = a - a.mean(axis=0), b - b.mean(axis=0)
        den = np.sqrt(np.sum(a * a) * np.sum(b * b))
        c = float(np.sum(a * b) / den) if den > 0 else 0.0
        if c > best[0]:
            best = (c, lag)
    return best


def aligned_nrmse(output, target, max_lag: int = 0) -> tuple[float, int]:
    """(nrmse, lag): the smallest NRMSE of output[t + lag] against target[t], |lag| <= max_lag."""
    y, f = _pair(output, target, "aligned_nrmse")
    best = (np.inf, 0)
    for lag in _lags(max_lag, len(f), "aligned_nrmse"):
        a, b = _overlap(y, f, lag)
        e = float(np.sqrt(np.mean((a - b) ** 2)) / _std(b, "aligned_nrmse"))
        if e < best[0]:
            best = (e, lag)
    return best


def peak_frequency(signal, dt: float, *, pad: int = 16) -> float:
    """The frequency (Hz) of the largest non-DC peak of |FFT| of the mean-removed (T,) signal, zero-padded to
    ``pad`` times its length (bins of 1 / (pad T dt) Hz)."""
    x = check_finite(as_array(signal, "peak_frequency signal", ndim=1, dtype=float), "peak_frequency signal")
    dt = check_positive(dt, "peak_frequency dt")
    n = pad * len(x)
    spectrum = np.abs(np.fft.rfft(x - x.mean(), n=n))
    spectrum[0] = 0.0
    return float(np.fft.rfftfreq(n, dt)[np.argmax(spectrum)])


def amplitude_ratio(output, target) -> float:
    """std(output) / std(target): RMS amplitudes about the means."""
    y, f = _pair(output, target, "amplitude_ratio")
    return float(np.std(y) / _std(f, "amplitude_ratio"))


def lag_steps(period: float, dt: float, fraction: float = LAG_FRACTION) -> int:
    """The lag tolerance in steps: round(fraction * period / dt)."""
    return int(round(fraction * check_positive(period, "period") / check_positive(dt, "dt")))


def force_success(output, target, *, period: float, dt: float, periods: int = SUCCESS_PERIODS,
                  min_correlation: float = SUCCESS_CORRELATION, max_nrmse: float = SUCCESS_NRMSE) -> dict:
    """Did free running reproduce the target? Over the first ``periods`` target periods of (T,) or (T, n)
    output and target (free running from step 0): the lag-tolerant correlation (lags within +-period / 6) and
    the plain NRMSE. Returns a dict with ``corr``, ``lag`` (steps), ``nrmse``, ``mae``, ``window`` (steps) and
    ``success`` = corr >= min_correlation and nrmse <= max_nrmse."""
    window = int(round(periods * check_positive(period, "force_success period") / check_positive(dt, "dt")))
    y, f = _pair(output, target, "force_success")
    if len(f) < window:
        raise ValueError(f"force_success: expected at least {periods} periods = {window} steps of free running, "
                         f"got {len(f)}")
    y, f = y[:window], f[:window]
    corr, lag = best_lag_correlation(y, f, lag_steps(period, dt))
    err = nrmse(y, f)
    return {"corr": corr, "lag": lag, "nrmse": err, "mae": mae(y, f), "window": window,
            "success": bool(corr >= min_correlation and err <= max_nrmse)}
