"""FORCE on the numpy substrate: the Euler step against ns.ann, the fold against ns.simulate, the learned
readout against batch ridge regression, learning a sine at small size, and the refusals."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.analysis import metrics
from neurosim.learning import force


def _silent_trials(net, n_steps):
    return ns.tasks.Trials(inputs=np.zeros((1, n_steps, net.n_in)), targets=np.zeros((1, n_steps, net.n_out)),
                           mask=np.ones((1, n_steps, net.n_out)), dt=net.dt)


def _random_readout(net, seed):
    rng = np.random.default_rng(seed)
    return net.replace(W_out=rng.normal(0, 1 / np.sqrt(net.n_rec), (net.n_out, net.n_rec)),
                       b_out=rng.normal(0, 0.1, net.n_out), b=rng.normal(0, 0.1, net.n_rec))


@pytest.mark.parametrize("form", ["current", "rate"])
@pytest.mark.parametrize("n_out", [1, 2])
def test_free_running_step_is_ann_forward_on_the_folded_network(form, n_out):
    net, W_fb = force.reservoir(200, n_out, form=form, rng=1)
    net = _random_readout(net, 2)
    free = force.run(net, W_fb, 60, learn=False)
    folded = force.fold_feedback(net, W_fb)
    _, y = ns.ann.forward(folded, np.zeros((1, 60, net.n_in)))
    np.testing.assert_allclose(free.outputs, y[0], rtol=0, atol=1e-12)
    res = ns.simulate(folded, _silent_trials(net, 60), substrate="ann")
    np.testing.assert_allclose(free.outputs, res.outputs[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(free.net.x0, res.states[0, -1], rtol=0, atol=1e-12)


def test_without_feedback_weights_the_step_is_ann_forward_itself():
    net, W_fb = force.reservoir(150, rng=3)
    net = _random_readout(net, 4)
    free = force.run(net, np.zeros_like(W_fb), 40, learn=False)
    _, y = ns.ann.forward(net, np.zeros((1, 40, 1)))
    np.testing.assert_allclose(free.outputs, y[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("form", ["current", "rate"])
def test_folded_network_reproduces_free_running_after_training(form):
    task = ns.tasks.make("sine", dt=0.001, duration=3.0, random_phase=False)
    f = task.sample(1, rng=0).targets[0]  # (3000, 1)
    net, W_fb = force.reservoir(300, form=form, rng=0)
    trained = force.run(net, W_fb, targets=f[:2000])
    free = force.run(trained.net, W_fb, 1000, learn=False)
    res = ns.simulate(force.fold_feedback(trained.net, W_fb), _silent_trials(net, 1000), substrate="ann")
    np.testing.assert_allclose(free.outputs, res.outputs[0], rtol=0, atol=1e-9)
    assert np.std(free.outputs) > 0.3, "the trained network oscillates (not a trivial fixed point)"


def test_learned_readout_is_batch_ridge_regression_on_the_visited_states():
    """FORCE's W_out after training is the ridge solution on the (s_t, f_t) it updated on, from W0 = 0."""
    n, alpha = 200, 2.0
    task = ns.tasks.make("sine", dt=0.001, duration=1.0, random_phase=False)
    f = task.sample(1, rng=0).targets[0]
    net, W_fb = force.reservoir(n, rng=5)
    run = force.run(net, W_fb, targets=f, alpha=alpha, every=2, n_record=n)
    R = run.rates[run.updated]  # (M, N) the states at the update steps
    F = f[run.updated]  # (M, 1)
    assert run.updated.sum() == 500 and np.all(np.flatnonzero(run.updated) % 2 == 1)
    W_ridge = np.linalg.solve(R.T @ R + alpha * np.eye(n), R.T @ F).T  # (1, N)
    np.testing.assert_allclose(run.net.W_out, W_ridge, rtol=0, atol=1e-9 * np.abs(W_ridge).max())
    np.testing.assert_allclose(run.rls.P, np.linalg.inv(R.T @ R + alpha * np.eye(n)), rtol=0, atol=1e-10)


