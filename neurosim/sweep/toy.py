"""Small deterministic job functions for demos, tests and benchmarks of the sweep runner.

:func:`job` is a pure function of ``(config, seed)``: the spectrum and a short tanh-RNN trajectory of a random
``n x n`` matrix with gain ``g`` (``x_{t+1} = tanh(W x_t)``, ``W = g A / sqrt(n)``, ``A_ij ~ N(0, 1)``).
``steps`` sets how much work it does (about 5 microseconds per step for n = 64 on one core), ``fail = true`` makes
it raise (to exercise error records). If ``$NEUROSIM_SWEEP_TOY_LOG`` names a file, every call appends one line
``<seed> <g> <n>`` to it: the kill-and-resume test counts executions with it.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["job", "defaults"]

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
