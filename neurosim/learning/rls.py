"""Recursive least squares (RLS) on linear readouts ``z = W r``: the core of FORCE learning, in numpy only.

The problem. Find readout weights W (n_out, N) that minimise, after M presentations ``(r_i, f_i)``,

    sum_i |W r_i - f_i|^2 + alpha |W - W0|_F^2

RLS solves it online. With ``P(0) = I / alpha`` and the error measured BEFORE the update, ``e = W r - f``:

    k = P r                              # (N,)   P's old value
    c = 1 / (1 + r^T k)
    P <- P - c k k^T                     # Sherman-Morrison: P_M = (R^T R + alpha I)^-1 exactly
    W <- W - c e k^T     ("normalised",   Sussillo & Abbott 2009: W <- W - e (P_new r)^T, P_new r = c k)
    W <- W -   e k^T     ("unnormalised", Nicola & Clopath 2017, LIFFORCESINE: BPhi <- BPhi - (Pinv r) err^T)

The normalised step is the exact ridge solution: after M steps ``W_M = (R^T R + alpha I)^-1 (R^T F + alpha W0)``
(rows of R are the r_i, of F the f_i). The error right after an update (same r) is

    normalised:    e+ = e- (1 - r^T P_new r) = e- / (1 + r^T P_old r)
    unnormalised:  e+ = e- (1 - r^T P_old r)

so the unnormalised step overshoots (flips the sign of e) when r^T P r > 2; it relies on a small P(0).

Several readouts share one P (P depends only on r). ``P`` is one (N, N) buffer updated in place by BLAS's symmetric
routines: ``?symv`` for ``P r`` and the rank-one ``?syr`` for the update, which read and write one triangle only
(half the memory traffic of ``?ger``, a third of ``np.outer``'s temporaries). Reading ``rls.P`` mirrors that
triangle into the other one first (once per update), so what you read is the full symmetric matrix, exactly
symmetric.

The alpha convention (``P(0) = I / alpha``; alpha is the ridge penalty, larger alpha = slower learning) against
published code:

- Sussillo & Abbott 2009: ``P(0) = I / alpha``, alpha = 1 for the rate network (alpha = ``alpha`` here).
- Nicola & Clopath 2017 (LIFFORCESINE.m): ``Pinv = eye(N) * alpha`` with their ``alpha = dt * 0.1 = 5e-6``, so
  ``Pinv = 5e-6 I`` is alpha = 1 / 5e-6 = 2e5 here, with ``step="unnormalised"``.
- BrainPy's ``brainpy.algorithms.RLS(alpha=0.1)`` (``P = eye * alpha``, normalised step) and tension's
  ``FORCEModel(alpha_P=...)`` (``P`` initialised to ``Identity(gain=alpha_P)``): P(0) = alpha' I, so their
  alpha' is 1 / alpha here (BrainPy's default 0.1 is alpha = 10).
- reservoirpy's ``RLS``/``FORCE`` node (``alpha=1e-6`` by default): ``P = eye / alpha``, normalised step, the same
  convention as here (it also fits a bias by a running mean of the error, which this core does not).
- nengo's ``nengo.RLS(learning_rate=1e-3)`` (nengo >= 3.1, ``build_rls``): P(0) = (learning_rate * dt / n) I for n
  presynaptic neurons and the normalised step, so alpha = n / (learning_rate * dt) here (n = 1000, dt = 1 ms, the
  default learning_rate: alpha = 1e9). nengolib's older ``RLS(learning_rate)`` has P(0) = learning_rate I, so
  alpha = 1 / learning_rate. nengo applies a full update every time step; FORCE here updates every k steps.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas

from .._validate import as_array, check_choice, check_finite, check_positive, check_shape

__all__ = ["RLS", "STEPS"]

STEPS = ("normalised", "unnormalised")


class RLS:
    """Recursive least squares on readouts z = W r; P(0) = I / alpha (Sussillo & Abbott's convention).

    n_units: N, the length of r.  n_out: the number of readouts sharing P.
    alpha: the ridge penalty, P(0) = I / alpha (see the module docstring for other libraries' conventions).
    step: "normalised" (Sussillo & Abbott, the exact ridge solution) or "unnormalised" (Nicola & Clopath).
    W0: initial weights (n_out, N), copied; default zeros.  dtype: float64 or float32.
    max_bytes: refuse (ValueError, before allocating) a P of more than this many bytes (default 2 GiB).

    Attributes: P (N, N), symmetric, updated in place; W (n_out, N); n_updates.
    """

    def __init__(self, n_units, n_out, *, alpha=1.0, step="normalised", W0=None, dtype=np.float64,
                 max_bytes=2 * 2**30):
        n_units = check_positive(n_units, "RLS.n_units", integer=True)
        n_out = check_positive(n_out, "RLS.n_out", integer=True)
        self.alpha = check_positive(alpha, "RLS.alpha")
        self.step_kind = check_choice(step, STEPS, "RLS.step")
        dtype = np.dtype(dtype)
        if dtype not in (np.float64, np.float32):
            raise TypeError(f"RLS.dtype: expected float64 or float32, got {dtype}")
        max_bytes = check_positive(max_bytes, "RLS.max_bytes")
        need = n_units * n_units * dtype.itemsize
        if need > max_bytes:
            raise ValueError(
                f"RLS.P: an ({n_units}, {n_units}) {dtype} matrix needs {need / 2**30:.3g} GiB, more than "
                f"max_bytes = {max_bytes / 2**30:.3g} GiB; use fewer units, dtype=np.float32, or raise max_bytes")
        self.n_units, self.n_out, self.dtype = n_units, n_out, dtype
        self._P = np.zeros((n_units, n_units), dtype)  # (N, N); BLAS keeps its lower triangle (C order)
        self._P[np.diag_indices(n_units)] = 1.0 / self.alpha
        self._stale = False  # True when the upper triangle lags behind the lower one
        if W0 is None:
            self.W = np.zeros((n_out, n_units), dtype)  # (n_out, N)
        else:
            W0 = check_finite(as_array(W0, "RLS.W0", ndim=2), "RLS.W0")
            check_shape(W0, (n_out, n_units), "RLS.W0", "one row per readout, one column per unit")
            self.W = np.array(W0, dtype=dtype, order="C")  # (n_out, N)
        self.n_updates = 0
        self._k = np.empty(n_units, dtype)  # (N,)  P r, reused
        self._symv, self._syr, self._ger = blas.get_blas_funcs(("symv", "syr", "ger"), (self._P,))

    @property
    def P(self) -> np.ndarray:
        """The inverse correlation matrix (N, N), symmetric: the one buffer RLS updates in place."""
        if self._stale:
            _mirror_lower(self._P)
            self._stale = False
        return self._P

    def _vector(self, value, n, name):
        value = np.asarray(value, dtype=self.dtype)
        if value.shape != (n,):
            raise ValueError(f"RLS.{name}: expected shape ({n},), got {value.shape}")
        return value

    def update(self, r, error) -> None:
        """One RLS step from activity r (N,) and error (n_out,) = W r - target measured BEFORE the update."""
        r = self._vector(r, self.n_units, "update.r")
        e = self._vector(error, self.n_out, "update.error")
        PF = self._P.T  # the Fortran view of the C buffer: its upper triangle is the C lower triangle
        k = self._symv(1.0, PF, r, y=self._k, overwrite_y=True)  # (N,)  P_old r, from one triangle
        c = 1.0 / (1.0 + float(r @ k))
        gain = c if self.step_kind == "normalised" else 1.0
        self._syr(-c, k, a=PF, overwrite_a=True)  # P <- P - c k k^T, one triangle, in place
        self._stale = True
        self._ger(-gain, k, e, a=self.W.T, overwrite_a=True)  # W <- W - gain e k^T (W^T is Fortran, in place)
        self.n_updates += 1

    def step(self, r, target) -> np.ndarray:
        """z = W r; e = z - target; update; return e (n_out,), the error before the update."""
        r = self._vector(r, self.n_units, "step.r")
        target = self._vector(target, self.n_out, "step.target")
        e = self.W @ r - target  # (n_out,)
        self.update(r, e)
        return e


def _mirror_lower(P: np.ndarray, block: int = 256) -> None:
    """Copy the lower triangle of the C-ordered square ``P`` onto its upper triangle, in place, by blocks."""
    n = P.shape[0]
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        P[i0:i1, i1:] = P[i1:, i0:i1].T  # rows i0..i1, columns right of the diagonal block
        diag = P[i0:i1, i0:i1]
        iu = np.triu_indices(i1 - i0, 1)
        diag[iu] = diag.T[iu]
