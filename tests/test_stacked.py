"""Stacked training against its reference: each network trained alone with neurosim.train, bit for bit."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.ann import stacked
from neurosim.learning import train_stacked
from neurosim.tasks import Trials

CONFIGS = {
    "elman": dict(tau=0.01, dt=0.01),
    "leaky_noisy_dale": dict(tau=0.05, dt=0.01, sigma=0.1, dale=0.8, p=0.7),
    "current_relu": dict(tau=0.05, dt=0.01, form="current", activation="relu", g=0.9),
}


def _nets(config, n=3, N=12, dtype=np.float64):
    return [ns.RateNetwork.random(2, N, 2, rng=seed, dtype=dtype, **CONFIGS[config]) for seed in range(n)]


def _assert_same(alone, together):
    for (net_a, hist_a), (net_b, hist_b) in zip(alone, together, strict=True):
        for k in net_a.trainable:
            assert np.array_equal(getattr(net_a, k), getattr(net_b, k)), k
        assert hist_a.loss == hist_b.loss and hist_a.grad_norm == hist_b.grad_norm
        assert hist_a.val_loss == hist_b.val_loss and hist_a.stopped == hist_b.stopped


@pytest.mark.parametrize("kernels", ["compiled", "numpy"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stacked_gradients_are_those_of_each_network_alone(config, dtype, kernels, monkeypatch):
    # why both: with the compiled loops a tanh stack is computed one network at a time; numpy's loops stack it
    if kernels == "numpy":
        monkeypatch.setenv("NEUROSIM_KERNELS", "numpy")
    nets = _nets(config, dtype=dtype)
    rng = np.random.default_rng(0)
    batches = [Trials(rng.normal(size=(4, 9, 2)), rng.normal(size=(4, 9, 2)), (rng.random((4, 9, 2)) < 0.8) * 1.0,
                      0.01) for _ in nets]
    kw = dict(l2=0.01, l2_rate=0.1, dropout=0.2)
    together = stacked.loss_and_grads(nets, batches, rngs=[10, 11, 12], **kw)
    for net, batch, seed, (value, grads) in zip(nets, batches, [10, 11, 12], together):
        value_alone, grads_alone = ns.ann.loss_and_grads(net, batch, rng=seed, **kw)
        assert value == value_alone
        assert all(np.array_equal(grads[k], grads_alone[k]) for k in grads_alone)
        assert all(grads[k].dtype == dtype for k in grads)


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_train_stacked_is_bit_identical_to_training_each_alone(config):
    task = ns.tasks.make("flip_flop", dt=0.01)
    nets = [ns.RateNetwork.random(task.n_in, 16, task.n_out, rng=seed, **CONFIGS[config]) for seed in range(3)]
    kw = dict(lr=3e-3, batch_size=8, validation=8, eval_every=3, dropout=0.1, progress=False)
    alone = [ns.train(net, task, steps=7, rng=seed, **kw) for seed, net in zip([5, 6, 7], nets)]
    together = train_stacked(nets, task, steps=7, rng=[5, 6, 7], **kw)
    _assert_same(alone, together)
    assert not np.array_equal(together[0][0].W_rec, nets[0].W_rec)  # it did train


def test_networks_that_stop_early_leave_the_others_training():
    task = ns.tasks.make("flip_flop", dt=0.01)
    nets = [ns.RateNetwork.random(task.n_in, 16, task.n_out, tau=0.01, dt=0.01, rng=seed) for seed in range(3)]
    kw = dict(lr=3e-2, batch_size=8, validation=8, eval_every=1, patience=1, progress=False)
    alone = [ns.train(net, task, steps=12, rng=seed, **kw) for seed, net in enumerate(nets)]
    assert len({len(h.loss) for _, h in alone}) > 1  # they stop at different steps
    _assert_same(alone, train_stacked(nets, task, steps=12, rng=[0, 1, 2], **kw))


def test_stacking_refuses_networks_of_different_settings():
    a = ns.RateNetwork.random(2, 8, 2, tau=0.05, dt=0.01, rng=0)
    with pytest.raises(ValueError, match=r"network 1 has n_rec = 9, network 0 has 8"):
        stacked.check_stackable([a, ns.RateNetwork.random(2, 9, 2, tau=0.05, dt=0.01, rng=1)])
    with pytest.raises(ValueError, match=r"network 1 has alpha"):
        stacked.check_stackable([a, ns.RateNetwork.random(2, 8, 2, tau=0.1, dt=0.01, rng=1)])
    with pytest.raises(ValueError, match=r"only RateNetwork"):
        stacked.check_stackable([ns.ann.GatedNetwork.random(2, 8, 2, rng=0)])
    with pytest.raises(ValueError, match=r"one seed per network \(1\), got 2"):
        train_stacked([a], ns.tasks.make("flip_flop", dt=0.01), rng=[0, 1])
