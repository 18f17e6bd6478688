"""The dynamics experiments (issue 11): small runs, their checks on rows whose verdict is known, MDS, SVCCA rows."""

import numpy as np
import pytest

from neurosim import experiments
from neurosim.experiments import flip_flop_fixed_points as ffp
from neurosim.experiments import transition_to_chaos as ttc
from neurosim.experiments import universality as uni


def _close(figs):
    import matplotlib.pyplot as plt

    for f in figs.values():
        plt.close(f)


def test_the_three_are_registered():
    assert {"transition_to_chaos", "flip_flop_fixed_points", "universality"} <= set(experiments.names())


def test_transition_to_chaos_small_run_without_brian2():
    small = {"seeds": 1, "n_rec": 150, "gains": [0.5, 3.0], "duration_tau": 20.0, "transient_tau": 10.0,
             "twin_g": 3.0, "discrete_n": 150, "discrete_gains": [3.0], "discrete_steps": 200, "discrete_transient": 50,
             "brian_seeds": 0, "mean_field_gains": [3.0]}
    rep = experiments.run_experiment("transition_to_chaos", config_overrides=small, progress=False)
    cont = {r["g"]: r for r in rep.rows if r["part"] == "continuous"}
    assert cont[0.5]["lambda_qr_per_tau"] < -0.4 < 0 < cont[3.0]["lambda_qr_per_tau"]
    assert cont[3.0]["lambda_twin_per_tau"] == pytest.approx(cont[3.0]["lambda_qr_per_tau"], rel=0.01)
    names = [c.name for c in rep.verdict.checks]
    assert any("QR vs twin" in n for n in names) and not any("Brian2" in n for n in names)
    _close(experiments.get("transition_to_chaos").figures(rep.rows, rep.config))


def _chaos_rows(lam_g3):
    rows = []
    for seed in (0, 1):
        for g, lam in ((0.5, -0.5), (0.9, -0.12), (1.0, -0.01), (2.0, 0.1), (3.0, lam_g3)):
            rows.append({"part": "continuous", "g": g, "seed": seed, "lambda_qr_per_tau": lam})
    return rows


def test_transition_to_chaos_check_fails_when_a_seed_is_not_chaotic():
    cfg = experiments.get("transition_to_chaos").resolve()
    good = ttc.check(_chaos_rows(0.2), cfg)
    assert good.status == "supported"
    bad = ttc.check(_chaos_rows(-0.01), cfg)
    failed = {c.name for c in bad.checks if not c.passed}
    assert bad.status == "partly" and any("g = 3" in n for n in failed) and any("seeds whose" in n for n in failed)


def _ff_row(network, n_stable, edges, seed=0):
    return {"network": network, "seed": seed, "accuracy": 1.0, "n_stable": n_stable, "n_corners": n_stable,
            "n_saddle1": len(edges), "n_saddle_more": 0, "n_slow": 0, "edges": edges, "n_edges": len(edges),
            "n_one_bit_edges": len(edges), "brian2_max_rel_residual": 1e-16 if network == "elman" else None}


def test_flip_flop_check_compares_the_graphs():
    cube = ["---/+--", "---/-+-", "---/--+", "+--/++-", "+--/+-+", "-+-/++-"]  # six edges of the cube
    rows = [_ff_row("elman", 8, cube), _ff_row("lstm", 8, cube)]
    rows[1].pop("brian2_max_rel_residual")
    rows[0]["brian2_max_rel_residual"] = 1e-16
    assert ffp.check(rows, ffp.CONFIG).status == "supported"
    rows[1]["edges"] = cube[:5] + ["-+-/-++"]  # one saddle joins other corners
    verdict = ffp.check(rows, ffp.CONFIG)
    assert [c.name for c in verdict.checks if not c.passed] == ["seed 0: lstm graph of stable points and "
                                                                 "one-unstable saddles equals the Elman's (1 = same)"]


def test_mds_recovers_planar_distances():
    P = np.random.default_rng(0).normal(size=(7, 2))
    D = np.linalg.norm(P[:, None] - P[None], axis=-1)
    Y = uni._mds(D)
    np.testing.assert_allclose(np.linalg.norm(Y[:, None] - Y[None], axis=-1), D, atol=1e-10)


def test_universality_distances_from_reduced_coordinates():
    rng = np.random.default_rng(1)
    H = rng.normal(size=(300, 5)) * [5, 3, 1, 0.01, 0.01]
    R, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    rows = [{"network": "a", "seed": 0, "svcca_coords": uni._reduced(H).tolist()},
            {"network": "a", "seed": 1, "svcca_coords": uni._reduced(2 * H @ R).tolist()},
            {"network": "b", "seed": 0, "svcca_coords": uni._reduced(rng.normal(size=(300, 5))).tolist()}]
    assert np.asarray(rows[0]["svcca_coords"]).shape == (300, 3)  # 99% of the variance in 3 directions
    _, D = uni.distances(rows)
    assert D[0, 1] == pytest.approx(0.0, abs=1e-9) and D[0, 2] > 0.5 and np.allclose(D, D.T)


def test_the_graph_counts_saddles_that_join_no_two_stable_points_apart():
    import neurosim as ns
    from neurosim.analysis import dynamics as dyn

    w = np.log(3.0)  # r -> tanh(ln3 r) per unit: stable at +-1/2, saddles where one coordinate is 0
    net = ns.RateNetwork(W_in=np.zeros((2, 1)), W_rec=w * np.eye(2), b=np.zeros(2), W_out=np.eye(2),
                         b_out=np.zeros(2), tau=0.1, dt=0.1, activation="tanh")
    fps = dyn.find_fixed_points(net, np.random.default_rng(0).uniform(-1, 1, (200, 2)), n_inits=256, rng=0)
    edges, unresolved = ffp.graph(net, fps)
    assert unresolved == 0 and sorted(edges) == ["++/+-", "++/-+", "+-/--", "-+/--"]
    drop = np.flatnonzero(~np.all(np.isclose(fps.xstar, [0.5, 0.5], atol=1e-6), axis=1))  # lose the (+, +) corner
    part = dyn.FixedPoints(*(getattr(fps, k)[drop] for k in ("xstar", "q", "eigenvalues", "n_unstable", "kind",
                                                             "outputs")), fps.u, fps.tol_q)
    edges, unresolved = ffp.graph(net, part)
    assert unresolved == 2 and sorted(edges) == ["+-/--", "-+/--"]  # the two saddles next to it lead nowhere known
