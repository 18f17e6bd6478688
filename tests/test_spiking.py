"""The spiking substrate: a LIF neuron against its analytic f-I curve, the synaptic filter against its closed
form, Dale's law in the built synapses, same seed same spikes, clear errors and warnings, and the conversion of
trained networks (Kim, Li & Sejnowski 2019) scored on held-out trials.

The trained rate networks come from ``tests/data/make_spiking_models.py`` (committed weights: training them
takes minutes, converting them seconds). Small Brian2 tests use the numpy target (no compilation); the
conversion tests (slow) use Cython, compiled once into the shared cache (the ``cache`` fixture of conftest).
"""

import dataclasses
import os
import warnings

import numpy as np
import pytest

import neurosim as ns
from neurosim.spiking import ConversionWarning, SpikingNetwork, lif_rate, to_spiking

DATA = os.path.join(os.path.dirname(__file__), "data")


def small_net(activation="sigmoid", n_rec=30, dale=0.8, p=1.0, rng=0, **kw):
    return ns.RateNetwork.random(n_in=2, n_rec=n_rec, n_out=2, tau=0.05, dt=0.01, activation=activation,
                                 form="current", g=1.0, dale=dale, p=p, rng=rng, **kw)


def random_trials(net, n_trials=2, n_steps=30, rng=0):
    r = np.random.default_rng(rng)
    u = np.abs(r.standard_normal((n_trials, n_steps, net.n_in)))
    y = np.zeros((n_trials, n_steps, net.n_out))
    return ns.tasks.Trials(u, y, np.ones_like(y), dt=net.dt)


def single_neurons(drives, *, n_steps=200, dt=0.01, **params):
    """One LIF neuron per trial with no recurrence, driven by a constant x = drives[b] (rate form: x enters
    the membrane unfiltered)."""
    snet = SpikingNetwork(W_in=np.ones((1, 1)), W_rec=np.zeros((1, 1)), b=np.zeros(1), W_out=np.ones((1, 1)),
                          b_out=np.zeros(1), form="rate", dt=dt, **params)
    B = len(drives)
    u = np.broadcast_to(np.asarray(drives, float)[:, None, None], (B, n_steps, 1)).copy()
    trials = ns.tasks.Trials(u, np.zeros((B, n_steps, 1)), np.ones((B, n_steps, 1)), dt=dt)
    return snet, trials


# -- the description: no Brian2 needed ---------------------------------------------------------------------

def test_to_spiking_carries_the_rate_network_over():
    net = small_net(p=0.5)
    snet = to_spiking(net, lam=25.0, tau_m=0.02)
    for k in ("W_in", "W_rec", "b", "W_out", "b_out", "dale", "mask", "x0"):
        assert np.array_equal(getattr(snet, k), getattr(net, k)), k
    assert snet.tau_d == net.tau and snet.dt == net.dt and snet.form == net.form
    assert snet.bias == pytest.approx(snet.v_threshold - snet.v_rest)  # rheobase by default
    assert np.allclose(snet.W_spk, net.W_rec / 25.0) and np.allclose(snet.W_out_spk, net.W_out / 25.0)
    assert snet.tau_m == 0.02 and snet.refractory == 0.002 and snet.synapse == "double"


def test_lif_rate_closed_form():
    kw = dict(tau_m=0.01, refractory=0.002, v_rest=-0.065, v_reset=-0.065, v_threshold=-0.040)
    assert lif_rate(0.025, **kw) == 0.0 and lif_rate(0.0, **kw) == 0.0  # at and below threshold
    RI = 0.035  # 10 mV above threshold
    assert lif_rate(RI, **kw) == pytest.approx(1 / (0.002 + 0.01 * np.log(0.035 / 0.010)))
    assert lif_rate(1e3, **kw) == pytest.approx(1 / 0.002, rel=1e-3)  # saturates at 1 / refractory


@pytest.mark.parametrize("field, value", [("refractory", -0.001), ("lam", 0.0), ("lam", -5.0),
                                          ("lam", float("nan")), ("tau_m", 0.0), ("tau_r", 0.2)])
