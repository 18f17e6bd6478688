"""The experiment registry, the runner's reports, the ``neurosim experiment`` command, and each registered
experiment's quick run."""

import json

import numpy as np
import pytest

from neurosim import cli, experiments
from neurosim.experiments import base


def _toy_run(config, seed):
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
    assert {p.name for p in out.iterdir()} == {"results.json", "values.png", "report.md", "report.html"}
    assert cli.main(["experiment", "toy_claim", "--out", str(out), "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert cli.main(["experiment", "no_such", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "known experiments" in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "x").exists()
    assert cli.main(["experiment"]) == 2
