"""FORCE inside Brian2: the rate network learning while Brian2 runs it, against numpy's FORCE (the reference,
:func:`neurosim.learning.force.run`), runtime and cpp_standalone; spiking FORCE (Nicola & Clopath 2017) on the
LIF substrate, against the plain LIF substrate and across devices; the configuration's numbers; the refusals.

Tolerance: with ``method='euler'`` at sim_dt = dt Brian2 takes numpy's steps, so the two differ by rounding only
(~1e-15 per step); the issue's goal is 1e-9 over the first 50 tau, on z(t) and on W_out(t) after every update.
Small sizes here (N <= 500, short runs); the full sizes are ``benchmarks/force_brian.py``.
"""

import numpy as np
import pytest

import neurosim as ns
from neurosim.learning import force, spiking_force
from neurosim.learning.rls import RLS
from neurosim.spiking import SpikingNetwork

brian2 = pytest.importorskip("brian2")

TOL = 1e-9
N_TAU = 50  # the goal's horizon: the first 50 tau


class RecordingRLS(RLS):
    """The numpy RLS core, keeping W after every update: numpy's W_out(t)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.history = []

    def update(self, r, error):
        super().update(r, error)
        self.history.append(self.W.copy())


def _sa(n_rec=200, form="current", seed=0, n_steps=None):
    """Sussillo & Abbott's reservoir and a sine target (period 30 tau) for ``n_steps`` (default 50 tau)."""
    net, W_fb = force.reservoir(n_rec, form=form, rng=seed)
    T = n_steps or int(round(N_TAU * net.tau / net.dt))
    t = (np.arange(T) + 1) * net.dt
    return net, W_fb, np.sin(2 * np.pi * t / (30 * net.tau))[:, None]  # (T, 1)


def _numpy_reference(net, W_fb, f, **kwargs):
    rls = RecordingRLS(net.n_rec, net.n_out, alpha=kwargs.pop("alpha", 1.0), step=kwargs.pop("step", "normalised"),
                       W0=net.W_out)
    ref = force.run(net, W_fb, targets=f, rls=rls, **kwargs)
    return ref, np.array(rls.history)  # (n_updates, n_out, N)


def _assert_same_run(ours, ref, W_ref):
    np.testing.assert_array_equal(ours.t, ref.t)
    np.testing.assert_array_equal(ours.updated, ref.updated)
    np.testing.assert_allclose(ours.outputs, ref.outputs, rtol=0, atol=TOL)
    np.testing.assert_allclose(ours.weights[ref.updated], W_ref, rtol=0, atol=TOL)  # W_out(t) after each update
    np.testing.assert_allclose(ours.w_norm, ref.w_norm, rtol=0, atol=TOL)
    np.testing.assert_allclose(ours.dw_norm, ref.dw_norm, rtol=0, atol=TOL)
    np.testing.assert_allclose(ours.rates, ref.rates, rtol=0, atol=TOL)
    np.testing.assert_allclose(ours.net.x0, ref.net.x0, rtol=0, atol=TOL)
    np.testing.assert_allclose(ours.net.W_out, ref.net.W_out, rtol=0, atol=TOL)
    assert np.count_nonzero(ref.dw_norm) == ref.updated.sum() > 100, "RLS changed W_out at every update"
    assert np.abs(ref.outputs).max() > 0.3, "the readout is not trivially small"


@pytest.mark.brian2
@pytest.mark.parametrize("form, target, step", [("current", "cython", "normalised"),
                                                ("rate", "numpy", "unnormalised")])
def test_brian_rate_force_is_numpy_force_over_50_tau(form, target, step, cache):
    net, W_fb, f = _sa(200, form=form, seed=1)
    alpha = 1.0 if step == "normalised" else 50.0  # the unnormalised step needs a small P(0) to stay stable
    ref, W_ref = _numpy_reference(net, W_fb, f, alpha=alpha, step=step)
    ours = force.run(net, W_fb, targets=f, alpha=alpha, step=step, substrate="rate", target=target,
                     record_weights=True, cache_dir=cache)
    _assert_same_run(ours, ref, W_ref)
    assert ours.metadata["device"] == "runtime" and ours.rls.n_updates == len(W_ref)