def test_bad_parameters_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        to_spiking(small_net(), **{field: value})


def test_simulation_step_too_large_for_tau_m():
    with pytest.raises(ValueError, match=r"sim_dt.*tau_m / 10"):
        to_spiking(small_net(), tau_m=0.01, sim_dt=0.002)
    with pytest.raises(ValueError, match=r"sim_dt.*divide"):
        to_spiking(small_net(), sim_dt=0.00015)
    snet = to_spiking(small_net())
    with pytest.raises(ValueError, match="sim_dt"):  # the same check on simulate's override
        ns.simulate(snet, random_trials(snet), substrate="spiking", sim_dt=0.005)


def test_reset_above_threshold_is_an_error():
    with pytest.raises(ValueError, match="v_reset"):
        to_spiking(small_net(), v_reset=-0.030)


@pytest.mark.parametrize("activation, words", [("relu", "unreliable"), ("softplus", "55 of 100"),
                                               ("linear", "negative")])
def test_unreliable_activations_warn(activation, words):
    with pytest.warns(ConversionWarning, match=f"{activation}.*{words}"):
        to_spiking(small_net(activation=activation, dale=None))


def test_sigmoid_converts_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_spiking(small_net())


def test_only_rate_networks_convert_and_only_spiking_networks_spike():
    with pytest.raises(TypeError, match="RateNetwork"):
        to_spiking("not a network")
    net = small_net()
    with pytest.raises(TypeError, match="to_spiking"):
        ns.simulate(net, random_trials(net), substrate="spiking")


def test_save_and_load_round_trip(tmp_path):
    snet = to_spiking(small_net(p=0.5), lam=33.0, synapse="single")
    snet.save(tmp_path / "snet")
    back = ns.load(tmp_path / "snet")
    assert isinstance(back, SpikingNetwork)
    for f in dataclasses.fields(snet):
        a, b = getattr(snet, f.name), getattr(back, f.name)
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b, f.name


def test_lambda_curve_and_raster_plots():
    from neurosim import plots
    from neurosim.calibration import Calibration

    cal = Calibration(lam=40.0, network=None, lambdas=np.array([20.0, 40.0, 60.0]), scores=np.array([0.6, 0.8, 0.7]),
                      metrics=[], metric="accuracy", higher_is_better=True, rate_score=0.82, n_trials=10, seed=0)
    ax = plots.lambda_curve(cal)
    assert np.allclose(ax.lines[0].get_ydata(), cal.scores) and ax.lines[1].get_xdata()[0] == 40.0
    dale = np.array([1.0, 1.0, -1.0])
    ax = plots.raster(np.array([0.1, 0.2, 0.3]), np.array([2, 0, 1]), 3, dale=dale)
    assert np.allclose(ax.lines[0].get_ydata(), [0, 1]) and np.allclose(ax.lines[1].get_ydata(), [2])
    import matplotlib.pyplot as plt

    plt.close("all")


# -- Brian2 --------------------------------------------------------------------------------------------------

@pytest.mark.brian2
def test_single_lif_neuron_follows_the_analytic_f_I_curve(cache):
    """Constant suprathreshold drive: rate = 1 / (t_ref + tau_m ln((RI - (v_reset - v_rest)) /
    (RI - (v_th - v_rest)))), within 2% (measured: under 1.1% at sim_dt = 0.1 ms, forward Euler)."""
    drives = np.array([-2.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0])  # mV above rheobase (v_scale = 1 mV)
    snet, trials = single_neurons(drives, sigma_v=0.0, synapse="single")
    res = ns.simulate(snet, trials, substrate="spiking", target="numpy", cache_dir=cache, rng=0)
    expected = snet.rate_curve(drives)
    assert len(res.extras["spike_times"][0]) == 0 and expected[0] == 0  # subthreshold: silent
    for b in range(1, len(drives)):
        isi = np.diff(res.extras["spike_times"][b])  # the first spike comes from a random v0: use the ISIs
        assert len(isi) > 5
        assert 1 / isi.mean() == pytest.approx(expected[b], rel=0.02), drives[b]
    # the RI form of the brief, written out, at one drive: RI = bias + v_scale x = 25 mV + 10 mV
    RI, rest, reset, th = 0.035, -0.065, -0.065, -0.040
    assert expected[5] == pytest.approx(1 / (0.002 + 0.01 * np.log((RI - (reset - rest)) / (RI - (th - rest)))))


