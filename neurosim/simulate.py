"""simulate(): the single front door to every substrate; the substrate registry; Result.

    res = ns.simulate(net, trials, substrate="ann")                        # the numpy RNN
    res = ns.simulate(net, trials, substrate="rate")                       # Brian2 rate neurons, same steps
    res = ns.simulate(net, trials, substrate="rate", device="cpp_standalone")
    res = ns.simulate(net, trials, substrate="rate", sim_dt=net.dt / 8)    # towards the continuous-time limit

A substrate is a function ``fn(net, trials, *, noise, rng, **options) -> Result`` registered under a name with
:func:`register_substrate`. ``simulate`` validates what every substrate shares (the network, the trials, the
noise mode) and passes on the options that the substrate's signature names; an option a substrate does not take
is an error unless it is left at its default.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import activations
from ._validate import as_rng
from .brian.devices import CompilerError  # brian2-free module: re-exported so callers need not reach into brian/
from .brian.rate import NOISE_MODES  # brian2-free at import time
from .tasks import Trials

__all__ = ["simulate", "Result", "register_substrate", "substrates", "NOISE_MODES", "CompilerError"]

_SUBSTRATES: dict[str, Callable] = {}


@dataclass(frozen=True, eq=False)
class Result:
    """What a substrate computed on a batch of trials (batch first).

    t        (T,)             time at the end of each task step, seconds (``trials.t``)
    states   (B, T, N)        the integrated variable (r, or x in the current form; h for gated cells)
    outputs  (B, T, n_out)    the readout g(W_out s + b_out)
    substrate                 its registered name
    build_time, run_time      wall seconds: building, code generation and compilation / the run itself
    metadata                  how it was run (device, target, coupling, sim_dt, noise, seed, timings, ...)
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


