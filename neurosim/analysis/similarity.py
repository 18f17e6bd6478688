"""How alike two networks' computations are: SVCCA, the Procrustes angle, and (optional) DSA.

Beside :mod:`.trajectories`' CCA and Procrustes similarities (which this module reuses):

- :func:`svcca` (Raghu et al. 2017, NeurIPS): each population (B, T, N), sampled on the same trials, is reduced
  by SVD to the directions that explain ``variance`` (99%) of its variance; the score is the mean canonical
  correlation of the two reduced populations, :func:`svcca_distance` is 1 minus it (the distance used by
  Maheswaranathan et al. 2019 to compare architectures).
- :func:`procrustes_angle` (Williams et al. 2021, NeurIPS, the angular shape metric): with both populations
  centred and scaled to unit Frobenius norm, ``arccos(max_R tr(A^T B R)) = arccos(||A^T B||_*)`` over orthogonal
  R, in radians; 0 means identical up to rotation, translation and scale. It needs the same number of units;
  :func:`procrustes_angle` pads the smaller population with zero units, which does not change the metric's
  meaning (the larger space contains the smaller).
- :func:`dsa` (Ostrow et al. 2023, NeurIPS, Dynamical Similarity Analysis): the distance between the linear
  (delay-embedded DMD) dynamics fitted to each population, up to a similarity transform, through the optional
  ``dsa-metric`` package (``pip install neurosim[dsa]``), imported only when called.
"""

from __future__ import annotations

import numpy as np

from .trajectories import _flatten, canonical_correlations, procrustes_similarity

__all__ = ["SVCCA_VARIANCE", "svcca", "svcca_distance", "procrustes_angle", "dsa"]

SVCCA_VARIANCE = 0.99  # Raghu et al. (2017) keep the directions explaining 99% of the variance


def svcca(X, Y, variance: float = SVCCA_VARIANCE) -> float:
    """Mean SVCCA correlation of X and Y ((B, T, N) or (M, N), same samples; unit counts may differ), in [0, 1]."""
    rho = canonical_correlations(X, Y, n_components=None, variance=variance)
    return float(np.mean(rho)) if rho.size else 0.0


def svcca_distance(X, Y, variance: float = SVCCA_VARIANCE) -> float:
    """1 - :func:`svcca`: 0 for populations that are linear images of each other."""
    return 1.0 - svcca(X, Y, variance)


def procrustes_angle(X, Y) -> float:
    """The Procrustes (angular shape) distance between X and Y in radians, in [0, pi/2]; module docstring."""
    A, B = _flatten(X, "X"), _flatten(Y, "Y")
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"procrustes_angle: X and Y need the same number of samples, got {A.shape[0]} and "
                         f"{B.shape[0]}")
    n = max(A.shape[1], B.shape[1])
    A, B = (np.pad(M, ((0, 0), (0, n - M.shape[1]))) for M in (A, B))  # zero units: same metric
    return float(np.arccos(np.sqrt(procrustes_similarity(A, B))))


def dsa(X, Y, *, n_delays: int = 10, rank: int = 10, score_method: str = "angular", iters: int = 1000,
        lr: float = 1e-2, **options) -> float:
    """Dynamical Similarity Analysis distance between X and Y ((B, T, N) trials or (T, N)), via ``dsa-metric``.

    n_delays, rank: the delay embedding and the DMD rank; score_method: "angular" (radians) or "euclidean";
    iters, lr: the similarity-transform optimisation; other options go to ``DSA.DSA``. Raises ImportError with
    the install command when ``dsa-metric`` is missing.
    """
    try:
        from DSA import DSA
    except ImportError as err:
        raise ImportError("dsa: the optional package dsa-metric is not installed; pip install 'neurosim[dsa]' "
                          f"(or pip install dsa-metric) ({err})") from None
    A = np.asarray(X, dtype=float)
    B = np.asarray(Y, dtype=float)
    for name, M in (("X", A), ("Y", B)):
        if M.ndim not in (2, 3):
            raise ValueError(f"dsa {name}: expected trials (B, T, N) or one trajectory (T, N), got shape {M.shape}")
    model = DSA(A, B, n_delays=n_delays, rank=rank, score_method=score_method, iters=iters, lr=lr,
                verbose=False, **options)
    return float(np.asarray(model.fit_score()).squeeze())
