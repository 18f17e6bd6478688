"""What a substrate is: an object that runs a network on trials and returns a :class:`Result`.

A substrate owns its options and their defaults, says which networks it accepts, and sets its own noise policy.
To add one, subclass :class:`Substrate` in a module of this package and register an instance in
``neurosim/substrates/__init__.py``; ``simulate``, ``compare``, the command line and the contract tests
(tests/test_substrates.py) find it in the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

__all__ = ["Substrate", "Result", "NOISE_MODES"]

# how a noisy network's noise is drawn on a substrate: the ANN's own realization ("matched", so that substrates
# agree to round-off), the substrate's own generator ("native"), or no noise at all (None)
NOISE_MODES = ("matched", "native", None)


@dataclass(frozen=True, eq=False)
class Result:
    """What a substrate computed on a batch of trials (batch first).

    t        (T,)             time at the end of each task step, seconds (``trials.t``)
    states   (B, T, N)        the integrated variable (r, or x in the current form; h for gated cells)
    outputs  (B, T, n_out)    the readout g(W_out s + b_out)
    substrate                 its registered name
    build_time, run_time      wall seconds: building, code generation and compilation / the run itself
    metadata                  how it was run (device, target, coupling, sim_dt, noise mode, seed, timings, ...)
    extras                    substrate-specific results (e.g. spikes)
    """

    t: np.ndarray
    states: np.ndarray
    outputs: np.ndarray
    substrate: str
    build_time: float
    run_time: float
    metadata: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    def max_abs_diff(self, other: "Result") -> dict:
        """Largest absolute differences of states and outputs against another Result on the same trials."""
        if self.outputs.shape != other.outputs.shape or self.states.shape != other.states.shape:
            raise ValueError(f"Result.max_abs_diff: expected results on the same trials, got outputs "
                             f"{self.outputs.shape} and {other.outputs.shape}")
        return {"states": float(np.max(np.abs(self.states - other.states), initial=0.0)),
                "outputs": float(np.max(np.abs(self.outputs - other.outputs), initial=0.0))}


class Substrate:
    """Base class. Subclasses set the class attributes and implement :meth:`run`.

    name        the registered name (``simulate(net, trials, substrate=name)``)
    description one line for ``--help`` and reports
    options     option -> default: everything ``run`` takes besides the network, the trials, the noise mode
                and the generator
    noise       how the substrate treats ``noise_mode`` (one line, for the docs)
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[dict] = {}
    noise: ClassVar[str] = ""

    def accepts(self, net) -> bool:
        """Whether this substrate runs ``net`` as it is."""
        raise NotImplementedError

    accepted: ClassVar[str] = ""  # what it accepts, in words, for errors

    def check(self, net) -> None:
        """Raise TypeError naming what this substrate accepts unless it runs ``net``."""
        if not self.accepts(net):
            raise TypeError(f"simulate substrate {self.name!r}: expected {self.accepted}, got "
                            f"{type(net).__name__}{self.hint(net)}")

    def hint(self, net) -> str:
        """How to get a network this substrate runs from ``net`` ("; ..." or "")."""
        return ""

    def why_not(self, net) -> str | None:
        """Why a trained model ``net`` cannot be brought to this substrate (:meth:`prepare`), or None."""
        return None if self.accepts(net) else f"it runs {self.accepted}, not a {type(net).__name__}"

    def prepare(self, net, *, task, trials, settings: dict, options: dict, seed: int, say) -> tuple[object, dict]:
        """The network this substrate runs for a trained model ``net`` (``compare``): ``(net, info)``, where
        info may hold "notes" (str) and "calibration". The default runs ``net`` itself."""
        self.check(net)
        return net, {}

    def run(self, net, trials, *, noise_mode, rng: np.random.Generator, **options) -> Result:
        """Run ``net`` (accepted, sizes checked) on ``trials`` with the given options (defaults filled in)."""
        raise NotImplementedError
