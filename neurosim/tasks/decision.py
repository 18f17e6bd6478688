"""Decision tasks: integrate noisy evidence and report a categorical choice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _fields
from .base import Task, Trials, register, regression_metrics

__all__ = ["PerceptualDecision"]


@register
@dataclass(frozen=True)
class PerceptualDecision(Task):
    """Two-alternative forced choice on noisy evidence (random-dot motion discrimination).

    Periods, in order: ``fixation``, ``stimulus``, ``delay`` (may be 0) and ``decision``. Inputs (B, T, 3):
    channel 0 is the fixation cue, 1 until the decision period and 0 during it (its offset is the go signal);
    channels 1 and 2 carry the evidence for choices 0 and 1 during the stimulus period only. Each trial draws a
    coherence ``c`` from ``coherences`` and a correct choice uniformly from {0, 1}; the evidence for the correct
    choice has mean ``(1 + c) / 2``, the other ``(1 - c) / 2``. At ``c = 0`` both means are 1/2 and the "correct"
    choice is a fair coin: such trials measure the bias and count at chance.

    Noise: ``evidence_noise`` is the density of a continuous-time white noise, in 1/sqrt(s). Its mean over a step of
    length dt has standard deviation ``evidence_noise / sqrt(dt)`` (0.5 per step at the defaults), independent per step
    and channel, so the evidence integrated over the stimulus, ``sum_k u_k dt``, carries the same information at
    any dt. This is neurogym's convention (``sigma / sqrt(dt)`` with dt in ms: neurogym's sigma = 1 is
    1/sqrt(1000) = 0.0316 here).

    Outputs (B, T, 2): the target is 1 on the chosen channel and 0 on the other during the decision period, and 0
    on both before it. Every step is scored (PsychRNN's and neurogym's convention: the network must also
    withhold its answer until the go signal). ``kind = "decision"``: ``accuracy`` is the fraction of trials where
    the argmax of the mean output over the decision period is the correct choice; ``accuracy_c<c>`` gives it
    per coherence (e.g. ``accuracy_c0.512``), ``accuracy_max_coherence`` at the highest coherence in the trials,
    and ``mse`` the masked mean squared error.

    Britten et al. (1992) J Neurosci 12:4745; Roitman & Shadlen (2002) J Neurosci 22:9475; as neurogym's
    PerceptualDecisionMaking (Molano-Mazon et al. 2022, arXiv:2209.13722).
    """

    fixation: float = 0.1
    stimulus: float = 0.8
    delay: float = 0.1
    decision: float = 0.2
    coherences: tuple[float, ...] = (0.0, 0.032, 0.064, 0.128, 0.256, 0.512)
    evidence_noise: float = 0.05  # white-noise density of the evidence, 1/sqrt(s) (not the network's sigma)

    name = "perceptual_decision"
    description = "two-alternative forced choice on noisy evidence (random-dot motion), answer after a delay"
    citation = "Britten et al. (1992) J Neurosci 12:4745; Roitman & Shadlen (2002) J Neurosci 22:9475; neurogym"
    kind = "decision"
    n_in = 3
    n_out = 2

    def __post_init__(self):
        super().__post_init__()
        for field in ("fixation", "stimulus", "decision"):
            _fields.duration(self, field)
        _fields.duration(self, "delay", allow_zero=True)
        _fields.numbers_tuple(self, "coherences", low=0.0, high=1.0)
        _fields.number(self, "evidence_noise", low=0.0)

    def _sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        F, S = self.steps(self.fixation, "fixation"), self.steps(self.stimulus, "stimulus")
        D = self.steps(self.delay, "delay") if self.delay > 0 else 0
        R = self.steps(self.decision, "decision")
        T = F + S + D + R
        coherence = rng.choice(np.asarray(self.coherences), size=n_trials)  # (B,)
        choice = rng.integers(0, 2, size=n_trials)  # (B,) correct choice, 0 or 1
        b = np.arange(n_trials)
        means = np.empty((n_trials, 2))
        means[b, choice] = (1 + coherence) / 2
        means[b, 1 - choice] = (1 - coherence) / 2
        noise = rng.standard_normal((n_trials, S, 2)) * self.evidence_noise / np.sqrt(self.dt)  # (B, S, 2)
        inputs = np.zeros((n_trials, T, 3))
        inputs[:, : F + S + D, 0] = 1.0
        inputs[:, F:F + S, 1:] = means[:, None, :] + noise
        targets = np.zeros((n_trials, T, 2))
        targets[b, F + S + D:, choice] = 1.0
        mask = np.ones((n_trials, T, 2))
        info = {"task": self.name, "coherence": coherence, "choice": choice, "evidence_mean": means,
                "decision_onset": np.full(n_trials, F + S + D)}
        return Trials(inputs, targets, mask, self.dt, info)

    def _score(self, outputs: np.ndarray, trials: Trials) -> dict:
        for key in ("coherence", "choice", "decision_onset"):
            if key not in trials.info:
                raise ValueError(f"perceptual_decision.score: trials.info lacks {key!r}; score trials sampled "
                                 "from this task (or give info coherence, choice and decision_onset per trial)")
        choice = np.asarray(trials.info["choice"])
        coherence = np.asarray(trials.info["coherence"])
        onset = np.asarray(trials.info["decision_onset"])
        decision = np.arange(trials.n_steps)[None, :] >= onset[:, None]  # (B, T)
        mean_out = (outputs * decision[..., None]).sum(axis=1) / decision.sum(axis=1)[:, None]  # (B, 2)
        correct = np.argmax(mean_out, axis=1) == choice  # (B,)
        scores = {"accuracy": float(np.mean(correct)), "mse": regression_metrics(outputs, trials)["mse"]}
        for c in np.unique(coherence):
            scores[f"accuracy_c{c:g}"] = float(np.mean(correct[coherence == c]))
        scores["accuracy_max_coherence"] = float(np.mean(correct[coherence == coherence.max()]))
        return scores
