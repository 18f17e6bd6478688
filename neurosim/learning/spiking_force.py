"""Spiking FORCE: Nicola & Clopath (2017, Nat Commun 8:2208) on the Brian2 LIF substrate; the brian2-free half.

:class:`NicolaClopath` is their LIFFORCESINE configuration (read from their published MATLAB code), with every
number in SI units; :func:`reservoir` draws its network as a :class:`neurosim.SpikingNetwork` (rate form) and its
feedback weights; :func:`train` runs it in Brian2 (:mod:`neurosim.brian.spiking_force`, runtime or
cpp_standalone) and scores the run; :func:`score` holds the goals.

Their network, per neuron (v in mV in their code, volts here)::

    tau_m dv/dt = -v + BIAS + IPSC + E z                   (unless refractory, 2 ms; v >= -40 mV: spike, reset -65 mV)
    IPSC = sum_j OMEGA_ij r_j,   z = BPhi^T r               r: spike trains through a double exponential (2 ms, 20 ms)
    OMEGA = G N(0, 1) * (U < p) / (sqrt(N) p), each row's nonzero weights shifted to mean zero;  E = Q U(-1, 1)

with BIAS = -40 mV, G = 0.04, Q = 10, p = 0.1, N = 2000, Euler steps of 0.05 ms, an RLS step every 2.5 ms (their
``step = 50``) from 5 s to 10 s of a 15 s run, ``Pinv = alpha I`` with their alpha = dt * 0.1 = 5e-6 and their
update ``BPhi <- BPhi - (Pinv r) err^T`` (the unnormalised step). In neurosim's convention ``P(0) = I / alpha``
that is alpha = 1 / 5e-6 = 2e5, step="unnormalised" (:mod:`neurosim.learning.rls`).

The mapping onto :class:`neurosim.SpikingNetwork` (``tau_m dv/dt = v_rest - v + bias + v_scale x``): v_rest = 0
and bias = -40 mV (their ``-v + BIAS``), v_scale = 1 mV and lam = 1 Hz, so W_rec = OMEGA, W_fb = E and
W_out = BPhi^T with their numbers unchanged. Their initial potentials are uniform in [-65 mV, 30 mV]: most
neurons fire at once, which sets the reservoir going (from [v_reset, v_threshold) it would stay silent).

Goals (issue 10), over the test window (learning off, ``train_stop`` to the end): the FFT peak of z within
0.1 Hz of 5 Hz, the amplitude ratio std(z) / std(f) in [0.9, 1.1], the window-aligned NRMSE (lags within +-1/6
of the period, :func:`neurosim.analysis.metrics.aligned_nrmse`) <= 0.2, and the mean firing rate 15-35 Hz.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .._validate import as_rng, check_choice, check_positive
from ..analysis import metrics
from ..spiking import SpikingNetwork
from .rls import STEPS

__all__ = ["NicolaClopath", "reservoir", "train", "score", "SpikingForceResult", "PEAK_TOLERANCE", "AMPLITUDE",
           "MAX_ALIGNED_NRMSE", "RATE_RANGE"]

PEAK_TOLERANCE = 0.1  # Hz: the FFT peak of z within 0.1 Hz of the target's frequency (issue 10)
AMPLITUDE = (0.9, 1.1)  # std(z) / std(f)
MAX_ALIGNED_NRMSE = 0.2  # window-aligned NRMSE over the test window
RATE_RANGE = (15.0, 35.0)  # Hz, mean firing rate over the test window


@dataclass(frozen=True)
class NicolaClopath:
    """Nicola & Clopath's LIFFORCESINE, in SI units (seconds, volts, Hz). ``dt`` is the step on which the
    target is given and the readout sampled (a divisor of ``every``); ``sim_dt`` the Euler step of the LIF
    network (theirs: 0.05 ms)."""

    n_rec: int = 2000
    p: float = 0.1
    G: float = 0.04
    Q: float = 10.0
    tau_m: float = 0.010
    refractory: float = 0.002
    v_reset: float = -0.065
    v_threshold: float = -0.040
    bias: float = -0.040
    v_init_high: float = 0.030  # initial v ~ U(v_reset, v_init_high): their 30 mV spike peak
    tau_r: float = 0.002
    tau_d: float = 0.020
    sim_dt: float = 5e-5
    dt: float = 5e-4
    alpha: float = 2e5  # P(0) = I / alpha: their Pinv = 5e-6 I
    step: str = "unnormalised"
    every: float = 0.0025  # their step = 50 Euler steps
    train_start: float = 5.0
    train_stop: float = 10.0
    duration: float = 15.0
    period: float = 0.2  # the 5 Hz sine

    def __post_init__(self):
        name = type(self).__name__
        check_positive(self.n_rec, f"{name}.n_rec", integer=True)
        for k in ("p", "G", "Q", "tau_m", "tau_r", "tau_d", "sim_dt", "dt", "alpha", "every", "duration", "period"):
            check_positive(getattr(self, k), f"{name}.{k}")
        check_choice(self.step, STEPS, f"{name}.step")
        if not 0 <= self.train_start < self.train_stop <= self.duration:
            raise ValueError(f"{name}: expected 0 <= train_start < train_stop <= duration, got train_start = "
                             f"{self.train_start} s, train_stop = {self.train_stop} s, duration = {self.duration} s")

    def replace(self, **changes) -> "NicolaClopath":
        return dataclasses.replace(self, **changes)

    @property
    def n_steps(self) -> int:
        return int(round(self.duration / self.dt))


def reservoir(config: NicolaClopath = NicolaClopath(), rng=0) -> tuple[SpikingNetwork, np.ndarray]:
    """Their network before learning: ``(snet, W_fb)``; W_out = 0, W_rec = OMEGA (row means of the nonzero
    weights set to zero), W_fb (N, 1) = E = Q U(-1, 1). No input: one input channel with W_in = 0."""
    c, rng = config, as_rng(rng)
    N = c.n_rec
    W = c.G * rng.standard_normal((N, N)) * (rng.random((N, N)) < c.p) / (np.sqrt(N) * c.p)  # (N, N)
    nonzero = W != 0
    counts = np.maximum(nonzero.sum(axis=1, keepdims=True), 1)
    W -= nonzero * (W.sum(axis=1, keepdims=True) / counts)  # each row's nonzero weights: mean zero
    W_fb = c.Q * rng.uniform(-1.0, 1.0, (N, 1))  # (N, 1)
    snet = SpikingNetwork(W_in=np.zeros((N, 1)), W_rec=W, b=np.zeros(N), W_out=np.zeros((1, N)), b_out=np.zeros(1),
                          lam=1.0, tau_d=c.tau_d, tau_r=c.tau_r, synapse="double", tau_m=c.tau_m,
                          refractory=c.refractory, v_rest=0.0, v_reset=c.v_reset, v_threshold=c.v_threshold,
                          bias=c.bias, v_scale=0.001, sigma_v=0.0, dt=c.dt, sim_dt=c.sim_dt, activation="linear",
                          form="rate")
    return snet, W_fb


@dataclass
class SpikingForceResult:
    """A trained spiking FORCE network: the run (:class:`neurosim.brian.spiking_force.SpikingForceRun`), the
    clean target (T, 1), the network with the learned readout, the feedback weights, the scores and goals."""

    run: object
    targets: np.ndarray
    net: SpikingNetwork
    W_fb: np.ndarray
    config: NicolaClopath
    scores: dict


def score(z, targets, spike_times, n_neurons: int, config: NicolaClopath) -> dict:
    """The goals over the test window (train_stop to the end): FFT peak (Hz), amplitude ratio, window-aligned
    NRMSE, mean rate (Hz), each with its verdict, and ``success`` = all four."""
    c = config
    t = c.dt * np.arange(1, len(z) + 1)  # (T,)
    test = t > c.train_stop
    zt, ft = np.asarray(z)[test, 0], np.asarray(targets)[test, 0]  # (T_test,)
    peak = metrics.peak_frequency(zt, c.dt)
    ratio = metrics.amplitude_ratio(zt, ft)
    err, lag = metrics.aligned_nrmse(zt, ft, metrics.lag_steps(c.period, c.dt))
    st = np.asarray(spike_times)
    rate = float(np.count_nonzero(st >= c.train_stop) / (n_neurons * (c.duration - c.train_stop)))
    out = {"peak_hz": peak, "amplitude_ratio": ratio, "aligned_nrmse": err, "lag_steps": lag, "rate_hz": rate,
           "peak_ok": abs(peak - 1 / c.period) <= PEAK_TOLERANCE,
           "amplitude_ok": AMPLITUDE[0] <= ratio <= AMPLITUDE[1],
           "nrmse_ok": err <= MAX_ALIGNED_NRMSE, "rate_ok": RATE_RANGE[0] <= rate <= RATE_RANGE[1]}
    out["success"] = bool(out["peak_ok"] and out["amplitude_ok"] and out["nrmse_ok"] and out["rate_ok"])
    return out


def train(config: NicolaClopath = NicolaClopath(), *, rng=0, device: str = "runtime", target: str = "cython",
          weights_every=0.01, weight_units=10, cache_dir=None) -> SpikingForceResult:
    """Draw the network from ``rng``, run ``config.duration`` seconds in Brian2 learning the 5 Hz sine from
    ``train_start`` to ``train_stop``, score the rest (:func:`score`).

    device: "runtime" or "cpp_standalone"; weights_every: seconds between samples of W_out for the figure
    (None: none) of the first ``weight_units`` neurons. The same rng gives the same network, initial potentials
    and spikes on both devices.
    """
    from ..brian import spiking_force as brian_sf
    from ..tasks import make

    c, rng = config, as_rng(rng)
    snet, W_fb = reservoir(c, rng)
    task = make("sine", dt=c.dt, period=c.period, duration=c.n_steps * c.dt, random_phase=False)
    f = task.sample(1, rng=0).info["clean_targets"][0]  # (T, 1) sin(2 pi (k + 1) dt / period)
    units = None if weight_units is None else np.arange(min(int(weight_units), c.n_rec))
    run = brian_sf.run(snet, W_fb, f, alpha=c.alpha, every=c.every, train_start=c.train_start,
                       train_stop=c.train_stop, step=c.step, device=device, target=target, rng=rng,
                       weights_every=weights_every, weight_units=units, v_init=(c.v_reset, c.v_init_high),
                       cache_dir=cache_dir)
    scores = score(run.z, f, run.spike_times, c.n_rec, c)
    return SpikingForceResult(run=run, targets=f, net=snet.replace(W_out=run.W_out), W_fb=W_fb, config=c,
                              scores=scores)
