"""Compile a Brian2 rate network once as a ``cpp_standalone`` program, then rerun it on new trials.

Building a ``cpp_standalone`` project (code generation + a C++ compile) costs seconds; running the binary costs
what the simulation costs. Brian2's ``run_args`` (``device.run(run_args={...})``, Brian2 >= 2.6) let a compiled
binary start from other values without recompiling: a ``TimedArray`` key replaces the array's values (same shape)
and a ``group.var`` key replaces a variable's initial values; Brian2 writes them to ``static_arrays/`` and passes
their file names on the command line, where the generated ``set_from_command_line`` loads them just before the
network runs. Here the trials' input drive (``W_in u + b``, the "projected" TimedArray of
:mod:`neurosim.brian.rate`) and the matched noise increments are run_args, so the same binary runs any batch of
B trials of T steps::

    with compiled_rate(net, n_trials=16, n_steps=200) as sim:      # code generation + C++ compile, once
        for seed in range(10):
            trials = task.sample(16, rng=seed)
            run = sim.run(trials.inputs)                            # only the binary runs: a RateRun

``sim.run`` gives the same bits as ``neurosim.brian.rate.run(net, inputs, device="cpp_standalone")`` on the same
inputs (a test checks it).

The spiking network likewise (:func:`compiled_spiking`): the drive and the initial membrane potentials (drawn from
each run's ``rng`` as :func:`neurosim.brian.spiking.build` draws them) are run_args. Brian2's own generator (the
membrane noise) is seeded in the generated program, so every rerun of one build uses the build's ``seed``: a
rerun equals ``spiking.run(snet, inputs, device="cpp_standalone", seed=SEED, rng=rng)``; compile another build for
another noise seed.

Each compiled network owns a Brian2 device object of its own (:func:`neurosim.brian.devices.session` with
``keep=True``): once built, Brian2's global device is back to what it was, so other Brian2 code (runtime
simulations, other compiled networks) runs freely between reruns. ``close`` (or leaving the ``with`` block, or
the end of the process) removes the project directory.

The substrates reuse builds by themselves: ``simulate(net, trials, "rate", device="cpp_standalone")`` (and
"spiking") keeps the last :data:`MAX_BUILDS` compiled networks of the process in :func:`reusable`, keyed by the
network's :meth:`~neurosim.network.Saveable.fingerprint`, the batch shape and the options, so running the same
network on new trials compiles once (substrate option ``reuse=False`` turns it off).

Many processes: each compiled network lives in its own fresh project directory (``mkdtemp``), so workers never
share a build directory; the runtime Cython cache (``$NEUROSIM_BRIAN_CACHE``) is shared safely, since Brian2
compiles each module under a per-module file lock.
"""

from __future__ import annotations

import shutil
import time
import weakref
from collections import OrderedDict

import numpy as np

from .. import equations
from .._validate import as_rng, as_seconds, check_positive, substeps
from . import coupling as coupling_mod
from . import devices
from .rate import RateRun, _build

__all__ = ["CompiledRate", "compiled_rate", "CompiledSpiking", "compiled_spiking", "reusable", "clear_builds",
           "MAX_BUILDS"]