def test_outputs_are_measured_before_the_update_and_weights_are_recorded():
    f = np.sin(np.linspace(0, 6, 100))[:, None]
    net, W_fb = force.reservoir(100, rng=6)
    run = force.run(net, W_fb, targets=f, every=3)
    assert np.flatnonzero(run.updated).tolist() == list(range(2, 100, 3))
    assert run.outputs[2, 0] == 0.0  # the first update happens after z_2 = 0 W s was measured
    assert np.all(run.dw_norm[~run.updated] == 0) and np.all(run.dw_norm[run.updated] > 0)
    assert run.w_norm[-1] == pytest.approx(np.linalg.norm(run.net.W_out))
    np.testing.assert_allclose(run.t, np.arange(1, 101) * 0.001)


def test_a_run_continues_where_the_previous_one_stopped():
    net, W_fb = force.reservoir(120, rng=7)
    net = _random_readout(net, 8)
    whole = force.run(net, W_fb, 80, learn=False)
    first = force.run(net, W_fb, 30, learn=False)
    second = force.run(first.net, W_fb, 50, learn=False)
    np.testing.assert_array_equal(np.vstack([first.outputs, second.outputs]), whole.outputs)


def test_learning_continues_with_the_same_rls():
    f = np.sin(np.linspace(0, 12, 400))[:, None]
    net, W_fb = force.reservoir(100, rng=9)
    whole = force.run(net, W_fb, targets=f)
    # 199 steps: the last one has no update, so its z (measured with the final W) is what the next run recomputes
    first = force.run(net, W_fb, targets=f[:199])
    second = force.run(first.net, W_fb, targets=f[199:], rls=first.rls, start=199)
    assert second.updated[0]  # steps 199, 201, ... of the whole run
    np.testing.assert_allclose(second.net.W_out, whole.net.W_out, rtol=0, atol=1e-12)
    np.testing.assert_allclose(second.outputs, whole.outputs[199:], rtol=0, atol=1e-12)
    np.testing.assert_allclose(second.t, whole.t[199:])
    with pytest.raises(ValueError, match="its W must be the network's W_out"):
        force.run(net, W_fb, targets=f[:10], rls=first.rls)


def test_small_network_learns_a_sine_and_free_runs_it():
    """A scaled-down Sussillo & Abbott: N = 300, 3 s of training on a 5 Hz sine, then 3 s of free running."""
    task = ns.tasks.make("sine", dt=0.001, duration=6.0, random_phase=False)
    f = task.sample(1, rng=0).targets[0]
    net, W_fb = force.reservoir(300, rng=0)
    trained = force.run(net, W_fb, targets=f[:3000])
    free = force.run(trained.net, W_fb, 3000, learn=False)
    score = metrics.force_success(free.outputs, f[3000:], period=task.period, dt=task.dt)
    assert score["success"], score
    assert metrics.mae(free.outputs, f[3000:]) < 0.1
    untrained = force.run(net, W_fb, 3000, learn=False)
    assert not metrics.force_success(untrained.outputs, f[:3000], period=task.period, dt=task.dt)["success"]


def test_reservoir_is_sussillo_and_abbotts():
    net, W_fb = force.reservoir(1000, rng=0)
    assert net.n_rec == 1000 and net.tau == 0.01 and net.dt == 0.001 and net.form == "current"
    assert net.activation == "tanh" and net.mask is None and net.dale is None
    assert np.all(net.W_in == 0) and np.all(net.W_out == 0)
    assert np.count_nonzero(net.W_rec) / 1e6 == pytest.approx(0.1, abs=0.005)
    nz = net.W_rec[net.W_rec != 0]
    assert nz.std() == pytest.approx(1.5 / np.sqrt(0.1 * 1000), rel=0.02)  # g / sqrt(p N)
    assert W_fb.shape == (1000, 1) and -1 <= W_fb.min() < -0.99 and 0.99 < W_fb.max() <= 1
    assert net.x0.std() == pytest.approx(0.5, rel=0.05)
    a, b = force.reservoir(50, rng=3), force.reservoir(50, rng=3)
    np.testing.assert_array_equal(a[0].W_rec, b[0].W_rec)
    np.testing.assert_array_equal(a[1], b[1])


