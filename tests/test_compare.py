"""neurosim compare end to end: a tiny model over all three substrates, and an LSTM that only the ANN runs."""

import json
import os

import pytest

from neurosim import cli
from neurosim.compare import compare
from neurosim.spec import parse_spec

TINY = """
[task]
name = "perceptual_decision"
dt = 0.02
fixation = 0.1
stimulus = 0.2
delay = 0.0
decision = 0.1

[network]
n_rec = 12
form = "current"
activation = "sigmoid"
tau = 0.1
dale = 0.75

[training]
steps = 3
batch_size = 4
test_trials = 4

[spiking]
lam = 30.0
"""


@pytest.mark.brian2
def test_compare_writes_the_report_with_one_row_per_substrate(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    out = tmp_path / "report"
    assert cli.main(["compare", str(spec), "--out", str(out), "--trials", "3", "--quiet"]) == 0
    printed = capsys.readouterr().out
    for name in ("report.md", "report.html", "metrics.json", "outputs.png", "traces.png", "raster.png",
                 "psychometric.png", "trajectories.png", "model.json"):
        assert (out / name).stat().st_size > 0, name  # model.json: no shipped weights, so it was trained
    metrics = json.loads((out / "metrics.json").read_text())
    rows = {r["substrate"]: r for r in metrics["substrates"]}
    assert list(rows) == ["ann", "rate", "spiking"] and metrics["trained_now"]
    assert rows["rate"]["max_dev_from_ann"] < 1e-10  # the rate network is the ANN, in Brian2
    assert rows["spiking"]["mean_rate_hz"] > 0 and rows["spiking"]["lambda_hz"] == 30.0
    for r in rows.values():
        assert 0 <= r["accuracy"] <= 1 and r["run_s"] >= 0
    md = (out / "report.md").read_text()
    assert md.count("\n| ann |") == 1 and "| rate |" in md and "| spiking |" in md
    assert "<td>spiking</td>" in (out / "report.html").read_text()
    assert "Each row ran the same 3 held-out trials" in md and "Each row ran the same 3" in printed
    assert "spiking" in printed and "max |dev| vs ANN" in printed
    # the output directory is now full: a second run must not mix its results in silently
    assert cli.main(["compare", str(spec), "--out", str(out), "--quiet"]) == 2


def test_an_lstm_runs_on_the_ann_and_says_why_the_others_do_not(tmp_path):
    spec = parse_spec({"task": {"name": "sine_prediction"}, "network": {"cell": "lstm", "n_rec": 6},
                       "training": {"steps": 2, "batch_size": 2}}, name="lstm")
    messages = []
    cmp = compare(spec, n_trials=2, out=str(tmp_path), say=messages.append, progress=False)
    assert list(cmp.results) == ["ann"]
    assert set(cmp.skipped) == {"rate", "spiking"}
    assert "no Brian2 counterpart" in cmp.skipped["rate"]
    assert any("skipped" in m for m in messages)
    assert cmp.trained and os.path.exists(tmp_path / "model.json")


def test_bad_compare_arguments(tmp_path):
    spec = parse_spec({"task": {"name": "flip_flop"}, "network": {"n_rec": 4}})
    with pytest.raises(ValueError, match=r"compare substrates: expected a non-empty subset of \['ann', 'rate'"):
        compare(spec, substrates=("ann", "brain"))
    with pytest.raises(ValueError, match=r"compare trials: expected a finite value > 0"):
        compare(spec, n_trials=0)
