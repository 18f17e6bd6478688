"""The experiment registry: a textbook claim as a config, a pure run function, a check and its figures.

An experiment reads like a short paper (docs/experiments.md):

- ``config``: what is varied and the budgets, full mode (``"seeds"``: how many seeds, 0 .. seeds-1);
- ``quick``: the overrides that make it run in under a minute (the tests run it so);
- ``run(config, seed) -> rows``: one plain JSON-able dict per network, seed and setting; a pure function of the
  config and the seed (same seed, same bits);
- ``check(rows, config) -> Verdict``: all seeds' rows against thresholds stated next to their source;
- ``figures(rows, config) -> {name: Figure}``: drawn from the rows only, never recomputed.

:func:`neurosim.experiments.run_experiment` runs the seeds, the check and the figures and writes the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Check", "Verdict", "Experiment", "register", "names", "get", "verdict_from", "STATUSES"]

STATUSES = ("supported", "partly", "not supported")


@dataclass(frozen=True)
class Check:
    """One goal: the number measured, the threshold it is held against (as text, e.g. ``"< 0.01"``), whether it
    passed, and where the threshold comes from (``"issue 15"``, a paper)."""

    name: str
    measured: float
    threshold: str
    passed: bool
    source: str = ""

    def __post_init__(self):  # numpy scalars from the checks become plain float and bool (JSON, comparisons)
        try:
            object.__setattr__(self, "measured", float(self.measured))
        except (TypeError, ValueError):
            raise TypeError(f"Check {self.name!r}.measured: expected a number, got {self.measured!r}") from None
        object.__setattr__(self, "passed", bool(self.passed))

    def line(self) -> str:
        """``name: measured (threshold) -> passed/failed``, for the terminal and the reports."""
        return f"{self.name}: {self.measured:.4g} (goal {self.threshold}) {'passed' if self.passed else 'FAILED'}"


@dataclass(frozen=True)
class Verdict:
    """The outcome of an experiment: ``status`` is one of :data:`STATUSES`; ``summary`` is one paragraph with the
    numbers that decided it."""

    status: str
    checks: tuple[Check, ...]
    summary: str

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"Verdict.status: expected one of {STATUSES}, got {self.status!r}")
        if not all(isinstance(c, Check) for c in self.checks):
            raise TypeError("Verdict.checks: expected a tuple of Check, got "
                            f"{[type(c).__name__ for c in self.checks]}")


@dataclass(frozen=True)
class Experiment:
    """A claim, what is measured, and the functions that measure and judge it (module docstring).

    ``keys`` names the row fields that identify a setting (e.g. ``("cell", "T")``): the report averages the other
    scalar fields over seeds within each setting (mean and spread). Empty: every str/int/bool field but ``seed``.
    ``columns`` limits the averaged fields shown in the report (empty: all scalar fields).
    """

    name: str
    claim: str
    citation: str
    description: str
    config: dict
    quick: dict
    run: Callable[[dict, int], list[dict]]
    check: Callable[[list[dict], dict], Verdict]
    figures: Callable[[list[dict], dict], dict]
    keys: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.name or not self.name.isidentifier():
            raise ValueError(f"Experiment.name: expected a Python identifier such as 'vanishing_gradients', "
                             f"got {self.name!r}")
        if not isinstance(self.config.get("seeds"), int) or self.config["seeds"] < 1:
            raise ValueError(f"Experiment {self.name!r}: config['seeds'] must be a positive int, "
                             f"got {self.config.get('seeds')!r}")
        unknown = sorted(set(self.quick) - set(self.config))
        if unknown:
            raise ValueError(f"Experiment {self.name!r}: quick overrides {unknown} are not config keys "
                             f"({sorted(self.config)}); add them to config first")

    def resolve(self, quick: bool = False, overrides: dict | None = None) -> dict:
        """The config of one run: ``config``, then ``quick`` (if asked), then ``overrides``; an unknown override
        key lists the known ones."""
        cfg = {**self.config, **(self.quick if quick else {})}
        unknown = sorted(set(overrides or {}) - set(cfg))
        if unknown:
            raise ValueError(f"experiment {self.name}: unknown config keys {unknown}; known: {sorted(cfg)}")
        return {**cfg, **(overrides or {})}


_REGISTRY: dict[str, Experiment] = {}


def register(exp: Experiment) -> Experiment:
    """Add ``exp`` to the registry under ``exp.name`` and return it."""
    if not isinstance(exp, Experiment):
        raise TypeError(f"register: expected an Experiment, got {type(exp).__name__}")
    if exp.name in _REGISTRY:
        raise ValueError(f"experiment name {exp.name!r} is already registered; choose another name")
    _REGISTRY[exp.name] = exp
    return exp


def names() -> list[str]:
    """The registered experiment names, sorted."""
    return sorted(_REGISTRY)


def get(name: str) -> Experiment:
    """The experiment registered under ``name``; an unknown name lists the known ones."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown experiment {name!r}; known experiments: {', '.join(names()) or 'none'} "
                         "(neurosim experiment --list)")
    return _REGISTRY[name]


def verdict_from(checks, summary: str) -> Verdict:
    """The verdict of ``checks``: all passed, "supported"; none passed, "not supported"; else "partly"."""
    checks = tuple(checks)
    if not checks:
        raise ValueError("verdict_from: expected at least one Check, got none")
    passed = sum(bool(c.passed) for c in checks)
    status = "supported" if passed == len(checks) else "not supported" if passed == 0 else "partly"
    return Verdict(status, checks, summary)
