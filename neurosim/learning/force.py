"""FORCE learning on the numpy substrate: Sussillo & Abbott's (2009) architecture A.

A chaotic RateNetwork learns, online and while it runs, a readout z = W_out s + b_out (s = f(x) in the current
form, s = r in the rate form) whose value is fed back to every unit through fixed weights W_fb (N, n_out),
W_fb ~ U(-1, 1). Forward Euler, alpha = dt / tau, exactly the step of :mod:`neurosim.ann` plus the feedback::

    current form:  x_t = (1 - alpha) x_{t-1} + alpha (W_rec f(x_{t-1}) + W_fb z_{t-1} + W_in u_t + b),  s_t = f(x_t)
    rate form:     r_t = (1 - alpha) r_{t-1} + alpha f(W_in u_t + W_rec r_{t-1} + W_fb z_{t-1} + b),  s_t = r_t
    readout:       z_t = W_out s_t + b_out

Every ``every`` steps while learning (steps every - 1, 2 every - 1, ...), the error ``e_t = z_t - f_t`` is
measured and W_out takes one RLS step (:class:`neurosim.learning.rls.RLS`, P(0) = I / alpha_rls). As in
Sussillo & Abbott's code, z_t is measured before the update and is the value fed back at the next step.
Each :func:`run` starts with ``z = W_out s_0 + b_out`` computed from the weights it starts with; so a run with
learning off is exactly the folded network (:func:`fold_feedback`) run from the same state.

The fold. Feedback of an identity readout is recurrence: ``W_fb z = W_fb W_out s + W_fb b_out``, so the trained
network is the plain RateNetwork with ``W_rec + W_fb W_out`` and ``b + W_fb b_out`` that ``simulate``,
``compare`` and the Brian2 substrates run unchanged.

Defaults are Sussillo & Abbott's (their published ``force_external_feedback_loop.m`` and the paper):
N = 1000, p = 0.1, g = 1.5, alpha_rls = 1, tau = 10 ms, dt = 1 ms, an update every 2 steps, x(0) ~ N(0, 0.5^2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from .. import activations
from .._validate import as_array, as_rng, check_finite, check_positive, check_shape
from ..network import RateNetwork
from .rls import RLS

__all__ = ["reservoir", "run", "fold_feedback", "ForceRun", "SPARSE_BELOW"]

SPARSE_BELOW = 0.3  # W_rec with fewer nonzeros than this fraction is multiplied as a CSR matrix (same maths)


def reservoir(n_rec: int = 1000, n_out: int = 1, *, p: float = 0.1, g: float = 1.5, tau=0.01, dt=0.001,
              form: str = "current", activation: str = "tanh", x0_scale: float = 0.5, n_in: int = 1,
              rng=0) -> tuple[RateNetwork, np.ndarray]:
    """Sussillo & Abbott's network before learning: ``(net, W_fb)``.

    net: ``RateNetwork.random(n_in, n_rec, n_out, p=p, g=g, form=form)`` (W_rec ~ N(0, g^2 / (p N)) on a fraction
    p of the connections), with W_in = 0 (no input), W_out = 0, x0 ~ N(0, x0_scale^2) and no connectivity mask
    (the sparsity is the initial condition, not a constraint: the fold fills W_rec). W_fb (n_rec, n_out) ~ U(-1, 1).
    The current form with tanh is theirs (x with r = tanh(x)).
    """
    rng = as_rng(rng)
    net = RateNetwork.random(n_in, n_rec, n_out, tau=tau, dt=dt, activation=activation, form=form, g=g, p=p,
                             rng=rng)
    W_fb = rng.uniform(-1.0, 1.0, (net.n_rec, net.n_out))  # (N, n_out)
    x0_scale = check_positive(x0_scale, "reservoir x0_scale", allow_zero=True)
    x0 = x0_scale * rng.standard_normal(net.n_rec)  # (N,)
    net = net.replace(W_in=np.zeros_like(net.W_in), W_out=np.zeros_like(net.W_out), x0=x0, mask=None)
    return net, W_fb


@dataclass(frozen=True, eq=False)
class ForceRun:
    """One FORCE run (single trajectory, time first).

    t (T,)                 seconds at the end of each step, counted from the start of this run
    outputs (T, n_out)     z_t, as measured (before that step's update)
    targets (T, n_out)     f_t (None when none were given)
    updated (T,)           True where W_out took an RLS step
    w_norm (T,)            |W_out|_F after step t
    dw_norm (T,)           |W_out(t) - W_out(t-1)|_F (0 without an update)
    rates (T, n_record)    s_t of the first ``n_record`` units
    net                    the network after the run: the learned W_out, and x0 = the final state
    W_fb (N, n_out)        the feedback weights
    rls                    the RLS state (P, W), to continue learning
    """

    t: np.ndarray
    outputs: np.ndarray
    targets: np.ndarray | None
    updated: np.ndarray
    w_norm: np.ndarray
    dw_norm: np.ndarray
    rates: np.ndarray
    net: RateNetwork
    W_fb: np.ndarray
    rls: RLS | None


def _check_feedback(net: RateNetwork, W_fb, name: str) -> np.ndarray:
    W_fb = check_finite(as_array(W_fb, name, ndim=2, dtype=net.dtype), name)
    return check_shape(W_fb, (net.n_rec, net.n_out), name, "one row per unit, one column per readout")


def run(net: RateNetwork, W_fb, n_steps: int | None = None, *, targets=None, inputs=None, learn: bool = True,
        rls: RLS | None = None, alpha: float = 1.0, every: int = 2, step: str = "normalised",
        n_record: int = 10, progress: bool = False) -> ForceRun:
    """Run the network with output feedback for ``n_steps`` from ``net.x0``, learning W_out by RLS if ``learn``.

    targets: (T, n_out) f_t, needed to learn (T = n_steps).  inputs: (T, n_in) u_t or None (zero input).
    rls: an :class:`RLS` to continue (its W must equal net.W_out); else a new one with ``alpha`` and ``step``,
    initialised at W0 = net.W_out.  every: steps between updates.  n_record: units whose s_t is kept.
    Returns a :class:`ForceRun`; ``run.net`` is the network afterwards (learned W_out, x0 = the last state),
    so calling ``run`` again on it continues the trajectory.
    """
    if not isinstance(net, RateNetwork):
        raise TypeError(f"force.run: expected a RateNetwork, got {type(net).__name__}")
    if net.output_activation != "identity":
        raise ValueError(f"force.run: expected an identity readout (net.output_activation = 'identity'), got "
                         f"{net.output_activation!r}; FORCE learns the linear readout z = W_out s + b_out")
    W_fb = _check_feedback(net, W_fb, "force.run W_fb")
    N, n_out, dtype = net.n_rec, net.n_out, net.dtype
    if targets is not None:
        targets = check_finite(as_array(targets, "force.run targets", ndim=2, dtype=dtype), "force.run targets")
        check_shape(targets, (None, n_out), "force.run targets", f"targets are (n_steps, n_out = {n_out})")
        n_steps = targets.shape[0] if n_steps is None else n_steps
        check_shape(targets, (n_steps, n_out), "force.run targets", f"one target per step (n_steps = {n_steps})")
    if n_steps is None:
        raise ValueError("force.run: give n_steps or targets (n_steps, n_out)")
    T = check_positive(n_steps, "force.run n_steps", integer=True)
    if learn and targets is None:
        raise ValueError("force.run: learn=True needs targets (n_steps, n_out); pass learn=False to free-run")
    every = check_positive(every, "force.run every", integer=True)
    drive = np.broadcast_to(net.b, (T, N))  # (T, N) W_in u_t + b
    if inputs is not None:
        inputs = check_finite(as_array(inputs, "force.run inputs", ndim=2, dtype=dtype), "force.run inputs")
        check_shape(inputs, (T, net.n_in), "force.run inputs", f"inputs are (n_steps, n_in = {net.n_in})")
        drive = inputs @ net.W_in.T + net.b  # (T, N)
    if learn:
        if rls is None:
            rls = RLS(N, n_out, alpha=alpha, step=step, W0=net.W_out, dtype=dtype)
        elif rls.W.shape != (n_out, N) or not np.array_equal(rls.W, net.W_out):
            raise ValueError("force.run rls: its W must be the network's W_out (continue from run.net and run.rls)")
        W_out = rls.W  # (n_out, N) the live readout, updated in place by RLS
    else:
        W_out = net.W_out.copy()
    density = np.count_nonzero(net.W_rec) / net.W_rec.size
    W_rec = scipy.sparse.csr_matrix(net.W_rec) if density < SPARSE_BELOW else net.W_rec
    f = activations.get(net.activation).f
    a, leak = net.alpha, 1.0 - net.alpha
    current = net.form == "current"
    k = min(check_positive(n_record, "force.run n_record", integer=True, allow_zero=True), N)

    x = net.x0.astype(dtype, copy=True)  # (N,) the integrated variable
    s = f(x) if current else x.copy()  # (N,) what the readout sees
    z = W_out @ s + net.b_out  # (n_out,)
    outputs = np.empty((T, n_out), dtype)
    updated = np.zeros(T, bool)
    w_norm, dw_norm = np.empty(T), np.zeros(T)
    rates = np.empty((T, k), dtype)
    norm = float(np.linalg.norm(W_out))
    steps = range(T)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="FORCE" if learn else "free run", leave=False)
    for t in steps:
        u = W_rec @ s  # (N,) W_rec s_{t-1}
        u += W_fb @ z  # + W_fb z_{t-1}
        u += drive[t]  # + W_in u_t + b
        if current:
            x *= leak
            x += a * u
            s = f(x)
        else:
            x *= leak
            x += a * f(u)
            s = x
        z = W_out @ s + net.b_out  # (n_out,)
        outputs[t] = z
        rates[t] = s[:k]
        if learn and (t + 1) % every == 0:
            before = W_out.copy()  # (n_out, N)
            rls.update(s, z - targets[t])
            updated[t] = True
            before -= W_out
            dw_norm[t] = float(np.linalg.norm(before))
            norm = float(np.linalg.norm(W_out))
        w_norm[t] = norm
    final = net.replace(W_out=np.array(W_out), x0=np.array(x))
    t_axis = (np.arange(T) + 1) * net.dt
    return ForceRun(t_axis, outputs, targets, updated, w_norm, dw_norm, rates, final, W_fb, rls if learn else None)


def fold_feedback(net: RateNetwork, W_fb) -> RateNetwork:
    """The plain RateNetwork equal to ``net`` with output feedback ``W_fb z``: W_rec + W_fb W_out, b + W_fb b_out.

    Exact in both forms for an identity readout (z = W_out s + b_out is what is fed back). Refused, with the
    reason, for any other readout, and where the folded W_rec would break the network's connectivity mask or
    Dale's law (the new ``W_fb W_out`` term is dense and of either sign).
    """
    if not isinstance(net, RateNetwork):
        raise TypeError(f"fold_feedback: expected a RateNetwork, got {type(net).__name__}")
    if net.output_activation != "identity":
        raise ValueError(f"fold_feedback: net.output_activation = {net.output_activation!r}; the fold is exact only "
                         "for an identity readout, because the feedback W_fb z with z = g(W_out s + b_out) is not "
                         "linear in s; train the readout with output_activation='identity'")
    W_fb = _check_feedback(net, W_fb, "fold_feedback W_fb")
    W_rec = net.W_rec + W_fb @ net.W_out  # (N, N)
    b = net.b + W_fb @ net.b_out  # (N,)
    if net.mask is not None and np.any(W_rec[net.mask == 0] != 0):
        i, j = np.argwhere((net.mask == 0) & (W_rec != 0))[0]
        raise ValueError(f"fold_feedback: the folded W_rec = W_rec + W_fb W_out has nonzero weights where "
                         f"net.mask is 0 (first: [{i}, {j}] = {W_rec[i, j]:.3g}); the feedback connects every "
                         "unit to every unit, so drop the mask (net.replace(mask=None)) before folding")
    if net.dale is not None and np.any(W_rec * net.dale[None, :] < 0):
        i, j = np.argwhere(W_rec * net.dale[None, :] < 0)[0]
        raise ValueError(f"fold_feedback: the folded W_rec = W_rec + W_fb W_out breaks Dale's law (first: "
                         f"[{i}, {j}] = {W_rec[i, j]:.3g} with dale[{j}] = {net.dale[j]:+g}); the feedback term has "
                         "either sign, so a Dale network cannot absorb it (drop dale, or keep the feedback loop)")
    return net.replace(W_rec=W_rec, b=b)
