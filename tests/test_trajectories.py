"""Trajectory analysis against closed forms."""

import numpy as np
import pytest
from scipy.spatial import procrustes
from scipy.stats import ortho_group

from neurosim.analysis.trajectories import cca_similarity, pca_basis, procrustes_similarity


def _trajectory(seed=0, B=3, T=100, N=12, k=3):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4 * np.pi, T)
    latents = np.stack([np.sin(t * (i + 1) + rng.uniform(0, 6, (B, 1))) for i in range(k)], -1)  # (B, T, k)
    return latents @ rng.normal(size=(k, N))


def test_pca_recovers_a_low_dimensional_trajectory():
    X = _trajectory()
    basis = pca_basis(X, n_components=5)
    assert basis.explained_variance_ratio[:3].sum() == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(basis.components @ basis.components.T, np.eye(5), atol=1e-12)
    Z = basis.project(X)
    assert Z.shape == (3, 100, 5)
    # projecting on all 3 non-trivial axes and back reconstructs the data exactly
    recon = Z[..., :3] @ basis.components[:3] + basis.mean
    np.testing.assert_allclose(recon, X, atol=1e-10)


def test_procrustes_matches_scipy_and_is_rotation_invariant():
    X = _trajectory(1).reshape(-1, 12)
    R = ortho_group.rvs(12, random_state=0)
    assert procrustes_similarity(X, 3.0 * X @ R + 1.0) == pytest.approx(1.0, abs=1e-10)
    Y = X + np.random.default_rng(2).normal(size=X.shape)
    _, _, disparity = procrustes(X, Y)  # scipy: the same disparity after optimal rotation and scaling
    assert procrustes_similarity(X, Y) == pytest.approx(1.0 - disparity, abs=1e-10)


def test_cca_is_one_for_linear_maps_and_low_for_unrelated_data():
    X = _trajectory(3)
    M = np.random.default_rng(4).normal(size=(12, 20))  # a different number of units
    assert cca_similarity(X, X @ M, n_components=3) == pytest.approx(1.0, abs=1e-8)
    noise = np.random.default_rng(5).normal(size=(300, 20))
    assert cca_similarity(X, noise, n_components=3) < 0.3


def test_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match="same shape"):
        procrustes_similarity(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="same number of samples"):
        cca_similarity(np.zeros((5, 2)), np.zeros((6, 2)))
    with pytest.raises(ValueError, match="expected 12 units"):
        pca_basis(_trajectory()).project(np.zeros((2, 5)))
