"""Claim: different architectures trained on one task differ in the geometry of their representations but share the
topology of their fixed points (Maheswaranathan, Williams, Golub, Ganguli & Sussillo 2019, "Universality and
individuality in neural dynamics across large populations of recurrent networks"; here small).

What is measured. Elman, GRU and LSTM networks (``n_rec`` units), ``seeds`` seeds each, trained on the 3-bit
flip-flop with :func:`neurosim.train`. Geometry: every network's hidden states h on the same ``common_trials``
trials (every second step) are reduced to the directions explaining 99% of their variance (SVCCA's reduction;
only the reduced coordinates are kept in the rows) and each pair of networks gets the SVCCA distance, 1 - the mean
canonical correlation (:mod:`neurosim.analysis.similarity`); the distances between architectures are set against
those within one (different seeds), and drawn by classical MDS. Topology: the fixed points of each network
(:mod:`flip_flop_fixed_points`' analysis: stable points on the cube's corners and the graph of one-unstable
saddles). Substrates: each Elman network is also run as Brian2 rate neurons on ``substrate_trials`` trials and
compared with the ANN by the Procrustes angle and the mean CCA. Spiking (``spiking``, seed 0 only): the shipped
sigmoid network ``models/perceptual_decision`` (a tanh flip-flop network cannot spike: its rates are negative),
converted to LIF neurons with its spec's lambda, against its rate parent, and two rate networks trained from that
spec with different seeds (the shipped one, seed 0, and a retrained one, seed 1) against each other: SVCCA
distances of what the readout sees (f(x) of the rate networks, the filtered spike trains / lambda), same trials.
"""

from __future__ import annotations

import itertools
import os
import time

import numpy as np

from .. import tasks
from ..analysis.similarity import SVCCA_VARIANCE, procrustes_angle
from ..analysis.trajectories import canonical_correlations, cca_similarity
from ..ann import forward
from ..plots import _axes
from ..simulate import simulate
from . import _nets
from .base import Check, Experiment, register, verdict_from
from .flip_flop_fixed_points import CELL, N_MEMORIES, analyse

SOURCE = "issue 11 goal; Maheswaranathan et al. 2019 (NeurIPS), Figs. 2-4"

CONFIG = {  # n_inits 512: half of FixedPointFinder's 1024 (15 networks); flip_flop_fixed_points uses 1024
    "seeds": 5, "networks": ["elman", "gru", "lstm"], "n_rec": 64, "dt": 0.01, "duration": 2.0,
    "steps": 600, "lr": 3e-3, "batch_size": 16, "clip": 1.0, "val_trials": 64, "eval_every": 100,
    "test_trials": 256, "sample_trials": 64, "n_inits": 512, "init_noise": 0.5, "fixed_q": 1e-8, "pca_trials": 4,
    "between_per_pair": 8, "between_noise": 0.05,  # the second search between attractors, as flip_flop_fixed_points
    "common_trials": 16, "substrate_trials": 64, "brian2": True, "brian_target": "numpy",
    "spiking": True, "spiking_trials": 64, "spiking_retrain_steps": None,  # None: the spec's own training steps
}
QUICK = {"seeds": 2, "n_rec": 16, "duration": 1.0, "steps": 150, "lr": 1e-2, "eval_every": 50, "test_trials": 32,
         "sample_trials": 16, "n_inits": 128, "common_trials": 8, "substrate_trials": 8, "spiking": False}

# goals (issue 11)
RATIO_MIN = 1.5  # SVCCA distance between architectures >= 1.5x within
PROCRUSTES_MAX = 0.02  # radians, ANN vs Brian2 rate on the same trials
CCA_MIN = 0.999


def _reduced(H: np.ndarray) -> np.ndarray:
    """Centred coordinates of H (M, N) on its principal directions explaining 99% of the variance (SVCCA)."""
    H = H - H.mean(0)
    U, s, _ = np.linalg.svd(H, full_matrices=False)
    k = int(np.searchsorted(np.cumsum(s**2) / np.sum(s**2), SVCCA_VARIANCE - 1e-12) + 1)
    return U[:, :k] * s[:k]  # (M, k)


def run(cfg: dict, seed: int) -> list[dict]:
    task = tasks.make("flip_flop", dt=cfg["dt"], duration=cfg["duration"])
    common = task.sample(cfg["common_trials"], rng=30_000)  # the same trials for every seed and architecture
    rows = []
    for name in cfg["networks"]:
        start = time.perf_counter()
        net = _nets.build(CELL[name], task.n_in, cfg["n_rec"], task.n_out, dt=cfg["dt"], seed=seed)
        net, _ = _nets.fit(net, task, cfg, seed)
        row = {"network": name, "train_seconds": time.perf_counter() - start, **analyse(net, cfg, seed, task)}
        row.pop("_strict")
        for key in ("pca_traj", "pca_fp", "fp_n_unstable", "fp_corner"):  # the fixed-point picture is elsewhere
            row.pop(key)
        H, _ = forward(net, common.inputs)  # (B, T, H): h (or r) on the common trials
        row["svcca_coords"] = np.round(_reduced(H[:, ::2].reshape(-1, H.shape[-1])), 5).tolist()
        if cfg["brian2"] and net.cell == "rnn":
            trials = task.sample(cfg["substrate_trials"], rng=40_000 + seed)
            ann = simulate(net, trials, substrate="ann")
            rate = simulate(net, trials, substrate="rate", target=cfg["brian_target"])
            row["procrustes_angle_ann_brian2"] = procrustes_angle(ann.states, rate.states)
            row["cca_ann_brian2"] = cca_similarity(ann.states, rate.states, n_components=10)
        rows.append(row)
    if cfg["spiking"] and seed == 0:
        rows.append(spiking_part(cfg, seed))
    return rows


