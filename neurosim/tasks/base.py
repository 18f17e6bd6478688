"""Trials, the Task base class, the task registry and the shared metrics.

A task is a small frozen dataclass (neurogym's one-class-per-task, PsychRNN's output mask). It knows its own
timing, in seconds, and nothing about networks or substrates: no ``tau``, no hidden size, no batch size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .._validate import as_array, as_rng, as_seconds, check_binary, check_finite, check_positive, check_shape

__all__ = ["Trials", "Task", "register", "names", "make", "get", "regression_metrics", "describe", "primary_metric"]

LOWER_IS_BETTER = ("mse", "nrmse", "loss")


def primary_metric(task: "Task | None", metric: str | None = None) -> tuple[str, bool]:
    """(name, higher_is_better) of the metric to optimise: ``metric`` if given, else accuracy for decision
    tasks and NRMSE for regression tasks (the loss when there is no task)."""
    if metric is not None:
        return metric, metric not in LOWER_IS_BETTER
    if task is None:
        return "loss", False
    return ("accuracy", True) if task.kind == "decision" else ("nrmse", False)


def _own(info: dict) -> dict:
    """``info`` with every array copied, so that Trials never alias the caller's arrays."""
    return {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in info.items()}


@dataclass(frozen=True, eq=False)
class Trials:
    """A batch of trials, batch first.

    inputs  (B, T, n_in)   what the network receives at each step
    targets (B, T, n_out)  what it should output
    mask    (B, T, n_out)  1 where the step is scored, 0 elsewhere
    dt      float          seconds per step
    info    dict           per-trial labels (arrays of length B) and task settings
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    dt: float
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        # copies: editing the caller's arrays afterwards must not change these trials
        arr = lambda k: check_finite(as_array(getattr(self, k), f"Trials.{k}", ndim=3, dtype=float, copy=True,  # noqa
                                              min_size=True), f"Trials.{k}")
        u, y = arr("inputs"), arr("targets")
        B, T, _ = u.shape
        check_shape(y, (B, T, None), "Trials.targets", "targets must have the inputs' batch and time axes")
        m = arr("mask")
        check_shape(m, y.shape, "Trials.mask", "the mask has one entry per target")
        check_binary(m, "Trials.mask")
        object.__setattr__(self, "inputs", u)
        object.__setattr__(self, "targets", y)
        object.__setattr__(self, "mask", m)
        object.__setattr__(self, "dt", as_seconds(self.dt, "Trials.dt"))
        if not isinstance(self.info, dict):
            raise TypeError(f"Trials.info: expected a dict, got {type(self.info).__name__}")
        object.__setattr__(self, "info", _own(self.info))

    n_trials = property(lambda self: self.inputs.shape[0])
    n_steps = property(lambda self: self.inputs.shape[1])
    n_in = property(lambda self: self.inputs.shape[2])
    n_out = property(lambda self: self.targets.shape[2])

    @property
    def t(self) -> np.ndarray:
        """Time of each step in seconds, (T,): step k ends at (k + 1) * dt."""
        return (np.arange(self.n_steps) + 1) * self.dt

    def __len__(self) -> int:
        return self.n_trials

    def __getitem__(self, idx) -> "Trials":
        """Select trials (an int, slice or index array); per-trial info arrays are selected alike.

        An int past the end is an IndexError (so ``for trial in trials`` ends); a selection of no trials is a
        ValueError naming the index.
        """
        B = self.n_trials
        if isinstance(idx, (int, np.integer)) and not isinstance(idx, bool):
            if not -B <= idx < B:
                raise IndexError(f"Trials[{idx}]: index out of range for a batch of {B} trials")
            idx = slice(int(idx) % B, int(idx) % B + 1)
        elif isinstance(idx, bool) or not isinstance(idx, (slice, list, tuple, np.ndarray)):
            raise TypeError(f"Trials[...]: expected an int, a slice or an index array, got {type(idx).__name__} "
                            f"{idx!r}")
        else:
            probe = np.arange(B)[idx]  # IndexError for out-of-range arrays, as numpy says it
            if probe.size == 0:
                raise ValueError(f"Trials[{idx!r}]: the selection holds no trials (the batch has {B}); select at "
                                 f"least one, e.g. trials[0:{min(B, 1)}]")
        info = {k: (v[idx] if isinstance(v, np.ndarray) and v.ndim >= 1 and len(v) == B else v)
                for k, v in self.info.items()}
        # a selection of validated trials is valid: built without __post_init__'s checks (a training step's
        # minibatch would pay them every step), each array its own copy as __post_init__ would make it
        sub = object.__new__(Trials)
        for k in ("inputs", "targets", "mask"):
            a = getattr(self, k)
            picked = a[idx]
            object.__setattr__(sub, k, picked.copy() if np.may_share_memory(picked, a) else picked)
        object.__setattr__(sub, "dt", self.dt)
        object.__setattr__(sub, "info", _own(info))
        return sub


def regression_metrics(outputs: np.ndarray, trials: Trials) -> dict:
    """MSE, NRMSE (RMSE over the targets' standard deviation) and R^2 over the scored entries."""
    m = trials.mask.astype(bool)
    if not m.any():
        raise ValueError("Trials.mask: no entry is scored (the mask is all zero), so there is nothing to score")
    err = (outputs - trials.targets)[m]
    tgt = trials.targets[m]
    mse = float(np.mean(err**2))
    var = float(np.var(tgt))
    return {
        "mse": mse,
        "nrmse": float(np.sqrt(mse / var)) if var > 0 else float("inf"),
        "r2": 1.0 - mse / var if var > 0 else float("-inf"),
    }


@dataclass(frozen=True)
class Task:
    """Base class. Subclasses set ``name``, ``description``, ``n_in``, ``n_out`` and implement ``_sample``.

    Times are in seconds and are rounded to whole steps of ``dt`` by :meth:`steps`.
    """

    dt: float = 0.01

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    kind: ClassVar[str] = "regression"  # "regression" scores MSE/NRMSE/R^2; "decision" adds accuracy
    n_in: ClassVar[int] = 0
    n_out: ClassVar[int] = 0

    def __post_init__(self):
        object.__setattr__(self, "dt", as_seconds(self.dt, f"{type(self).__name__}.dt"))
        for f in dataclasses.fields(self):  # lists (e.g. from TOML) become tuples: tasks stay hashable
            if isinstance(getattr(self, f.name), list):
                object.__setattr__(self, f.name, tuple(getattr(self, f.name)))

    def steps(self, seconds: float, name: str = "duration", minimum: int = 1) -> int:
        """Round a duration in seconds to the nearest whole number of steps of dt (at least ``minimum``).

        Halves round up, and a relative tolerance of 1e-9 absorbs float error (0.3 / 0.1 is 2.9999999999999996,
        which is 3 steps).
        """
        n = int(np.floor(float(seconds) / self.dt + 0.5 + 1e-9))
        if n < minimum:
            raise ValueError(
                f"{type(self).__name__}.{name}: {seconds} s is {n} steps of dt = {self.dt} s, need at least "
                f"{minimum}; use a smaller dt or a longer {name}"
            )
        return n

    def sample(self, n_trials: int, rng=None) -> Trials:
        """Draw ``n_trials`` trials from ``rng``, which is required (an int seed or a numpy Generator).

        The same seed gives the same trials; a Generator advances, so two calls with one Generator give two
        different batches. There is no default: a default seed would silently repeat the same trials on every
        call, and fresh entropy would make runs irreproducible.
        """
        if rng is None:
            raise TypeError(f"{type(self).__name__}.sample: pass rng= (an int seed or a numpy Generator); the same "
                            "seed gives the same trials, so use a new seed or one Generator for fresh trials")
        n_trials = check_positive(n_trials, f"{type(self).__name__}.sample n_trials", integer=True)
        trials = self._sample(n_trials, as_rng(rng))
        check_shape(trials.inputs, (n_trials, None, self.n_in), f"{self.name}.inputs")
        check_shape(trials.targets, (n_trials, None, self.n_out), f"{self.name}.targets")
        check_shape(trials.mask, trials.targets.shape, f"{self.name}.mask")
        if trials.dt != self.dt:
            raise ValueError(f"{self.name}: sampled trials have dt = {trials.dt} s, expected the task's {self.dt} s")
        return trials

    def _sample(self, n_trials: int, rng: np.random.Generator) -> Trials:  # pragma: no cover - abstract
        raise NotImplementedError

    def score(self, outputs, trials: Trials) -> dict:
        """The task's natural metrics for ``outputs`` (B, T, n_out) on ``trials``."""
        if not isinstance(trials, Trials):
            raise TypeError(f"{self.name}.score trials: expected neurosim.tasks.Trials, got {type(trials).__name__}")
        outputs = as_array(outputs, f"{self.name}.score outputs", ndim=3, dtype=float)
        check_shape(outputs, trials.targets.shape, f"{self.name}.score outputs",
                    "outputs must match trials.targets")
        if not np.all(np.isfinite(outputs)):  # a NaN compares as "wrong" and would still yield an accuracy
            b, t, k = (int(i) for i in np.argwhere(~np.isfinite(outputs))[0])
            raise ValueError(f"{self.name}.score outputs: expected finite values, got {outputs[b, t, k]} at trial "
                             f"{b}, step {t}, output {k} ({int(np.sum(~np.isfinite(outputs)))} non-finite entries); "
                             "the network diverged: scale down its weights or use a bounded activation")
        return self._score(outputs, trials)

    def _score(self, outputs: np.ndarray, trials: Trials) -> dict:
        return regression_metrics(outputs, trials)

    def params(self) -> dict:
        """The task's settings as a plain dict (for specs, reports and saved models)."""
        return dataclasses.asdict(self)


_REGISTRY: dict[str, type[Task]] = {}


def register(cls: type[Task]) -> type[Task]:
    """Class decorator: add a task to the registry under ``cls.name``."""
    if not cls.name or cls.name in _REGISTRY:
        raise ValueError(f"task name {cls.name!r} is empty or already registered")
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """The registered task names, sorted."""
    return sorted(_REGISTRY)


def get(name: str) -> type[Task]:
    """The task class registered under ``name``; an unknown name lists the known ones."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(names())}")
    return _REGISTRY[name]


def make(name: str, **params) -> Task:
    """Build the task ``name`` with ``params``; an unknown parameter lists the allowed ones."""
    cls = get(name)
    allowed = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"task {name!r}: unknown parameter(s) {unknown}; allowed: {allowed}")
    return cls(**params)


def describe() -> dict[str, str]:
    """Task name -> one-line description."""
    return {n: _REGISTRY[n].description for n in names()}
