"""Generation tasks: after a brief cue, produce a pattern autonomously, with no further input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _fields
from .base import Task, Trials, register

__all__ = ["SineGeneration"]


@register
@dataclass(frozen=True)
class SineGeneration(Task):
    """Generate a sine wave whose frequency was set by the amplitude of a brief cue.

    Each trial draws a frequency ``f ~ U(frequency_range)`` (Hz). The cue, on the single input channel for
    ``cue`` seconds, has the amplitude that maps ``f`` linearly from ``frequency_range`` onto ``cue_range``
    (the lowest frequency gets ``cue_range[0]``, the highest ``cue_range[1]``). Then the input is zero for the
    ``duration`` of the generation period and the target is ``sin(2 pi f t')``, with ``t' = (j + 1) dt`` the
    time since cue offset at the end of generation step j (steps end at ``(k + 1) dt``, as in ``Trials.t``), so
    the wave starts from zero phase at cue offset. The mask scores the generation period only; the target is
    0 (unscored) during the cue.

    The sine-wave generator of Sussillo & Barak (2013) Neural Computation 25:626, with the frequency set by a
    brief cue rather than a sustained input, so that the network must hold it in its own dynamics.
    """

    cue: float = 0.1
    duration: float = 2.0
    frequency_range: tuple[float, float] = (1.0, 3.0)
    cue_range: tuple[float, float] = (0.2, 1.0)

    name = "sine_generation"
    description = "after a brief cue whose amplitude sets the frequency, generate that sine with no input"
    citation = "Sussillo & Barak (2013) Neural Computation 25:626 (sine-wave generator)"
    kind = "regression"
    n_in = 1
    n_out = 1

    def __post_init__(self):
        super().__post_init__()
        _fields.duration(self, "cue")
        _fields.duration(self, "duration", min_steps=2)
        _fields.number_range(self, "frequency_range", low=0.0, strict=False)
        if self.frequency_range[0] <= 0:
            raise ValueError(f"SineGeneration.frequency_range: expected positive frequencies in Hz, "
                             f"got {self.frequency_range}")
        _fields.number_range(self, "cue_range", strict=self.frequency_range[0] < self.frequency_range[1])

    def cue_amplitude(self, frequency):
        """The cue amplitude that selects ``frequency`` (Hz): the linear map frequency_range -> cue_range."""
        (f0, f1), (a0, a1) = self.frequency_range, self.cue_range
        f = np.asarray(frequency, dtype=float)
        frac = (f - f0) / (f1 - f0) if f1 > f0 else np.zeros_like(f)  # one frequency: one cue, cue_range[0]
        return a0 + frac * (a1 - a0)

    def _sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        C, G = self.steps(self.cue, "cue"), self.steps(self.duration)
        freq = rng.uniform(*self.frequency_range, size=n_trials)  # (B,)
        inputs = np.zeros((n_trials, C + G, 1))
        inputs[:, :C, 0] = self.cue_amplitude(freq)[:, None]
        t_since_cue = (np.arange(G) + 1) * self.dt  # (G,)
        targets = np.zeros((n_trials, C + G, 1))
        targets[:, C:, 0] = np.sin(2 * np.pi * freq[:, None] * t_since_cue[None, :])  # (B, G)
        mask = np.zeros((n_trials, C + G, 1))
        mask[:, C:] = 1.0
        info = {"task": self.name, "frequency": freq, "cue_amplitude": self.cue_amplitude(freq)}
        return Trials(inputs, targets, mask, self.dt, info)
