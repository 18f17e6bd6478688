"""simulate(): the front door, the substrate registry, Result, and the `neurosim simulate` command."""

import os
import subprocess
import sys

import numpy as np
import pytest

import neurosim as ns


def small_net(sigma=0.0, **kw):
    return ns.RateNetwork.random(2, 10, 3, tau=0.05, dt=0.01, g=1.2, sigma=sigma, rng=0, **kw)


def small_trials(net, B=3, T=30, rng=0):
    u = np.random.default_rng(rng).standard_normal((B, T, net.n_in))
    y = np.zeros((B, T, net.n_out))
    return ns.tasks.Trials(u, y, np.ones_like(y), dt=net.dt)


def test_ann_substrate_is_the_forward_pass():
    net = small_net()
    trials = small_trials(net)
    res = ns.simulate(net, trials)
    states, outputs = ns.ann.forward(net, trials.inputs)
    np.testing.assert_array_equal(res.states, states)
    np.testing.assert_array_equal(res.outputs, outputs)
    np.testing.assert_array_equal(res.t, trials.t)
    assert res.substrate == "ann" and res.run_time > 0 and res.build_time == 0
    assert res.extras == {} and res.metadata["noise_mode"] is None


def test_ann_matched_noise_is_ann_noise_from_rng():
    net = small_net(sigma=0.3)
    trials = small_trials(net)
    res = ns.simulate(net, trials, rng=7)
    _, expected = ns.ann.forward(net, trials.inputs, noise_increments=ns.ann.noise_increments(net, 3, 30, 7))
    np.testing.assert_array_equal(res.outputs, expected)
    quiet = ns.simulate(net, trials, noise_mode=None)
    np.testing.assert_array_equal(quiet.outputs, ns.ann.forward(net.replace(sigma=0.0), trials.inputs)[1])
    assert np.max(np.abs(quiet.outputs - res.outputs)) > 0.01


class Echo(ns.substrates.Substrate):
    """A substrate that records what simulate passed it."""

    name, options, accepted = "echo", {"sim_dt": None, "special": 1}, "a RateNetwork"
    seen: dict = {}

    def accepts(self, net):
        return isinstance(net, ns.RateNetwork)

    def run(self, net, trials, *, noise_mode, rng, sim_dt=None, special=1):
        self.seen.update(noise_mode=noise_mode, sim_dt=sim_dt, special=special, rng=rng)
        B, T = trials.n_trials, trials.n_steps
        return ns.Result(trials.t, np.zeros((B, T, net.n_rec)), np.zeros((B, T, net.n_out)), "echo", 0.0, 0.0)


def test_a_registered_substrate_gets_its_own_options(monkeypatch):
    monkeypatch.setattr(ns.substrates, "_REGISTRY", dict(ns.substrates._REGISTRY))
    echo = ns.substrates.register(Echo())
    assert "echo" in ns.substrates.names() and ns.substrates.get("echo") is echo
    net = small_net()
    res = ns.simulate(net, small_trials(net), "echo", sim_dt=0.005, special=3, rng=2)
    assert res.substrate == "echo" and echo.seen["sim_dt"] == 0.005 and echo.seen["special"] == 3
    assert isinstance(echo.seen["rng"], np.random.Generator)
    ns.simulate(net, small_trials(net), "echo", device="runtime")  # another substrate's default: ignored
    assert echo.seen["special"] == 1  # its own default filled in
    with pytest.raises(ValueError, match=r"simulate device: substrate 'echo' does not take device .*'sim_dt'"):
        ns.simulate(net, small_trials(net), "echo", device="cpp_standalone")
    with pytest.raises(ValueError, match="does not take colour"):
        ns.simulate(net, small_trials(net), "echo", colour="red")
    with pytest.raises(ValueError, match="renamed noise_mode"):
        ns.simulate(net, small_trials(net), "echo", noise="native")


def test_register_rejects_bad_entries():
    with pytest.raises(TypeError, match="expected a neurosim.substrates.Substrate"):
        ns.substrates.register(lambda *a, **k: None)
    with pytest.raises(ValueError, match="non-empty name"):
        ns.substrates.register(ns.substrates.Substrate())


@pytest.mark.parametrize("change, exc, pattern", [
    (lambda net, tr: (net, tr.inputs), TypeError, r"trials: expected neurosim.tasks.Trials, got ndarray"),
    (lambda net, tr: ("net", tr), TypeError, r"net: expected a neurosim network"),
    (lambda net, tr: (net.replace(dt=0.02, tau=0.1), tr), ValueError, r"trials.dt: expected .*net.dt = 0.02"),
    (lambda net, tr: (small_net().replace(W_in=np.zeros((10, 4))), tr), ValueError, r"expected 4 inputs"),
])
def test_bad_network_or_trials(change, exc, pattern):
    net = small_net()
    args = change(net, small_trials(net))
    with pytest.raises(exc, match=pattern):
        ns.simulate(*args)


def test_result_max_abs_diff():
    net = small_net()
    a = ns.simulate(net, small_trials(net))
    b = ns.simulate(net, small_trials(net, rng=1))
    assert a.max_abs_diff(a) == {"states": 0.0, "outputs": 0.0}
    assert a.max_abs_diff(b)["outputs"] > 0
    with pytest.raises(ValueError, match="same trials"):
        a.max_abs_diff(ns.simulate(net, small_trials(net, B=2)))


def test_numpy_core_does_not_import_brian2():
    code = ("import sys, numpy as np, neurosim as ns\n"
            "net = ns.RateNetwork.random(1, 4, 1, rng=0)\n"
            "tr = ns.tasks.Trials(np.zeros((1, 5, 1)), np.zeros((1, 5, 1)), np.ones((1, 5, 1)), dt=net.dt)\n"
            "ns.simulate(net, tr)\n"
            "import neurosim.brian, neurosim.brian.rate\n"
            "assert 'brian2' not in sys.modules, 'brian2 was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.brian2
def test_cli_simulate(tmp_path, capsys):
    pytest.importorskip("brian2")
    from neurosim.cli import main

    task = ns.tasks.make("sine_generation", dt=0.01)
    net = ns.RateNetwork.random(task.n_in, 12, task.n_out, tau=0.05, dt=0.01, g=1.2, rng=0)
    net.save(tmp_path / "model")
    out = tmp_path / "out"
    code = main(["simulate", str(tmp_path / "model"), "--task", "sine_generation", "--target", "numpy",
                 "--trials", "2", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "score ann" in text and "score rate" in text and "max |outputs_ann - outputs_rate| =" in text
    deviation = float(text.split("max |outputs_ann - outputs_rate| = ")[1].split(";")[0])
    assert deviation <= 1e-10
    assert os.path.getsize(out / "overlay.png") > 10_000 and (out / "metrics.json").exists()
    assert main(["simulate", str(tmp_path / "model"), "--target", "numpy", "--out", str(tmp_path / "o2")]) == 2
    assert "pass --task NAME" in capsys.readouterr().err
