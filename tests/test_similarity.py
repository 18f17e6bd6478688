"""SVCCA, the Procrustes angle and DSA against scipy and closed forms."""

import numpy as np
import pytest
from scipy.linalg import subspace_angles
from scipy.spatial import procrustes

from neurosim.analysis.similarity import dsa, procrustes_angle, svcca, svcca_distance


def _data(M=400, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    scales = np.array([10.0, 3.0, 0.01, 0.0, 0.0, 0.0])  # 99% of the variance lies in 2 directions
    return (rng.normal(size=(M, 6)) * scales) @ Q.T, rng


def test_svcca_is_the_cosine_of_the_principal_angles_of_the_99_percent_subspaces():
    X, rng = _data()
    Y = np.tanh(X @ rng.normal(size=(6, 8)) / 5) + 0.1 * rng.normal(size=(400, 8))

    def reduced(M):  # the reference reduction, written out: centre, SVD, keep 99% of the variance
        M = M - M.mean(0)
        U, s, _ = np.linalg.svd(M, full_matrices=False)
        k = int(np.argmax(np.cumsum(s**2) / np.sum(s**2) >= 0.99)) + 1
        return U[:, :k]

    Ua, Ub = reduced(X), reduced(Y)
    assert Ua.shape[1] == 2
    expect = np.mean(np.cos(subspace_angles(Ua, Ub)))
    assert svcca(X, Y) == pytest.approx(expect, abs=1e-10)
    assert svcca_distance(X, Y) == pytest.approx(1 - expect, abs=1e-10)


def test_svcca_of_a_linear_image_is_one_and_of_noise_is_small():
    X, rng = _data()
    R, _ = np.linalg.qr(rng.normal(size=(6, 6)))  # a similarity keeps the 99% subspace: exactly the same
    assert svcca(X, 3.0 * X @ R + 5.0) == pytest.approx(1.0, abs=1e-9)
    assert svcca(X, rng.normal(size=(400, 3))) < 0.2
    with pytest.raises(ValueError, match="same number of samples"):
        svcca(X, X[:10])


def test_procrustes_angle_matches_scipy():
    X, rng = _data(M=50)
    Y = X[:, :3] + 0.5 * rng.normal(size=(50, 3))
    A = X[:, :3]
    _, _, disparity = procrustes(A, Y)  # scipy: 1 - (nuclear norm of A^T B)^2 for centred, unit-norm A, B
    assert procrustes_angle(A, Y) == pytest.approx(np.arccos(np.sqrt(1 - disparity)), abs=1e-10)
    R, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    assert procrustes_angle(A, 2.0 * A @ R - 1.0) == pytest.approx(0.0, abs=1e-6)
    assert procrustes_angle(A, np.pad(A, ((0, 0), (0, 2)))) == pytest.approx(0.0, abs=1e-6)  # extra zero units


@pytest.mark.slow
def test_dsa_tells_a_rotated_copy_from_another_system():
    pytest.importorskip("DSA")
    rng = np.random.default_rng(0)

    def rollout(A, x0, T=60):
        xs = [x0]
        for _ in range(T - 1):
            xs.append(A @ xs[-1])
        return np.array(xs)

    th = 0.2
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]) * 0.99  # a damped rotation
    decay = np.diag([0.9, 0.5])  # a node: no rotation
    Q, _ = np.linalg.qr(rng.normal(size=(2, 2)))
    X = np.stack([rollout(rot, rng.normal(size=2)) for _ in range(5)])  # (5, 60, 2)
    same = np.stack([rollout(Q @ rot @ Q.T, rng.normal(size=2)) for _ in range(5)])
    other = np.stack([rollout(decay, rng.normal(size=2)) for _ in range(5)])
    kw = dict(n_delays=1, rank=2, iters=300)
    assert dsa(X, same, **kw) < 0.5 * dsa(X, other, **kw)
