"""The defects the hardening issue found, each checked against what it should have been.

The catalogue (tests/test_catalogue.py) shows every bad input is refused by name; here: the results that used to
be silently wrong are right, files are whole or absent, and run directories say whether they are finished.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import neurosim as ns
from neurosim import _files, cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.brian2
def test_brian2_softplus_does_not_overflow_where_the_ann_gives_a_large_value(cache):
    # drive of ~800 on unit 0: log(1 + exp(800)) is inf in double precision, softplus(800) is 800
    net = ns.RateNetwork(W_in=np.array([[800.0], [-800.0]]), W_rec=np.zeros((2, 2)), b=np.zeros(2),
                         W_out=np.eye(2), b_out=np.zeros(2), tau=0.01, dt=0.01, activation="softplus")
    trials = ns.tasks.Trials(np.ones((1, 3, 1)), np.zeros((1, 3, 2)), np.ones((1, 3, 2)), 0.01)
    ann = ns.simulate(net, trials, "ann")
    rate = ns.simulate(net, trials, "rate", target="numpy", cache_dir=cache)
    np.testing.assert_allclose(ann.outputs[0, -1], [800.0, np.logaddexp(0, -800.0)], rtol=1e-15)
    np.testing.assert_allclose(rate.outputs, ann.outputs, rtol=1e-12, atol=1e-300)


def test_a_diverging_network_is_an_error_not_a_result():
    net = ns.RateNetwork.random(1, 6, 1, activation="linear", g=1e3, rng=0)
    trials = ns.tasks.Trials(np.ones((1, 400, 1)), np.zeros((1, 400, 1)), np.ones((1, 400, 1)), net.dt)
    with np.errstate(over="ignore", invalid="ignore"):
        _, outputs = ns.ann.forward(net, trials.inputs)  # the reference: the raw forward pass overflows
    assert not np.all(np.isfinite(outputs))
    first = np.argwhere(~np.isfinite(outputs))[0]
    with pytest.raises(ValueError, match=rf"at trial {first[0]}, step {first[1]}, output {first[2]}"):
        ns.simulate(net, trials, "ann")
    with pytest.raises(ValueError, match=r"adding\.score outputs: expected finite values"):
        ns.tasks.make("adding", dt=net.dt).score(outputs, trials)  # a NaN is not a wrong answer: no metric


def test_save_to_a_directory_writes_model_files_not_hidden_ones(tmp_path):
    net = ns.RateNetwork.random(2, 4, 1, rng=0)
    paths = net.save(f"{tmp_path}/d/")
    assert sorted(os.listdir(tmp_path / "d")) == ["model.json", "model.npz"]
    assert paths == (str(tmp_path / "d" / "model.json"), str(tmp_path / "d" / "model.npz"))
    for where in (tmp_path / "d", f"{tmp_path}/d/", tmp_path / "d" / "model"):
        assert ns.load(where).W_rec.tobytes() == net.W_rec.tobytes()


def test_load_names_what_is_wrong_with_damaged_files(tmp_path):
    net = ns.RateNetwork.random(2, 4, 1, rng=0)
    json_path, _ = net.save(tmp_path / "m")
    meta = json.loads(open(json_path).read())
    cases = {  # how the .json was damaged -> what load must say
        "no config": ({k: v for k, v in meta.items() if k != "config"}, r"expected the tables 'config' and 'arrays'"),
        "no checksum": ({**meta, "arrays": {k: {"shape": v["shape"]} for k, v in meta["arrays"].items()}},
                        r"each array with its 'sha256'"),
        "unknown field": ({**meta, "config": {**meta["config"], "colour": "red"}}, r"unknown fields \['colour'\]"),
        "no class": ({k: v for k, v in meta.items() if k != "class"}, r"unknown model class None"),
        "wrong array set": ({**meta, "arrays": {**meta["arrays"], "W_fb": meta["arrays"]["W_in"]}},
                            r"expected arrays \['W_fb'"),
        "bad value": ({**meta, "config": {**meta["config"], "tau": -1.0}}, r"RateNetwork\.tau"),
    }
    for label, (damaged, message) in cases.items():
        with open(json_path, "w") as fh:
            json.dump(damaged, fh)
        with pytest.raises(ValueError, match=message):
            ns.load(tmp_path / "m")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "report.md"
    _files.write_text(path, "old\n")
    with pytest.raises(RuntimeError, match="disk full"):
        with _files.atomic(path) as tmp, open(tmp, "w") as fh:
            fh.write("half of the new")
            raise RuntimeError("disk full")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["report.md"]


def test_run_state_tells_finished_from_unfinished(tmp_path):
    run = tmp_path / "run"
    assert _files.run_state(run)[0] == "absent"
    run.mkdir()
    assert _files.run_state(run)[0] == "empty"
    _files.write_text(run / "metrics.json", "{}\n")
    state, what = _files.run_state(run)
    assert state == "incomplete" and "no manifest.json" in what
    _files.write_manifest(run)
    assert _files.run_state(run)[0] == "complete"
    (run / "metrics.json").write_text('{"changed": 1}\n')  # edited after the manifest: no longer vouched for
    assert _files.run_state(run) == ("incomplete", f"{run}: metrics.json is missing or differs from manifest.json")
    (run / "outputs.png.part-1").write_bytes(b"\x89PNG")
    with pytest.raises(ValueError, match=r"unfinished writes \['outputs\.png\.part-1'\]"):
        _files.write_manifest(run)


def test_force_unmarks_a_finished_run_before_overwriting_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["compare", "--substrates", "ann", "--trials", "2", "--quiet", "--out", "run"]
    assert cli.main(argv) == 0
    assert _files.run_state("run")[0] == "complete"
    written = sorted(os.listdir("run"))
    assert written == sorted(["manifest.json", "metrics.json", "outputs.png", "psychometric.png", "report.html",
                              "report.md", "trajectories.png"])
    with open("run/manifest.json") as fh:
        assert json.load(fh)["command"] == "neurosim " + " ".join(argv)
    assert cli.main(argv) == 2  # a finished run is never overwritten silently
    assert "holds a finished run" in capsys.readouterr().err
    seen = {}
    import neurosim.report as report

    write_report = report.write_report

    def spy(cmp, out):  # when the new files are written, the old manifest must already be gone
        seen["state"] = _files.run_state(out)[0]
        return write_report(cmp, out)

    monkeypatch.setattr(report, "write_report", spy)
    assert cli.main(argv + ["--force"]) == 0
    assert seen["state"] == "incomplete"
    assert _files.run_state("run")[0] == "complete"
