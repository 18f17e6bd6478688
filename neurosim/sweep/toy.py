"""Small deterministic job functions for demos, tests and benchmarks of the sweep runner.

:func:`job` is a pure function of ``(config, seed)``: the spectrum and a short tanh-RNN trajectory of a random
``n x n`` matrix with gain ``g`` (``x_{t+1} = tanh(W x_t)``, ``W = g A / sqrt(n)``, ``A_ij ~ N(0, 1)``).
``steps`` sets how much work it does (about 5 microseconds per step for n = 64 on one core), ``fail = true`` makes
it raise (to exercise error records). If ``$NEUROSIM_SWEEP_TOY_LOG`` names a file, every call appends one line
``<seed> <g> <n>`` to it: the kill-and-resume test counts executions with it.

:func:`rate_job` runs a small random RateNetwork on the Brian2 rate substrate (runtime, Cython) and on the ANN:
the test of many processes compiling into one Brian2 cache uses it.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["job", "defaults", "rate_job"]

defaults = {"n": 16, "g": 1.5, "steps": 100, "fail": False}


def job(config: dict, seed: int) -> dict:
    """One row: the spectral radius of W, the final mean |x| and the mean rate of divergence of two nearby
    trajectories, for ``config`` = {n, g, steps, fail} and ``seed``."""
    n, g, steps = int(config["n"]), float(config["g"]), int(config["steps"])
    log = os.environ.get("NEUROSIM_SWEEP_TOY_LOG")
    if log:
        with open(log, "a") as fh:  # one short append per call
            fh.write(f"{seed} {g!r} {n}\n")
    if config["fail"]:
        raise RuntimeError(f"toy job asked to fail (g = {g}, seed = {seed})")
    rng = np.random.default_rng(seed)
    W = g * rng.standard_normal((n, n)) / np.sqrt(n)  # (n, n)
    x = rng.standard_normal(n)  # (n,)
    y = x + 1e-8 * rng.standard_normal(n)
    log_growth = 0.0
    for _ in range(steps):
        x, y = np.tanh(W @ x), np.tanh(W @ y)
        d = np.linalg.norm(y - x)
        log_growth += np.log(d / 1e-8)
        y = x + (y - x) * (1e-8 / d)  # renormalise the separation (Benettin)
    return {"spectral_radius": float(np.max(np.abs(np.linalg.eigvals(W)))), "mean_abs_x": float(np.mean(np.abs(x))),
            "lyapunov_per_step": log_growth / max(steps, 1)}


job.defaults = defaults  # the sweep runner fills in and checks a function's config keys from .defaults


def rate_job(config: dict, seed: int) -> dict:
    """One row: the largest |ANN - Brian2 rate| state difference and the mean |state| of a random network
    (``config`` = {n, g, steps}) on random inputs from ``seed``, simulated with Brian2's Cython target."""
    from .. import RateNetwork, simulate, tasks

    n, g, steps = int(config["n"]), float(config["g"]), int(config["steps"])
    net = RateNetwork.random(n_in=2, n_rec=n, n_out=1, tau=0.05, dt=0.01, g=g, rng=seed)
    u = np.random.default_rng(seed).standard_normal((2, steps, 2))  # (B, T, n_in)
    trials = tasks.Trials(u, np.zeros((2, steps, 1)), np.ones((2, steps, 1)), 0.01, {})
    ann = simulate(net, trials, "ann", rng=seed)
    rate = simulate(net, trials, "rate", rng=seed, target="cython")
    return {"max_state_diff": float(np.abs(ann.states - rate.states).max()),
            "mean_abs_state": float(np.abs(rate.states).mean())}


rate_job.defaults = {"n": 8, "g": 1.2, "steps": 30}