def spiking_part(cfg: dict, seed: int) -> dict:
    """The spiking network against its rate parent, and two rate networks from different seeds (docstring)."""
    import dataclasses
    import warnings

    from ..network import load
    from ..spec import fit, load_spec
    from ..spiking import to_spiking
    from ..analysis.similarity import svcca_distance
    from .. import activations, equations
    from .flip_flop_fixed_points import MODELS

    spec = load_spec(os.path.join(MODELS, "perceptual_decision.toml"))
    parent = load(os.path.join(MODELS, "perceptual_decision"))
    start = time.perf_counter()
    other, _, task = fit(dataclasses.replace(spec, training={**spec.training, "seed": spec.training["seed"] + 1}),
                         steps=cfg["spiking_retrain_steps"], progress=False)
    train_time = time.perf_counter() - start
    trials = task.sample(cfg["spiking_trials"], rng=50_000 + seed)
    convert, _ = spec.spiking_settings()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sigmoid converts without warning; nothing else is expected here
        spk = simulate(to_spiking(parent, **convert), trials, substrate="spiking", rng=seed)
    f = activations.get(parent.activation).f
    s_parent = f(simulate(parent, trials, substrate="ann").states)  # (B, T, N) what the readout sees
    s_other = f(simulate(other, trials, substrate="ann").states)
    s_spk = equations.activity_of(spk.extras["filtered_rates"], spk.extras["lam"])  # rate / lambda stands for f(x)
    return {"network": "perceptual_decision", "part": "spiking", "lam": float(spk.extras["lam"]),
            "retrain_seconds": train_time,
            "accuracy_parent": float(task.score(simulate(parent, trials, substrate="ann").outputs, trials)["accuracy"]),
            "accuracy_other": float(task.score(simulate(other, trials, substrate="ann").outputs, trials)["accuracy"]),
            "accuracy_spiking": float(task.score(spk.outputs, trials)["accuracy"]),
            "svcca_spiking_vs_parent": svcca_distance(s_spk, s_parent),
            "svcca_rate_seed0_vs_seed1": svcca_distance(s_parent, s_other),
            "cca_spiking_vs_parent": cca_similarity(s_spk, s_parent), "cca_rate_seed0_vs_seed1": cca_similarity(
                s_parent, s_other)}


def distances(rows: list[dict]) -> tuple[list[str], np.ndarray]:
    """(labels, the SVCCA distance matrix) of the networks in ``rows``, from their reduced coordinates."""
    labels = [f"{r['network']}/{r['seed']}" for r in rows]
    X = [np.asarray(r["svcca_coords"]) for r in rows]
    D = np.zeros((len(rows), len(rows)))
    for i, j in itertools.combinations(range(len(rows)), 2):
        rho = canonical_correlations(X[i], X[j], n_components=None)  # already the 99% subspaces
        D[i, j] = D[j, i] = 1.0 - float(np.mean(rho))
    return labels, D