@pytest.mark.brian2
@pytest.mark.slow
def test_brian_rate_force_standalone_is_numpy_force_over_50_tau(cache):
    net, W_fb, f = _sa(200, seed=2)
    ref, W_ref = _numpy_reference(net, W_fb, f)
    ours = force.run(net, W_fb, targets=f, substrate="rate", device="cpp_standalone", record_weights=True,
                     cache_dir=cache)
    _assert_same_run(ours, ref, W_ref)
    assert ours.metadata["device"] == "cpp_standalone" and ours.rls is None


@pytest.mark.brian2
@pytest.mark.slow
def test_brian_rate_force_standalone_final_state_after_a_long_run(cache):
    """The state the run ends in (the next run's x0) is the last step's, also after 14400 steps (the S&A
    length, whose T dt is not a round number of clock ticks)."""
    net, W_fb, f = _sa(60, seed=3, n_steps=14400)
    ours = force.run(net, W_fb, targets=f, substrate="rate", device="cpp_standalone", cache_dir=cache)
    ref = force.run(net, W_fb, targets=f)
    np.testing.assert_allclose(ours.rates[-1], ns.equations.source(net, ours.net.x0)[:10], rtol=0, atol=1e-12)
    assert np.abs(ours.net.x0).max() > 0.1
    np.testing.assert_allclose(ours.outputs[:500], ref.outputs[:500], rtol=0, atol=TOL)


@pytest.mark.brian2
def test_brian_free_run_continues_the_schedule_and_is_the_folded_plain_rate_network(cache):
    """After learning, a free run in the FORCE loop (learning off, start = steps done) is the folded network on
    the plain Brian2 rate substrate (``simulate``), and both are numpy's free run."""
    net, W_fb, f = _sa(150, seed=3, n_steps=300)
    trained = force.run(net, W_fb, targets=f, substrate="rate", target="numpy", every=3)
    ref_trained = force.run(net, W_fb, targets=f, every=3)
    np.testing.assert_allclose(trained.outputs, ref_trained.outputs, rtol=0, atol=TOL)
    free = force.run(trained.net, W_fb, 200, learn=False, start=300, substrate="rate", target="numpy")
    assert not free.updated.any() and np.all(free.dw_norm == 0)
    np.testing.assert_allclose(free.t, (301 + np.arange(200)) * net.dt)
    folded = force.fold_feedback(trained.net, W_fb)
    silent = ns.tasks.Trials(inputs=np.zeros((1, 200, net.n_in)), targets=np.zeros((1, 200, 1)),
                             mask=np.ones((1, 200, 1)), dt=net.dt)
    plain = ns.simulate(folded, silent, substrate="rate", target="numpy")
    np.testing.assert_allclose(free.outputs, plain.outputs[0], rtol=0, atol=TOL)
    ref_free = force.run(ref_trained.net, W_fb, 200, learn=False, start=300)
    np.testing.assert_allclose(free.outputs, ref_free.outputs, rtol=0, atol=TOL)


