"""Memory tasks: hold a value or a bit across time (delayed recall, the adding problem, the 3-bit flip-flop)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _fields
from .base import Task, Trials, register, regression_metrics

__all__ = ["DelayedRecall", "Adding", "FlipFlop"]


@register
@dataclass(frozen=True)
class DelayedRecall(Task):
    """Remember an analog value across a delay and reproduce it on a go cue.

    Periods, in order: ``fixation`` (no input), ``stimulus`` (channel 0 carries the value ``v ~ U(-1, 1)``),
    ``delay`` (no input; a fixed time or a ``(low, high)`` pair, drawn per trial uniformly over whole steps), and
    ``response`` (the go cue: channel 1 is 1 for the whole period; the target is ``v``). Trials with a shorter
    delay are padded at the end with unscored steps of zero input, so every trial in a batch has the same length.
    The mask scores the response period only: the target is 0 elsewhere but unscored, so the network is free to
    show the value at its output during the delay (scoring it as 0 would add a "withhold" task on top).

    The parametric working-memory paradigm of Romo et al. (1999) Nature 399:470, in its analog-recall form
    (e.g. Wang (2001) Trends Neurosci 24:455; neurogym's DelayMatchSample family; PsychRNN's delayed tasks).
    """

    fixation: float = 0.1
    stimulus: float = 0.2
    delay: float | tuple[float, float] = (0.5, 1.5)
    response: float = 0.5

    name = "delayed_recall"
    description = "hold a value in [-1, 1] across a delay and reproduce it when a go cue arrives"
    citation = "Romo et al. (1999) Nature 399:470; Wang (2001) Trends Neurosci 24:455"
    kind = "regression"
    n_in = 2
    n_out = 1

    def __post_init__(self):
        super().__post_init__()
        for field in ("fixation", "stimulus", "response"):
            _fields.duration(self, field)
        _fields.duration_or_range(self, "delay")

    def _sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        F, S, R = (self.steps(getattr(self, p), p) for p in ("fixation", "stimulus", "response"))
        lo, hi = self.delay if isinstance(self.delay, tuple) else (self.delay, self.delay)
        D_lo, D_hi = self.steps(lo, "delay"), self.steps(hi, "delay")
        value = rng.uniform(-1.0, 1.0, size=n_trials)  # (B,)
        D = rng.integers(D_lo, D_hi + 1, size=n_trials)  # (B,) delay in steps
        T = F + S + D_hi + R
        k = np.arange(T)[None, :]  # (1, T)
        onset = (F + S + D)[:, None]  # (B, 1) first response step
        responding = (k >= onset) & (k < onset + R)  # (B, T)
        inputs = np.zeros((n_trials, T, 2))
        inputs[:, F:F + S, 0] = value[:, None]
        inputs[..., 1] = responding
        targets = (responding * value[:, None])[..., None]  # (B, T, 1)
        mask = responding[..., None].astype(float)
        info = {"task": self.name, "value": value, "delay": D * self.dt, "response_onset": onset[:, 0]}
        return Trials(inputs, targets, mask, self.dt, info)


@register
@dataclass(frozen=True)
class Adding(Task):
    """The adding problem: output the sum of the two marked values of a long random sequence, at its end.

    Channel 0 carries values ``U(0, 1)`` at every step; channel 1 is 1 at two positions, one drawn uniformly in
    the first half of the sequence and one in the second half, and 0 elsewhere. The target is the sum of the two
    marked values at the last step only, and only that step is scored (the target is 0, unscored, elsewhere).
    The length is ``duration`` in seconds, rounded to steps: ``T = round(duration / dt)``, so the default is the
    classic T = 100 at dt = 0.01 s. Always predicting 1 gives MSE 1/6, NRMSE 1.

    Hochreiter & Schmidhuber (1997) Neural Computation 9:1735, Experiment 4, in the form of Le, Jaitly & Hinton
    (2015) arXiv:1504.00941 (values in [0, 1], target the plain sum).
    """

    duration: float = 1.0

    name = "adding"
    description = "output, at the end, the sum of the two marked values of a random sequence"
    citation = "Hochreiter & Schmidhuber (1997) Neural Computation 9:1735; Le et al. (2015) arXiv:1504.00941"
    kind = "regression"
    n_in = 2
    n_out = 1

    def __post_init__(self):
        super().__post_init__()
        _fields.duration(self, "duration", min_steps=2)

    def _sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        T = self.steps(self.duration, minimum=2)
        values = rng.uniform(0.0, 1.0, size=(n_trials, T))  # (B, T)
        first = rng.integers(0, T // 2, size=n_trials)  # (B,) in the first half
        second = rng.integers(T // 2, T, size=n_trials)  # (B,) in the second half
        b = np.arange(n_trials)
        markers = np.zeros((n_trials, T))
        markers[b, first] = 1.0
        markers[b, second] = 1.0
        inputs = np.stack([values, markers], axis=-1)  # (B, T, 2)
        total = values[b, first] + values[b, second]  # (B,)
        targets = np.zeros((n_trials, T, 1))
        targets[:, -1, 0] = total
        mask = np.zeros((n_trials, T, 1))
        mask[:, -1] = 1.0
        info = {"task": self.name, "positions": np.stack([first, second], axis=1), "sum": total}
        return Trials(inputs, targets, mask, self.dt, info)


@register
@dataclass(frozen=True)
class FlipFlop(Task):
    """The 3-bit flip-flop: each output holds the sign of the last pulse on its input channel.

    Each of the 3 input channels receives sparse pulses of height +1 or -1 (equally likely) lasting
    ``pulse_duration``. Onsets arrive as a Bernoulli process with probability ``pulse_rate * dt`` per step
    (``pulse_rate`` in Hz, so the statistics in seconds do not depend on dt), except during a pulse on the same
    channel, so pulses never overlap. Target channel i is the sign of the last pulse on input i, switching at the
    pulse onset and held until the next one. Before the first pulse on a channel its target is undefined: it is
    0 and masked out (unscored); every later step is scored. ``kind = "decision"``: accuracy is the fraction of
    scored entries where ``sign(output) == target``; MSE is reported too.

    Sussillo & Barak (2013) Neural Computation 25:626.
    """

    duration: float = 2.0
    pulse_rate: float = 2.0
    pulse_duration: float = 0.05

    name = "flip_flop"
    description = "3-bit flip-flop: each output holds the sign of the last +-1 pulse on its input"
    citation = "Sussillo & Barak (2013) Neural Computation 25:626"
    kind = "decision"
    n_in = 3
    n_out = 3

    def __post_init__(self):
        super().__post_init__()
        _fields.duration(self, "duration")
        _fields.duration(self, "pulse_duration")
        _fields.number(self, "pulse_rate", low=0.0, low_open=True)
        if self.pulse_rate * self.dt > 1:
            raise ValueError(f"FlipFlop.pulse_rate: expected at most 1 / dt = {1 / self.dt:g} Hz (one onset "
                             f"probability per step, pulse_rate * dt <= 1), got {self.pulse_rate} Hz")

    def _sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        T, P = self.steps(self.duration), self.steps(self.pulse_duration, "pulse_duration")
        shape = (n_trials, T, self.n_in)
        draw = rng.uniform(size=shape) < self.pulse_rate * self.dt  # (B, T, 3) candidate onsets
        sign = 2.0 * rng.integers(0, 2, size=shape) - 1.0  # (B, T, 3) their signs
        inputs = np.zeros(shape)
        targets = np.zeros(shape)
        free_at = np.zeros((n_trials, self.n_in), dtype=int)  # first step after the current pulse
        held = np.zeros((n_trials, self.n_in))  # sign of the last pulse, 0 before the first
        onsets = np.zeros(shape, dtype=bool)
        for k in range(T):
            start = draw[:, k] & (k >= free_at)  # (B, 3) no onset during a pulse
            onsets[:, k] = start
            free_at = np.where(start, k + P, free_at)
            held = np.where(start, sign[:, k], held)
            inputs[:, k] = np.where(k < free_at, held, 0.0)  # during a pulse `held` is its sign
            targets[:, k] = held
        mask = (targets != 0).astype(float)
        info = {"task": self.name, "n_pulses": onsets.sum(axis=1), "onsets": onsets}
        return Trials(inputs, targets, mask, self.dt, info)

    def _score(self, outputs: np.ndarray, trials: Trials) -> dict:
        m = trials.mask.astype(bool)
        correct = np.sign(outputs[m]) == trials.targets[m]
        return {"accuracy": float(np.mean(correct)), "mse": regression_metrics(outputs, trials)["mse"]}
