"""tanh_to_sigmoid: a tanh network and its sigmoid counterpart compute the same outputs (to round-off), in both
forms, with and without noise; its states are the stated affine maps of the tanh network's; signs, Dale's law and
masks are kept; to_spiking converts tanh networks through it, without a warning."""

import warnings

import numpy as np
import pytest

import neurosim as ns
from neurosim.transforms import tanh_to_sigmoid


def tanh_net(form, *, sigma=0.0, dale=0.8, p=0.7, out_act="identity", alpha=0.2, seed=0, N=12):
    rng = np.random.default_rng(seed)
    net = ns.RateNetwork.random(3, N, 2, tau=0.05, dt=0.05 * alpha, form=form, activation="tanh",
                                output_activation=out_act, g=1.4, dale=dale, p=p, sigma=sigma, rng=seed)
    return net.replace(b=rng.normal(size=N) * 0.5, b_out=rng.normal(size=2) * 0.3, x0=rng.uniform(-0.8, 0.8, N))


def inputs(seed=1, B=4, T=40):
    return np.random.default_rng(seed).normal(size=(B, T, 3))  # (B, T, n_in)


STATE_MAP = {"rate": lambda r: (r + 1.0) / 2.0, "current": lambda x: 2.0 * x}


@pytest.mark.parametrize("form", ["rate", "current"])
@pytest.mark.parametrize("out_act", ["identity", "sigmoid", "softmax"])
@pytest.mark.parametrize("alpha", [0.2, 1.0])
def test_sigmoid_network_computes_the_same_outputs(form, out_act, alpha):
    net = tanh_net(form, out_act=out_act, alpha=alpha)
    sig = tanh_to_sigmoid(net)
    u = inputs()
    states, outputs = ns.ann.forward(net, u)  # (B, T, N), (B, T, n_out)
    states2, outputs2 = ns.ann.forward(sig, u)
    assert sig.activation == "sigmoid" and np.abs(outputs).max() > 0.1
    np.testing.assert_allclose(outputs2, outputs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(states2, STATE_MAP[form](states), rtol=0, atol=1e-12)


@pytest.mark.parametrize("form, scale", [("rate", 0.5), ("current", 2.0)])
def test_noise_maps_with_the_state(form, scale):
    net = tanh_net(form, sigma=0.3)
    sig = tanh_to_sigmoid(net)
    assert sig.sigma == pytest.approx(scale * net.sigma)
    u = inputs(B=3, T=30)
    noise = ns.ann.noise_increments(net, 3, 30, rng=7)  # (B, T, N): sqrt(2 alpha) sigma xi
    assert np.array_equal(ns.ann.noise_increments(sig, 3, 30, rng=7), scale * noise)  # same draws, scaled by sigma'
    states, outputs = ns.ann.forward(net, u, noise_increments=noise)
    states2, outputs2 = ns.ann.forward(sig, u, noise_increments=scale * noise)
    np.testing.assert_allclose(outputs2, outputs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(states2, STATE_MAP[form](states), rtol=0, atol=1e-12)


def test_the_weight_map_written_out():
    net = tanh_net("current")
    sig = tanh_to_sigmoid(net)
    one = np.ones(net.n_rec)
    np.testing.assert_array_equal(sig.W_in, 2 * net.W_in)
    np.testing.assert_array_equal(sig.W_rec, 4 * net.W_rec)
    np.testing.assert_allclose(sig.b, 2 * (net.b - net.W_rec @ one), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(sig.W_out, 2 * net.W_out)
    np.testing.assert_allclose(sig.b_out, net.b_out - net.W_out @ one, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(sig.x0, 2 * net.x0)
    assert (sig.tau, sig.dt, sig.form, sig.output_activation) == (net.tau, net.dt, net.form, net.output_activation)


def test_signs_dale_and_mask_are_kept():
    net = tanh_net("rate", dale=0.8, p=0.5)
    sig = tanh_to_sigmoid(net)  # RateNetwork.__post_init__ rejects a violation of either
    assert np.array_equal(np.sign(sig.W_rec), np.sign(net.W_rec))
    assert np.array_equal(sig.dale, net.dale) and np.array_equal(sig.mask, net.mask)
    assert np.any(net.mask == 0) and np.any(net.dale < 0)


def test_float32_stays_float32():
    sig = tanh_to_sigmoid(tanh_net("rate").astype(np.float32))
    assert all(getattr(sig, k).dtype == np.float32 for k in ("W_in", "W_rec", "b", "W_out", "b_out", "x0"))


def test_only_tanh_rate_networks_transform():
    with pytest.raises(ValueError, match=r"activation: expected 'tanh', got 'sigmoid'"):
        tanh_to_sigmoid(tanh_net("rate").replace(activation="sigmoid"))
    with pytest.raises(TypeError, match="RateNetwork"):
        tanh_to_sigmoid("not a network")


@pytest.mark.parametrize("form", ["rate", "current"])
def test_to_spiking_converts_tanh_through_the_sigmoid_network_without_warning(form):
    net = tanh_net(form, sigma=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        snet = ns.to_spiking(net, lam=30.0)
    sig = tanh_to_sigmoid(net)
    assert snet.activation == "sigmoid" and snet.form == form
    for k in ("W_in", "W_rec", "b", "W_out", "b_out", "dale", "mask", "x0"):
        np.testing.assert_array_equal(getattr(snet, k), getattr(sig, k), err_msg=k)