def register_substrate(name: str, fn: Callable) -> None:
    """Register ``fn(net, trials, *, noise, rng, **options) -> Result`` as the substrate ``name``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"register_substrate: expected a non-empty name, got {name!r}")
    if not callable(fn):
        raise TypeError(f"register_substrate({name!r}): expected a callable, got {type(fn).__name__}")
    _SUBSTRATES[name] = fn


def substrates() -> list[str]:
    """The registered substrate names, sorted."""
    return sorted(_SUBSTRATES)


_DEFAULTS = {"device": "runtime", "target": "cython", "coupling": None, "sim_dt": None, "cache_dir": None}


def simulate(net, trials: Trials, substrate: str = "ann", *, device: str = "runtime", target: str = "cython",
             coupling: str | None = None, sim_dt=None, noise: str | None = "matched", rng=0, cache_dir=None,
             **options) -> Result:
    """Run ``net`` on ``trials`` on one substrate and return a :class:`Result`.

    substrate: a registered name (:func:`substrates`): "ann" (numpy RNN), "rate" (Brian2 rate neurons), ...
    device: Brian2 device, "runtime" or "cpp_standalone"; target: runtime code generation, "cython" or "numpy".
    coupling: recurrent coupling of the rate network, "matmul" or "synapses"; None picks the fastest.
    sim_dt: Brian2 simulation step, net.dt / k (float seconds or a Brian2 time); None means net.dt.
    noise (used when net.sigma > 0): "matched" feeds every substrate the same realization,
    ``neurosim.ann.noise(net, B, T, rng)``, so results agree to round-off; "native" lets each substrate draw its
    own (Brian2's ``xi``, seeded from ``rng``); None runs without noise.
    rng: int seed or numpy Generator; an int gives the same noise on every substrate.
    cache_dir: Brian2 compilation cache (default: $NEUROSIM_BRIAN_CACHE, else Brian2's own).
    """
    if substrate not in _SUBSTRATES:
        raise ValueError(f"simulate substrate: unknown substrate {substrate!r}; known substrates: "
                         f"{', '.join(substrates())}")
    if not isinstance(trials, Trials):
        raise TypeError(f"simulate trials: expected neurosim.tasks.Trials, got {type(trials).__name__}; wrap "
                        "arrays as ns.tasks.Trials(inputs=u, targets=y, mask=m, dt=net.dt)")
    net_dt = getattr(net, "dt", None)
    if net_dt is None or not hasattr(net, "n_in"):
        raise TypeError(f"simulate net: expected a neurosim network (e.g. ns.RateNetwork), got {type(net).__name__}")
    if trials.n_in != net.n_in:
        raise ValueError(f"simulate trials.inputs: expected {net.n_in} inputs per step (net.n_in), got "
                         f"{trials.n_in}; build the network with n_in = task.n_in")
    if not np.isclose(trials.dt, net_dt, rtol=1e-9, atol=0.0):
        raise ValueError(f"simulate trials.dt: expected the network's step net.dt = {net_dt} s, got "
                         f"{trials.dt} s; sample the task with dt=net.dt (ns.tasks.make(name, dt=net.dt))")
    if noise not in NOISE_MODES:
        raise ValueError(f"simulate noise: expected 'matched', 'native' or None, got {noise!r}")
    fn = _SUBSTRATES[substrate]
    given = dict(device=device, target=target, coupling=coupling, sim_dt=sim_dt, cache_dir=cache_dir, **options)
    accepted = inspect.signature(fn).parameters
    takes_all = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    kwargs = {}
    for key, value in given.items():
        if takes_all or key in accepted:
            kwargs[key] = value
        elif not (key in _DEFAULTS and value is _DEFAULTS[key] or value == _DEFAULTS.get(key, object())):
            takes = sorted(k for k, p in accepted.items() if p.kind is p.KEYWORD_ONLY)
            raise ValueError(f"simulate {key}: substrate {substrate!r} does not take {key} (got {value!r}); "
                             f"it takes {takes}")
    return fn(net, trials, noise=noise, rng=as_rng(rng), **kwargs)


def _noise(net, trials: Trials, noise, rng) -> np.ndarray | None:
    """The shared noise realization (B, T, N) for "matched" noise, or None."""
    from . import ann

    if noise is None or not getattr(net, "sigma", 0.0):
        return None
    return ann.noise(net, trials.n_trials, trials.n_steps, rng)


# -- the two substrates of this module -------------------------------------------------------------------------

def _ann(net, trials: Trials, *, noise, rng) -> Result:
    """The artificial RNN (numpy); its native noise is the same Euler-Maruyama draw as "matched"."""
    from . import ann

    sigma = getattr(net, "sigma", 0.0)
    if sigma and noise is None:
        net = dataclasses.replace(net, sigma=0.0)
    start = time.perf_counter()
    states, outputs = ann.forward(net, trials.inputs, noise=_noise(net, trials, noise, rng))
    run_time = time.perf_counter() - start
    return Result(trials.t, states, outputs, "ann", 0.0, run_time,
                  {"noise": noise if sigma else None, "dt": net.dt})


def _rate(net, trials: Trials, *, noise, rng, device="runtime", target="cython", coupling=None, sim_dt=None,
          cache_dir=None, input_mode=None) -> Result:
    """The Brian2 rate network (:mod:`neurosim.brian.rate`)."""
    from .brian import rate

    if getattr(net, "cell", None) != "rnn":
        raise TypeError(f"simulate substrate 'rate': expected a RateNetwork (cell 'rnn'), got "
                        f"{type(net).__name__} with cell {getattr(net, 'cell', None)!r}; gated cells have no "
                        "rate-neuron form")
    sigma = getattr(net, "sigma", 0.0)
    mode = noise if sigma else None
    increments = _noise(net, trials, noise, rng) if mode == "matched" else None
    seed = int(rng.integers(2**31 - 1)) if mode == "native" else None
    out = rate.run(net.astype(np.float64), trials.inputs, device=device, target=target, coupling=coupling,
                   sim_dt=sim_dt, noise=mode, noise_increments=increments, seed=seed, input_mode=input_mode,
                   cache_dir=cache_dir)
    outputs = activations.output(out.z, net.output_activation)
    return Result(trials.t, out.states, outputs, "rate", out.build_time, out.run_time, out.metadata)


def _spiking(net, trials: Trials, *, noise, rng, device="runtime", target="cython", sim_dt=None,
             cache_dir=None) -> Result:
    """The Brian2 LIF network of a SpikingNetwork (:mod:`neurosim.spiking`, :mod:`neurosim.brian.spiking`).

    states: x (current form) or r / lam (rate form); outputs: g(W_out r / lam + b_out) from the filtered spike
    trains r. extras: ``spike_times`` and ``spike_indices`` (one array per trial: seconds and units 0..N-1),
    ``traces`` (B, T, N) the filtered spike trains r in Hz, ``firing_rates`` (B, N) in Hz, ``lam``. The
    membrane noise is Brian2's own, seeded from ``rng`` (noise "matched" or "native"); noise=None turns it off.
    """
    from .brian import spiking as brian_spiking
    from .spiking import SpikingNetwork

    if not isinstance(net, SpikingNetwork):
        raise TypeError(f"simulate substrate 'spiking': expected a SpikingNetwork, got {type(net).__name__}; "
                        "convert a trained rate network first: ns.simulate(ns.to_spiking(net, lam=...), trials, "
                        "substrate='spiking')")
    seed, v_seed = (int(s) for s in rng.integers(2**31 - 1, size=2))
    out = brian_spiking.run(net, trials.inputs, device=device, target=target, sim_dt=sim_dt,
                            noise=noise is not None, seed=seed, rng=v_seed, cache_dir=cache_dir)
    outputs = activations.output(out.r @ net.W_out_spk.T + net.b_out, net.output_activation)  # (B, T, n_out)
    extras = {"spike_times": out.spike_times, "spike_indices": out.spike_indices, "traces": out.r,
              "firing_rates": out.firing_rates, "lam": net.lam}
    return Result(trials.t, out.states, outputs, "spiking", out.build_time, out.run_time, out.metadata, extras)


register_substrate("ann", _ann)
register_substrate("rate", _rate)
register_substrate("spiking", _spiking)
