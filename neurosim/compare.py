"""Compare one model on every substrate that applies: the artificial RNN, the Brian2 rate network and the
Brian2 spiking network, on the same held-out trials.

:func:`compare` loads (or trains) a model spec's weights, runs each substrate through :func:`neurosim.simulate`,
scores it with the task's own metrics and measures how far its outputs are from the ANN's, how well its hidden
trajectories align with the ANN's, and how long building and running took. Writing the report is
:mod:`neurosim.report`'s job; this module computes.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import tasks
from ._validate import check_positive
from .analysis.trajectories import cca_similarity, pca_basis, procrustes_similarity
from .network import RateNetwork, load
from .simulate import Result, simulate
from .spiking import ConversionWarning, to_spiking
from .spec import ModelSpec, fit

__all__ = ["compare", "Comparison", "SUBSTRATES"]

SUBSTRATES = ("ann", "rate", "spiking")


@dataclass
class Comparison:
    """Everything one comparison computed.

    results: substrate -> Result (in run order); rows: one dict per substrate for the table (task metrics,
    deviation from the ANN, firing rate, alignment, timings); skipped: substrate -> why it did not run;
    alignment: shared PCA projections per substrate; calibration: the lambda calibration, if one ran.
    """

    spec: ModelSpec
    task: tasks.Task
    trials: tasks.Trials
    net: object
    results: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    projections: dict = field(default_factory=dict)
    explained_variance: list = field(default_factory=list)
    calibration: object = None
    weights: str = ""
    trained: bool = False

    def to_dict(self) -> dict:
        return {"model": self.spec.name, "task": self.task.name, "task_params": self.task.params(),
                "n_trials": self.trials.n_trials, "weights": self.weights, "trained_now": self.trained,
                "substrates": self.rows, "skipped": self.skipped, "notes": self.notes,
                "pca_explained_variance": [float(v) for v in self.explained_variance],
                "lambda_calibration": None if self.calibration is None else {
                    "lam": float(self.calibration.lam), "metric": self.calibration.metric,
                    "lambdas": self.calibration.lambdas.tolist(), "scores": self.calibration.scores.tolist()}}


def _weights(spec: ModelSpec, retrain: bool, out: str | None, progress: bool, say):
    """The trained network: the spec's shipped weights, or trained now (saved under ``out``)."""
    path = spec.weights_path
    if path and not retrain and os.path.exists(path + ".json"):
        net = load(path)
        spec.check_weights(net, f"compare {path}.json")  # weights beside a spec are that spec's network
        return net, path + ".json", False
    if not retrain:
        say(f"no trained weights at {path}.json: training now (`neurosim train {spec.path} --out DIR` makes them)")
    net, _, _ = fit(spec, progress=progress)
    saved = ""
    if out is not None:
        saved = net.save(os.path.join(out, "model"))[0]
    return net, saved, True


def _applies(substrate: str, net) -> str | None:
    """Why ``substrate`` cannot run ``net``, or None if it can."""
    if substrate in ("rate", "spiking") and not isinstance(net, RateNetwork):
        return (f"an {net.cell.upper()} network has no Brian2 counterpart: gated cells are not rate neurons, so "
                "only the artificial RNN runs")
    return None