@pytest.mark.brian2
def test_brian_rate_force_with_input_and_substeps(cache):
    """The input reaches the Brian2 network at numpy's step (sim_dt = dt); with sim_dt = dt / 4 the run is the
    finer Euler discretisation of the same ODE: close to numpy's, not equal."""
    net, W_fb, f = _sa(100, seed=4, n_steps=200)
    rng = np.random.default_rng(0)
    net = net.replace(W_in=rng.normal(0, 1, (100, 1)))
    u = np.sin(np.arange(200) / 7.0)[:, None]  # (T, 1)
    ref = force.run(net, W_fb, targets=f, inputs=u)
    ours = force.run(net, W_fb, targets=f, inputs=u, substrate="rate", target="numpy")
    np.testing.assert_allclose(ours.outputs, ref.outputs, rtol=0, atol=TOL)
    fine = force.run(ours.net, W_fb, 50, learn=False, inputs=u[:50], substrate="rate", target="numpy",
                     sim_dt=net.dt / 4)
    coarse = force.run(ours.net, W_fb, 50, learn=False, inputs=u[:50])
    gap = np.abs(fine.outputs - coarse.outputs).max()
    assert 0 < gap < 0.05 * np.abs(coarse.outputs).max() + 1e-3


@pytest.mark.brian2
def test_force_train_on_the_brian_rate_substrate_is_numpy_training(cache):
    """force.train(substrate="rate"): the same folded network and per-update losses as the numpy training loop."""
    net = ns.RateNetwork.random(1, 120, 1, tau=0.01, dt=0.001, g=1.5, p=0.2, rng=6)
    task = ns.tasks.make("sine", dt=0.001, duration=1.0, random_phase=False)
    ref, ref_history, W_fb = force.train(net, task, steps=150, progress=False, rng=1)
    ours, history, W_fb2 = force.train(net, task, steps=150, rng=1, substrate="rate", target="numpy",
                                       validate=lambda n: (0.0, {"n_rec": n.n_rec}))
    np.testing.assert_array_equal(W_fb, W_fb2)
    np.testing.assert_allclose(ours.W_rec, ref.W_rec, rtol=0, atol=TOL)
    np.testing.assert_allclose(ours.x0, ref.x0, rtol=0, atol=TOL)
    np.testing.assert_allclose(history.loss, ref_history.loss, rtol=1e-6, atol=1e-15)
    assert history.val_metrics == [{"n_rec": 120}] and len(history.loss) == 150


@pytest.mark.brian2
@pytest.mark.slow
def test_brian_rate_force_succeeds_where_numpy_does(cache):
    """A small Sussillo & Abbott run (N = 300, sine of 60 tau): success in Brian2 exactly when in numpy."""
    net, W_fb = force.reservoir(300, rng=0)
    task = ns.tasks.make("sine", dt=net.dt, period=0.6, duration=4.5, random_phase=False)
    f = task.sample(1, rng=0).targets[0]  # (4500, 1)
    scores = {}
    for substrate in ("ann", "rate"):
        opts = {"substrate": substrate, "cache_dir": cache} if substrate == "rate" else {}
        trained = force.run(net, W_fb, targets=f[:3000], **opts)
        free = force.run(trained.net, W_fb, 1500, learn=False, start=3000, **opts)
        scores[substrate] = ns.analysis.metrics.force_success(free.outputs, f[3000:], period=0.6, dt=net.dt)
    assert scores["rate"]["success"] == scores["ann"]["success"] is True
    assert abs(scores["rate"]["nrmse"] - scores["ann"]["nrmse"]) < 1e-6


# -- spiking FORCE ----------------------------------------------------------------------------------------------


def _small_nc(n_rec=200, duration=1.0):
    return spiking_force.NicolaClopath(n_rec=n_rec, duration=duration, train_start=0.3 * duration,
                                       train_stop=0.7 * duration)


@pytest.fixture(scope="module")
def small_spiking(cache):
    return spiking_force.train(_small_nc(), rng=0, target="numpy", weights_every=0.01, cache_dir=cache)


