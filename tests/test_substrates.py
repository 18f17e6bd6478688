"""The contract every registered substrate keeps: shapes, same seed same bits, and a clear TypeError for a network
it does not accept (naming what it accepts)."""

import re

import numpy as np
import pytest

import neurosim as ns

CANDIDATES = {  # one network of each kind, all n_in = 2, n_out = 2, dt = 0.01
    "rate network": lambda: ns.RateNetwork.random(2, 8, 2, tau=0.05, dt=0.01, activation="sigmoid",
                                                  form="current", g=1.2, sigma=0.05, rng=0),
    "gated network": lambda: ns.GatedNetwork.random(2, 8, 2, cell="gru", dt=0.01, rng=0),
    "spiking network": lambda: ns.to_spiking(CANDIDATES["rate network"](), lam=30.0),
}


def _trials(B=2, T=12):
    u = np.random.default_rng(0).standard_normal((B, T, 2))
    return ns.tasks.Trials(u, np.zeros((B, T, 2)), np.ones((B, T, 2)), dt=0.01)


def _options(sub, cache):
    """Fast, compiler-free options for the Brian2 substrates."""
    return {k: v for k, v in {"target": "numpy", "cache_dir": cache}.items() if k in sub.options}


@pytest.mark.brian2
@pytest.mark.parametrize("name", ns.substrates.names())
def test_substrate_contract(name, cache):
    sub = ns.substrates.get(name)
    assert sub.description and sub.noise and sub.accepted
    accepted = [k for k, make in CANDIDATES.items() if sub.accepts(make())]
    rejected = [k for k in CANDIDATES if k not in accepted]
    assert accepted, f"{name} accepts none of the candidate networks"
    trials = _trials()
    for kind in accepted:
        net = CANDIDATES[kind]()
        runs = [ns.simulate(net, trials, name, rng=3, **_options(sub, cache)) for _ in range(2)]
        res = runs[0]
        assert res.substrate == name
        assert res.states.shape == (2, 12, net.n_rec) and res.outputs.shape == (2, 12, 2)
        np.testing.assert_array_equal(res.t, trials.t)
        assert np.all(np.isfinite(res.outputs))
        np.testing.assert_array_equal(runs[1].outputs, res.outputs)  # same seed, same bits
        np.testing.assert_array_equal(runs[1].states, res.states)
    for kind in rejected:
        with pytest.raises(TypeError, match=re.escape(f"substrate '{name}': expected {sub.accepted}, got")):
            ns.simulate(CANDIDATES[kind](), trials, name, **_options(sub, cache))
    with pytest.raises(TypeError, match="expected a neurosim network"):
        ns.simulate(object(), trials, name)


@pytest.mark.parametrize("name", ns.substrates.names())
def test_every_option_has_a_default_and_run_takes_exactly_those(name):
    import inspect

    sub = ns.substrates.get(name)
    params = inspect.signature(sub.run).parameters
    taken = {k: p.default for k, p in params.items() if p.kind is p.KEYWORD_ONLY and k not in ("noise_mode", "rng")}
    assert taken == sub.options


def test_an_unknown_substrate_lists_the_known_ones():
    with pytest.raises(ValueError, match="known substrates: ann, rate, spiking"):
        ns.substrates.get("brain")
