"""Prediction tasks: forecast a time series from its own past (a noisy sum of sines, the Mackey-Glass series).

Both are sequence-to-sequence: at step k the network has seen the whole window ``x_0 .. x_k`` (the Keras LSTM
regression example's "window of past values -> next value", for every window at once) and must output the value
``horizon`` ahead. Steps in the washout at the start of a trial, before the history is informative, are unscored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _fields
from .base import Task, Trials, register

__all__ = ["SinePrediction", "MackeyGlass", "mackey_glass_rhs", "integrate_mackey_glass", "hermite"]


@register
@dataclass(frozen=True)
class SinePrediction(Task):
    """Predict the next clean value of a noisy sum of sines from its history.

    The series is ``s(t) = sum_i a_i sin(2 pi f_i t + phi_i)`` with fixed frequencies ``f_i`` (Hz) and amplitudes
    ``a_i``, and phases ``phi_i`` drawn uniformly in [0, 2 pi) per trial. Input (B, T, 1) is the observed series
    ``x_k = s(k dt) + observation_noise * xi_k``, ``xi_k ~ N(0, 1)`` independent per step (observation noise,
    not a process noise: the sines themselves are clean). Target (B, T, 1) is the *clean* value ``horizon``
    ahead, ``s((k + h) dt)`` with ``h = round(horizon / dt)`` steps (one step when ``horizon`` is None). Because
    the target is clean, the best achievable error is not a noise floor: a network that filters the noise and
    extrapolates the phases can bring the NRMSE below ``observation_noise / std(s)`` (0.11 at the defaults),
    which is about where simply repeating the last observation lands (0.13). The mask scores every step after ``washout``.

    The shape of the Keras recurrent regression examples (a window of past values -> the next value), e.g.
    Chollet, *Deep Learning with Python* (2017), sec. 6.3, applied to the classic sum-of-sines series.
    """

    frequencies: tuple[float, ...] = (0.6, 1.3, 2.1)
    amplitudes: tuple[float, ...] = (0.5, 0.3, 0.2)
    observation_noise: float = 0.05  # std of the noise added to the inputs (the targets are clean)
    duration: float = 2.5
    washout: float = 0.5
    horizon: float | None = None

    name = "sine_prediction"
    description = "predict the next clean value of a noisy sum of sines from its history"
    citation = "Keras recurrent regression examples; Chollet, Deep Learning with Python (2017), sec. 6.3"
    kind = "regression"
    n_in = 1
    n_out = 1

    def __post_init__(self):
        super().__post_init__()
        _fields.numbers_tuple(self, "frequencies", low=0.0)
        _fields.numbers_tuple(self, "amplitudes", length=len(self.frequencies))
        _fields.number(self, "observation_noise", low=0.0)
        _fields.duration(self, "duration", min_steps=2)
        _fields.duration(self, "washout")
        if self.horizon is not None:
            _fields.duration(self, "horizon")
        if self.steps(self.washout) >= self.steps(self.duration):
            raise ValueError(f"SinePrediction.washout: expected less than duration = {self.duration} s so that "
                             f"some steps are scored, got {self.washout} s")

    @property
    def horizon_steps(self) -> int:
        return 1 if self.horizon is None else self.steps(self.horizon, "horizon")

    def _sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        T, H = self.steps(self.duration), self.horizon_steps
        f = np.asarray(self.frequencies)  # (K,)
        a = np.asarray(self.amplitudes)  # (K,)
        phase = rng.uniform(0.0, 2 * np.pi, size=(n_trials, 1, len(f)))  # (B, 1, K)
        xi = rng.standard_normal((n_trials, T, 1))  # (B, T, 1)

        def clean(k):  # s(k dt) for steps k, (B, len(k))
            t = np.asarray(k, dtype=float)[None, :, None] * self.dt  # (1, T, 1)
            return np.sum(a * np.sin(2 * np.pi * f * t + phase), axis=-1)  # (B, T)

        k = np.arange(T)
        s = clean(k)  # (B, T)
        inputs = s[..., None] + self.observation_noise * xi  # (B, T, 1)
        targets = clean(k + H)[..., None]  # (B, T, 1)
        mask = np.zeros((n_trials, T, 1))
        mask[:, self.steps(self.washout):] = 1.0
        info = {"task": self.name, "phase": phase[:, 0, :], "clean": s, "horizon_steps": H}
        return Trials(inputs, targets, mask, self.dt, info)


# --- Mackey-Glass -----------------------------------------------------------------------------------------------

#: The attractor of the default Mackey-Glass system (delay 17) spans about [0.42, 1.32]; the task maps it onto
#: [-1, 1] with z = (x - MG_CENTER) / MG_SCALE, so that it suits tanh units and a linear readout.
MG_CENTER = 0.87
MG_SCALE = 0.45


def mackey_glass_rhs(x, x_delayed, beta=0.2, gamma=0.1, exponent=10.0):
    """dx/dt = beta x(t - delay) / (1 + x(t - delay)^n) - gamma x(t)."""
    return beta * x_delayed / (1.0 + x_delayed**exponent) - gamma * x


def hermite(x0, d0, x1, d1, s, h):
    """Cubic Hermite interpolation between (x0, slope d0) and (x1, slope d1) at fraction s of a step h."""
    s2, s3 = s * s, s * s * s
    return ((2 * s3 - 3 * s2 + 1) * x0 + (s3 - 2 * s2 + s) * h * d0
            + (-2 * s3 + 3 * s2) * x1 + (s3 - s2) * h * d1)


def integrate_mackey_glass(x0, t_end: float, h: float, delay: float = 17.0, beta: float = 0.2,
                           gamma: float = 0.1, exponent: float = 10.0):
    """Integrate the Mackey-Glass delay equation from a constant history ``x(t) = x0`` for t <= 0.

    Classical RK4 with step ``h`` (``delay / h`` must be a whole number, so the delayed points of the RK stages
    fall on the grid or half-way between grid points, and the breaking points t = delay, 2 delay, ... of the
    solution's derivatives fall on the grid). The delayed value at a half step is the cubic Hermite interpolant
    of the stored values and slopes, which is O(h^4) accurate, so the scheme keeps RK4's global order 4
    (linear interpolation there would cut it to order 2). ``x0`` is (B,): one history per trial.

    Returns ``(x, slope)``, both (n + 1, B): the solution and its slope at t = 0, h, ..., n h >= t_end
    (the slope at t = 0 is the right-hand one).
    """
    x0 = np.asarray(x0, dtype=float)
    m = int(round(delay / h))
    if m < 1 or abs(m * h - delay) > 1e-9 * delay:
        raise ValueError(f"integrate_mackey_glass h: expected delay / h to be a whole number, got "
                         f"delay = {delay}, h = {h}; use h = delay / {max(1, m)}")
    n = int(np.ceil(t_end / h - 1e-9))
    feedback = lambda xd: beta * xd / (1.0 + xd**exponent)  # noqa: E731  the delayed term
    x = np.empty((m + n + 1,) + x0.shape)  # index i is time (i - m) h: the history first, then the solution
    g = np.empty_like(x)  # feedback(x) at every grid point
    slope = np.zeros_like(x)  # dx/dt at every grid point: 0 on the constant history
    x[: m + 1], g[: m + 1] = x0, feedback(x0)
    slope[m] = g[0] - gamma * x0  # the slope just after t = 0 (just before it, on the history, it is 0)
    for i in range(m, m + n):
        j = i - m  # grid index of t - delay
        right_slope = 0.0 if j + 1 == m else slope[j + 1]  # the interval ending at t = 0 lies in the history
        g_half = feedback(0.5 * (x[j] + x[j + 1]) + h / 8 * (slope[j] - right_slope))  # Hermite, t + h/2 - delay
        k1 = slope[i]
        k2 = g_half - gamma * (x[i] + 0.5 * h * k1)
        k3 = g_half - gamma * (x[i] + 0.5 * h * k2)
        k4 = g[j + 1] - gamma * (x[i] + h * k3)
        x[i + 1] = x[i] + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        g[i + 1] = feedback(x[i + 1])
        slope[i + 1] = g[i + 1 - m] - gamma * x[i + 1]
    return x[m:], slope[m:]


@register
@dataclass(frozen=True)
class MackeyGlass(Task):
    """Forecast the chaotic Mackey-Glass series ``horizon`` seconds (rounded to steps) ahead.

    ``dx/dt = beta x(t - delay) / (1 + x(t - delay)^exponent) - gamma x(t)`` with the classic chaotic settings
    delay = 17, beta = 0.2, gamma = 0.1, exponent = 10 (Mackey & Glass 1977), in its own time units. One second of
    task time is ``time_scale`` Mackey-Glass time units, so at the default dt = 0.01 s a step is one time unit.

    Each trial starts from a constant history ``x0 ~ U(0.5, 1.3)``, is integrated by
    :func:`integrate_mackey_glass` (RK4, step ``integration_step`` time units, delayed term by cubic Hermite
    interpolation) and read out at a start time drawn uniformly in [transient, 2 transient), which discards the
    transient and decorrelates the trials; between grid points the series is Hermite-interpolated. The series is
    normalised with fixed constants (not per batch): ``z = (x - 0.87) / 0.45`` maps the attractor's range
    [0.42, 1.32] onto [-1, 1]. Input (B, T, 1) is ``z`` at step k, target (B, T, 1) is ``z`` at step ``k + h``,
    ``h = round(horizon / dt)``, so the target is the input ``h`` steps later. Steps in ``washout`` are unscored.

    Mackey & Glass (1977) Science 197:287; the forecasting benchmark of Lapedes & Farber (1987) and
    Jaeger & Haas (2004) Science 304:78.
    """

    duration: float = 2.5
    washout: float = 0.5
    horizon: float = 0.05
    time_scale: float = 100.0
    delay: float = 17.0
    beta: float = 0.2
    gamma: float = 0.1
    exponent: float = 10.0
    integration_step: float = 0.25
    transient: float = 100.0

    name = "mackey_glass"
    description = "forecast the chaotic Mackey-Glass series (delay 17) a few steps ahead"
    citation = "Mackey & Glass (1977) Science 197:287; Jaeger & Haas (2004) Science 304:78"
    kind = "regression"
    n_in = 1
    n_out = 1

    def __post_init__(self):
        super().__post_init__()
        _fields.duration(self, "duration", min_steps=2)
        _fields.duration(self, "washout")
        _fields.duration(self, "horizon")
        for field in ("time_scale", "delay", "beta", "gamma", "exponent", "integration_step"):
            _fields.number(self, field, low=0.0, low_open=True)
        _fields.number(self, "transient", low=0.0)
        m = round(self.delay / self.integration_step)
        if m < 1 or abs(m * self.integration_step - self.delay) > 1e-9 * self.delay:
            raise ValueError(f"MackeyGlass.integration_step: expected delay / integration_step to be a whole "
                             f"number (delay = {self.delay}), got {self.integration_step}; "
                             f"use {self.delay / max(1, m)}")
        if self.steps(self.washout) >= self.steps(self.duration):
            raise ValueError(f"MackeyGlass.washout: expected less than duration = {self.duration} s so that "
                             f"some steps are scored, got {self.washout} s")

    def _sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        T, H = self.steps(self.duration), self.steps(self.horizon, "horizon")
        h = self.integration_step
        step = self.dt * self.time_scale  # Mackey-Glass time units per task step
        x0 = rng.uniform(0.5, 1.3, size=n_trials)  # (B,) constant initial histories
        start = self.transient * (1.0 + rng.uniform(size=n_trials))  # (B,) in [transient, 2 transient)
        t_read = start[:, None] + step * np.arange(T + H)[None, :]  # (B, T + H) read-out times
        x, slope = integrate_mackey_glass(x0, float(t_read.max()) + h, h, self.delay, self.beta, self.gamma,
                                          self.exponent)  # (n + 1, B)
        pos = t_read / h
        i = np.minimum(np.floor(pos).astype(int), x.shape[0] - 2)  # (B, T + H) grid interval
        s = pos - i
        b = np.arange(n_trials)[:, None]
        series = hermite(x[i, b], slope[i, b], x[i + 1, b], slope[i + 1, b], s, h)  # (B, T + H)
        z = (series - MG_CENTER) / MG_SCALE
        mask = np.zeros((n_trials, T, 1))
        mask[:, self.steps(self.washout):] = 1.0
        info = {"task": self.name, "x0": x0, "start": start, "series": series, "horizon_steps": H,
                "center": MG_CENTER, "scale": MG_SCALE}
        return Trials(z[:, :T, None], z[:, H:, None], mask, self.dt, info)