def compare(spec: ModelSpec, *, substrates=SUBSTRATES, device: str = "runtime", target: str = "auto", n_trials: int = 16,
            seed: int = 0, retrain: bool = False, calibrate: bool = False, out: str | None = None,
            progress: bool = True, say=print) -> Comparison:
    """Run the model of ``spec`` on each of ``substrates`` over the same ``n_trials`` held-out trials.

    The spec's shipped weights are used unless they are missing or ``retrain`` is set (then the model is trained
    and saved under ``out``). The spiking network uses ``[spiking] lam`` unless it is missing or ``calibrate``
    is set (then lambda is calibrated on separate validation trials). ``say`` receives progress messages.
    ``target``: Brian2 code generation on the runtime device, "auto" (Cython when a compiler works, else numpy
    with one warning), "cython" or "numpy".
    """
    unknown = [s for s in substrates if s not in SUBSTRATES]
    if unknown or not substrates:
        raise ValueError(f"compare substrates: expected a non-empty subset of {list(SUBSTRATES)}, got "
                         f"{list(substrates)}")
    n_trials = check_positive(n_trials, "compare trials", integer=True)
    seed = check_positive(seed, "compare seed", integer=True, allow_zero=True)
    spiking_kw, calib_kw = spec.spiking_settings()
    if calibrate:
        spiking_kw.pop("lam", None)
    task = spec.make_task()
    net, weights, trained = _weights(spec, retrain, out, progress, say)
    trials = task.sample(n_trials, rng=seed + 10_000)  # held out: training never draws this seed
    cmp = Comparison(spec, task, trials, net, weights=weights, trained=trained)
    order = [s for s in SUBSTRATES if s in substrates]
    for i, name in enumerate(order, 1):
        reason = _applies(name, net)
        if reason:
            cmp.skipped[name] = reason
            say(f"[{i}/{len(order)}] {name}: skipped ({reason})")
            continue
        say(f"[{i}/{len(order)}] {name}: running on {n_trials} trials"
            + ("" if name == "ann" else f" (Brian2, {device})") + " ...")
        start = time.perf_counter()
        if name == "spiking":
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConversionWarning)
                res = _spiking(cmp, spiking_kw, calib_kw, device, target, seed, say)
            for w in caught:  # the conversion's caveats belong in the report, not in a log line
                if issubclass(w.category, ConversionWarning):
                    cmp.notes["spiking"] = str(w.message).removeprefix("to_spiking: ")
                    say(f"      note: {cmp.notes['spiking']}")
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        else:
            res = simulate(net, trials, name, device=device, rng=seed,
                           **({} if name == "ann" else {"target": target}))
        cmp.results[name] = res
        say(f"      done in {time.perf_counter() - start:.1f} s")
    _score(cmp)
    return cmp


def _spiking(cmp: Comparison, spiking_kw: dict, calib_kw: dict, device: str, target: str, seed: int,
             say) -> Result:
    from .calibration import calibrate_lambda

    kw = dict(spiking_kw)
    if "lam" not in kw:  # calibrate on validation trials distinct from the comparison's
        n_cal = calib_kw.get("calibration_trials", 32)
        grid = calib_kw.get("lambdas", None)
        extra = {} if grid is None else {"lambdas": grid}
        say(f"      calibrating lambda on {n_cal} validation trials ...")
        cmp.calibration = calibrate_lambda(cmp.net, cmp.task, n_trials=n_cal, device=device, target=target,
                                           rng=seed + 1, **extra, **kw)
        kw["lam"] = cmp.calibration.lam
        say(f"      lambda = {kw['lam']:g} Hz")
    snet = to_spiking(cmp.net, **kw)
    return simulate(snet, cmp.trials, "spiking", device=device, target=target, rng=seed)


def _score(cmp: Comparison) -> None:
    ann = cmp.results.get("ann")
    basis = None
    if ann is not None:
        basis = pca_basis(ann.states, n_components=3)
        cmp.explained_variance = list(basis.explained_variance_ratio)
    for name, res in cmp.results.items():
        metrics = cmp.task.score(res.outputs, cmp.trials)
        row = {"substrate": name, **{k: float(v) for k, v in metrics.items() if np.isscalar(v)}}
        if ann is not None and name != "ann":
            dev = np.abs(res.outputs - ann.outputs)
            row["max_dev_from_ann"] = float(dev.max())
            row["mean_dev_from_ann"] = float(dev.mean())
            row["procrustes_vs_ann"] = procrustes_similarity(ann.states, res.states)
            row["cca_vs_ann"] = cca_similarity(ann.states, res.states, n_components=10)
        if "firing_rates" in res.extras:
            row["mean_rate_hz"] = float(np.mean(res.extras["firing_rates"]))
        if "lam" in res.extras:
            row["lambda_hz"] = float(res.extras["lam"])
        row["build_s"] = float(res.build_time)
        row["run_s"] = float(res.run_time)
        cmp.rows.append(row)
        if basis is not None:
            cmp.projections[name] = basis.project(res.states)
