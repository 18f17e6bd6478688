"""The claim experiments overfitting_dropout and spikes_versus_rates: their checks against hand-made rows (the
verdict logic), their closed forms (energy proxy, lambda rise), quick runs whose checks carry numbers, and the
psychometric figure and reading of ``neurosim compare``."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

import neurosim as ns
from neurosim import experiments, plots, report
from neurosim.experiments import overfitting_dropout as od
from neurosim.experiments import spikes_versus_rates as svr


# -- overfitting_dropout ---------------------------------------------------------------------------------------

def _of_row(n, p, final_val, min_val, final_train):
    return {"train_trials": n, "dropout": p, "final_val": final_val, "min_val": min_val, "final_train": final_train,
            "gap": final_val - final_train, "val_over_min": final_val / min_val,
            "val_over_train": final_val / final_train, "seed": 0}


CFG = {"train_sizes": [64, 4096], "dropouts": [0.0, 0.2]}


def test_overfitting_check_on_rows_that_overfit():
    rows = [_of_row(64, 0.0, 0.03, 0.01, 0.005), _of_row(64, 0.2, 0.015, 0.012, 0.01),
            _of_row(4096, 0.0, 0.0110, 0.0109, 0.0100), _of_row(4096, 0.2, 0.012, 0.012, 0.011)]
    v = od.check(rows, CFG)
    assert v.status == "supported"
    assert [c.measured for c in v.checks] == pytest.approx([3.0, 0.5, 0.025 / 0.001])


def test_overfitting_check_without_a_gap_says_not_supported():
    rows = [_of_row(64, 0.0, 0.010, 0.010, 0.011), _of_row(64, 0.2, 0.0105, 0.010, 0.011),
            _of_row(4096, 0.0, 0.010, 0.010, 0.0099), _of_row(4096, 0.2, 0.010, 0.010, 0.0099)]
    v = od.check(rows, CFG)
    assert v.status == "not supported"
    assert v.checks[0].measured == pytest.approx(1.0) and v.checks[1].measured == pytest.approx(-0.05)
    assert math.isnan(v.checks[2].measured) and "no gap to shrink" in v.summary


def test_overfitting_quick_run_checks_carry_numbers():
    rep = experiments.run_experiment("overfitting_dropout", quick=True, progress=False)
    cfg = rep.config
    assert len(rep.rows) == len(cfg["train_sizes"]) * len(cfg["dropouts"])
    for r in rep.rows:
        assert len(r["val_curve"]) == len(r["train_curve"]) == cfg["steps"] // cfg["eval_every"]
        assert r["min_val"] == min(r["val_curve"]) and r["final_val"] == r["val_curve"][-1]
        assert r["gap"] == pytest.approx(r["final_val"] - r["final_train"])
        assert r["val_curve"][-1] < r["val_curve"][0]  # it learned something
    assert all(isinstance(c.measured, float) for c in rep.verdict.checks)
    assert all(np.isfinite(c.measured) for c in rep.verdict.checks[:2])
    assert rep.verdict.status in experiments.base.STATUSES and "64 training trials" in rep.verdict.summary


# -- spikes_versus_rates -----------------------------------------------------------------------------------------

def _tiny_net():
    W_rec = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0], [3.0, -1.0, 0.0]])  # fan-outs 2, 2, 0
    W_out = np.array([[1.0, 0.0, 1.0]])  # fan-outs 1, 0, 1
    return ns.RateNetwork(W_in=np.ones((3, 2)), W_rec=W_rec, b=np.zeros(3), W_out=W_out, b_out=np.zeros(1))


def test_synaptic_operations_and_energy_ratio_closed_form():
    net = _tiny_net()
    spikes = [0, 0, 1, 2, 2, 2]  # neuron 0 twice (3 synapses each), 1 once (2), 2 three times (1)
    assert svr.synaptic_operations(net, spikes) == 2 * 3 + 2 + 3 * 1
    assert svr.macs_per_trial(net, 10) == 10 * (6 + 4 + 2)
    expected = (0.9 * 11 + 4.6 * 10 * 6) / (4.6 * 120)
    assert svr.energy_ratio(net, 10, 11) == pytest.approx(expected, rel=1e-12)


def test_lambda_rise_is_the_interior_peak_over_the_better_end():
    assert svr.lambda_rise([20, 40, 60, 75], [0.5, 0.7, 0.8, 0.6]) == (60, pytest.approx(0.2))
    assert svr.lambda_rise([20, 40, 75], [0.9, 0.7, 0.6])[1] == pytest.approx(-0.2)
    assert math.isnan(svr.lambda_rise([20, 40], [0.5, 0.6])[1])


def _svr_rows(kept_ff=0.95, relu_success=False):
    default = {"part": "default", "lam": 30.0, "n_trials": 100, "rate_accuracy": 0.8, "lif_accuracy": 0.78,
               "kept": 0.975, "output_corr": 0.95, "mean_rate_hz": 9.0, "isi_cv": 0.7, "fano": 0.9,
               "sops_per_trial": 4e5, "macs_per_trial": 2e6, "energy_ratio": 0.05, "seed": 0}
    lam = {"part": "lambda", "lambdas": [20.0, 40.0, 75.0], "lif_accuracy_curve": [0.6, 0.8, 0.65],
           "rate_accuracy": 0.8, "best_lam": 40.0, "seed": 0}
    acts = [{"part": "activation", "activation": a, "net": 0, "rate_accuracy": 0.8, "lif_accuracy": 0.8,
             "learned": True, "success": a != "relu" or relu_success, "seed": 0}
            for a in ("sigmoid", "softplus", "relu")]
    ff = {"part": "flip_flop", "lam": 40.0, "rate_accuracy": 1.0, "lif_accuracy": kept_ff, "kept": kept_ff,
          "seed": 0}
    return [default, lam, *acts, ff]


def test_spikes_check_on_rows():
    cfg = {"activations": ["sigmoid", "softplus", "relu"]}
    v = svr.check(_svr_rows(), cfg)
    assert v.status == "supported"
    assert [c.measured for c in v.checks] == pytest.approx([0.975, 0.95, 0.15, 1.0, 0.95])
    v = svr.check(_svr_rows(kept_ff=0.6, relu_success=True), cfg)
    assert v.status == "partly" and [c.passed for c in v.checks] == [True, True, True, False, False]
    assert "energy ratio of 0.050" in v.summary and "relu 100% of 1 trained" in v.summary


@pytest.mark.slow
@pytest.mark.brian2
def test_spikes_versus_rates_quick_run_checks_carry_numbers(cache):
    rep = experiments.run_experiment("spikes_versus_rates", quick=True, progress=False)
    parts = [r["part"] for r in rep.rows]
    assert parts.count("default") == parts.count("lambda") == parts.count("flip_flop") == 1
    default = rep.rows[0]
    assert 0 < default["mean_rate_hz"] < 500 and default["sops_per_trial"] > 0 and 0 < default["energy_ratio"]
    assert -1 <= default["output_corr"] <= 1 and 0 <= default["lif_accuracy"] <= 1
    assert all(isinstance(c.measured, float) for c in rep.verdict.checks)
    assert all(np.isfinite(c.measured) for i, c in enumerate(rep.verdict.checks) if i != 3)  # relu may not learn


# -- compare: psychometric figure and reading ----------------------------------------------------------------------

def test_psychometric_plot_draws_the_given_points_with_zero_at_half_the_smallest_coherence():
    ax = plots.psychometric([0.0, 0.1, 0.4], {"ann": [0.5, 0.8, 1.0], "spiking": [0.45, 0.7, 0.9]},
                            counts=[10, 10, 10])
    x, y = ax.lines[0].get_data()
    assert np.allclose(x, [0.05, 0.1, 0.4]) and np.allclose(y, [0.5, 0.8, 1.0])
    assert np.allclose(ax.get_lines()[0].get_ydata(), [0.5, 0.8, 1.0]) and ax.get_xscale() == "log"
    import matplotlib.pyplot as plt

    plt.close("all")


def test_compare_reading_and_psychometric_points_from_a_decision_comparison():
    task = ns.tasks.make("perceptual_decision", dt=0.02)
    trials = task.sample(40, rng=0)
    coh = np.unique(trials.info["coherence"])
    rows = [{"substrate": "ann", "accuracy": 0.75, **{f"accuracy_c{c:g}": 0.5 + c for c in coh}},
            {"substrate": "spiking", "accuracy": 0.6, "max_dev_from_ann": 1.2, "mean_dev_from_ann": 0.3,
             **{f"accuracy_c{c:g}": 0.5 for c in coh}}]
    cmp = SimpleNamespace(task=task, trials=trials, rows=rows)
    points, curves, counts = report.psychometric_points(cmp)
    assert points == coh.tolist() and sum(counts) == 40 and curves["ann"] == pytest.approx([0.5 + c for c in coh])
    text = report.reading(cmp)
    se = np.sqrt(0.75 * 0.25 / 40)
    assert f"{se:.3f}" in text and "0.600 against the ANN's 0.750 (80% of it)" in text and "up to 1.2" in text
    lstm = SimpleNamespace(task=ns.tasks.make("sine_prediction"), trials=trials, rows=rows)
    assert report.psychometric_points(lstm) is None