def test_fold_refusals():
    net, W_fb = force.reservoir(50, rng=1)
    net = _random_readout(net, 1)
    with pytest.raises(ValueError, match="identity readout"):
        force.fold_feedback(net.replace(output_activation="sigmoid"), W_fb)
    masked = net.replace(W_rec=net.W_rec * (np.abs(net.W_rec) > 0), mask=(net.W_rec != 0).astype(float))
    with pytest.raises(ValueError, match="nonzero weights where net.mask is 0"):
        force.fold_feedback(masked, W_fb)
    dale = ns.RateNetwork.random(1, 50, 1, dale=0.8, rng=2)
    with pytest.raises(ValueError, match="breaks Dale's law"):
        force.fold_feedback(dale.replace(mask=None), np.ones((50, 1)) * -1)
    with pytest.raises(ValueError, match=r"fold_feedback W_fb: expected shape \(50, 1\)"):
        force.fold_feedback(net, np.ones((50, 2)))
    # a readout of zeros changes nothing, so even a masked network folds
    zero = masked.replace(W_out=np.zeros_like(net.W_out), b_out=np.zeros(1))
    np.testing.assert_array_equal(force.fold_feedback(zero, W_fb).W_rec, zero.W_rec)


def test_run_refusals():
    net, W_fb = force.reservoir(30, rng=1)
    with pytest.raises(ValueError, match="learn=True needs targets"):
        force.run(net, W_fb, 10)
    with pytest.raises(ValueError, match="give n_steps or targets"):
        force.run(net, W_fb, learn=False)
    with pytest.raises(ValueError, match=r"force.run targets: expected shape \(5, 1\)"):
        force.run(net, W_fb, 5, targets=np.zeros((6, 1)))
    with pytest.raises(ValueError, match="identity readout"):
        force.run(net.replace(output_activation="sigmoid"), W_fb, 5, learn=False)
    with pytest.raises(TypeError, match="expected a RateNetwork"):
        force.run("net", W_fb, 5, learn=False)


@pytest.mark.slow
def test_sussillo_abbott_full_size_one_seed():
    """N = 1000, 1440 tau of training, 1440 tau free running, the four sines (~20-30 s)."""
    task = ns.tasks.make("four_sines", dt=0.001, duration=28.8, random_phase=False)
    f = task.sample(1, rng=0).targets[0]
    net, W_fb = force.reservoir(1000, rng=0)
    trained = force.run(net, W_fb, targets=f[:14400])
    free = force.run(trained.net, W_fb, 14400, learn=False)
    assert metrics.force_success(free.outputs, f[14400:], period=task.period, dt=task.dt)["success"]
    assert metrics.mae(free.outputs, f[14400:]) <= 0.05


def test_figures_draw_what_they_say():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim import force_plots

    f = np.sin(np.linspace(0, 20, 400))[:, None]
    net, W_fb = force.reservoir(80, rng=1)
    trained = force.run(net, W_fb, targets=f[:200])
    free = force.run(trained.net, W_fb, 200, learn=False, start=200)
    ax = force_plots.output_vs_target(trained, free, f)
    assert len(ax.lines) == 4  # target, z learning, z free, the switch line
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), free.outputs[:, 0])
    ax = force_plots.readout_change(trained)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), trained.dw_norm[trained.updated])
    folded = force.fold_feedback(free.net, W_fb)
    ax = force_plots.eigenvalues(net, folded)
    assert len(ax.collections) == 2 and len(ax.collections[1].get_offsets()) == 80
    fig = force_plots.force_summary(trained, free, f)
    assert len(fig.axes) == 4  # three rows and the twin axis of |W_out|
    plt.close("all")


