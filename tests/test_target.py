"""``--target auto``: Cython when a compiler works, else numpy code generation with one warning.

A machine without a compiler is simulated by pointing the C and C++ compilers at /bin/false in a fresh Brian2
cache (so no earlier compilation can be reused). Then ``auto`` must still run, on numpy code, and an explicit
``--target cython`` must fail as an exit status 2 and one line naming the fix (Brian2 logs its own warnings about
the compiler flags and the objects it built, on lines of their own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import neurosim as ns
from neurosim.brian import devices

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "models", "flip_flop.toml")


def _no_compiler(tmp_path):
    env = dict(os.environ, CC="/bin/false", CXX="/bin/false", NEUROSIM_BRIAN_CACHE=str(tmp_path / "cache"))
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _simulate(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "neurosim.cli", "simulate", SPEC, "--trials", "1", *args],
                          cwd=tmp_path, env=_no_compiler(tmp_path), capture_output=True, text=True, timeout=900)


@pytest.mark.slow
@pytest.mark.brian2
def test_auto_falls_back_to_numpy_without_a_compiler_with_one_warning(tmp_path):
    done = _simulate(tmp_path, "--out", "auto")
    assert done.returncode == 0, done.stderr
    warned = [line for line in done.stderr.splitlines() if "no working C compiler" in line]
    assert len(warned) == 1, done.stderr
    with open(tmp_path / "auto" / "metrics.json") as fh:
        assert json.load(fh)["metadata"]["target"] == "numpy"
    refused = _simulate(tmp_path, "--out", "cython", "--target", "cython")
    ours = [line for line in refused.stderr.splitlines() if line.startswith("neurosim")]  # Brian2 logs its own too
    assert refused.returncode == 2 and len(ours) == 1, refused.stderr
    assert "could not compile" in ours[0] and "--target numpy" in ours[0]


@pytest.mark.brian2
def test_auto_is_cython_when_the_compiler_works(cache, monkeypatch):
    monkeypatch.setattr(devices, "_CYTHON_WORKS", None)
    net = ns.RateNetwork.random(1, 3, 1, rng=0)
    trials = ns.tasks.Trials(np.zeros((1, 4, 1)), np.zeros((1, 4, 1)), np.ones((1, 4, 1)), 0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", devices.NoCompilerWarning)
        res = ns.simulate(net, trials, "rate", target="auto", cache_dir=cache)
    assert res.metadata["target"] == "cython"
    np.testing.assert_allclose(res.outputs, ns.simulate(net, trials, "ann").outputs, rtol=0, atol=1e-10)


def test_an_unknown_target_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"target: expected one of \['auto', 'cython', 'numpy'\], got 'gpu'"):
        devices.resolve_target("gpu")
