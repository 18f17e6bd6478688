"""Bad input fails early with ValueError or TypeError whose message names the field and says what was expected."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.tasks import Trials


def _net(**kw):
    return ns.RateNetwork.random(3, 8, 3, tau=0.1, dt=0.01, rng=0, **kw)


def _fields(**changes):
    net = _net()
    kw = {k: getattr(net, k) for k in ("W_in", "W_rec", "b", "W_out", "b_out", "tau", "dt")}
    kw.update(changes)
    return kw


def _trials(B=2, T=5, n_in=3, n_out=3, dt=0.01):
    return Trials(np.zeros((B, T, n_in)), np.zeros((B, T, n_out)), np.ones((B, T, n_out)), dt)


BAD_NETWORKS = [
    (dict(W_rec=np.zeros((8, 7))), ValueError, r"RateNetwork\.W_rec: expected shape \(8, 8\)"),
    (dict(W_in=np.zeros((7, 3))), ValueError, r"RateNetwork\.W_in: expected shape \(8, any\)"),
    (dict(b=np.zeros(9)), ValueError, r"RateNetwork\.b: expected shape \(8\)"),
    (dict(W_out=np.zeros((3, 9))), ValueError, r"RateNetwork\.W_out"),
    (dict(b_out=np.zeros(2)), ValueError, r"RateNetwork\.b_out"),
    (dict(W_rec=np.full((8, 8), np.nan)), ValueError, r"RateNetwork\.W_rec: expected finite values"),
    (dict(W_in=np.full((8, 3), np.inf)), ValueError, r"RateNetwork\.W_in: expected finite values"),
    (dict(tau=0.0), ValueError, r"RateNetwork\.tau: expected a positive"),
    (dict(tau=-1.0), ValueError, r"RateNetwork\.tau"),
    (dict(dt=0.0), ValueError, r"RateNetwork\.dt: expected a positive"),
    (dict(dt=0.5), ValueError, r"RateNetwork\.dt: forward Euler needs dt <= tau"),
    (dict(tau="fast"), TypeError, r"RateNetwork\.tau: expected a number of seconds"),
    (dict(activation="swish"), ValueError, r"activation: expected one of \['linear', 'relu'"),
    (dict(form="voltage"), ValueError, r"RateNetwork\.form: expected one of \['current', 'rate'\]"),
    (dict(output_activation="tanh"), ValueError, r"RateNetwork\.output_activation"),
    (dict(sigma=-0.1), ValueError, r"RateNetwork\.sigma"),
    (dict(dale=np.full(8, 0.5)), ValueError, r"RateNetwork\.dale: expected \+1"),
    (dict(dale=np.ones(8), W_rec=-np.ones((8, 8))), ValueError, r"RateNetwork\.W_rec: weights violate Dale"),
    (dict(mask=np.zeros((8, 8)), W_rec=np.ones((8, 8))), ValueError, r"RateNetwork\.W_rec: nonzero weights where"),
    (dict(W_rec=[["a"] * 8] * 8), TypeError, r"RateNetwork\.W_rec: expected a numeric array"),
]


@pytest.mark.parametrize("changes,exc,match", BAD_NETWORKS, ids=[m for _, _, m in BAD_NETWORKS])
def test_bad_network_fields(changes, exc, match):
    with pytest.raises(exc, match=match):
        ns.RateNetwork(**_fields(**changes))


BAD_TRIALS = [
    (lambda: Trials(np.zeros((2, 5)), np.zeros((2, 5, 1)), np.ones((2, 5, 1)), 0.01), ValueError,
     r"Trials\.inputs: expected a 3-D array"),
    (lambda: Trials(np.zeros((2, 5, 1)), np.zeros((2, 4, 1)), np.ones((2, 4, 1)), 0.01), ValueError,
     r"Trials\.targets: expected shape \(2, 5, any\)"),
    (lambda: Trials(np.zeros((2, 5, 1)), np.zeros((2, 5, 1)), np.ones((2, 5, 2)), 0.01), ValueError,
     r"Trials\.mask: expected shape \(2, 5, 1\)"),
    (lambda: Trials(np.full((2, 5, 1), np.nan), np.zeros((2, 5, 1)), np.ones((2, 5, 1)), 0.01), ValueError,
     r"Trials\.inputs: expected finite values"),
    (lambda: Trials(np.zeros((2, 5, 1)), np.zeros((2, 5, 1)), np.full((2, 5, 1), 0.5), 0.01), ValueError,
     r"Trials\.mask: expected only 0 and 1"),
    (lambda: Trials(np.zeros((2, 5, 1)), np.zeros((2, 5, 1)), np.ones((2, 5, 1)), -0.01), ValueError,
     r"Trials\.dt: expected a positive"),
]


@pytest.mark.parametrize("make,exc,match", BAD_TRIALS, ids=[m for _, _, m in BAD_TRIALS])
def test_bad_trials(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_network_and_data_sizes_must_agree():
    net = _net()
    with pytest.raises(ValueError, match=r"inputs: expected shape \(any, any, 3\).*n_in = task.n_in"):
        ns.ann.forward(net, np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match=r"trials\.targets: expected shape \(any, any, 3\)"):
        ns.ann.loss_and_grads(net, _trials(n_out=2))
    with pytest.raises(ValueError, match=r"train data\.inputs: expected 3 inputs per step \(net\.n_in\), got 1"):
        ns.train(net, ns.tasks.make("sine_prediction", dt=0.01), steps=1, progress=False)
    with pytest.raises(ValueError, match=r"train data\.dt: expected the network's step net\.dt = 0\.01 s, got 0\.02 s"):
        ns.train(net, _trials(dt=0.02), steps=1, progress=False)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown task 'flipflop'; known tasks: .*flip_flop"):
        ns.tasks.make("flipflop")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['bits'\]; allowed: \["):
        ns.tasks.make("flip_flop", bits=4)
    with pytest.raises(ValueError, match=r"train optimizer: expected one of \['adam', 'sgd'\]"):
        ns.train(_net(), _trials(), optimizer="rmsprop", progress=False)
    with pytest.raises(ValueError, match=r"loss: expected one of \['mse', 'ce'\]"):
        ns.ann.loss_and_grads(_net(), _trials(), loss="huber")


def test_bad_training_arguments():
    with pytest.raises(ValueError, match=r"train steps: expected a finite value > 0"):
        ns.train(_net(), _trials(), steps=0, progress=False)
    with pytest.raises(TypeError, match=r"train lr: expected a number"):
        ns.train(_net(), _trials(), lr="fast", progress=False)
    with pytest.raises(ValueError, match=r"dropout: expected a probability in \[0, 1\)"):
        ns.ann.loss_and_grads(_net(), _trials(), dropout=1.0, rng=0)
    with pytest.raises(ValueError, match=r"dropout > 0 needs rng="):
        ns.ann.loss_and_grads(_net(), _trials(), dropout=0.5)
    with pytest.raises(ValueError, match=r"loss 'ce': expected output_activation 'softmax'"):
        ns.ann.loss_and_grads(_net(), _trials(), loss="ce")
    with pytest.raises(TypeError, match=r"rng: expected a non-negative int seed"):
        ns.ann.noise_increments(_net(sigma=0.1), 2, 5, rng="seed")
    with pytest.raises(ValueError, match=r"sigma = 0.1 > 0: pass rng="):
        ns.ann.forward(_net(sigma=0.1), np.zeros((1, 3, 3)))


def test_an_all_zero_mask_cannot_be_scored():
    task = ns.tasks.make("adding")
    trials = task.sample(2, rng=0)
    empty = Trials(trials.inputs, trials.targets, np.zeros_like(trials.mask), trials.dt)
    with pytest.raises(ValueError, match=r"Trials\.mask: no entry is scored"):
        task.score(trials.targets, empty)


def test_task_steps_round_halves_up_and_absorb_float_error():
    task = ns.tasks.make("adding", dt=0.01)
    assert task.steps(0.025) == 3 and task.steps(0.3) == 30 and task.steps(0.0149) == 1
    with pytest.raises(ValueError, match=r"Adding\.cue: 0\.001 s is 0 steps"):
        task.steps(0.001, name="cue")


def test_errors_show_what_was_received():
    with pytest.raises(ValueError, match=r"RateNetwork\.mask: expected only 0 and 1 entries, got \[2\.0\]"):
        ns.RateNetwork(**_fields(mask=np.full((8, 8), 2.0)))
    with pytest.raises(ValueError, match=r"Dale's law .*first: W_rec\[0, 0\] = -1\.0 with dale\[0\] = \+1"):
        ns.RateNetwork(**_fields(dale=np.ones(8), W_rec=-np.ones((8, 8))))
    with pytest.raises(ValueError, match=r"RateNetwork\.random spectral_radius: expected a finite value > 0"):
        ns.RateNetwork.random(1, 4, 1, g=0.0, spectral_radius=-1.0)
