"""Model specs: the parser accepts the shipped specs and rejects bad ones, naming the key."""

import glob
import os

import pytest

import neurosim as ns
from neurosim.spec import SpecError, load_spec, parse_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOD = {"task": {"name": "flip_flop"}, "network": {"n_rec": 16}, "training": {"steps": 5}}


def _with(section, **changes):
    spec = {k: dict(v) for k, v in GOOD.items()}
    spec.setdefault(section, {}).update(changes)
    return spec


BAD_SPECS = [
    ({"network": {"n_rec": 8}}, r"missing section \[task\]"),
    ({"task": {"name": "flip_flop"}}, r"missing section \[network\]"),
    ({**GOOD, "trainer": {}}, r"unknown section\(s\) \['trainer'\]; allowed sections"),
    ({**GOOD, "task": {"dt": 0.01}}, r"\[task\] is missing the required key 'name'; known tasks"),
    ({**GOOD, "task": {"name": "xor"}}, r"\[task\] name: unknown task 'xor'; known tasks: \["),
    ({**GOOD, "network": {"n_rec": 8, "units": 3}}, r"unknown key\(s\) \['units'\] in \[network\]; allowed keys"),
    ({**GOOD, "network": {}}, r"\[network\] is missing the required key 'n_rec'"),
    (_with("network", n_rec="64"), r"\[network\] n_rec: expected an integer, got str '64'"),
    (_with("network", n_rec=0), r"\[network\] n_rec: expected a value > 0, got 0"),
    (_with("network", activation="gelu"), r"\[network\] activation: expected one of \['tanh', 'relu'"),
    (_with("network", cell="transformer"), r"\[network\] cell: expected one of \['rnn', 'lstm', 'gru'\]"),
    (_with("network", tau=-0.1), r"\[network\] tau: expected a value > 0"),
    (_with("network", dale=1.5), r"\[network\] dale: expected a value <= 1"),
    (_with("network", cell="lstm", tau=0.1), r"unknown key\(s\) \['tau'\] in \[network\]"),
    (_with("training", optimizer="rmsprop"), r"\[training\] optimizer: expected one of \['adam', 'sgd'\]"),
    (_with("training", lr=True), r"\[training\] lr: expected a number, got the boolean True"),
    (_with("training", steps=1.5), r"\[training\] steps: expected an integer, got float"),
    (_with("task", bits=4), r"\[task\] task 'flip_flop': unknown parameter\(s\) \['bits'\]"),
    (_with("task", dt=-0.01), r"\[task\] .*dt"),
    ({**GOOD, "network": [1, 2]}, r"\[network\] must be a table"),
    ({**GOOD, "spiking": {"lamda": 30.0}}, r"unknown key\(s\) \['lamda'\] in \[spiking\]; allowed keys: \['lam'"),
    ({**GOOD, "spiking": {"lam": -1.0}}, r"\[spiking\] lam: expected a value > 0"),
    ({**GOOD, "spiking": {"synapse": "triple"}}, r"\[spiking\] synapse: expected one of \['single', 'double'\]"),
    ({**GOOD, "spiking": {"lambdas": [0.0, 30.0]}}, r"\[spiking\] lambdas: expected a non-empty list of positive"),
    ({**GOOD, "spiking": {"tau_m": "10 ms"}}, r"\[spiking\] tau_m: expected a number, got str"),
]


@pytest.mark.parametrize("spec,match", BAD_SPECS, ids=[m[:40] for _, m in BAD_SPECS])
def test_bad_specs_are_rejected_with_the_key_named(spec, match):
    with pytest.raises(SpecError, match=match):
        parse_spec(spec, source="test.toml")


def test_defaults_are_filled_in():
    spec = parse_spec(GOOD)
    assert spec.network["form"] == "rate" and spec.training["optimizer"] == "adam"
    net = spec.make_network()
    assert isinstance(net, ns.RateNetwork) and net.n_rec == 16 and net.dt == spec.make_task().dt


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[task\nname = 'flip_flop'\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(FileNotFoundError, match="models/"):
        load_spec(tmp_path / "nope.toml")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(ROOT, "models", "*.toml"))),
                         ids=os.path.basename)
def test_shipped_specs_parse(path):
    spec = load_spec(path)
    task = spec.make_task()
    net = spec.make_network(task)
    assert (net.n_in, net.n_out) == (task.n_in, task.n_out)