def check(rows: list[dict], cfg: dict):
    spiking = [r for r in rows if r.get("part") == "spiking"]
    rows = [r for r in rows if r.get("part") != "spiking"]
    labels, D = distances(rows)
    arch = [r["network"] for r in rows]
    within = [D[i, j] for i, j in itertools.combinations(range(len(rows)), 2) if arch[i] == arch[j]]
    between = [D[i, j] for i, j in itertools.combinations(range(len(rows)), 2) if arch[i] != arch[j]]
    checks = []
    if within and between:
        ratio = np.mean(between) / np.mean(within)
        checks.append(Check("SVCCA distance between architectures / within (means over pairs)", ratio,
                            f">= {RATIO_MIN}", ratio >= RATIO_MIN, SOURCE))
    ok = [r["n_stable"] == N_MEMORIES and r["n_corners"] == N_MEMORIES for r in rows]
    checks.append(Check("networks with 8 stable fixed points on the 8 corners (fraction)", np.mean(ok), "= 1",
                        all(ok), SOURCE))
    graphs = [tuple(r["edges"]) for r in rows]
    common = max(set(graphs), key=graphs.count)
    same = np.mean([g == common for g in graphs])
    checks.append(Check("networks sharing the most common saddle graph (fraction)", same, "= 1", same == 1, SOURCE))
    acc = min(r["accuracy"] for r in rows)
    checks.append(Check("lowest test accuracy", acc, ">= 0.99", acc >= 0.99, "issue 11 goal"))
    sub = [r for r in rows if "procrustes_angle_ann_brian2" in r]
    if sub:
        worst = max(r["procrustes_angle_ann_brian2"] for r in sub)
        checks.append(Check(f"Procrustes angle ANN vs Brian2 rate, same {cfg['substrate_trials']} trials (rad, "
                            "largest)", worst, f"< {PROCRUSTES_MAX}", worst < PROCRUSTES_MAX, "issue 11 goal"))
        lowest = min(r["cca_ann_brian2"] for r in sub)
        checks.append(Check("mean CCA ANN vs Brian2 rate (lowest)", lowest, f"> {CCA_MIN}", lowest > CCA_MIN,
                            "issue 11 goal"))
    for r in spiking:
        checks.append(Check("SVCCA distance spiking vs its rate parent, below that of two rate networks from "
                            "different seeds (spiking / rate pair)",
                            r["svcca_spiking_vs_parent"] / r["svcca_rate_seed0_vs_seed1"], "< 1",
                            r["svcca_spiking_vs_parent"] < r["svcca_rate_seed0_vs_seed1"], "issue 11 goal"))
    per = {a: np.mean([D[i, j] for i, j in itertools.combinations(range(len(rows)), 2)
                       if arch[i] == arch[j] == a] or [np.nan]) for a in cfg["networks"]}
    summary = (f"SVCCA distance within an architecture {np.mean(within) if within else np.nan:.3f} "
               f"({', '.join(f'{a} {v:.3f}' for a, v in per.items())}), between architectures "
               f"{np.mean(between) if between else np.nan:.3f}; {sum(ok)}/{len(ok)} networks have 8 stable points on "
               f"the 8 corners and {int(round(same * len(graphs)))}/{len(graphs)} share the most common saddle graph "
               f"({len(common)} edges).")
    return verdict_from(checks, summary)


def _mds(D: np.ndarray, k: int = 2) -> np.ndarray:
    """Classical (Torgerson) MDS: the top-k eigenvectors of the double-centred -D^2 / 2, scaled."""
    n = D.shape[0]
    C = np.eye(n) - 1.0 / n
    w, V = np.linalg.eigh(-0.5 * C @ (D**2) @ C)
    idx = np.argsort(w)[::-1][:k]
    return V[:, idx] * np.sqrt(np.maximum(w[idx], 0.0))


def figures(rows: list[dict], cfg: dict) -> dict:
    rows = [r for r in rows if r.get("part") != "spiking"]
    labels, D = distances(rows)
    a, b = _axes(None, figsize=(9.5, 3.8), ncols=2)
    im = a.imshow(D, cmap="viridis")
    a.set_xticks(range(len(labels)), labels, rotation=90, fontsize=5)
    a.set_yticks(range(len(labels)), labels, fontsize=5)
    a.set_title("SVCCA distance", fontsize=9)
    a.figure.colorbar(im, ax=a, fraction=0.046)
    Y = _mds(D)
    colors = {"elman": "tab:blue", "gru": "tab:green", "lstm": "tab:orange"}
    for name in cfg["networks"]:
        sel = [i for i, r in enumerate(rows) if r["network"] == name]
        marker = ["o" if rows[i]["n_stable"] == N_MEMORIES else "x" for i in sel]
        for i, m in zip(sel, marker):
            b.scatter(Y[i, 0], Y[i, 1], c=colors.get(name, "k"), marker=m, s=30,
                      label=name if i == sel[0] else None)
    b.set_title("MDS of SVCCA distances (o: 8 stable fixed points, x: not)", fontsize=8)
    b.set_xlabel("MDS 1")
    b.set_ylabel("MDS 2")
    b.legend(frameon=False, fontsize=7)
    a.figure.tight_layout()
    return {"svcca_mds": a.figure}


EXPERIMENT = register(Experiment(
    name="universality",
    claim="Architectures trained on one task differ in representational geometry but share their fixed-point topology.",
    citation="Maheswaranathan, Williams, Golub, Ganguli & Sussillo 2019 (NeurIPS); Raghu et al. 2017 (SVCCA)",
    description="Elman, GRU and LSTM networks (64 units), 5 seeds each, trained on the 3-bit flip-flop: SVCCA "
                "distances between their hidden states on common trials (within vs between architectures, MDS), "
                "against the topology of their fixed points (8 stable corners, the saddle graph); and each Elman "
                "network against itself on Brian2 rate neurons (Procrustes angle, CCA).",
    config=CONFIG, quick=QUICK, run=run, check=check, figures=figures,
    keys=("network", "part"),
    columns=("accuracy", "n_stable", "n_corners", "n_saddle1", "n_saddle_more", "n_edges",
             "procrustes_angle_ann_brian2", "cca_ann_brian2", "train_seconds", "fp_seconds",
             "svcca_spiking_vs_parent", "svcca_rate_seed0_vs_seed1", "cca_spiking_vs_parent", "cca_rate_seed0_vs_seed1",
             "accuracy_parent", "accuracy_other", "accuracy_spiking"),
))
