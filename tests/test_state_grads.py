"""ann.state_gradients (dL/dh_t at every step) against central finite differences of the loss in the state."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.ann import losses, lstm, state_gradients
from neurosim.tasks import Trials


def _trials(n_in, n_out, B=2, T=7, seed=0):
    rng = np.random.default_rng(seed)
    mask = (rng.random((B, T, n_out)) < 0.5).astype(float)
    mask[:, -1] = 1.0
    return Trials(rng.normal(size=(B, T, n_in)), rng.normal(size=(B, T, n_out)), mask, 0.01)


@pytest.mark.parametrize("form,tau", [("rate", 0.01), ("rate", 0.04), ("current", 0.03)])
def test_rate_network_matches_finite_differences_in_an_added_state_perturbation(form, tau):
    # r_t = ... + n_t (rate form) and x_t = ... + n_t (current form): dL/dn_t is dL/dh_t exactly
    net = ns.RateNetwork.random(3, 5, 2, tau=tau, dt=0.01, g=1.3, form=form, rng=1)
    tr = _trials(3, 2)
    V = state_gradients(net, tr)
    assert V.shape == (2, 7, 5)
    eps = 1e-6
    for b in range(2):
        one = tr[b]
        for t, i in [(0, 0), (3, 2), (6, 4), (2, 1)]:
            n = np.zeros((1, 7, 5))
            n[0, t, i] = eps
            lp = ns.ann.loss_and_grads(net, one, noise_increments=n)[0]
            lm = ns.ann.loss_and_grads(net, one, noise_increments=-n)[0]
            assert V[b, t, i] == pytest.approx((lp - lm) / (2 * eps), rel=1e-6, abs=1e-9)


def _loss_with_state(net, trial, t, h, c=None):
    """The loss of one trial when the state at step t is replaced by h (and the LSTM cell state by c)."""
    _, y = ns.ann.forward(net, trial.inputs)  # (1, T, n_out)
    y = y.copy()
    y[0, t] = net.W_out @ h + net.b_out  # identity readout of h_t
    if t + 1 < trial.n_steps:
        rest = net.replace(h0=h, **({} if c is None else {"c0": c}))
        y[:, t + 1:] = ns.ann.forward(rest, trial.inputs[:, t + 1:])[1]
    return losses.mse(y, trial.targets, trial.mask, "identity")[0]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_match_finite_differences_in_the_hidden_state(cell):
    net = ns.GatedNetwork.random(3, 4, 2, cell=cell, init="pytorch", rng=2)
    net = net.replace(W_hh=net.W_hh * 3.0)  # strong recurrence, so that every path matters
    tr = _trials(3, 2, seed=3)
    V = state_gradients(net, tr)
    eps = 1e-6
    for b in range(2):
        one = tr[b]
        u = np.ascontiguousarray(one.inputs.transpose(1, 0, 2))
        cache = lstm.run(net, u, None) if cell == "lstm" else None
        states, _ = ns.ann.forward(net, one.inputs)
        for t in (0, 2, 5, 6):
            h = states[0, t]
            H = net.n_rec  # lstm.Cache.Z[t + 1] holds c_t in its last H rows
            c = None if cache is None else cache.Z[t + 1][4 * H:, 0]  # c_t, held fixed
            for i in range(4):
                e = np.zeros(4)
                e[i] = eps
                num = (_loss_with_state(net, one, t, h + e, c) - _loss_with_state(net, one, t, h - e, c)) / (2 * eps)
                assert V[b, t, i] == pytest.approx(num, rel=1e-6, abs=1e-9), (b, t, i)


def test_errors_name_the_argument():
    with pytest.raises(TypeError, match="expected Trials"):
        state_gradients(ns.GatedNetwork.random(3, 4, 2), np.zeros((1, 3, 3)))
    noisy = ns.RateNetwork.random(3, 5, 2, sigma=0.1)
    with pytest.raises(ValueError, match="rng="):
        state_gradients(noisy, _trials(3, 2))
