"""The experiment registry, the runner's reports, the ``neurosim experiment`` command, and each registered
experiment's quick run."""

import json

import numpy as np
import pytest

import neurosim as ns
from neurosim import cli, experiments
from neurosim.experiments import base


CALLS = []  # the seeds _toy_run was called with


def _toy_run(config, seed):
    CALLS.append(seed)
    rng = np.random.default_rng(seed)
    return [{"setting": s, "value": float(rng.normal(config["mean"], 0.1)), "curve": rng.normal(size=3)}
            for s in ("a", "b")]


def _toy_check(rows, config):
    mean = float(np.mean([r["value"] for r in rows]))
    checks = [experiments.Check("mean value", mean, "> 0.5", mean > 0.5, "test"),
              experiments.Check("rows", float(len(rows)), ">= 2", len(rows) >= 2, "test")]
    return experiments.verdict_from(checks, f"The mean value is {mean:.3f} over {len(rows)} rows.")


def _toy_figures(rows, config):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([r["value"] for r in rows])
    return {"values": fig}


@pytest.fixture
def toy():
    exp = base.Experiment(name="toy_claim", claim="Toys have a positive mean.", citation="nobody 2026",
                          description="We draw normal numbers and average them.", config={"seeds": 3, "mean": 1.0},
                          quick={"seeds": 2}, run=_toy_run, check=_toy_check, figures=_toy_figures)
    experiments.register(exp)
    yield exp
    base._REGISTRY.pop("toy_claim")


def test_verdict_from_counts_passed_checks():
    yes, no = (experiments.Check("c", 1.0, "> 0", p) for p in (True, False))
    assert experiments.verdict_from([yes, yes], "s").status == "supported"
    assert experiments.verdict_from([yes, no], "s").status == "partly"
    assert experiments.verdict_from([no, no], "s").status == "not supported"
    with pytest.raises(ValueError, match="at least one"):
        experiments.verdict_from([], "s")
    with pytest.raises(ValueError, match="status"):
        experiments.Verdict("maybe", (yes,), "s")


def test_registry_lists_gets_and_refuses(toy):
    assert "toy_claim" in experiments.names() and experiments.get("toy_claim") is toy
    with pytest.raises(ValueError, match="known experiments: .*toy_claim"):
        experiments.get("no_such")
    with pytest.raises(ValueError, match="already registered"):
        experiments.register(toy)
    with pytest.raises(ValueError, match="unknown config keys"):
        toy.resolve(overrides={"meen": 2})
    with pytest.raises(ValueError, match="not config keys"):
        base.Experiment("bad", "", "", "", {"seeds": 1}, {"steps": 3}, _toy_run, _toy_check, _toy_figures)


def test_run_experiment_writes_results_figures_and_reports(toy, tmp_path):
    rep = experiments.run_experiment("toy_claim", quick=True, out=str(tmp_path), progress=False)
    assert rep.seeds == [0, 1] and len(rep.rows) == 4 and {r["seed"] for r in rep.rows} == {0, 1}
    assert rep.verdict.status == "supported" and rep.quick
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["verdict"]["status"] == "supported" and saved["rows"][0]["curve"] == rep.rows[0]["curve"]
    assert (tmp_path / "values.png").stat().st_size > 0 and rep.figures == {"values": str(tmp_path / "values.png")}
    md = (tmp_path / "report.md").read_text()
    # opens with the claim, the verdict and the paragraph on what was measured, in that order
    assert md.index("Toys have a positive mean.") < md.index("Verdict: supported") < md.index("We draw normal")
    # results over seeds: mean and spread per setting, against numpy on the rows
    a = [r["value"] for r in rep.rows if r["setting"] == "a"]
    summary = {s["setting"]: s for s in experiments.summarize(rep.rows)}
    assert summary["a"]["n"] == 2 and np.isclose(summary["a"]["value"], np.mean(a))
    assert np.isclose(summary["a"]["value_sd"], np.std(a))
    assert f"{np.mean(a):.4g} ± {np.std(a):.4g}" in md
    assert "Verdict: supported" in (tmp_path / "report.html").read_text()
    # the seeds override and a full run without out write nothing
    rep = experiments.run_experiment("toy_claim", seeds=1, progress=False, config_overrides={"mean": 0.0})
    assert rep.seeds == [0] and rep.figures == {} and rep.verdict.status == "partly"


