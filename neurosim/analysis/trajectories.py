"""Hidden-state trajectories: a shared PCA basis and alignment scores between substrates.

States from different substrates (the ANN's rates, Brian2's rates, a spiking network's filtered spike trains)
are compared in one coordinate system: PCA is fitted once (on a reference, usually the ANN) and every
substrate is projected onto the same axes. Alignment is scored two ways: orthogonal Procrustes (how well one
trajectory matches the other after the best rotation) and CCA (the mean canonical correlation of their
leading principal subspaces).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_array, check_positive

__all__ = ["PCABasis", "pca_basis", "procrustes_similarity", "cca_similarity", "canonical_correlations"]


def _flatten(states, name: str) -> np.ndarray:
    """(B, T, N) or (M, N) -> (M, N) float64 samples."""
    X = as_array(states, name, dtype=float)
    if X.ndim == 3:
        X = X.reshape(-1, X.shape[-1])
    if X.ndim != 2:
        raise ValueError(f"{name}: expected states (B, T, N) or samples (M, N), got shape {X.shape}")
    return X


@dataclass(frozen=True)
class PCABasis:
    """Principal axes fitted to reference states; ``project`` maps any states with the same N onto them."""

    mean: np.ndarray  # (N,)
    components: np.ndarray  # (k, N), orthonormal rows
    explained_variance_ratio: np.ndarray  # (k,)

    def project(self, states) -> np.ndarray:
        """(B, T, N) -> (B, T, k) (or (M, N) -> (M, k))."""
        X = as_array(states, "states", dtype=float)
        if X.shape[-1] != self.mean.shape[0]:
            raise ValueError(f"states: expected {self.mean.shape[0]} units on the last axis, got {X.shape[-1]}")
        return (X - self.mean) @ self.components.T


def pca_basis(states, n_components: int = 3) -> PCABasis:
    """Fit PCA (by SVD) to ``states`` (B, T, N)."""
    X = _flatten(states, "states")
    k = min(check_positive(n_components, "n_components", integer=True), *X.shape)
    mean = X.mean(axis=0)
    _, s, Vt = np.linalg.svd(X - mean, full_matrices=False)
    var = s**2
    total = var.sum()
    return PCABasis(mean, Vt[:k], var[:k] / total if total > 0 else np.zeros(k))


def procrustes_similarity(X, Y) -> float:
    """1 - the Procrustes disparity of two trajectories of the same shape, in [0, 1].

    Both are centred and scaled to unit Frobenius norm; Y is then rotated (orthogonal transform) to best match
    X. 1 means identical up to rotation, translation and scale.
    """
    A, B = _flatten(X, "X"), _flatten(Y, "Y")
    if A.shape != B.shape:
        raise ValueError(f"procrustes_similarity: X and Y must have the same shape, got {A.shape} and {B.shape}")
    A, B = A - A.mean(0), B - B.mean(0)
    na, nb = np.linalg.norm(A), np.linalg.norm(B)
    if na == 0 or nb == 0:
        return float(na == nb)
    A, B = A / na, B / nb
    # max over orthogonal R of trace(A^T B R) is the nuclear norm of A^T B
    return float(np.clip(np.linalg.svd(A.T @ B, compute_uv=False).sum() ** 2, 0.0, 1.0))


def canonical_correlations(X, Y, n_components: int | None = 10, variance: float | None = None) -> np.ndarray:
    """The canonical correlations between the leading principal subspaces of X and Y, largest first.

    Each of X, Y (B, T, N) or (M, N), sampled at the same times, is centred and reduced by SVD to its leading
    ``n_components`` directions, or (``variance`` in (0, 1]) to the fewest directions that explain that fraction
    of its variance (SVCCA's reduction); the canonical correlations are then the singular values of Ua^T Ub,
    the cosines of the principal angles between the two subspaces. Returns min(ka, kb) values in [0, 1].
    """
    A, B = _flatten(X, "X"), _flatten(Y, "Y")
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"canonical correlations: X and Y need the same number of samples, got {A.shape[0]} and "
                         f"{B.shape[0]}")
    if variance is not None and not 0 < variance <= 1:
        raise ValueError(f"variance: expected a fraction of the variance in (0, 1], got {variance!r}")
    k = None if n_components is None else check_positive(n_components, "n_components", integer=True)

    def basis(M):
        M = M - M.mean(0)
        U, s, _ = np.linalg.svd(M, full_matrices=False)
        rank = int(np.sum(s > s[0] * 1e-10)) if s.size and s[0] > 0 else 0
        keep = rank if k is None else min(k, rank)
        if variance is not None and rank:
            explained = np.cumsum(s[:rank] ** 2) / np.sum(s[:rank] ** 2)
            keep = min(keep, int(np.searchsorted(explained, variance - 1e-12) + 1))
        return U[:, :keep]  # orthonormal basis of the leading principal subspace

    Ua, Ub = basis(A), basis(B)
    if Ua.shape[1] == 0 or Ub.shape[1] == 0:
        return np.zeros(0)
    rho = np.linalg.svd(Ua.T @ Ub, compute_uv=False)  # canonical correlations
    return np.clip(rho[: min(Ua.shape[1], Ub.shape[1])], 0.0, 1.0)


def cca_similarity(X, Y, n_components: int = 10) -> float:
    """Mean canonical correlation between the leading ``n_components`` principal subspaces of X and Y.

    X and Y are sampled at the same times (same number of rows); their unit counts may differ. 1 means the
    two populations span the same dynamics up to a linear map.
    """
    rho = canonical_correlations(X, Y, n_components)
    return float(np.mean(rho)) if rho.size else 0.0