def test_force_rule_in_the_training_loop_equals_force_run():
    f = np.sin(np.linspace(0, 30, 600))[:, None]
    net, W_fb = force.reservoir(120, rng=11)
    direct = force.run(net, W_fb, targets=f)
    rule = force.FORCE(net, W_fb, f)
    from neurosim.learning import loop

    folded, history = loop.run(rule, 300, divergence=None, progress=False, name="force")
    np.testing.assert_allclose(rule.rls.W, direct.net.W_out, rtol=0, atol=1e-13)
    assert history.rule == "force" and len(history.loss) == 300
    np.testing.assert_allclose(history.loss, (direct.outputs[direct.updated, 0] - f[direct.updated, 0]) ** 2,
                               rtol=1e-10)
    np.testing.assert_allclose(folded.W_rec, force.fold_feedback(direct.net, W_fb).W_rec, atol=1e-13)
    np.testing.assert_allclose(folded.x0, direct.net.x0, atol=1e-13)
    with pytest.raises(ValueError, match="the training trajectory has 600 steps, so at most 300 updates"):
        rule.step(301)


def test_train_returns_a_plain_network_that_simulate_runs_on_the_task():
    """neurosim's own front door: a RateNetwork from RateNetwork.random, trained by FORCE on the 5 Hz sine for
    3 s (an integer number of periods, so the final state is at phase 0), then scored by ns.simulate."""
    net = ns.RateNetwork.random(1, 300, 1, tau=0.01, dt=0.001, form="current", g=1.5, p=0.1, input_scale=0.0,
                                rng=0)
    task = ns.tasks.make("sine", dt=0.001, random_phase=False)
    folded, history, W_fb = force.train(net, task, steps=1500, progress=False, rng=0)
    assert isinstance(folded, ns.RateNetwork) and folded.mask is None and history.stopped == "completed"
    assert np.mean(history.loss[-100:]) < 1e-2 * np.mean(history.loss[:100])
    trials = ns.tasks.make("sine", dt=0.001, random_phase=False, duration=2.0).sample(2, rng=1)
    res = ns.simulate(folded, trials, substrate="ann")
    assert task.score(res.outputs, trials)["nrmse"] < 0.1


def test_prepare_refuses_dale_and_draws_what_is_missing():
    dale = ns.RateNetwork.random(1, 40, 1, dale=0.8, rng=2)
    with pytest.raises(ValueError, match="Dale's law"):
        force.prepare(dale)
    net = ns.RateNetwork.random(1, 40, 1, p=0.5, rng=2)
    ready, W_fb = force.prepare(net, rng=3)
    assert ready.mask is None and np.all(ready.W_out == 0) and np.any(ready.x0) and W_fb.shape == (40, 1)
    np.testing.assert_array_equal(ready.W_rec, net.W_rec)


@pytest.mark.parametrize("form", ["current", "rate"])
def test_feedback_step_is_the_reference_euler_step_of_the_fold(form):
    """One step at a time against neurosim.equations.euler_step, the plain reference, on the folded network."""
    net, W_fb = force.reservoir(60, form=form, rng=12)
    net = _random_readout(net, 13)
    folded = force.fold_feedback(net, W_fb)
    loop = force.FeedbackLoop(net, W_fb, net.W_out)
    x = net.x0[None, :]  # (1, N)
    for _ in range(10):
        loop.step(net.b)
        x = ns.equations.euler_step(folded, x, np.zeros((1, 1)))
        np.testing.assert_allclose(loop.x, x[0], rtol=0, atol=1e-13)


def test_a_spec_with_rule_force_trains_by_force():
    from neurosim.spec import SpecError, fit, parse_spec

    raw = {"task": {"name": "sine", "dt": 0.001, "duration": 0.6, "random_phase": False},
           "network": {"n_rec": 200, "form": "current", "tau": 0.01, "g": 1.5, "p": 0.1, "input_scale": 0.0},
           "training": {"rule": "force", "steps": 1000, "update_every": 2, "rls_alpha": 1.0, "seed": 1}}
    spec = parse_spec(raw)
    net, history, task = fit(spec, progress=False)
    assert history.rule == "force" and len(history.loss) == 1000 and net.mask is None
    spec.check_weights(net)  # the fold drops the mask that p < 1 implies for BPTT: still this spec's network
    trials = task.sample(2, rng=5)
    _, y = ns.ann.forward(net, trials.inputs)
    assert task.score(y, trials)["nrmse"] < 0.1
    with pytest.raises(SpecError, match=r"\[training\] rule: expected one of \['bptt', 'force'\]"):
        parse_spec({**raw, "training": {"rule": "hebb"}})