def test_command_lists_runs_and_refuses(toy, tmp_path, capsys):
    assert cli.main(["experiment", "--list"]) == 0
    assert "toy_claim" in capsys.readouterr().out
    out = tmp_path / "run"
    assert cli.main(["experiment", "toy_claim", "--quick", "--seeds", "1", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "verdict: supported" in printed and "mean value" in printed
    assert {p.name for p in out.iterdir()} == {"results.json", "values.png", "report.md", "report.html", "seeds",
                                               "manifest.json"}  # written last: the run is complete
    assert cli.main(["experiment", "toy_claim", "--out", str(out), "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert cli.main(["experiment", "no_such", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "known experiments" in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "x").exists()
    assert cli.main(["experiment"]) == 2
    capsys.readouterr()
    assert cli.main(["experiment", "toy_claim", "--seeds", "1", "--set", "mean=-1", "--out", str(tmp_path / "y"),
                     "--quiet"]) == 0
    assert "verdict: partly" in capsys.readouterr().out  # mean -1: the mean check fails, the row count passes
    assert cli.main(["experiment", "toy_claim", "--set", "meen=1", "--out", str(tmp_path / "z")]) == 2
    assert "unknown config keys" in capsys.readouterr().err and not (tmp_path / "z").exists()


def test_a_second_run_with_the_same_config_reuses_the_seeds_done(toy, tmp_path):
    first = experiments.run_experiment("toy_claim", quick=True, out=str(tmp_path), progress=False)
    CALLS.clear()
    again = experiments.run_experiment("toy_claim", quick=True, out=str(tmp_path), progress=False)
    assert CALLS == [] and again.rows == first.rows  # both seeds read back from seeds/seed-K.json
    experiments.run_experiment("toy_claim", quick=True, out=str(tmp_path), progress=False,
                               config_overrides={"mean": 2.0})
    assert CALLS == [0, 1]  # another config: run again


# -- the registered experiments -------------------------------------------------------------------------------

def _assert_verdict_with_numbers(rep):
    assert isinstance(rep.verdict, experiments.Verdict) and rep.verdict.status in base.STATUSES
    assert rep.verdict.checks and rep.verdict.summary
    for c in rep.verdict.checks:
        assert isinstance(c.measured, float) and c.threshold and c.source and isinstance(c.passed, bool)


def test_vanishing_gradients_small_run_and_the_no_input_rate_is_ln_rho():
    small = {"seeds": 1, "n_rec": 16, "gains": [0.8, 2.0], "forget_biases": [1.0], "n_trials": 2, "steps": 5,
             "val_trials": 8, "eval_every": 5, "no_clip_steps": 5, "free_steps": 120}
    rep = experiments.run_experiment("vanishing_gradients", config_overrides=small, progress=False)
    _assert_verdict_with_numbers(rep)
    assert len(rep.verdict.checks) == 6
    rows = {(r["network"], r["stage"]): r for r in rep.rows}
    g08 = rows[("Elman g=0.8", "init")]
    # without input the state stays 0 and the backward map is W_rec^T: the late rate is ln rho(W_rec)
    net = ns.RateNetwork.random(2, 16, 1, tau=0.01, dt=0.01, g=0.8, input_scale=1.0, rng=0)
    assert g08["ln_rho"] == pytest.approx(np.log(np.max(np.abs(np.linalg.eigvals(net.W_rec)))), rel=1e-12)
    assert g08["free_decay_rate"] == pytest.approx(g08["ln_rho"], rel=0.05)
    # the mean-field number is 1/2 ln(g^2 <f'^2>) of the row's own <f'^2>
    assert g08["mean_field"] == pytest.approx(0.5 * np.log(0.64 * g08["fprime2"]))
    assert 0 < g08["fprime2"] < 1 and len(g08["log_norm_by_lag"]) == 100
    assert rows[("Elman g=2", "no clip")]["max_grad_norm"] > 0
    figs = experiments.get("vanishing_gradients").figures(rep.rows, rep.config)
    assert set(figs) == {"gradient_norms", "decay_rates", "trained", "no_clip"}
    import matplotlib.pyplot as plt
    for f in figs.values():
        plt.close(f)


def test_adding_baseline_is_one_sixth():
    # always answering 1: MSE = Var(U1 + U2) = 1/6 for this task's variant (values U(0, 1), target their sum)
    trials = ns.tasks.make("adding", duration=0.2).sample(20_000, rng=0)
    mse = ns.tasks.regression_metrics(np.ones_like(trials.targets), trials)["mse"]
    assert mse == pytest.approx(1 / 6, abs=0.005)
    from neurosim.experiments.long_range_memory import BASELINE_MSE
    assert BASELINE_MSE == pytest.approx(1 / 6)


def test_long_range_memory_small_run_without_brian2():
    small = {"seeds": 1, "n_rec": 8, "lengths": [10], "steps": 10, "val_trials": 16, "eval_every": 5,
             "test_trials": 16, "delays": [0.25, 0.5], "recall_steps": 10, "recall_test_trials": 8, "substrates": []}
    rep = experiments.run_experiment("long_range_memory", config_overrides=small, progress=False)
    _assert_verdict_with_numbers(rep)
    adding = [r for r in rep.rows if r["part"] == "adding"]
    assert {r["cell"] for r in adding} == {"rnn", "lstm", "gru"}
    for r in adding:
        assert r["steps_run"] <= 10 and r["best_val_mse"] <= r["val_mse"][0]
        assert r["baseline_mse"] == pytest.approx(1 / 6, abs=0.08)  # 16 test trials
    recall = [r for r in rep.rows if r["part"] == "recall"]
    assert {(r["cell"], r["delay"]) for r in recall} == {(c, d) for c in ("rnn", "lstm", "gru") for d in (0.25, 0.5)}
    figs = experiments.get("long_range_memory").figures(rep.rows, rep.config)
    assert set(figs) == {"adding", "adding_training", "recall"}
    import matplotlib.pyplot as plt
    for f in figs.values():
        plt.close(f)


def test_recall_crossing_interpolates_between_tested_delays():
    from neurosim.experiments.long_range_memory import _crossing

    assert _crossing([0.25, 0.5, 1.0], [0.9, 0.7, 0.3]) == pytest.approx(0.5 + 0.5 * (0.7 - 0.5) / (0.7 - 0.3))
    assert _crossing([0.25, 0.5], [0.4, 0.1]) == 0.25
    assert _crossing([0.25, 0.5], [0.9, 0.8]) == float("inf")


@pytest.mark.slow
@pytest.mark.brian2
@pytest.mark.parametrize("name", experiments.names())
def test_every_experiment_runs_in_quick_mode_from_the_command(name, tmp_path, capsys):
    out = tmp_path / name
    assert cli.main(["experiment", name, "--quick", "--out", str(out), "--quiet"]) == 0
    saved = json.loads((out / "results.json").read_text())
    assert saved["quick"] and saved["verdict"]["status"] in base.STATUSES and saved["rows"]
    assert all(isinstance(c["measured"], (float, int)) or c["measured"] is None for c in saved["verdict"]["checks"])
    md = (out / "report.md").read_text()
    assert md.index("**Claim.**") < md.index("**Verdict:") < md.index("**What was measured.**")
    assert list(out.glob("*.png")) and (out / "report.html").stat().st_size > 0
    assert "verdict:" in capsys.readouterr().out
