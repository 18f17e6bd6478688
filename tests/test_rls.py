"""The RLS core against batch ridge regression and the per-update error identities."""

import numpy as np
import pytest

from neurosim.learning.rls import RLS


def _pairs(n, m, n_out=1, seed=0):
    rng = np.random.default_rng(seed)
    R = rng.uniform(-1, 1, (m, n))  # (M, N): one activity vector per row, as tanh rates
    F = rng.standard_normal((m, n_out))  # (M, n_out)
    return R, F


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("alpha", [1.0, 10.0])
def test_normalised_rls_equals_batch_ridge(alpha):
    n, m = 200, 1000
    R, F = _pairs(n, m)
    rls = RLS(n, 1, alpha=alpha)
    for r, f in zip(R, F):
        rls.step(r, f)
    P_ridge = np.linalg.inv(R.T @ R + alpha * np.eye(n))  # (N, N)
    w_ridge = P_ridge @ R.T @ F  # (N, 1)
    assert _rel(rls.P, P_ridge) < 1e-10
    assert _rel(rls.W, w_ridge.T) < 1e-10
    assert rls.n_updates == m


def test_initial_weights_are_the_ridge_prior():
    n, m, alpha = 50, 300, 2.0
    R, F = _pairs(n, m, n_out=2, seed=1)
    W0 = np.random.default_rng(2).standard_normal((2, n))
    rls = RLS(n, 2, alpha=alpha, W0=W0)
    for r, f in zip(R, F):
        rls.step(r, f)
    P_ridge = np.linalg.inv(R.T @ R + alpha * np.eye(n))
    W_ridge = (P_ridge @ (R.T @ F + alpha * W0.T)).T  # (2, N)
    assert _rel(rls.W, W_ridge) < 1e-10


@pytest.mark.parametrize("step", ["normalised", "unnormalised"])
def test_error_after_each_update(step):
    n, m = 200, 300
    R, F = _pairs(n, m, n_out=2, seed=3)
    rls = RLS(n, 2, alpha=1.0 if step == "normalised" else 50.0, step=step)
    worst = 0.0
    for r, f in zip(R, F):
        P_old_r = rls.P @ r
        e_minus = rls.step(r, f)
        e_plus = rls.W @ r - f
        # normalised: e+ = e- (1 - r^T P_new r); unnormalised (Nicola & Clopath): e+ = e- (1 - r^T P_old r)
        shrink = 1 - r @ rls.P @ r if step == "normalised" else 1 - r @ P_old_r
        worst = max(worst, np.max(np.abs(e_plus - e_minus * shrink)) / np.max(np.abs(e_minus)))
    assert worst < 1e-12


def test_readouts_share_one_P():
    n, m = 60, 200
    R, F = _pairs(n, m, n_out=3, seed=4)
    together = RLS(n, 3)
    apart = [RLS(n, 1) for _ in range(3)]
    for r, f in zip(R, F):
        together.step(r, f)
        for j, one in enumerate(apart):
            one.step(r, f[j:j + 1])
    np.testing.assert_allclose(together.W, np.vstack([one.W for one in apart]), rtol=0, atol=1e-13)
    np.testing.assert_array_equal(together.P, apart[0].P)


def test_step_returns_the_error_before_the_update_and_update_matches_step():
    n = 30
    R, F = _pairs(n, 20, seed=5)
    a, b = RLS(n, 1, alpha=3.0), RLS(n, 1, alpha=3.0)
    for r, f in zip(R, F):
        e = a.step(r, f)
        np.testing.assert_array_equal(e, b.W @ r - f)
        b.update(r, b.W @ r - f)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.P, b.P)


def test_float32_matches_float64():
    n = 100
    R, F = _pairs(n, 200, seed=6)
    a, b = RLS(n, 1, dtype=np.float32), RLS(n, 1)
    for r, f in zip(R, F):
        a.step(r, f)
        b.step(r, f)
    assert a.P.dtype == np.float32 and a.W.dtype == np.float32
    assert _rel(a.W.astype(float), b.W) < 1e-3


def test_update_writes_into_the_same_buffers():
    rls = RLS(20, 2)
    P, W = rls.P, rls.W
    rls.step(np.ones(20), np.zeros(2) + 1)
    assert rls.P is P and rls.W is W and not np.allclose(P, np.eye(20))


def test_memory_guard_refuses_before_allocating():
    with pytest.raises(ValueError, match=r"RLS.P: an \(100000, 100000\) float64 matrix needs 74.5 GiB"):
        RLS(100_000, 1)  # would be 80 GB: allocating it first would fail or swap
    with pytest.raises(ValueError, match="max_bytes"):
        RLS(1000, 1, max_bytes=1e6)
    assert RLS(1000, 1, dtype=np.float32, max_bytes=4e6).P.nbytes == 4e6


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(n_units=0, n_out=1), ValueError, "RLS.n_units"),
    (dict(n_units=10, n_out=1, alpha=-1.0), ValueError, "RLS.alpha"),
    (dict(n_units=10, n_out=1, step="fast"), ValueError, "RLS.step: expected one of"),
    (dict(n_units=10, n_out=1, W0=np.zeros((2, 10))), ValueError, r"RLS.W0: expected shape \(1, 10\)"),
    (dict(n_units=10, n_out=1, dtype=np.int64), TypeError, "RLS.dtype"),
])
def test_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        RLS(**kwargs)


def test_bad_vectors():
    rls = RLS(10, 2)
    with pytest.raises(ValueError, match=r"RLS.step.r: expected shape \(10,\), got \(9,\)"):
        rls.step(np.zeros(9), np.zeros(2))
    with pytest.raises(ValueError, match=r"RLS.update.error: expected shape \(2,\)"):
        rls.update(np.zeros(10), np.zeros(3))


def test_P_stays_symmetric_positive_definite_over_1e4_updates():
    n, m = 500, 10_000
    rng = np.random.default_rng(7)
    rls = RLS(n, 1)
    # Correlated activity, as in a network: a low-dimensional signal plus small noise.
    basis = rng.standard_normal((n, 20))
    for t in range(m):
        r = np.tanh(basis @ np.sin(0.01 * t * np.arange(1, 21)) / 3 + 0.05 * rng.standard_normal(n))
        rls.step(r, np.array([np.sin(0.02 * t)]))
    asym = np.max(np.abs(rls.P - rls.P.T)) / np.max(np.abs(rls.P))
    assert asym < 1e-12, asym
    np.linalg.cholesky(0.5 * (rls.P + rls.P.T))  # raises LinAlgError unless positive definite
    assert np.linalg.eigvalsh(0.5 * (rls.P + rls.P.T)).min() > 0


def test_one_triangle_update_equals_the_full_textbook_update():
    """BLAS keeps one triangle of P; what ``rls.P`` shows equals the full-matrix np.outer update after 3000 steps."""
    n = 200
    R, F = _pairs(n, 3000, seed=8)
    rls = RLS(n, 1, alpha=0.5)
    P, w = np.eye(n) / 0.5, np.zeros(n)
    for r, f in zip(R, F):
        rls.step(r, f)
        e = w @ r - f[0]
        k = P @ r
        c = 1.0 / (1.0 + r @ k)
        P -= c * np.outer(k, k)
        w -= c * e * k
    assert _rel(rls.P, P) < 1e-10
    assert _rel(rls.W[0], w) < 1e-10
    np.testing.assert_array_equal(rls.P, rls.P.T)