class _Compiled:
    """What both compiled networks share: the build in a device object of its own (:meth:`_build`), the
    binary's run, and a context manager whose ``close`` removes the project directory."""

    _device = None

    def _build(self, construct, cache_dir) -> None:
        """Run ``construct(brian2)`` (create the objects and ``Network.run`` them) on a standalone device of its
        own, generate and compile the project; Brian2's global device and preferences are restored after."""
        with devices.session("cpp_standalone", cache_dir=cache_dir, keep=True) as sess:
            import brian2

            construct(brian2)
            sess.device_object.build(directory=sess.directory, compile=True, run=False, with_output=False)
        self._device, self._directory = sess.device_object, sess.directory
        self._cleanup = weakref.finalize(self, shutil.rmtree, sess.directory, True)  # also at exit

    def _drive(self, net, inputs) -> np.ndarray:
        """The drive W_in u + b of ``inputs`` (n_trials, n_steps, n_in) as the (T, B*N) TimedArray rows, after
        checking the batch is the one compiled for and the network is still open."""
        if self._device is None:
            raise RuntimeError(f"{type(self).__name__}.run: the compiled network was closed; compile it again")
        B, T = self.n_trials, self.n_steps
        u = np.asarray(inputs, dtype=np.float64)
        if u.shape != (B, T, net.n_in):
            raise ValueError(f"{type(self).__name__}.run inputs: expected shape {(B, T, net.n_in)} (the batch it "
                             f"was compiled for), got {u.shape}; compile another for other sizes")
        drive = equations.drive(net.W_in, net.b, np.ascontiguousarray(u.transpose(1, 0, 2)))  # (T, B, N)
        return np.ascontiguousarray(drive.reshape(T, B * net.n_rec))

    def _run_binary(self, run_args: dict) -> float:
        """Run the compiled binary with ``run_args``; return the loop time the binary measured (seconds)."""
        self._device.run(directory=self._directory, with_output=False, run_args=run_args)
        return float(self._device._last_run_time)

    def close(self) -> None:
        """Remove the project directory; the compiled network cannot run after this."""
        if self._device is not None:
            self._cleanup()
            self._device = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class CompiledRate(_Compiled):
    """A rate network compiled for batches of ``n_trials`` trials of ``n_steps`` steps; see the module docstring.

    Use it as a context manager (or call :meth:`close`): it holds Brian2's standalone device until closed.
    """

    def __init__(self, net, n_trials: int, n_steps: int, *, coupling: str | None = None, sim_dt=None,
                 noise_mode: str | None = None, cache_dir=None):
        start = time.perf_counter()
        self.net = net.astype(np.float64) if hasattr(net, "astype") else net
        self.n_trials = check_positive(n_trials, "compiled_rate n_trials", integer=True)
        self.n_steps = check_positive(n_steps, "compiled_rate n_steps", integer=True)
        if noise_mode not in (None, "matched"):
            raise ValueError(f"compiled_rate noise_mode: expected None or 'matched' (the increments are run_args), "
                             f"got {noise_mode!r}; Brian2's native noise would rerun with the seed of the build")
        self.noise = noise_mode
        self.k, self.sim_dt = substeps(self.net.dt, sim_dt)
        self.coupling = coupling_mod.default("cpp_standalone") if coupling is None else coupling
        self.runs = 0

        def construct(brian2):
            T, B, N = self.n_steps, self.n_trials, self.net.n_rec
            placeholder = np.zeros((T, B, self.net.n_in))  # (T, B, n_in): replaced by run_args at every run
            increments = np.zeros((B, T, N)) if noise_mode == "matched" else None
            network, namespace, self._monitor, self._meta = _build(
                self.net, placeholder, device="cpp_standalone", coupling=self.coupling, sim_dt=self.sim_dt,
                noise_mode=noise_mode, noise_increments=increments, input_mode="projected", brian2=brian2)
            self._drive_ta = namespace["drive_ta"]
            self._noise_ta = namespace.get("noise_ta")
            network.run(T * self.net.dt * brian2.second + self.sim_dt * brian2.second, namespace=namespace)

        self._build(construct, cache_dir)
        self.build_time = time.perf_counter() - start

    def run(self, inputs, noise_increments: np.ndarray | None = None) -> RateRun:
        """Run the compiled binary on ``inputs`` (n_trials, n_steps, n_in); with noise "matched",
        ``noise_increments`` (n_trials, n_steps, N) from :func:`neurosim.equations.noise_increments`. Returns a
        :class:`RateRun` (states only: the readout is ``neurosim.equations.readout``)
        whose ``build_time`` is 0 after the first run (the compile is in ``self.build_time``)."""
        start = time.perf_counter()
        drive = self._drive(self.net, inputs)
        net, T, B, N = self.net, self.n_steps, self.n_trials, self.net.n_rec
        run_args = {self._drive_ta: drive}
        if self.noise == "matched":
            if noise_increments is None or np.shape(noise_increments) != (B, T, N):
                raise ValueError(f"CompiledRate.run noise_increments: expected shape {(B, T, N)}, got "
                                 f"{None if noise_increments is None else np.shape(noise_increments)}")
            inc = np.asarray(noise_increments, dtype=np.float64).transpose(1, 0, 2).reshape(T, B * N)
            run_args[self._noise_ta] = np.ascontiguousarray(inc)
        before = time.perf_counter()
        run_time = self._run_binary(run_args)
        binary = time.perf_counter() - before
        states = devices.recorded(self._monitor, "r_" if net.form == "rate" else "x_")  # (B*N, T+1)
        states = states[:, 1:].reshape(B, N, T).transpose(0, 2, 1)  # (B, T, N)
        self.runs += 1
        metadata = {"device": "cpp_standalone", "target": "cpp", "coupling": self.coupling, "sim_dt": self.sim_dt,
                    "substeps": self.k, "input_mode": "projected", "noise_mode": self.noise, "n_neurons": B * N,
                    "method": "euler", "compiled_runs": self.runs, "reused_build": self.runs > 1,
                    "timings": {"compile": self.build_time if self.runs == 1 else 0.0, "binary": binary,
                                "total": time.perf_counter() - start}, **self._meta}
        build = self.build_time if self.runs == 1 else 0.0
        return RateRun(np.ascontiguousarray(states), build + (time.perf_counter() - start) - run_time, run_time,
                       metadata)


