"""Periodic targets: after a brief prompt that shows the pattern, keep generating it with no input.

The targets of Sussillo & Abbott (2009) Neuron 63:544 (FORCE learning, Fig. 2): a sum of four sines, a
triangle, a square wave, a sum of sixteen sines, and a noisy target that is trained noisy and tested clean.

Every task here shares one layout. With the fundamental period ``P`` (seconds), the pattern's phase at the end
of step k is ``phi_k = ((k + 1) dt / P + phi_0) mod 1`` (steps end at ``(k + 1) dt``, as in ``Trials.t``), with
``phi_0 ~ U(0, 1)`` per trial when ``random_phase`` (the default) and 0 otherwise. The target is
``f(phi_k) + noise * xi_k`` (``xi_k ~ N(0, 1)`` independent per step; ``info["clean_targets"]`` holds ``f``
alone, which is what a network trained on the noisy target is tested against). The single input channel
shows the target during the first ``cue`` seconds (the prompt that sets the phase) and is zero afterwards; the
mask scores every step after the prompt. A network without input weights (FORCE's reservoir) ignores the prompt.

The tasks know nothing about networks: the periods are seconds (Sussillo & Abbott's 120 tau with tau = 10 ms is
``period = 1.2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _fields
from .base import Task, Trials, register

__all__ = ["Periodic", "Sine", "FourSines", "NoisyFourSines", "Triangle", "Square", "SixteenSines"]

_SA = "Sussillo & Abbott (2009) Neuron 63:544, Fig. 2 (FORCE learning)"


@dataclass(frozen=True)
class Periodic(Task):
    """Base class of the periodic targets (not registered): subclasses define ``waveform(phi)`` on [0, 1).

    period: the fundamental period in seconds.  amplitude: the waveform's scale.  duration: the trial in seconds.
    cue: the prompt in seconds.  noise: the target noise's standard deviation.  random_phase: draw phi_0.
    """

    period: float = 1.2
    amplitude: float = 1.0
    duration: float = 2.4
    cue: float = 0.2
    noise: float = 0.0
    random_phase: bool = True

    kind = "regression"
    n_in = 1
    n_out = 1

    def __post_init__(self):
        super().__post_init__()
        _fields.duration(self, "period", min_steps=2)
        _fields.number(self, "amplitude", low=0.0, low_open=True)
        _fields.duration(self, "duration", min_steps=2)
        _fields.duration(self, "cue")
        _fields.number(self, "noise", low=0.0)
        if not isinstance(self.random_phase, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}.random_phase: expected True or False, got "
                            f"{type(self.random_phase).__name__} {self.random_phase!r}")
        if self.steps(self.cue, "cue") >= self.steps(self.duration):
            raise ValueError(f"{type(self).__name__}.cue: expected less than duration = {self.duration} s so that "
                             f"some steps are scored, got {self.cue} s")

    def waveform(self, phi: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """The clean target at phase ``phi`` in [0, 1) (fractions of the period)."""
        raise NotImplementedError

    def _sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        T, C = self.steps(self.duration), self.steps(self.cue, "cue")
        phi0 = rng.uniform(0.0, 1.0, size=n_trials) if self.random_phase else np.zeros(n_trials)  # (B,)
        t = (np.arange(T) + 1) * self.dt  # (T,)
        phi = np.mod(t[None, :] / self.period + phi0[:, None], 1.0)  # (B, T)
        clean = self.waveform(phi)[:, :, None]  # (B, T, 1)
        targets = clean + self.noise * rng.standard_normal(clean.shape) if self.noise else clean.copy()
        inputs = np.zeros((n_trials, T, 1))
        inputs[:, :C] = targets[:, :C]
        mask = np.ones((n_trials, T, 1))
        mask[:, :C] = 0.0
        info = {"task": self.name, "phase": phi0, "period": self.period, "clean_targets": clean}
        return Trials(inputs, targets, mask, self.dt, info)


@register
@dataclass(frozen=True)
class Sine(Periodic):
    """One sine, ``amplitude * sin(2 pi phi)``, at 5 Hz by default (Nicola & Clopath's spiking FORCE target)."""

    period: float = 0.2

    name = "sine"
    description = "after a prompt, keep generating a sine wave with no input"
    citation = "Nicola & Clopath (2017) Nature Communications 8:2208 (the 5 Hz sine); " + _SA

    def waveform(self, phi):
        return self.amplitude * np.sin(2 * np.pi * phi)


@register
@dataclass(frozen=True)
class FourSines(Periodic):
    """Sussillo & Abbott's sum of four sines with periods P, P/2, P/3, P/4 (120, 60, 40, 30 tau)::

        f = A (sin(2 pi phi) + sin(4 pi phi) / 2 + sin(6 pi phi) / 6 + sin(8 pi phi) / 3),   A = 1.3 / 1.5

    (amp = 1.3 and the division by 1.5 in their published code, ``force_external_feedback_loop.m``).
    """

    amplitude: float = 1.3 / 1.5

    name = "four_sines"
    description = "after a prompt, keep generating Sussillo & Abbott's sum of four sines with no input"
    citation = _SA
    weights = (1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 3.0)  # harmonics 1..4

    def waveform(self, phi):
        return self.amplitude * sum(w * np.sin(2 * np.pi * (k + 1) * phi) for k, w in enumerate(self.weights))


@register
@dataclass(frozen=True)
class NoisyFourSines(FourSines):
    """The four sines with target noise (std 0.1 by default): trained on the noisy target, tested against
    ``info["clean_targets"]`` (Sussillo & Abbott's noisy-target case)."""

    noise: float = 0.1

    name = "noisy_four_sines"
    description = "the four-sine target with additive noise: train on it noisy, test against the clean pattern"


@register
@dataclass(frozen=True)
class Triangle(Periodic):
    """A triangle wave between -A and A that starts at 0 rising: ``A (1 - 4 |((phi + 1/4) mod 1) - 1/2|)``."""

    period: float = 0.6

    name = "triangle"
    description = "after a prompt, keep generating a triangle wave with no input"
    citation = _SA

    def waveform(self, phi):
        return self.amplitude * (1.0 - 4.0 * np.abs(np.mod(phi + 0.25, 1.0) - 0.5))


@register
@dataclass(frozen=True)
class Square(Periodic):
    """A square wave: ``+A`` for phi < 1/2, ``-A`` after (a discontinuous target)."""

    period: float = 0.6

    name = "square"
    description = "after a prompt, keep generating a square wave with no input"
    citation = _SA

    def waveform(self, phi):
        return np.where(phi < 0.5, self.amplitude, -self.amplitude)


@register
@dataclass(frozen=True)
class SixteenSines(Periodic):
    """A sum of sixteen harmonics of the period P, with amplitudes and phases drawn once from ``pattern_seed``::

        f = A sum_k a_k sin(2 pi k phi + theta_k) / max|.|,  k = 1..16,  a_k ~ U(0.2, 1) / k^0.5, theta_k ~ U(0, 2 pi)

    normalised so that max |f| = A over a period. The pattern is fixed by ``pattern_seed`` (part of the task, not of
    a trial's draw). The 16 components are ours: Sussillo & Abbott do not list theirs.
    """

    period: float = 2.4
    pattern_seed: int = 0

    name = "sixteen_sines"
    description = "after a prompt, keep generating a fixed sum of sixteen harmonic sines with no input"
    citation = _SA

    def __post_init__(self):
        super().__post_init__()
        _fields.number(self, "pattern_seed", low=0, integer=True)

    def _components(self):
        rng = np.random.default_rng(self.pattern_seed)
        k = np.arange(1, 17)
        a = rng.uniform(0.2, 1.0, 16) / np.sqrt(k)
        theta = rng.uniform(0.0, 2 * np.pi, 16)
        grid = np.arange(4096) / 4096
        peak = np.max(np.abs(np.sin(2 * np.pi * k[:, None] * grid[None, :] + theta[:, None]).T @ a))
        return k, a / peak, theta

    def waveform(self, phi):
        k, a, theta = self._components()
        return self.amplitude * np.sin(2 * np.pi * k * phi[..., None] + theta) @ a