@pytest.mark.brian2
def test_input_filter_and_alignment_match_the_closed_form(cache):
    """Current form, no recurrence: x is the input low-pass filtered by tau_d, exactly
    s_{k+1} = u_k + (s_k - u_k) exp(-dt / tau_d) per task step; a one-step misalignment would be ~20% off."""
    dt, tau = 0.01, 0.05
    rng = np.random.default_rng(3)
    u = rng.uniform(-1, 1, size=(2, 40, 1))
    snet = SpikingNetwork(W_in=np.array([[1.0], [-2.0]]), W_rec=np.zeros((2, 2)), b=np.array([0.1, 0.0]),
                          W_out=np.eye(2), b_out=np.zeros(2), tau_d=tau, dt=dt, form="current",
                          x0=np.array([0.5, -0.3]))
    trials = ns.tasks.Trials(u, np.zeros((2, 40, 2)), np.ones((2, 40, 2)), dt=dt)
    res = ns.simulate(snet, trials, substrate="spiking", target="numpy", cache_dir=cache, rng=0)
    drive = u @ snet.W_in.T + snet.b  # (B, T, N)
    expected = np.empty_like(drive)
    s = np.broadcast_to(snet.x0, drive[:, 0].shape)  # x = s when W_rec = 0
    decay = np.exp(-dt / tau)
    for k in range(drive.shape[1]):
        s = drive[:, k] + (s - drive[:, k]) * decay
        expected[:, k] = s
    assert np.max(np.abs(res.states - expected)) < 2e-3  # Euler at sim_dt = tau / 500: ~1e-3 of the step


@pytest.mark.brian2
def test_same_seed_same_spikes_and_the_readout_is_the_filtered_trains(cache):
    net = small_net()
    snet = to_spiking(net, lam=30.0)
    trials = random_trials(net, n_trials=2, n_steps=20)
    a = ns.simulate(snet, trials, substrate="spiking", target="numpy", cache_dir=cache, rng=5)
    b = ns.simulate(snet, trials, substrate="spiking", target="numpy", cache_dir=cache, rng=5)
    c = ns.simulate(snet, trials, substrate="spiking", target="numpy", cache_dir=cache, rng=6)
    n_spikes = sum(len(t) for t in a.extras["spike_times"])
    assert n_spikes > 50
    for k in ("spike_times", "spike_indices"):
        assert all(np.array_equal(x, y) for x, y in zip(a.extras[k], b.extras[k]))
    assert np.array_equal(a.outputs, b.outputs)
    assert not all(np.array_equal(x, y) for x, y in zip(a.extras["spike_times"], c.extras["spike_times"]))
    # shapes, the readout from the filtered spike trains, and the firing rates from the spikes
    B, T, N = 2, 20, net.n_rec
    assert a.states.shape == (B, T, N) and a.outputs.shape == (B, T, 2) and a.extras["filtered_rates"].shape == (B, T, N)
    assert np.allclose(a.outputs, a.extras["filtered_rates"] @ net.W_out.T / 30.0 + net.b_out)
    for trial in range(B):
        counts = np.bincount(a.extras["spike_indices"][trial], minlength=N)
        assert np.allclose(a.extras["firing_rates"][trial], counts / (T * net.dt))
        assert np.all(np.diff(a.extras["spike_times"][trial]) >= 0)
    assert np.array_equal(a.t, trials.t) and a.substrate == "spiking"


