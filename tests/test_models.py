"""The shipped models: every spec parses, its weights load and fit it, and the ANN still solves its task.

This guards the committed weights against drift: a change to a task's defaults or to the network equations that
silently breaks a shipped model fails here.
"""

import glob
import os

import pytest

import neurosim as ns
from neurosim.spec import load_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = sorted(glob.glob(os.path.join(ROOT, "models", "*.toml")))

# the least each shipped model must reach on 64 held-out trials (measured values are in models/README.md)
FLOORS = {
    "flip_flop": ("accuracy", ">=", 0.97),
    "force_sine": ("nrmse", "<=", 0.1),
    "perceptual_decision": ("accuracy_max_coherence", ">=", 0.95),
    "sine_generation": ("nrmse", "<=", 0.15),
    "sine_prediction_lstm": ("nrmse", "<=", 0.1),
}


def test_at_least_four_models_are_shipped():
    assert {os.path.splitext(os.path.basename(p))[0] for p in SPECS} >= set(FLOORS)


@pytest.mark.parametrize("path", SPECS, ids=os.path.basename)
def test_shipped_model_still_solves_its_task(path):
    spec = load_spec(path)
    task = spec.make_task()
    net = ns.load(spec.weights_path)
    assert (net.n_in, net.n_out, net.dt) == (task.n_in, task.n_out, task.dt)
    fresh = spec.make_network(task)
    assert type(net) is type(fresh) and net.n_rec == fresh.n_rec
    trials = task.sample(64, rng=2024)
    _, outputs = ns.ann.forward(net, trials.inputs)
    metric, op, floor = FLOORS[spec.name]
    value = task.score(outputs, trials)[metric]
    assert (value >= floor) if op == ">=" else (value <= floor), f"{spec.name}: {metric} = {value}"
