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
from dataclasses import dataclass, field

import numpy as np

from . import substrates as substrate_registry
from . import tasks
from ._validate import check_positive
from .analysis.trajectories import cca_similarity, pca_basis, procrustes_similarity
from .network import load
from .simulate import simulate
from .spec import ModelSpec, fit

__all__ = ["compare", "Comparison"]


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


def compare(spec: ModelSpec, *, substrates=None, device: str = "runtime", target: str = "auto", n_trials: int = 16,
            seed: int = 0, retrain: bool = False, calibrate: bool = False, out: str | None = None,
            progress: bool = True, say=print) -> Comparison:
    """Run the model of ``spec`` on each of ``substrates`` (default: every registered one, in registry order)
    over the same ``n_trials`` held-out trials.

    The spec's shipped weights are used unless they are missing or ``retrain`` is set (then the model is trained
    and saved under ``out``). Each substrate prepares the network it runs from the trained one
    (``Substrate.prepare``): the spiking substrate converts it at ``[spiking] lam``, or calibrates lambda on
    separate validation trials when the spec gives none or ``calibrate`` is set. ``say`` receives progress
    messages. ``device`` and ``target`` go to the substrates that take them; ``target``: Brian2 code generation
    on the runtime device, "auto" (Cython when a compiler works, else numpy with one warning), "cython" or
    "numpy".
    """
    known = substrate_registry.names()
    substrates = known if substrates is None else list(substrates)
    unknown = [s for s in substrates if s not in known]
    if unknown or not substrates:
        raise ValueError(f"compare substrates: expected a non-empty subset of {known}, got {list(substrates)}")
    n_trials = check_positive(n_trials, "compare trials", integer=True)
    seed = check_positive(seed, "compare seed", integer=True, allow_zero=True)
    spiking_kw, calib_kw = spec.spiking_settings()
    if calibrate:
        spiking_kw.pop("lam", None)
    settings = {**spiking_kw, **calib_kw}
    task = spec.make_task()
    net, weights, trained = _weights(spec, retrain, out, progress, say)
    trials = task.sample(n_trials, rng=seed + 10_000)  # held out: training never draws this seed
    cmp = Comparison(spec, task, trials, net, weights=weights, trained=trained)
    order = [s for s in known if s in substrates]
    for i, name in enumerate(order, 1):
        sub = substrate_registry.get(name)
        reason = sub.why_not(net)
        if reason:
            cmp.skipped[name] = reason
            say(f"[{i}/{len(order)}] {name}: skipped ({reason})")
            continue
        say(f"[{i}/{len(order)}] {name}: running on {n_trials} trials"
            + ("" if "device" not in sub.options else f" (Brian2, {device})") + " ...")
        start = time.perf_counter()
        options = {k: v for k, v in {"device": device, "target": target}.items() if k in sub.options}
        run_net, info = sub.prepare(net, task=task, trials=trials, settings=settings, options=options, seed=seed,
                                    say=say)
        if "notes" in info:
            cmp.notes[name] = info["notes"]
            say(f"      note: {info['notes']}")
        if "calibration" in info:
            cmp.calibration = info["calibration"]
        cmp.results[name] = simulate(run_net, trials, name, rng=seed, **options)
        say(f"      done in {time.perf_counter() - start:.1f} s")
    _score(cmp)
    return cmp


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
