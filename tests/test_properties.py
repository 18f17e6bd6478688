"""Properties, not only examples (hypothesis): the invariants every network and batch of trials keeps.

- save/load is bit-exact, for every array dtype, optional field and network class;
- the artificial RNN equals the Brian2 rate network (method='euler', numpy code generation) on random small
  networks of every activation and both forms, to 1e-10;
- Dale's signs and connectivity masks survive training;
- slicing Trials keeps inputs, targets, masks and per-trial info together.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurosim as ns
from neurosim import activations
from neurosim.tasks import Trials

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@st.composite
def rate_networks(draw, max_units: int = 6, dtypes=(np.float64, np.float32)):
    """A random small RateNetwork: any activation, form, alpha, optional Dale signs, mask, x0 and noise."""
    N = draw(st.integers(1, max_units))
    n_in = draw(st.integers(1, 3))
    n_out = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    activation = draw(st.sampled_from(sorted(activations.ACTIVATIONS)))
    W_rec = rng.normal(0, 1, (N, N))
    dale = draw(st.booleans())
    signs = np.where(rng.random(N) < 0.7, 1.0, -1.0) if dale else None
    if dale:
        W_rec = np.abs(W_rec) * signs[None, :]
    mask = (rng.random((N, N)) < 0.6).astype(float) if draw(st.booleans()) else None
    if mask is not None:
        W_rec = W_rec * mask
    radius = np.max(np.abs(np.linalg.eigvals(W_rec)))
    if radius > 0:
        W_rec *= draw(st.floats(0.1, 0.9)) / radius  # contracting: every activation stays bounded
    tau = draw(st.floats(0.01, 0.2))
    dt = tau * draw(st.floats(0.05, 1.0))
    dtype = draw(st.sampled_from(dtypes))
    net = ns.RateNetwork(W_in=rng.normal(0, 1, (N, n_in)), W_rec=W_rec, b=rng.normal(0, 0.3, N),
                         W_out=rng.normal(0, 1, (n_out, N)), b_out=rng.normal(0, 0.1, n_out), tau=tau, dt=dt,
                         activation=activation, form=draw(st.sampled_from(ns.RateNetwork.FORMS)),
                         output_activation=draw(st.sampled_from(activations.OUTPUT_ACTIVATIONS)),
                         sigma=draw(st.sampled_from([0.0, 0.1])), dale=signs, mask=mask,
                         x0=rng.normal(0, 0.2, N) if draw(st.booleans()) else None)
    return net.astype(dtype)


def _random_trials(net, B: int, T: int, seed: int) -> Trials:
    rng = np.random.default_rng(seed)
    return Trials(rng.normal(0, 1, (B, T, net.n_in)), rng.normal(0, 1, (B, T, net.n_out)),
                  (rng.random((B, T, net.n_out)) < 0.7).astype(float), net.dt)


def _same_bits(a, b) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=40, **SETTINGS)
@given(net=rate_networks(), lam=st.floats(5.0, 100.0), spiking=st.booleans())
def test_save_then_load_is_bit_exact(net, lam, spiking, tmp_path_factory):
    if spiking:
        net = ns.to_spiking(net, lam=lam, sim_dt=net.dt / int(np.ceil(net.dt / 1e-4)), warn=False)
    path = tmp_path_factory.mktemp("saved") / "model"
    net.save(path)
    back = ns.load(path)
    assert type(back) is type(net)
    for f in dataclasses.fields(net):
        a, b = getattr(net, f.name), getattr(back, f.name)
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            assert _same_bits(np.asarray(a), np.asarray(b)), f.name
        else:
            assert type(a) is type(b) and a == b, f.name


@pytest.mark.brian2
@settings(max_examples=12, **SETTINGS)
@given(net=rate_networks(max_units=5, dtypes=(np.float64,)), B=st.integers(1, 3), T=st.integers(1, 12),
       seed=st.integers(0, 2**31 - 1))
def test_the_ann_equals_the_brian2_rate_network(net, B, T, seed, cache):
    trials = _random_trials(net, B, T, seed)
    ann = ns.simulate(net, trials, "ann", rng=seed)
    rate = ns.simulate(net, trials, "rate", target="numpy", rng=seed, cache_dir=cache)
    np.testing.assert_allclose(rate.states, ann.states, rtol=0, atol=1e-10)
    np.testing.assert_allclose(rate.outputs, ann.outputs, rtol=0, atol=1e-10)


@settings(max_examples=15, **SETTINGS)
@given(net=rate_networks(max_units=8, dtypes=(np.float64,)), seed=st.integers(0, 2**31 - 1),
       optimizer=st.sampled_from(["adam", "sgd"]))
def test_dale_signs_and_masks_survive_training(net, seed, optimizer):
    trials = _random_trials(net, 4, 6, seed)
    trained, _ = ns.train(net, trials, steps=4, lr=0.2, batch_size=2, optimizer=optimizer, loss="mse", rng=seed,
                          progress=False)
    if net.dale is not None:
        np.testing.assert_array_equal(trained.dale, net.dale)
        assert np.all(trained.W_rec * trained.dale[None, :] >= 0)
    if net.mask is not None:
        np.testing.assert_array_equal(trained.mask, net.mask)
        assert np.all(trained.W_rec[net.mask == 0] == 0)


@st.composite
def batches_and_indices(draw):
    """Trials whose every array and info entry carries its trial's number, and a non-empty selection of them."""
    B = draw(st.integers(1, 7))
    T = draw(st.integers(1, 4))
    n = np.arange(B, dtype=float)[:, None, None]
    trials = Trials(inputs=np.broadcast_to(n, (B, T, 2)) + 0.0, targets=np.broadcast_to(n + 0.5, (B, T, 1)) + 0.0,
                    mask=np.broadcast_to((n % 2 == 0), (B, T, 1)).astype(float), dt=0.01,
                    info={"trial": np.arange(B), "label": np.array([f"t{i}" for i in range(B)]), "setting": 3.0})
    kind = draw(st.sampled_from(["int", "slice", "array", "bool"]))
    if kind == "int":
        idx = draw(st.integers(-B, B - 1))
    elif kind == "slice":
        start, stop = draw(st.integers(-B, B - 1)), draw(st.one_of(st.none(), st.integers(-B, B)))
        idx = slice(start, stop, draw(st.sampled_from([None, 1, 2, -1])))
    elif kind == "array":
        idx = np.array(draw(st.lists(st.integers(-B, B - 1), min_size=1, max_size=2 * B)))
    else:
        idx = np.array(draw(st.lists(st.booleans(), min_size=B, max_size=B)))
    return trials, idx