def test_nicola_clopath_network_has_their_numbers():
    c = spiking_force.NicolaClopath()
    assert (c.n_rec, c.G, c.Q, c.p, c.every, c.train_start, c.train_stop, c.duration) == \
        (2000, 0.04, 10.0, 0.1, 0.0025, 5.0, 10.0, 15.0)
    assert round(c.every / c.sim_dt) == 50  # their step = 50 Euler steps of 0.05 ms
    # their Pinv = alpha_NC I with alpha_NC = dt * 0.1 = 5e-6 is P(0) = I / alpha with alpha = 2e5 here
    np.testing.assert_allclose(np.diag(RLS(3, 1, alpha=c.alpha).P), 0.05e-3 * 0.1, rtol=1e-12)
    small = c.replace(n_rec=400)
    snet, W_fb = spiking_force.reservoir(small, rng=0)
    W = snet.W_rec
    nz = W != 0
    assert abs(nz.mean() - 0.1) < 0.01
    row_means = np.array([W[i, nz[i]].mean() for i in range(400)])
    np.testing.assert_allclose(row_means, 0.0, atol=1e-15)  # each row's nonzero weights: mean zero
    # before the shift the nonzero weights are G N(0, 1) / (sqrt(N) p): their spread survives it
    assert abs(W[nz].std() / (0.04 / (np.sqrt(400) * 0.1)) - 1) < 0.05
    assert W_fb.shape == (400, 1) and np.abs(W_fb).max() <= 10 and np.abs(W_fb).max() > 9
    assert snet.v_rest + snet.bias == pytest.approx(-0.040) and snet.form == "rate" and snet.lam == 1.0


@pytest.mark.brian2
def test_spiking_force_without_feedback_or_learning_is_the_plain_lif_substrate(cache):
    """W_fb = 0 and no RLS step: the FORCE hook's I_ext = W_in u_k + b is the substrate's input, so the spikes
    are the ones neurosim.brian.spiking.run gives for the same network and initial potentials."""
    from neurosim.brian import spiking as brian_spiking
    from neurosim.brian import spiking_force as brian_sf

    rng = np.random.default_rng(5)
    N, T = 40, 100
    snet = SpikingNetwork(W_in=rng.normal(0, 20, (N, 1)), W_rec=rng.normal(0, 2, (N, N)), b=rng.uniform(5, 40, N),
                          W_out=rng.normal(0, 0.1, (1, N)), b_out=np.zeros(1), lam=1.0, form="rate", sigma_v=0.0,
                          tau_d=0.02, dt=0.002, sim_dt=1e-4, activation="linear")
    u = rng.uniform(0, 1, (T, 1))
    plain = brian_spiking.run(snet, u[None], membrane_noise=False, rng=7, target="numpy", cache_dir=cache)
    ours = brian_sf.run(snet, np.zeros((N, 1)), np.zeros((T, 1)), inputs=u, alpha=1.0, every=0.002,
                        train_start=0.0, train_stop=0.0, rng=7, v_init=(snet.v_reset, snet.v_threshold),
                        target="numpy", cache_dir=cache)
    assert len(plain.spike_times[0]) > 50 and ours.n_updates == 0
    np.testing.assert_array_equal(ours.spike_indices, plain.spike_indices[0])
    np.testing.assert_allclose(ours.spike_times, plain.spike_times[0], rtol=0, atol=1e-12)
    # the readout z = W_out r / lam, sampled at the ends of task steps like the substrate's r
    np.testing.assert_allclose(ours.z[:, 0], plain.r[0] @ snet.W_out[0] / snet.lam, rtol=0, atol=1e-9)


@pytest.mark.brian2
def test_spiking_force_learns_in_the_window_only(small_spiking):
    run = small_spiking.run
    c = small_spiking.config
    assert run.n_updates == round((c.train_stop - c.train_start) / c.every)
    w = run.weights[:, 0, :]  # (n_w, 10)
    before = run.weights_t < c.train_start
    after = run.weights_t > c.train_stop + 0.005
    assert np.all(w[before] == 0) and np.any(w[after] != 0)
    np.testing.assert_array_equal(w[after], np.broadcast_to(w[after][-1], w[after].shape))  # frozen after
    np.testing.assert_array_equal(run.W_out[0, :10], w[-1])
    assert 5 < run.firing_rates.mean() < 80
    assert run.z.shape == (c.n_steps, 1) and np.all(run.z[run.t < c.train_start] == 0)


