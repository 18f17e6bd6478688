"""Calibrate the rate-to-spike scaling ``lam`` of a converted network on validation trials.

Kim, Li & Sejnowski (2019) chose the scaling factor of each network by a grid search over 20 to 75, keeping
the value that maximised the task performance of the spiking network. :func:`calibrate_lambda` does that
search (a grid, optionally refined by bracketing around the best point) and returns the whole score-vs-lambda
curve, which :func:`neurosim.plots.lambda_curve` draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import as_rng, check_positive
from .network import RateNetwork
from .simulate import simulate
from .spiking import SpikingNetwork, to_spiking
from .tasks import Task, Trials, primary_metric, regression_metrics

__all__ = ["Calibration", "calibrate_lambda", "DEFAULT_LAMBDAS"]

DEFAULT_LAMBDAS = (20.0, 30.0, 40.0, 50.0, 60.0, 75.0)  # Hz; Kim et al.'s range


@dataclass(frozen=True, eq=False)
class Calibration:
    """The outcome of :func:`calibrate_lambda`.

    lam: the best lambda (Hz); network: the SpikingNetwork at that lambda; lambdas (L,) every lambda tried,
    sorted, and scores (L,) the metric at each; metrics: the full metric dicts, in the same order; metric and
    higher_is_better: what was optimised; rate_score: the rate network (numpy RNN) on the same trials, for
    reference (None when a SpikingNetwork was calibrated); n_trials and seed: the validation set and the spike
    seed shared by every lambda (common random numbers: the curve compares lambdas, not noise draws).
    """

    lam: float
    network: SpikingNetwork
    lambdas: np.ndarray
    scores: np.ndarray
    metrics: list
    metric: str
    higher_is_better: bool
    rate_score: float | None
    n_trials: int
    seed: int
    run_time: float = 0.0
    info: dict = field(default_factory=dict)


def calibrate_lambda(net, data: Task | Trials, lambdas=DEFAULT_LAMBDAS, *, n_trials: int = 100,
                     task: Task | None = None, metric: str | None = None, refine: int = 0,
                     device: str = "runtime", target: str = "auto", sim_dt=None, cache_dir=None, rng=0,
                     **spiking) -> Calibration:
    """Find the ``lam`` (Hz) that maximises the spiking network's task score on validation trials.

    net: a trained RateNetwork (converted with ``to_spiking(net, **spiking)``) or a SpikingNetwork (its lam is
    replaced). data: a Task (``n_trials`` validation trials are sampled from it with ``rng``) or Trials (give
    ``task`` to score them with the task's metrics; otherwise MSE/NRMSE/R^2). metric: the score to optimise;
    default accuracy for decision tasks, else NRMSE (minimised). lambdas: the grid, Hz. refine: rounds of
    bracketing after the grid; each evaluates the midpoints between the best lambda and its two neighbours.
    Ties go to the lower MSE. Every lambda runs with the same spike seed. Returns a :class:`Calibration`.
    """
    rng = as_rng(rng)
    refine = check_positive(refine, "calibrate_lambda refine", integer=True, allow_zero=True)
    grid = np.unique(np.asarray(lambdas, dtype=float))
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError(f"calibrate_lambda lambdas: expected positive firing rates in Hz (e.g. "
                         f"{DEFAULT_LAMBDAS}), got {lambdas!r}")
    if isinstance(data, Task):
        task = data
        n_trials = check_positive(n_trials, "calibrate_lambda n_trials", integer=True)
        trials = task.sample(n_trials, rng=int(rng.integers(2**31 - 1)))
    elif isinstance(data, Trials):
        trials = data
    else:
        raise TypeError(f"calibrate_lambda data: expected a Task or Trials, got {type(data).__name__}")
    seed = int(rng.integers(2**31 - 1))
    name, higher = primary_metric(task, metric) if task is not None or metric else ("nrmse", False)
    score = (lambda y: task.score(y, trials)) if task is not None else (lambda y: regression_metrics(y, trials))

    if isinstance(net, SpikingNetwork):
        base, rate_score = net, None
    elif isinstance(net, RateNetwork):
        base = to_spiking(net, lam=float(grid[0]), **spiking)
        from . import ann

        rate_score = float(score(ann.forward(net, trials.inputs, rng=seed)[1])[name])
    else:
        raise TypeError(f"calibrate_lambda net: expected a RateNetwork or SpikingNetwork, got {type(net).__name__}")

    results: dict[float, dict] = {}
    run_time = 0.0

    def evaluate(lam: float) -> None:
        nonlocal run_time
        if lam in results:
            return
        res = simulate(base.replace(lam=lam), trials, substrate="spiking", device=device, target=target,
                       sim_dt=sim_dt, cache_dir=cache_dir, rng=seed)
        run_time += res.build_time + res.run_time
        metrics = score(res.outputs)
        if name not in metrics:
            raise ValueError(f"calibrate_lambda metric: {name!r} is not among the task's metrics "
                             f"{sorted(metrics)}")
        results[lam] = metrics

    def best() -> float:
        def key(lam):
            m = results[lam]
            primary = m[name] if higher else -m[name]
            return (primary, -m.get("mse", 0.0))
        return max(sorted(results), key=key)

    for lam in grid:
        evaluate(float(lam))
    for _ in range(refine):
        tried = np.array(sorted(results))
        k = int(np.searchsorted(tried, best()))
        for j in (k - 1, k + 1):
            if 0 <= j < len(tried):
                evaluate(float(0.5 * (tried[k] + tried[j])))

    lam = best()
    tried = sorted(results)
    return Calibration(lam=lam, network=base.replace(lam=lam), lambdas=np.array(tried),
                       scores=np.array([results[k][name] for k in tried]), metrics=[results[k] for k in tried],
                       metric=name, higher_is_better=higher, rate_score=rate_score, n_trials=trials.n_trials,
                       seed=seed, run_time=run_time, info={"device": device, "refine": refine})