@settings(max_examples=200, **SETTINGS)
@given(case=batches_and_indices())
def test_slicing_trials_keeps_everything_together(case):
    trials, idx = case
    expected = np.arange(trials.n_trials)[idx]
    expected = np.atleast_1d(expected)
    if expected.size == 0:
        with pytest.raises(ValueError, match=r"Trials\[.*\]: the selection holds no trials"):
            trials[idx]
        return
    part = trials[idx]
    np.testing.assert_array_equal(part.info["trial"], expected)
    np.testing.assert_array_equal(part.info["label"], [f"t{i}" for i in expected])
    assert part.info["setting"] == 3.0
    for j, i in enumerate(expected):
        assert np.all(part.inputs[j] == i) and np.all(part.targets[j] == i + 0.5)
        assert np.all(part.mask[j] == float(i % 2 == 0))
    assert part.dt == trials.dt
    for k in ("inputs", "targets", "mask"):  # the selection owns its arrays: editing one leaves the other alone
        assert not np.shares_memory(getattr(part, k), getattr(trials, k)), k


def test_iterating_over_trials_ends_and_visits_each_trial_once():
    trials = Trials(np.arange(3.0)[:, None, None] * np.ones((3, 2, 1)), np.zeros((3, 2, 1)), np.ones((3, 2, 1)), 0.01)
    seen = [float(t.inputs[0, 0, 0]) for t in trials]
    assert seen == [0.0, 1.0, 2.0]
    with pytest.raises(IndexError, match=r"Trials\[3\]: index out of range for a batch of 3"):
        trials[3]


def test_frozen_objects_do_not_alias_the_callers_arrays():
    net = ns.RateNetwork.random(2, 6, 1, dale=0.5, p=0.5, rng=0)
    W_rec, dale, mask = net.W_rec.copy(), net.dale.copy(), net.mask.copy()
    fields = {k: getattr(net, k) for k in ("W_in", "W_rec", "b", "W_out", "b_out", "dale", "mask")}
    copy = ns.RateNetwork(**fields)
    fields["W_rec"][:] = -1.0  # the caller edits its arrays afterwards
    fields["dale"][:] = 1.0
    fields["mask"][:] = 1.0
    np.testing.assert_array_equal(copy.W_rec, W_rec)
    np.testing.assert_array_equal(copy.dale, dale)
    np.testing.assert_array_equal(copy.mask, mask)
    spiking_fields = {k: getattr(copy, k).copy() for k in ("W_in", "W_rec", "b", "W_out", "b_out", "dale")}
    snet = ns.SpikingNetwork(**spiking_fields)
    spiking_fields["dale"][:] = 0.5
    assert np.all(np.abs(snet.dale) == 1)
    u, c, m = np.zeros((2, 3, 1)), np.array([0.1, 0.2]), np.ones((2, 3, 1))
    trials = Trials(u, np.zeros((2, 3, 1)), m, 0.01, info={"c": c})
    u[:], c[:], m[:] = 7.0, 0.0, 0.5
    assert np.all(trials.inputs == 0.0) and np.all(trials.mask == 1.0)
    np.testing.assert_array_equal(trials.info["c"], [0.1, 0.2])