def compiled_rate(net, n_trials: int, n_steps: int, **options) -> CompiledRate:
    """:class:`CompiledRate` (a context manager): compile ``net`` once for batches of (n_trials, n_steps)."""
    return CompiledRate(net, n_trials, n_steps, **options)


class CompiledSpiking(_Compiled):
    """A spiking network compiled for batches of ``n_trials`` trials of ``n_steps`` steps, with Brian2's generator
    seeded by ``seed``; see the module docstring. A context manager, like :class:`CompiledRate`."""

    def __init__(self, snet, n_trials: int, n_steps: int, *, sim_dt=None, membrane_noise: bool = True, seed: int = 0,
                 cache_dir=None):
        from . import spiking

        start = time.perf_counter()
        self.snet = snet
        self.n_trials = check_positive(n_trials, "compiled_spiking n_trials", integer=True)
        self.n_steps = check_positive(n_steps, "compiled_spiking n_steps", integer=True)
        if not equations.drive_fits(n_steps, n_trials, snet.n_rec):
            raise ValueError(f"compiled_spiking: the drive of {n_trials} trials x {n_steps} steps x {snet.n_rec} units "
                             "exceeds equations.PROJECTED_MAX_BYTES; compile for fewer trials per batch")
        self.sim_dt = snet.check_sim_dt(snet.sim_dt if sim_dt is None else as_seconds(sim_dt, "sim_dt"))
        self.membrane_noise, self.seed = membrane_noise, int(seed)
        self.runs = 0

        def construct(brian2):
            placeholder = np.zeros((n_trials, n_steps, snet.n_in))  # (B, T, n_in): replaced at every run
            self._built = spiking.build(snet, placeholder, sim_dt=self.sim_dt, membrane_noise=membrane_noise, rng=0)
            brian2.seed(self.seed)
            self._built.network.run(self._built.duration, namespace=self._built.namespace)
            self._volt = brian2.volt

        self._build(construct, cache_dir)
        self.build_time = time.perf_counter() - start

    def run(self, inputs, rng=0):
        """Run the compiled binary on ``inputs`` (n_trials, n_steps, n_in) with initial membrane potentials from
        ``rng``; returns a :class:`neurosim.brian.spiking.SpikingRun`."""
        from . import spiking

        start = time.perf_counter()
        drive = self._drive(self.snet, inputs)
        snet, T, B, N = self.snet, self.n_steps, self.n_trials, self.snet.n_rec
        v0 = as_rng(rng).uniform(snet.v_reset, snet.v_threshold, size=B * N)  # (B*N,) as spiking.build draws it
        run_args = {self._built.namespace["drive_ta"]: drive, self._built.neurons.v: v0 * self._volt}
        run_time = self._run_binary(run_args)
        recorded = spiking.read(snet, self._built, B, T)
        self.runs += 1
        metadata = {"device": "cpp_standalone", "target": "cpp", "sim_dt": self.sim_dt,
                    "membrane_noise": self.membrane_noise, "seed": self.seed, "n_neurons": B * N, "method": "euler",
                    "lam": snet.lam, "synapse": snet.synapse, "compiled_runs": self.runs,
                    "reused_build": self.runs > 1}
        build = self.build_time if self.runs == 1 else 0.0
        return spiking.SpikingRun(*recorded, build + (time.perf_counter() - start) - run_time, run_time, metadata)


def compiled_spiking(snet, n_trials: int, n_steps: int, **options) -> CompiledSpiking:
    """:class:`CompiledSpiking` (a context manager): compile ``snet`` once for batches of (n_trials, n_steps)."""
    return CompiledSpiking(snet, n_trials, n_steps, **options)


MAX_BUILDS = 4  # compiled networks kept per process by reusable() (each holds its project directory, ~1-10 MB)
_BUILDS: OrderedDict = OrderedDict()  # key -> _Compiled, least recently used first


def reusable(kind: str, net, n_trials: int, n_steps: int, **options):
    """A compiled ``kind`` ("rate" or "spiking") network for ``net`` and batches of (n_trials, n_steps), built
    on first use and kept for the next call with the same network (by :meth:`fingerprint`), shape and
    ``options``; the least recently used of more than :data:`MAX_BUILDS` is closed."""
    factories = {"rate": CompiledRate, "spiking": CompiledSpiking}
    key = (kind, net.fingerprint(), int(n_trials), int(n_steps), tuple(sorted(options.items())))
    sim = _BUILDS.pop(key, None)
    if sim is None:
        sim = factories[kind](net, n_trials, n_steps, **options)
    _BUILDS[key] = sim
    while len(_BUILDS) > MAX_BUILDS:
        _BUILDS.popitem(last=False)[1].close()
    return sim


def clear_builds() -> None:
    """Close every compiled network :func:`reusable` keeps."""
    while _BUILDS:
        _BUILDS.popitem()[1].close()