def test_spiking_force_figure(small_spiking):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim import force_plots

    fig = force_plots.spiking_force_summary(small_spiking, n_neurons=50, window=0.2)
    assert len(fig.axes) == 4
    raster_ax = fig.axes[0]
    assert len(raster_ax.lines[0].get_xdata()) > 0
    assert "aligned NRMSE" in fig._suptitle.get_text()
    plt.close(fig)


@pytest.mark.brian2
@pytest.mark.slow
def test_spiking_force_standalone_is_runtime(small_spiking, cache):
    """The C++ hook (RLS in C++) against the runtime hook (numpy RLS core): the same readout and weights."""
    other = spiking_force.train(_small_nc(), rng=0, device="cpp_standalone", weights_every=0.01, cache_dir=cache)
    np.testing.assert_allclose(other.run.z, small_spiking.run.z, rtol=0, atol=1e-9)
    np.testing.assert_allclose(other.run.W_out, small_spiking.run.W_out, rtol=0, atol=1e-12)
    np.testing.assert_allclose(other.run.weights, small_spiking.run.weights, rtol=0, atol=1e-12)
    assert other.run.n_updates == small_spiking.run.n_updates > 0
    np.testing.assert_array_equal(other.run.spike_indices[:1000], small_spiking.run.spike_indices[:1000])


@pytest.mark.brian2
@pytest.mark.slow
def test_spiking_force_learns_a_5hz_sine_at_small_size(cache):
    """N = 500, 6 s (learning from 2 to 4 s), free running 2 s: the frequency, amplitude and rate goals hold;
    the output follows the sine (aligned NRMSE well below the 1 of a silent readout; the issue's 0.2 is a goal
    at N = 2000, measured by benchmarks/force_brian.py: at N = 500 the free-running phase drifts more)."""
    res = spiking_force.train(_small_nc(500, 6.0).replace(train_start=2.0, train_stop=4.0), rng=0, cache_dir=cache)
    s = res.scores
    assert s["peak_ok"] and s["amplitude_ok"] and s["rate_ok"], s
    assert s["aligned_nrmse"] < 0.5, s


# -- refusals ---------------------------------------------------------------------------------------------------


def test_refusals_name_the_field():
    from neurosim.brian import spiking_force as brian_sf

    net, W_fb, f = _sa(20, n_steps=10)
    with pytest.raises(ValueError, match="substrate.*'ann', 'rate'"):
        force.run(net, W_fb, targets=f, substrate="spiking")
    with pytest.raises(TypeError, match="substrate='ann'"):
        force.run(net, W_fb, targets=f, device="cpp_standalone")
    with pytest.raises(ValueError, match="rls"):
        force.run(net, W_fb, targets=f, substrate="rate", rls=RLS(20, 1))
    with pytest.raises(ValueError, match="identity readout"):
        force.run(net.replace(output_activation="sigmoid"), W_fb, targets=f, substrate="rate")
    snet, E = spiking_force.reservoir(spiking_force.NicolaClopath(n_rec=20), rng=0)
    with pytest.raises(ValueError, match="form='rate'"):
        brian_sf.run(snet.replace(form="current"), E, np.zeros((10, 1)), alpha=1.0, every=snet.dt)
    with pytest.raises(ValueError, match="every: expected a positive multiple of SpikingNetwork.dt"):
        brian_sf.run(snet, E, np.zeros((10, 1)), alpha=1.0, every=1.5 * snet.dt)
    with pytest.raises(ValueError, match="W_fb"):
        brian_sf.run(snet, E[:5], np.zeros((10, 1)), alpha=1.0, every=snet.dt)
    with pytest.raises(ValueError, match="train_start < train_stop"):
        spiking_force.NicolaClopath(train_start=10.0, train_stop=5.0)
