"""The shared maths (neurosim.equations) against closed forms, and the fast paths against its reference step."""

import numpy as np
import pytest

import neurosim as ns
from neurosim import equations


@pytest.mark.parametrize("form", ["rate", "current"])
@pytest.mark.parametrize("alpha", [1.0, 0.2])
def test_the_ann_is_the_reference_euler_step(form, alpha):
    net = ns.RateNetwork.random(3, 9, 2, tau=0.01 / alpha, dt=0.01, form=form, activation="tanh", g=1.3,
                                sigma=0.1, rng=1).replace(b=0.2 * np.arange(9) / 9)
    u = np.random.default_rng(2).standard_normal((4, 20, 3))
    increments = equations.noise_increments(net, 4, 20, rng=5)  # (B, T, N)
    states, outputs = ns.ann.forward(net, u, noise_increments=increments)
    x = np.tile(net.x0, (4, 1))
    for t in range(20):
        x = equations.euler_step(net, x, u[:, t], increments[:, t])
        np.testing.assert_allclose(states[:, t], x, rtol=0, atol=1e-13)
        expected = equations.readout(net.W_out, net.b_out, equations.source(net, x), net.output_activation)
        np.testing.assert_allclose(outputs[:, t], expected, rtol=0, atol=1e-13)


def test_drive_readout_and_source_closed_forms():
    rng = np.random.default_rng(0)
    W_in, b, u = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=(7, 4, 3))
    np.testing.assert_allclose(equations.drive(W_in, b, u), np.einsum("ni,tbi->tbn", W_in, u) + b, atol=1e-14)
    out = np.empty((7, 4, 5))
    assert equations.drive(W_in, b, u, out=out) is out
    W_out, b_out, s = rng.normal(size=(2, 5)), rng.normal(size=2), rng.normal(size=(4, 6, 5))
    z = np.einsum("on,btn->bto", W_out, s) + b_out
    np.testing.assert_allclose(equations.readout(W_out, b_out, s), z, atol=1e-14)
    np.testing.assert_allclose(equations.readout(W_out, b_out, s, "sigmoid"), 1 / (1 + np.exp(-z)), atol=1e-14)
    rate = ns.RateNetwork.random(1, 5, 1, form="rate", rng=0)
    current = rate.replace(form="current")
    assert equations.source(rate, s) is s
    np.testing.assert_array_equal(equations.source(current, s), np.tanh(s))


def test_noise_increments_are_euler_maruyama():
    net = ns.RateNetwork.random(1, 50, 1, tau=0.1, dt=0.01, sigma=0.3, rng=0)
    n = equations.noise_increments(net, 40, 100, rng=1)
    assert n.shape == (40, 100, 50)
    np.testing.assert_allclose(n.std(), np.sqrt(2 * 0.1) * 0.3, rtol=0.02)
    np.testing.assert_array_equal(n, equations.noise_increments(net, 40, 100, rng=1))
    assert equations.noise_increments(net.replace(sigma=0.0), 2, 3, rng=0) is None


def test_lambda_scaling_is_one_map_and_its_inverse():
    W = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(equations.spiking_weights(W, 40.0), W / 40.0)
    s = np.linspace(0, 1, 5)
    np.testing.assert_allclose(equations.activity_of(equations.rate_of(s, 40.0), 40.0), s, atol=1e-15)
    snet = ns.to_spiking(ns.RateNetwork.random(1, 3, 2, activation="sigmoid", form="current", rng=0), lam=25.0)
    np.testing.assert_array_equal(snet.W_spk, snet.W_rec / 25.0)
    np.testing.assert_array_equal(snet.W_out_spk, snet.W_out / 25.0)


def test_drive_fits_is_the_one_size_threshold(monkeypatch):
    assert equations.drive_fits(10, 10, 10)
    monkeypatch.setattr(equations, "PROJECTED_MAX_BYTES", 7999)
    assert not equations.drive_fits(10, 10, 10)