@pytest.mark.brian2
def test_per_input_drive_matches_the_precomputed_drive(cache, monkeypatch):
    """Large batches hold only u and compute W_in u + b in Brian2: the same network, to round-off."""
    net = small_net(n_rec=20)
    net = net.replace(b=0.3 * np.random.default_rng(1).standard_normal(net.n_rec))
    snet = to_spiking(net, lam=30.0)
    trials = random_trials(net, n_trials=2, n_steps=15)
    run = lambda: ns.simulate(snet, trials, substrate="spiking", target="numpy", noise_mode=None, cache_dir=cache,  # noqa
                              rng=2)
    projected = run()
    monkeypatch.setattr(ns.equations, "PROJECTED_MAX_BYTES", 0)
    per_input = run()
    assert sum(len(t) for t in projected.extras["spike_times"]) > 20
    assert all(np.array_equal(a, b) for a, b in zip(projected.extras["spike_indices"],
                                                     per_input.extras["spike_indices"]))
    assert np.allclose(projected.states, per_input.states, atol=1e-9)


@pytest.mark.brian2
def test_dale_signs_and_connectivity_carry_into_the_built_synapses(cache):
    import brian2

    from neurosim.brian import devices
    from neurosim.brian.spiking import build

    net = small_net(n_rec=40, p=0.5)
    snet = to_spiking(net, lam=30.0)
    B = 3
    with devices.session("runtime", "numpy", cache_dir=cache):
        built = build(snet, random_trials(net, n_trials=B).inputs, sim_dt=snet.sim_dt, membrane_noise=True, rng=0)
        built.network.run(10 * snet.sim_dt * brian2.second, namespace=built.namespace)  # the weights as run
        pre, post = np.asarray(built.synapses.i[:]), np.asarray(built.synapses.j[:])
        w = np.asarray(built.synapses.w_[:])  # seconds per spike
    N = net.n_rec
    assert np.array_equal(pre // N, post // N)  # copies never talk to each other
    sign = net.dale[pre % N]
    assert np.all(w[sign > 0] > 0) and np.all(w[sign < 0] < 0)  # E excitatory, I inhibitory
    assert np.sum(sign > 0) > 0 and np.sum(sign < 0) > 0
    assert len(w) == B * np.count_nonzero(net.W_rec)  # masked connections get no synapse
    assert np.array_equal(w, snet.W_spk[post % N, pre % N])  # the synapse j -> i carries W_rec[i, j] / lam
    np.testing.assert_allclose(w * snet.lam, net.W_rec[post % N, pre % N], rtol=1e-15)


@pytest.mark.brian2
@pytest.mark.slow
def test_runtime_and_cpp_standalone_agree_without_noise(cache):
    """Without membrane noise the run is deterministic: Cython and the C++ program fire the same spikes."""
    net = small_net(n_rec=20)
    snet = to_spiking(net, lam=30.0)
    trials = random_trials(net, n_trials=2, n_steps=20)
    runs = [ns.simulate(snet, trials, substrate="spiking", device=d, noise_mode=None, cache_dir=cache, rng=1)
            for d in ("runtime", "cpp_standalone")]
    for x, y in zip(runs[0].extras["spike_indices"], runs[1].extras["spike_indices"]):
        assert len(x) > 20 and np.array_equal(x, y)
    assert np.allclose(runs[0].outputs, runs[1].outputs, atol=1e-9)
    assert runs[1].metadata["device"] == "cpp_standalone"


@pytest.mark.brian2
def test_calibrate_lambda_returns_the_curve_and_the_best_network(cache):
    from neurosim.calibration import calibrate_lambda

    net = small_net(n_rec=20)
    trials = random_trials(net, n_trials=2, n_steps=10)
    targets = 0.3 + 0.1 * np.random.default_rng(0).standard_normal(trials.targets.shape)
    trials = ns.tasks.Trials(trials.inputs, targets, trials.mask, dt=net.dt)
    cal = calibrate_lambda(net, trials, lambdas=(60.0, 20.0), refine=1, target="numpy", cache_dir=cache, rng=0)
    assert cal.metric == "nrmse" and not cal.higher_is_better  # bare Trials: regression metrics, minimised
    assert np.array_equal(cal.lambdas, [20.0, 40.0, 60.0])  # sorted, with the bracketing midpoint
    assert cal.lam == cal.lambdas[np.argmin(cal.scores)] and cal.network.lam == cal.lam
    assert np.isfinite(cal.rate_score) and len(cal.metrics) == 3 and len(set(cal.scores)) == 3
    with pytest.raises(ValueError, match="lambdas"):
        calibrate_lambda(net, trials, lambdas=(0.0, 30.0))


@pytest.mark.brian2
def test_neurosim_simulate_substrate_spiking_writes_raster_and_outputs(tmp_path, capsys):
    from neurosim import cli

    net = ns.RateNetwork.random(n_in=3, n_rec=20, n_out=2, tau=0.05, dt=0.02, activation="sigmoid",
                                form="current", g=1.0, dale=0.8, rng=0)
    net.save(tmp_path / "model")
    out = tmp_path / "out"
    code = cli.main(["simulate", str(tmp_path / "model"), "--task", "perceptual_decision", "--substrate", "spiking",
                     "--lam", "35", "--trials", "2", "--target", "numpy", "--out", str(out)])
    assert code == 0
    assert "lambda = 35 Hz" in capsys.readouterr().out
    for name in ("raster.png", "outputs.png", "overlay.png", "metrics.json"):
        assert (out / name).stat().st_size > 0, name


# -- conversion of trained networks (Kim et al. 2019) ---------------------------------------------------------

def trained(name, **task_kw):
    net = ns.load(os.path.join(DATA, f"spiking_{name}")).astype(np.float64)
    return net, ns.tasks.make(name, dt=net.dt, **task_kw)


@pytest.mark.brian2
@pytest.mark.slow
def test_perceptual_decision_converts_to_at_least_90_percent_of_the_rate_accuracy(cache):
    from neurosim.calibration import calibrate_lambda

    net, task = trained("perceptual_decision")
    assert net.activation == "sigmoid" and net.form == "current" and net.n_rec == 200
    assert np.mean(net.dale > 0) == pytest.approx(0.8)
    cal = calibrate_lambda(net, task, lambdas=(20, 30, 40, 50, 60), n_trials=100, cache_dir=cache, rng=1)
    held_out = task.sample(200, rng=2024)
    rate = task.score(ns.simulate(net, held_out, substrate="ann").outputs, held_out)["accuracy"]
    res = ns.simulate(cal.network, held_out, substrate="spiking", cache_dir=cache, rng=3)
    spiking = task.score(res.outputs, held_out)["accuracy"]
    print(f"perceptual_decision: rate {rate:.3f}, spiking {spiking:.3f} at lam = {cal.lam:g} Hz; "
          f"curve {dict(zip(cal.lambdas.tolist(), cal.scores.round(3).tolist()))}")
    assert rate >= 0.75  # the committed network is trained (chance is 0.5; the ideal observer ~0.82)
    assert spiking >= 0.9 * rate
    rates = res.extras["firing_rates"]
    assert 1.0 < rates.mean() < 50.0  # plausible cortical rates, not saturated at 1 / refractory


@pytest.mark.brian2
@pytest.mark.slow
def test_flip_flop_converts_and_holds_its_bits(cache):
    from neurosim.calibration import calibrate_lambda

    net, task = trained("flip_flop", duration=1.0)
    cal = calibrate_lambda(net, task, lambdas=(30, 40, 50), n_trials=50, refine=1, cache_dir=cache, rng=1)
    held_out = task.sample(200, rng=2024)
    rate = task.score(ns.simulate(net, held_out, substrate="ann").outputs, held_out)["accuracy"]
    spiking = task.score(ns.simulate(cal.network, held_out, substrate="spiking", cache_dir=cache,
                                     rng=3).outputs, held_out)["accuracy"]
    print(f"flip_flop: rate {rate:.3f}, spiking {spiking:.3f} at lam = {cal.lam:g} Hz")
    assert rate >= 0.9
    assert spiking >= 0.8  # measured 0.86 (91% of the rate network): lower than the decision task
    assert len(cal.lambdas) == 5  # the grid of 3 and two bracketing midpoints
