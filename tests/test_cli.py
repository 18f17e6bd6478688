"""The neurosim command, run in-process through its main() and once as a real subprocess."""

import json
import os
import subprocess
import sys

import neurosim as ns
from neurosim import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tasks_lists_every_task_with_a_description(capsys):
    assert cli.main(["tasks"]) == 0
    out = capsys.readouterr().out
    for name, text in ns.tasks.describe().items():
        assert name in out and text and text in out


def test_train_writes_weights_metrics_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    spec = os.path.join(ROOT, "models", "flip_flop.toml")
    assert cli.main(["train", spec, "--out", str(out), "--steps", "5", "--quiet"]) == 0
    for name in ("model.json", "model.npz", "metrics.json", "loss.png", "outputs.png"):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps_run"] == 5 and set(metrics["test"]) == {"accuracy", "mse"}
    net = ns.load(out / "model")
    assert net.n_rec == 64
    # an existing, non-empty output directory is not silently mixed with old results
    assert cli.main(["train", spec, "--out", str(out), "--steps", "5", "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err


def test_bad_spec_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[task]\nname = "flip_flop"\n[network]\nn_rec = 8\nactivation = "gelu"\n')
    assert cli.main(["train", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "[network] activation: expected one of" in err and "Traceback" not in err


def test_help_runs_as_a_command():
    done = subprocess.run([sys.executable, "-m", "neurosim.cli", "--help"], capture_output=True, text=True,
                          check=True)
    assert "train" in done.stdout and "tasks" in done.stdout


def test_running_a_command_twice_without_out_keeps_both_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = os.path.join(ROOT, "models", "sine_prediction_lstm.toml")  # ANN only: fast
    for _ in range(2):
        assert cli.main(["compare", spec, "--trials", "2", "--quiet"]) == 0
    runs = tmp_path / "runs"
    first, second = runs / "compare-sine_prediction_lstm", runs / "compare-sine_prediction_lstm-2"
    assert (first / "report.md").exists() and (second / "report.md").exists()
    assert "did not run" in capsys.readouterr().out
