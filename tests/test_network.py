"""RateNetwork: construction, random initialisation, constraints, save and load."""

import json

import numpy as np
import pytest

import neurosim as ns


def test_random_network_statistics():
    net = ns.RateNetwork.random(3, 400, 2, g=1.5, rng=0)
    assert net.W_rec.shape == (400, 400) and net.W_in.shape == (400, 3) and net.W_out.shape == (2, 400)
    np.testing.assert_allclose(net.W_rec.std() * np.sqrt(400), 1.5, rtol=0.02)
    # circular law: the bulk of W_rec ~ N(0, g^2/N) has spectral radius g
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(net.W_rec)).max(), 1.5, rtol=0.08)


def test_dale_network_signs_balance_and_radius():
    net = ns.RateNetwork.random(1, 200, 1, dale=0.8, p=0.5, g=1.2, rng=1)
    assert np.sum(net.dale > 0) == 160
    assert np.all(net.W_rec[:, net.dale > 0] >= 0) and np.all(net.W_rec[:, net.dale < 0] <= 0)
    assert np.all(net.W_rec[net.mask == 0] == 0)
    np.testing.assert_allclose(net.mask.mean(), 0.5, atol=0.02)
    # E/I balance: total excitatory and inhibitory weight cancel on average
    assert abs(net.W_rec.sum()) < 0.1 * np.abs(net.W_rec).sum()
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(net.W_rec)).max(), 1.2, rtol=1e-9)


def test_constrain_projects_mask_and_dale():
    net = ns.RateNetwork.random(1, 20, 1, dale=0.5, p=0.5, rng=2)
    wild = np.random.default_rng(0).normal(size=(20, 20))
    fixed = net.constrain(W_rec=wild)
    assert np.all(fixed.W_rec[fixed.mask == 0] == 0)
    assert np.all(fixed.W_rec * fixed.dale[None, :] >= 0)
    kept = (fixed.mask == 1) & (wild * fixed.dale[None, :] >= 0)
    np.testing.assert_array_equal(fixed.W_rec[kept], wild[kept])


def test_units_accept_brian2_quantities():
    b2 = pytest.importorskip("brian2")
    net = ns.RateNetwork.random(1, 4, 1, tau=20 * b2.ms, dt=0.5 * b2.ms, rng=0)
    assert net.tau == pytest.approx(0.02) and net.dt == pytest.approx(0.0005)
    with pytest.raises(TypeError, match="tau"):
        ns.RateNetwork.random(1, 4, 1, tau=20 * b2.mV, rng=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_load_round_trip_is_bit_exact(tmp_path, dtype):
    net = ns.RateNetwork.random(2, 10, 3, tau=0.05, dt=0.01, form="current", activation="sigmoid",
                                output_activation="softmax", dale=0.8, p=0.7, sigma=0.1, dtype=dtype, rng=3)
    net.save(tmp_path / "m")
    back = ns.load(tmp_path / "m")
    for k in net._arrays:
        a, b = getattr(net, k), getattr(back, k)
        assert a.dtype == b.dtype and np.array_equal(a, b), k
    for k in ("tau", "dt", "activation", "output_activation", "form", "sigma"):
        assert getattr(net, k) == getattr(back, k)
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["neurosim_version"] == ns.__version__ and meta["format_version"] == 1


def test_fingerprint_is_equal_exactly_for_networks_that_compute_the_same(tmp_path):
    """What compiled Brian2 builds are reused by: equal after a save/load round trip, different after a one-ulp
    change of one weight, another dtype, another setting, or another class with the same arrays."""
    net = ns.RateNetwork.random(2, 6, 1, tau=0.05, dt=0.01, sigma=0.1, rng=3)
    net.save(tmp_path / "m")
    assert ns.load(tmp_path / "m").fingerprint() == net.fingerprint()
    W = net.W_rec.copy()
    W[2, 3] = np.nextafter(W[2, 3], np.inf)
    changed = [net.replace(W_rec=W), net.astype(np.float32), net.replace(sigma=0.2), net.replace(tau=0.06)]
    prints = {net.fingerprint()} | {other.fingerprint() for other in changed}
    assert len(prints) == 1 + len(changed)
    snet = ns.to_spiking(ns.RateNetwork.random(2, 6, 1, form="current", activation="sigmoid", rng=3), lam=40.0)
    assert snet.fingerprint() not in prints and snet.fingerprint() == snet.replace().fingerprint()


def test_load_rejects_truncated_corrupted_and_foreign_files(tmp_path):
    net = ns.RateNetwork.random(1, 5, 1, rng=0)
    net.save(tmp_path / "m")
    npz = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "m.npz").write_bytes(npz[: len(npz) // 2])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        ns.load(tmp_path / "m")
    other = ns.RateNetwork.random(1, 5, 1, rng=1)
    other.save(tmp_path / "o")
    (tmp_path / "m.npz").write_bytes((tmp_path / "o.npz").read_bytes())
    with pytest.raises(ValueError, match="checksum"):
        ns.load(tmp_path / "m")
    (tmp_path / "f.json").write_text(json.dumps({"format": "keras"}))
    (tmp_path / "f.npz").write_bytes(npz)
    with pytest.raises(ValueError, match="not a neurosim model"):
        ns.load(tmp_path / "f")
    (tmp_path / "t.json").write_text('{"format": "neurosim.mo')
    (tmp_path / "t.npz").write_bytes(npz)
    with pytest.raises(ValueError, match="not valid JSON"):
        ns.load(tmp_path / "t")
    with pytest.raises(FileNotFoundError, match="neurosim train"):
        ns.load(tmp_path / "missing")


def test_the_numpy_core_does_not_import_brian2():
    import subprocess
    import sys

    code = ("import sys, neurosim as ns\n"
            "task = ns.tasks.make('adding')\n"
            "net = ns.RateNetwork.random(task.n_in, 4, task.n_out, dt=task.dt, rng=0)\n"
            "net, _ = ns.train(net, task, steps=2, progress=False)\n"
            "ns.simulate(net, task.sample(2, rng=0), 'ann')\n"
            "print('brian2' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
