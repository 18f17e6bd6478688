"""Claim: a network trained on the 3-bit flip-flop stores its 8 memories as 8 stable fixed points, joined through
saddles with one unstable direction (Sussillo & Barak 2013, "Opening the black box").

What is measured. Elman (tanh, alpha = 1), GRU and LSTM networks (``n_rec`` units, Keras' initialisation for the
gated cells) are trained on the flip-flop with :func:`neurosim.train` (and the shipped leaky rate network
``models/flip_flop`` is analysed as it is). For each, :func:`neurosim.analysis.dynamics.find_fixed_points`
searches the input-free map from ``n_inits`` states sampled from 64 trials' trajectories plus noise 0.5
(FixedPointFinder's defaults), then again from ``between_per_pair`` states on the segment between each pair of
stable points found (:func:`neurosim.analysis.dynamics.search_between_stable`: the trajectories can pass a saddle
at a distance; every path between two attractors crosses the ridge where their saddle sits; 0 turns this off,
``n_saddle1_trajectories`` counts the one-unstable saddles of the first search). A fixed point has q <
``fixed_q`` (1e-8, the issue's threshold); stable points are matched to the corners of the cube by the signs of
their readouts; one-unstable saddles are followed along their unstable direction (:func:`saddle_graph`) to the
two stable points they join, giving the graph of the attractor landscape (its vertices the stable points, an edge
for each saddle whose two ends settle at stable points; the others are counted as ``n_unresolved_saddles``), which
is compared between architectures. The rate networks' fixed points are then run on the Brian2 rate network (one
task step from x0 = x*, :func:`fixed_point_residual`): ``|F(x*) - x*| / |x*|`` must be below 1e-6 (gated cells
have no Brian2 form). The figure draws each network's trajectories and fixed points in the PCA
space of its hidden states, stable points labelled with their readouts' signs.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .. import tasks
from ..analysis import dynamics as dyn
from ..analysis.trajectories import pca_basis
from ..ann import forward
from ..network import load
from . import _nets
from .base import Check, Experiment, register, verdict_from

SOURCE = "issue 11 goal; Sussillo & Barak 2013 (Neural Comput 25:626), Fig. 3"
MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "models")

CONFIG = {
    "seeds": 1, "networks": ["elman", "gru", "lstm", "shipped_leaky"], "n_rec": 64, "dt": 0.01, "duration": 2.0,
    "steps": 600, "lr": 3e-3, "batch_size": 16, "clip": 1.0, "val_trials": 64, "eval_every": 100,
    "test_trials": 256, "sample_trials": 64, "n_inits": dyn.N_INITS, "init_noise": dyn.INIT_NOISE, "fixed_q": 1e-8,
    "between_per_pair": 8, "between_noise": 0.05,
    "brian2": True, "brian_target": "numpy", "pca_trials": 6,
}
QUICK = {"networks": ["shipped_leaky"], "n_inits": 256, "test_trials": 64}

# goals (issue 11)
MIN_ACCURACY = 0.99
N_MEMORIES = 8
MIN_SADDLES = 6
BRIAN_TOL = 1e-6
CELL = {"elman": "rnn", "gru": "gru", "lstm": "lstm"}


def _network(name: str, cfg: dict, seed: int, task):
    """(the network, training seconds): trained with neurosim.train, or the shipped model."""
    if name == "shipped_leaky":
        return load(os.path.join(MODELS, "flip_flop")), 0.0
    start = time.perf_counter()
    net = _nets.build(CELL[name], task.n_in, cfg["n_rec"], task.n_out, dt=cfg["dt"], seed=seed)
    net, _ = _nets.fit(net, task, cfg, seed)
    return net, time.perf_counter() - start


def _corner(y) -> str:
    return "".join("+" if v > 0 else "-" for v in y)


def graph(net, fps) -> tuple[list[str], int]:
    """(edges, unresolved): the attractor graph of ``fps`` (:func:`saddle_graph`), each edge named by the corners
    of the two stable points a one-unstable saddle joins ("+-+/---"); a saddle with an end that settles at no
    stable point joins no two vertices and is counted as unresolved instead."""
    edges, unresolved = [], 0
    for _, a, b in dyn.saddle_graph(net, fps):
        if a < 0 or b < 0:
            unresolved += 1
            continue
        edges.append("/".join(sorted(_corner(fps.outputs[i]) for i in (a, b))))
    return edges, unresolved


def analyse(net, cfg: dict, seed: int, task) -> dict:
    """Accuracy, fixed points, their corners and saddle graph, and the PCA picture, for one trained network."""
    test = task.sample(cfg["test_trials"], rng=10_000 + seed)
    accuracy = task.score(forward(net, test.inputs)[1], test)["accuracy"]
    sample = task.sample(cfg["sample_trials"], rng=20_000 + seed)
    states = dyn.trajectory(net, sample.inputs)  # (B, T, n): the map's states (LSTM: [h; c])
    start = time.perf_counter()
    fps = dyn.find_fixed_points(net, states, n_inits=cfg["n_inits"], init_noise=cfg["init_noise"], rng=seed)
    saddles_from_trajectories = int(np.sum((fps.q < cfg["fixed_q"]) & (fps.n_unstable == 1)))
    if cfg["between_per_pair"]:
        fps = dyn.search_between_stable(net, fps, per_pair=cfg["between_per_pair"], init_noise=cfg["between_noise"],
                                        rng=seed)
    fp_time = time.perf_counter() - start
    fixed = fps.q < cfg["fixed_q"]
    stable = np.flatnonzero(fixed & (fps.n_unstable == 0))
    saddle1 = np.flatnonzero(fixed & (fps.n_unstable == 1))
    k_unstable = fps.n_unstable[fixed]
    kind = np.where(k_unstable == 0, "stable", np.where(k_unstable == states.shape[-1], "unstable", "saddle"))
    strict = dyn.FixedPoints(fps.xstar[fixed], fps.q[fixed], fps.eigenvalues[fixed], k_unstable, kind,
                             fps.outputs[fixed], fps.u, cfg["fixed_q"])  # q < fixed_q, classified by their spectra
    corners = [_corner(fps.outputs[i]) for i in stable]
    edges, unresolved = graph(net, strict)
    one_bit = sum(1 for e in edges if sum(x != y for x, y in zip(*e.split("/"))) == 1)
    n = net.n_rec
    basis = pca_basis(states[..., :n], n_components=3)
    traj = basis.project(states[: cfg["pca_trials"], ::2, :n])  # (k, T/2, 3)
    row = {
        "n_rec": n, "accuracy": float(accuracy), "fp_seconds": fp_time, "n_candidates": len(fps),
        "n_fixed": int(fixed.sum()), "n_stable": int(len(stable)), "n_corners": len(set(corners)),
        "n_saddle1": int(len(saddle1)), "n_saddle1_trajectories": saddles_from_trajectories,
        "n_saddle_more": int(np.sum(fixed & (fps.n_unstable > 1))),
        "n_slow": int(np.sum(~fixed)), "max_q_fixed": float(np.max(fps.q[fixed], initial=0.0)),
        "edges": sorted(edges), "n_edges": len(edges), "n_one_bit_edges": one_bit, "n_unresolved_saddles": unresolved,
        "pca_variance": basis.explained_variance_ratio.tolist(),
        "pca_traj": np.round(traj, 4).tolist(),
        "pca_fp": np.round(basis.project(strict.xstar[:, :n]), 4).tolist(),
        "fp_n_unstable": strict.n_unstable.tolist(), "fp_corner": [_corner(y) for y in strict.outputs],
    }
    row["_strict"] = strict  # for the Brian2 check in run(); removed before the row is returned
    return row


def run(cfg: dict, seed: int) -> list[dict]:
    task = tasks.make("flip_flop", dt=cfg["dt"], duration=cfg["duration"])
    rows = []
    for name in cfg["networks"]:
        net, train_time = _network(name, cfg, seed, task)
        row = {"network": name, "cell": net.cell, "train_seconds": train_time, **analyse(net, cfg, seed, task)}
        strict = row.pop("_strict")
        if cfg["brian2"] and net.cell == "rnn" and len(strict):
            res = dyn.fixed_point_residual(net, strict, substrate="rate", target=cfg["brian_target"])
            rel = res / np.maximum(np.linalg.norm(strict.xstar, axis=1), 1e-6)
            row["brian2_max_rel_residual"] = float(np.max(rel))
        rows.append(row)
    return rows


def check(rows: list[dict], cfg: dict):
    checks = []
    for r in rows:
        tag = f"{r['network']} (seed {r['seed']})"
        checks.append(Check(f"{tag}: test accuracy", r["accuracy"], f">= {MIN_ACCURACY}",
                            r["accuracy"] >= MIN_ACCURACY, "issue 11 goal"))
        checks.append(Check(f"{tag}: stable fixed points (q < {cfg['fixed_q']:g})", r["n_stable"], f"= {N_MEMORIES}",
                            r["n_stable"] == N_MEMORIES, SOURCE))
        checks.append(Check(f"{tag}: distinct corners of the cube among the stable points' readout signs",
                            r["n_corners"], f"= {N_MEMORIES}", r["n_corners"] == N_MEMORIES == r["n_stable"], SOURCE))
        if r["network"] in ("elman", "shipped_leaky"):
            checks.append(Check(f"{tag}: saddles with one unstable direction", r["n_saddle1"], f">= {MIN_SADDLES}",
                                r["n_saddle1"] >= MIN_SADDLES, SOURCE))
        if "brian2_max_rel_residual" in r:
            checks.append(Check(f"{tag}: Brian2 rate equations at the ANN's fixed points, max |F(x*) - x*| / |x*|",
                                r["brian2_max_rel_residual"], f"< {BRIAN_TOL:g}",
                                r["brian2_max_rel_residual"] < BRIAN_TOL, "issue 11 goal"))
    for seed in sorted({r["seed"] for r in rows}):
        mine = {r["network"]: r for r in rows if r["seed"] == seed}
        if "elman" in mine:
            ref = set(mine["elman"]["edges"])
            for other in ("gru", "lstm"):
                if other in mine:
                    same = set(mine[other]["edges"]) == ref
                    checks.append(Check(f"seed {seed}: {other} graph of stable points and one-unstable saddles "
                                        "equals the Elman's (1 = same)", float(same), "= 1", same, "issue 11 goal"))
    summary = "; ".join(f"{r['network']} (seed {r['seed']}): accuracy {r['accuracy']:.3f}, {r['n_stable']} stable "
                        f"({r['n_corners']} corners), {r['n_saddle1']} one-unstable and {r['n_saddle_more']} "
                        f"more-unstable saddles, {r['n_slow']} slow points, {r['n_one_bit_edges']}/{r['n_edges']} "
                        "saddle edges join corners one bit apart"
                        + (f" ({r['n_unresolved_saddles']} one-unstable saddles whose ends settle at no stable point)"
                           if r.get("n_unresolved_saddles") else "") for r in rows)
    return verdict_from(checks, summary + ".")


def figures(rows: list[dict], cfg: dict) -> dict:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = len(rows)
    fig = plt.figure(figsize=(3.6 * n, 3.6))
    for k, r in enumerate(rows):
        ax = fig.add_subplot(1, n, k + 1, projection="3d")
        for tr in r["pca_traj"]:
            tr = np.asarray(tr)
            ax.plot(tr[:, 0], tr[:, 1], tr[:, 2], color="0.75", lw=0.5)
        fp = np.asarray(r["pca_fp"]).reshape(-1, 3)
        unstable = np.asarray(r["fp_n_unstable"])
        for m, (label, style) in enumerate([("stable", dict(marker="o", s=28, c="k")),
                                            ("1 unstable", dict(marker="x", s=24, c="tab:red")),
                                            ("> 1 unstable", dict(marker="+", s=20, c="tab:blue"))]):
            sel = unstable == 0 if m == 0 else unstable == 1 if m == 1 else unstable > 1
            if np.any(sel):
                ax.scatter(fp[sel, 0], fp[sel, 1], fp[sel, 2], label=label, depthshade=False, **style)
        for i in np.flatnonzero(unstable == 0):
            ax.text(fp[i, 0], fp[i, 1], fp[i, 2], " " + r["fp_corner"][i], fontsize=6)
        ax.set_title(f"{r['network']} (seed {r['seed']}): {r['n_stable']} stable, {r['n_saddle1']} saddles",
                     fontsize=8)
        ax.set_xlabel("PC1", fontsize=7)
        ax.set_ylabel("PC2", fontsize=7)
        ax.set_zlabel("PC3", fontsize=7)
        ax.tick_params(labelsize=5)
        if k == 0:
            ax.legend(frameon=False, fontsize=6, loc="upper left")
    fig.tight_layout()
    return {"fixed_points_pca": fig}


EXPERIMENT = register(Experiment(
    name="flip_flop_fixed_points",
    claim="A network trained on the 3-bit flip-flop holds its 8 memories as 8 stable fixed points joined by saddles.",
    citation="Sussillo & Barak 2013 (Neural Comput 25:626); Golub & Sussillo 2018 (JOSS 3:1003)",
    description="Elman, GRU and LSTM networks (64 units) trained on the 3-bit flip-flop, and the shipped leaky rate "
                "network: fixed points of the input-free map by FixedPointFinder's method (1024 initial states from "
                "trajectories plus noise 0.5, then from the segments between attractors), stable points matched to "
                "the cube's corners by their readouts, the "
                "graph of one-unstable saddles, the picture in PCA space, and the rate networks' fixed points "
                "checked in the Brian2 rate equations.",
    config=CONFIG, quick=QUICK, run=run, check=check, figures=figures, keys=("network",),
    columns=("accuracy", "n_stable", "n_corners", "n_saddle1", "n_saddle1_trajectories", "n_saddle_more", "n_slow",
             "n_one_bit_edges", "n_unresolved_saddles", "brian2_max_rel_residual", "fp_seconds", "train_seconds"),
))
