"""simulate(): the single front door to every substrate.

    res = ns.simulate(net, trials, substrate="ann")                        # the numpy RNN
    res = ns.simulate(net, trials, substrate="rate")                       # Brian2 rate neurons, same steps
    res = ns.simulate(net, trials, substrate="rate", device="cpp_standalone")
    res = ns.simulate(net, trials, substrate="rate", sim_dt=net.dt / 8)    # towards the continuous-time limit

The substrates are objects in the registry of :mod:`neurosim.substrates`, each with its options and defaults.
``simulate`` validates what every substrate shares (the network against what the substrate accepts, the trials'
sizes and step, the noise mode) and dispatches; an option the substrate does not take is an error unless it is
left at the default another substrate gives it (so one set of options can be passed to every substrate).
"""

from __future__ import annotations

import numpy as np

from . import substrates as _substrates
from ._validate import as_rng, check_fits
from .brian.devices import CompilerError  # brian2-free module: re-exported so callers need not reach into brian/
from .substrates import NOISE_MODES, Result
from .tasks import Trials

__all__ = ["simulate", "Result", "NOISE_MODES", "CompilerError"]

_UNSET = object()


def _shared_default(key: str):
    """The default that the substrates which take option ``key`` give it (``_UNSET`` if none takes it)."""
    for name in _substrates.names():
        options = _substrates.get(name).options
        if key in options:
            return options[key]
    return _UNSET


def simulate(net, trials: Trials, substrate: str = "ann", *, noise_mode: str | None = "matched", rng=0,
             **options) -> Result:
    """Run ``net`` on ``trials`` on one substrate and return a :class:`Result`.

    substrate: a registered name (``neurosim.substrates.names()``): "ann" (numpy RNN), "rate" (Brian2 rate
    neurons), "spiking" (Brian2 LIF neurons; takes a SpikingNetwork, see ``ns.to_spiking``).
    noise_mode (used when the network is noisy): "matched" feeds every substrate that can take it the same
    realization, ``neurosim.ann.noise_increments(net, B, T, rng)``, so results agree to round-off; "native" lets
    each substrate draw its own (Brian2's ``xi``, seeded from ``rng``); None runs without noise.
    rng: int seed or numpy Generator; an int gives the same noise on every substrate.
    options: the substrate's own (``neurosim.substrates.get(name).options``), e.g. for the Brian2 substrates
    device ("runtime" or "cpp_standalone"), target ("auto", "cython" or "numpy"), sim_dt (net.dt / k), cache_dir (the
    Brian2 compilation cache; default $NEUROSIM_BRIAN_CACHE), and for "rate" coupling ("matmul" or "synapses").
    Outputs that are not finite (a diverging network) are a ValueError saying where, never a silent result.
    """
    sub = _substrates.get(substrate)
    if not isinstance(trials, Trials):
        raise TypeError(f"simulate trials: expected neurosim.tasks.Trials, got {type(trials).__name__}; wrap "
                        "arrays as ns.tasks.Trials(inputs=u, targets=y, mask=m, dt=net.dt)")
    if getattr(net, "dt", None) is None or not hasattr(net, "n_in"):
        raise TypeError(f"simulate net: expected a neurosim network (e.g. ns.RateNetwork), got {type(net).__name__}")
    sub.check(net)
    check_fits(net, trials, "simulate trials")
    if noise_mode not in NOISE_MODES:
        raise ValueError(f"simulate noise_mode: expected 'matched', 'native' or None, got {noise_mode!r}")
    kwargs = dict(sub.options)
    for key, value in options.items():
        if key in sub.options:
            kwargs[key] = value
            continue
        default = _shared_default(key)
        if default is _UNSET or not (value is default or value == default):
            hint = " (it was renamed noise_mode)" if key == "noise" else ""
            raise ValueError(f"simulate {key}: substrate {substrate!r} does not take {key}{hint} (got {value!r}); "
                             f"it takes {sorted(sub.options)}")
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging network is reported by _finite, by name
        res = sub.run(net, trials, noise_mode=noise_mode, rng=as_rng(rng), **kwargs)
    return _finite(res, net)


def _finite(res: Result, net) -> Result:
    """The result, unless its outputs are not finite: then a ValueError that says where the network diverged."""
    bad = ~np.isfinite(res.outputs)
    if bad.any():
        b, t, k = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"simulate substrate {res.substrate!r}: the outputs are not finite ({int(bad.sum())} of "
                         f"{bad.size} entries; the first, {res.outputs[b, t, k]}, at trial {b}, step {t}, output "
                         f"{k}): the network {type(net).__name__} diverged; scale its recurrent weights down "
                         "(spectral radius < 1 for a linear network) or use a bounded activation")
    return res
