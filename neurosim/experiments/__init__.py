"""Textbook claims about RNNs as experiments with verdicts (issue 15; docs/experiments.md).

``neurosim experiment --list`` lists them; ``neurosim experiment NAME [--quick] [--seeds K] [--out DIR]`` runs
one and writes results.json, its figures, report.md and report.html. In Python::

    from neurosim import experiments
    report = experiments.run_experiment("vanishing_gradients", quick=True, out="runs/vg")
    print(report.verdict.status, report.verdict.summary)

Importing this package imports each experiment module, which registers its experiment.
"""

from .base import Check, Experiment, Verdict, get, names, register, verdict_from
from .runner import Report, run_experiment, summarize

__all__ = ["Check", "Verdict", "Experiment", "register", "names", "get", "verdict_from", "Report",
           "run_experiment", "summarize"]

# each experiment module registers its experiment on import (one line each)
from . import vanishing_gradients  # noqa: E402,F401
from . import long_range_memory  # noqa: E402,F401
from . import transition_to_chaos  # noqa: E402,F401
from . import overfitting_dropout  # noqa: E402,F401
from . import spikes_versus_rates  # noqa: E402,F401
from . import flip_flop_fixed_points  # noqa: E402,F401
from . import universality  # noqa: E402,F401
