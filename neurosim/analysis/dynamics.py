"""Dynamics of a network as a map: one step's Jacobian, Lyapunov exponents, fixed and slow points.

Every network here is a discrete map ``x_t = F(x_{t-1}, u_t)`` on its state x (the ANN's step; the Brian2 rate
network with ``method='euler'`` is the same map). The states, with the step maths of :mod:`neurosim.ann`:

========================= ====== ==========================================================================
network                   x      F(x, u)
========================= ====== ==========================================================================
RateNetwork, rate form    r (N)  (1 - a) r + a f(W_in u + W_rec r + b)          J = (1 - a) I + a D W_rec
RateNetwork, current form x (N)  (1 - a) x + a (W_rec f(x) + W_in u + b)        J = (1 - a) I + a W_rec D
GatedNetwork, GRU         h (H)  (1 - z) n + z h   (:mod:`neurosim.ann.gru`)
GatedNetwork, LSTM        [h; c] (2H)  c' = f c + i g, h' = o tanh(c')   (:mod:`neurosim.ann.lstm`)
========================= ====== ==========================================================================

with a = dt / tau (alpha) and D = diag(f'(.)) at the pre-activation (rate form) or at x (current form).

Lyapunov exponents (largest, or the k largest): Benettin's QR method on the tangent map ``V <- J(x_t) V``,
re-orthonormalised every step, ``lambda_i = (1 / T) sum_t log |R_t[i, i]|`` (:func:`lyapunov_qr`), and the
twin-trajectory estimate of the largest one (two trajectories delta0 apart, renormalised every ``renorm``
seconds; :func:`lyapunov_twin`). Exponents are per second; ``per_tau`` multiplies by tau. The continuous-time
limit of a rate network is taken with ``sim_dt``: Euler steps of sim_dt (alpha = sim_dt / tau -> 0), the input
held over each task step, as ``simulate(..., sim_dt=...)`` does on Brian2. :func:`lyapunov_substrate` asks any
substrate of :func:`neurosim.simulate` (the Brian2 rate network) the same question by twin runs, restarting the
perturbed run from its renormalised state through the network's ``x0``.

Mean field (:func:`mean_field_discrete`): for the Elman map r_t = tanh(W r_{t-1}), W_ij ~ N(0, g^2/N), the
pre-activations are Gaussian with variance Delta = g^2 <tanh(sqrt(Delta) z)^2> and the largest exponent is
``1/2 ln(g^2 <f'(sqrt(Delta) z)^2>)`` per step (Molgedey, Schuchhardt & Schuster 1992; Toyoizumi & Abbott 2011).
In continuous time (Sompolinsky, Crisanti & Sommers 1988) the zero state is stable with exponent g - 1 per tau for
g < 1 and the network is chaotic for g > 1 (:func:`mean_field_continuous`: g - 1 below 1, the dynamic mean-field
exponent above).

Fixed points (:func:`find_fixed_points`), as Golub & Sussillo's FixedPointFinder (2018): minimise
``q(x) = 1/2 |F(x, u) - x|^2`` from many initial states (states sampled from trajectories plus Gaussian noise),
here with scipy's L-BFGS on the sum of q over all initial states (the q's are independent, so the joint problem
is the separate ones side by side) with the analytic gradient ``(J - I)^T (F(x) - x)``, then Newton steps
``(J - I) dx = -(F(x) - x)`` (kept only where they lower q). Distance outliers are dropped, duplicates merged,
and each point is classified by its Jacobian's eigenvalues: ``stable`` (all |mu| < 1), ``saddle`` (k of them
outside the unit circle) or ``unstable`` (all); points with q >= tol_q are ``slow`` points. The named defaults
below are FixedPointFinder's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .. import activations, equations
from .._validate import as_array, as_rng, check_finite, check_positive, check_shape, substeps

__all__ = ["TOL_Q", "N_INITS", "INIT_NOISE", "TOL_UNIQUE", "OUTLIER_DISTANCE_SCALE", "state_size", "initial_state",
           "step", "jacobian", "jvp", "vjp", "trajectory", "readout", "Lyapunov", "lyapunov_qr", "lyapunov_twin",
           "lyapunov_substrate", "mean_field_discrete", "mean_field_continuous", "FixedPoints",
           "find_fixed_points", "search_between_stable", "saddle_graph", "fixed_point_residual"]

# FixedPointFinder's defaults (Golub & Sussillo 2018, JOSS 3:1003; its flip-flop example for the initial states)
TOL_Q = 1e-12  # q below this is a fixed point; above it a slow point
N_INITS = 1024  # initial states
INIT_NOISE = 0.5  # std of the Gaussian noise added to the sampled states
TOL_UNIQUE = 1e-3  # points closer than this (Euclidean) are one point
OUTLIER_DISTANCE_SCALE = 10.0  # drop points farther from the initial states' centroid than 10x their mean distance


# -- the map and its derivatives --------------------------------------------------------------------------------

def _kind(net) -> str:
    cell = getattr(net, "cell", None)
    if cell == "rnn":
        return net.form
    if cell in ("gru", "lstm"):
        return cell
    raise TypeError(f"expected a neurosim network (RateNetwork or GatedNetwork), got {type(net).__name__}")


def state_size(net) -> int:
    """The dimension of the map's state: N (rnn, GRU) or 2H (LSTM: [h; c])."""
    return 2 * net.n_rec if _kind(net) == "lstm" else net.n_rec


def initial_state(net) -> np.ndarray:
    """The network's initial state in the map's coordinates, (n,): x0, h0 or [h0; c0]."""
    kind = _kind(net)
    if kind == "lstm":
        return np.concatenate([net.h0, net.c0]).astype(float)
    return np.asarray(net.h0 if kind == "gru" else net.x0, dtype=float)


def _states(net, x, name="x") -> np.ndarray:
    x = check_finite(as_array(x, name, dtype=float), name)
    n = state_size(net)
    if x.ndim == 1:
        x = x[None]
    return check_shape(x, (None, n), name, f"the map's state has {n} entries (see state_size)")  # (B, n)


def _inputs(net, u, B: int) -> np.ndarray:
    """u as (B, n_in): None is zero input; (n_in,) is shared by every state."""
    if u is None:
        return np.zeros((B, net.n_in))
    u = check_finite(as_array(u, "u", dtype=float), "u")
    if u.ndim == 1:
        check_shape(u, (net.n_in,), "u", f"the network has n_in = {net.n_in} inputs")
        return np.broadcast_to(u, (B, net.n_in))
    return check_shape(u, (B, net.n_in), "u", f"u is (n_in,) or (B, n_in) with n_in = {net.n_in}")


def _sig(a):
    return activations.get("sigmoid").f(a)


def _parts(net, x, u):
    """Everything one step computes, for the step and its derivatives. x (B, n), u (B, n_in)."""
    kind = _kind(net)
    if kind in ("rate", "current"):  # the step is equations.euler_step, the one reference; D its slopes
        act = activations.get(net.activation)
        a = equations.drive(net.W_in, net.b, u) + x @ net.W_rec.T if kind == "rate" else x  # where f' is taken
        return {"F": equations.euler_step(net, x, u), "D": act.df(a, act.f(a))}
    H = net.n_rec
    if kind == "gru":
        gi = u @ net.W_ih.T + net.b_ih  # (B, 3H) [u_r, u_z, u_n]
        gh = x @ net.W_hh.T + net.b_hh  # (B, 3H) [m_r, m_z, m_n]
        r, z = _sig(gi[:, :H] + gh[:, :H]), _sig(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return {"F": (1.0 - z) * n + z * x, "r": r, "z": z, "n": n, "m_n": gh[:, 2 * H:], "h": x}
    h, c = x[:, :H], x[:, H:]
    A = u @ net.W_ih.T + h @ net.W_hh.T + net.b_ih + net.b_hh  # (B, 4H) [a_i, a_f, a_g, a_o]
    i, f, g, o = _sig(A[:, :H]), _sig(A[:, H:2 * H]), np.tanh(A[:, 2 * H:3 * H]), _sig(A[:, 3 * H:])
    c_new = f * c + i * g
    tc = np.tanh(c_new)
    return {"F": np.concatenate([o * tc, c_new], axis=1), "i": i, "f": f, "g": g, "o": o, "c": c, "tc": tc}


def step(net, x, u=None) -> np.ndarray:
    """One step of the map, F(x, u): x (B, n) or (n,), u (n_in,) or (B, n_in) (None: zero). Returns (B, n)."""
    x = _states(net, x)
    return _parts(net, x, _inputs(net, u, x.shape[0]))["F"]


def jacobian(net, x, u=None) -> np.ndarray:
    """dF/dx at each state: (B, n, n), J[b, i, j] = dF_i / dx_j."""
    x = _states(net, x)
    u = _inputs(net, u, x.shape[0])
    P, kind, B = _parts(net, x, u), _kind(net), x.shape[0]
    if kind in ("rate", "current"):
        a, eye = net.alpha, np.eye(net.n_rec)
        if kind == "rate":
            return (1.0 - a) * eye + a * P["D"][:, :, None] * net.W_rec[None]  # (1-a) I + a D W_rec
        return (1.0 - a) * eye + a * net.W_rec[None] * P["D"][:, None, :]  # (1-a) I + a W_rec D
    H = net.n_rec
    if kind == "gru":
        W_r, W_z, W_n = net.W_hh[:H], net.W_hh[H:2 * H], net.W_hh[2 * H:]
        r, z, n = P["r"], P["z"], P["n"]
        dr = (r * (1 - r))[:, :, None] * W_r  # (B, H, H) dr/dh
        dz = (z * (1 - z))[:, :, None] * W_z
        dn = (1 - n * n)[:, :, None] * (P["m_n"][:, :, None] * dr + r[:, :, None] * W_n)
        J = (1 - z)[:, :, None] * dn + (x - n)[:, :, None] * dz
        J[:, np.arange(H), np.arange(H)] += z
        return J
    W_i, W_f, W_g, W_o = (net.W_hh[k * H:(k + 1) * H] for k in range(4))
    i, f, g, o, c, tc = P["i"], P["f"], P["g"], P["o"], P["c"], P["tc"]
    col = lambda v: v[:, :, None]  # noqa: E731 - (B, H) -> (B, H, 1), scales rows
    dc_dh = col(c * f * (1 - f)) * W_f + col(g * i * (1 - i)) * W_i + col(i * (1 - g * g)) * W_g  # (B, H, H)
    k = o * (1 - tc * tc)  # dh'/dc'
    J = np.zeros((B, 2 * H, 2 * H))
    J[:, :H, :H] = col(tc * o * (1 - o)) * W_o + col(k) * dc_dh
    J[:, :H, H:] = np.einsum("bi,ij->bij", k * f, np.eye(H))
    J[:, H:, :H] = dc_dh
    J[:, H:, H:] = np.einsum("bi,ij->bij", f, np.eye(H))
    return J


def jvp(net, x, u, V) -> np.ndarray:
    """J(x) V for tangent vectors V (B, n, k): (B, n, k). No J is formed: one or two matrix products."""
    x = _states(net, x)
    u = _inputs(net, u, x.shape[0])
    kind = _kind(net)
    if kind in ("rate", "current"):
        P, a = _parts(net, x, u), net.alpha
        D = P["D"][:, :, None]  # (B, N, 1)
        if kind == "rate":
            return (1 - a) * V + a * D * np.matmul(net.W_rec, V)
        return (1 - a) * V + a * np.matmul(net.W_rec, D * V)
    P, H, col = _parts(net, x, u), net.n_rec, (lambda v: v[:, :, None])  # col: (B, H) -> (B, H, 1)
    if kind == "gru":  # forward mode through r, z and n; the (B, H, H) Jacobian is never formed
        dG = np.matmul(net.W_hh, V)  # (B, 3H, k): the tangents of [m_r, m_z, m_n]
        r, z, n = P["r"], P["z"], P["n"]
        dr, dz = col(r * (1 - r)) * dG[:, :H], col(z * (1 - z)) * dG[:, H:2 * H]
        dn = col(1 - n * n) * (col(P["m_n"]) * dr + col(r) * dG[:, 2 * H:])
        return col(1 - z) * dn + col(P["h"] - n) * dz + col(z) * V
    dA = np.matmul(net.W_hh, V[:, :H])  # (B, 4H, k): the tangents of [a_i, a_f, a_g, a_o]
    i, f, g, o, c, tc = P["i"], P["f"], P["g"], P["o"], P["c"], P["tc"]
    dc = (col(c * f * (1 - f)) * dA[:, H:2 * H] + col(g * i * (1 - i)) * dA[:, :H]
          + col(i * (1 - g * g)) * dA[:, 2 * H:3 * H] + col(f) * V[:, H:])
    dh = col(tc * o * (1 - o)) * dA[:, 3 * H:] + col(o * (1 - tc * tc)) * dc
    return np.concatenate([dh, dc], axis=1)


def vjp(net, x, u, W) -> np.ndarray:
    """J(x)^T w for row vectors W (B, n): (B, n); what the gradient of q needs. No J is formed."""
    x = _states(net, x)
    return _vjp(net, _parts(net, x, _inputs(net, u, x.shape[0])), W)


def _vjp(net, P: dict, W) -> np.ndarray:
    """:func:`vjp` from the step's parts P (:func:`_parts`), so that q and its gradient share one forward pass."""
    kind, H = _kind(net), net.n_rec
    if kind in ("rate", "current"):
        a = net.alpha
        if kind == "rate":
            return (1 - a) * W + a * (P["D"] * W) @ net.W_rec
        return (1 - a) * W + a * P["D"] * (W @ net.W_rec)
    if kind == "gru":  # reverse mode: the gradients of [m_r, m_z, m_n], then one product with W_hh
        r, z, n = P["r"], P["z"], P["n"]
        dn = W * (1 - z) * (1 - n * n)  # dL/d(pre-activation of n)
        G = np.concatenate([dn * P["m_n"] * r * (1 - r), W * (P["h"] - n) * z * (1 - z), dn * r], axis=1)
        return z * W + G @ net.W_hh
    i, f, g, o, c, tc = P["i"], P["f"], P["g"], P["o"], P["c"], P["tc"]
    w_h, w_c = W[:, :H], W[:, H:]
    dc = w_c + w_h * o * (1 - tc * tc)  # dL/dc_new
    G = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g), w_h * tc * o * (1 - o)],
                       axis=1)  # dL/d[a_i, a_f, a_g, a_o]
    return np.concatenate([G @ net.W_hh, dc * f], axis=1)


def trajectory(net, inputs, x0=None) -> np.ndarray:
    """Iterate the map over ``inputs`` (B, T, n_in) from x0 ((n,) or (B, n); None: the network's own).

    Returns the states (B, T, n) after each step; for rnn and GRU these are ``ann.forward``'s states, for the
    LSTM [h; c] (forward reports h only)."""
    u = check_finite(as_array(inputs, "inputs", ndim=3, dtype=float), "inputs")
    B, T, _ = u.shape
    x = _states(net, initial_state(net) if x0 is None else x0, "x0")
    x = np.broadcast_to(x, (B, x.shape[1])).copy()
    out = np.empty((B, T, x.shape[1]))
    for t in range(T):
        x = step(net, x, u[:, t])
        out[:, t] = x
    return out


def readout(net, x) -> np.ndarray:
    """The network's output at states x (B, n): g(W_out s + b_out), s = r, f(x), or h."""
    x = _states(net, x)
    s = equations.source(net, x) if _kind(net) in ("rate", "current") else x[:, :net.n_rec]  # h for gated cells
    return equations.readout(net.W_out, net.b_out, s, net.output_activation)


# -- Lyapunov exponents ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lyapunov:
    """Lyapunov exponents per second, (B, k) for B initial states; ``per_tau`` and ``per_step`` convert."""

    exponents: np.ndarray  # (B, k) per second, largest first
    sim_dt: float  # the map's step, seconds
    tau: float | None  # the network's time constant (None for gated cells)
    method: str
    duration: float  # seconds averaged over, after the transient

    @property
    def per_tau(self) -> np.ndarray:
        if self.tau is None:
            raise ValueError(f"Lyapunov.per_tau: a {self.method} estimate of a gated network has no tau; use "
                             "exponents (per second) or per_step")
        return self.exponents * self.tau

    @property
    def per_step(self) -> np.ndarray:
        return self.exponents * self.sim_dt

    @property
    def largest(self) -> float:
        """The largest exponent per second, averaged over the initial states."""
        return float(np.mean(self.exponents[:, 0]))


def _fine(net, sim_dt):
    """(the network stepped at sim_dt, k substeps per task step)."""
    k, sim_dt = substeps(net.dt, sim_dt)
    if k > 1:
        if _kind(net) not in ("rate", "current"):
            raise ValueError(f"sim_dt: a gated {net.cell.upper()} is a discrete map with no time constant; "
                             "leave sim_dt=None")
        net = net.replace(dt=sim_dt)
    return net, k


def _start(net, x0, n_states, rng) -> np.ndarray:
    """(B, n) initial states: x0 given, or the network's x0 plus N(0, 1) noise when it is all zeros."""
    if x0 is not None:
        return _states(net, x0, "x0").copy()
    x = np.broadcast_to(initial_state(net), (n_states, state_size(net))).copy()
    if not np.any(x):  # zero is a fixed point of an input-free tanh network: start off it
        x += as_rng(rng).standard_normal(x.shape)
    return x


def lyapunov_qr(net, duration: float, *, transient: float = 0.0, u=None, k: int = 1, x0=None, n_states: int = 1,
                sim_dt=None, rng=0, progress: bool = False) -> Lyapunov:
    """The k largest Lyapunov exponents by Benettin's QR method on the tangent map (module docstring).

    duration, transient: seconds (the transient is run first, the tangent vectors aligning too). u: a constant
    input (n_in,) (None: zero). x0: (n,) or (B, n) initial states; None takes the network's x0 for ``n_states``
    states, with N(0, 1) noise added when it is all zeros. sim_dt: a finer Euler step net.dt / m towards the
    continuous-time limit (rnn cells only). Recurrent noise (sigma) is ignored: this is the deterministic map.
    """
    from tqdm import tqdm

    net, _ = _fine(net, sim_dt)
    dt = net.dt
    k = check_positive(k, "lyapunov_qr k", integer=True)
    n_tr = int(round(check_positive(transient, "lyapunov_qr transient", allow_zero=True) / dt))
    n_run = int(round(check_positive(duration, "lyapunov_qr duration") / dt))
    rng = as_rng(rng)
    x = _start(net, x0, n_states, rng)
    B, n = x.shape
    if k > n:
        raise ValueError(f"lyapunov_qr k: at most the state size {n} exponents, got k = {k}")
    u = _inputs(net, u, B)
    Q, _ = np.linalg.qr(rng.standard_normal((B, n, k)))  # (B, n, k)
    total = np.zeros((B, k))
    for t in tqdm(range(n_tr + n_run), disable=not progress, desc="lyapunov", unit="step", leave=False):
        V = jvp(net, x, u, Q)  # (B, n, k) tangent vectors through J(x_t)
        x = step(net, x, u)
        if k == 1:
            norm = np.linalg.norm(V, axis=1)  # (B, 1)
            Q = V / norm[:, None]
            growth = norm
        else:
            Q, R = np.linalg.qr(V)
            growth = np.abs(np.diagonal(R, axis1=1, axis2=2))  # (B, k)
        if t >= n_tr:
            total += np.log(growth)
    order = np.argsort(-total, axis=1)
    total = np.take_along_axis(total, order, axis=1)
    return Lyapunov(total / (n_run * dt), dt, getattr(net, "tau", None), "qr", n_run * dt)


def lyapunov_twin(net, duration: float, *, transient: float = 0.0, renorm: float | None = None, delta0: float = 1e-8,
                  u=None, x0=None, n_states: int = 1, sim_dt=None, rng=0) -> Lyapunov:
    """The largest Lyapunov exponent from two trajectories delta0 apart (the twin or Benettin two-particle method).

    Every ``renorm`` seconds (default: net.dt of the map, i.e. every step) the distance d is measured, log(d /
    delta0) is summed, and the twin is put back at distance delta0 along its current separation. Other arguments
    as :func:`lyapunov_qr`.
    """
    net, _ = _fine(net, sim_dt)
    dt = net.dt
    m = 1 if renorm is None else max(1, int(round(check_positive(renorm, "lyapunov_twin renorm") / dt)))
    n_tr = int(round(check_positive(transient, "lyapunov_twin transient", allow_zero=True) / dt))
    n_blocks = max(1, int(round(check_positive(duration, "lyapunov_twin duration") / dt)) // m)
    rng = as_rng(rng)
    x = _start(net, x0, n_states, rng)
    u = _inputs(net, u, x.shape[0])
    v = rng.standard_normal(x.shape)
    y = x + delta0 * v / np.linalg.norm(v, axis=1, keepdims=True)
    total = np.zeros(x.shape[0])
    n_tr_blocks = -(-n_tr // m)  # the transient aligns the separation too, as it does QR's tangent vectors
    for j in range(n_tr_blocks + n_blocks):
        for _ in range(m):
            x, y = step(net, x, u), step(net, y, u)
        d = np.linalg.norm(y - x, axis=1)  # (B,)
        if j >= n_tr_blocks:
            total += np.log(d / delta0)
        y = x + (delta0 / d)[:, None] * (y - x)
    return Lyapunov((total / (n_blocks * m * dt))[:, None], dt, getattr(net, "tau", None), "twin", n_blocks * m * dt)


def lyapunov_substrate(net, duration: float, *, substrate: str = "rate", transient: float = 0.0, renorm: float,
                       delta0: float = 1e-6, rng=0, progress: bool = False, **simulate_options) -> Lyapunov:
    """The largest Lyapunov exponent measured on a substrate of :func:`neurosim.simulate` by twin runs.

    One run of ``transient + duration`` seconds from ``net.x0`` gives the reference trajectory; a perturbed twin,
    started at distance ``delta0`` from it, is run ``renorm`` seconds at a time, each run restarted (through the
    network's ``x0``) from the reference state plus its renormalised separation, so the estimate is made on the
    substrate's own equations. As in :func:`lyapunov_twin`, the blocks of the transient align the separation
    and are not counted; on ``substrate="ann"`` this is :func:`lyapunov_twin` run through ``simulate``. Zero input. ``simulate_options`` go to ``simulate`` (e.g. ``sim_dt``, ``device``).
    A RateNetwork with x0 = 0 and no input sits on a fixed point: give it a nonzero x0.
    """
    from tqdm import tqdm

    from ..simulate import simulate
    from ..tasks import Trials

    dt = net.dt
    m = max(1, int(round(check_positive(renorm, "lyapunov_substrate renorm") / dt)))
    n_tr = int(round(check_positive(transient, "lyapunov_substrate transient", allow_zero=True) / dt))
    n_blocks = max(1, int(round(check_positive(duration, "lyapunov_substrate duration") / dt)) // m)

    k, sim_dt = substeps(dt, simulate_options.get("sim_dt"))
    if substrate == "ann" and k > 1:  # the ANN's own step is the task step: Euler at sim_dt = dt / k, k steps
        simulate_options = {key: v for key, v in simulate_options.items() if key != "sim_dt"}
    run_net = net.replace(dt=sim_dt) if substrate == "ann" and k > 1 else net
    per_task = k if run_net is not net else 1

    def run(x_start, T):  # T task steps from x_start: (T, N) states at the ends of the task steps
        Ts = T * per_task
        trials = Trials(inputs=np.zeros((1, Ts, net.n_in)), targets=np.zeros((1, Ts, net.n_out)),
                        mask=np.zeros((1, Ts, net.n_out)), dt=run_net.dt, info={})
        res = simulate(run_net.replace(x0=np.asarray(x_start, dtype=net.dtype)), trials, substrate=substrate,
                       noise_mode=None, **simulate_options)
        return res.states[0, per_task - 1::per_task]  # (T, N)

    n_tr_blocks = -(-n_tr // m)  # the transient aligns the separation too, as in lyapunov_twin
    x_start = np.asarray(net.x0, dtype=float)
    ref = run(x_start, (n_tr_blocks + n_blocks) * m)  # (steps, N): ref[j] is the state j + 1 steps after x0
    rng = as_rng(rng)
    v = rng.standard_normal(net.n_rec)
    y0 = x_start + delta0 * v / np.linalg.norm(v)
    total = 0.0
    for j in tqdm(range(n_tr_blocks + n_blocks), disable=not progress, desc=f"twin ({substrate})", unit="run",
                  leave=False):
        y = run(y0, m)[-1]
        x = ref[(j + 1) * m - 1]
        d = float(np.linalg.norm(y - x))
        if j >= n_tr_blocks:
            total += np.log(d / delta0)
        y0 = x + (delta0 / d) * (y - x)
    return Lyapunov(np.array([[total / (n_blocks * m * dt)]]), sim_dt, getattr(net, "tau", None),
                    f"twin ({substrate})", n_blocks * m * dt)


def mean_field_discrete(g: float, activation: str = "tanh", n_quad: int = 101, iters: int = 500) -> tuple[float, float]:
    """Mean-field (Delta, largest exponent per step) of r_t = f(W r_{t-1}), W_ij ~ N(0, g^2 / N), as N -> inf.

    Delta = g^2 <f(sqrt(Delta) z)^2> (iterated from Delta = 1, the nonzero solution when g > 1 for tanh) and
    lambda = 1/2 ln(g^2 <f'(sqrt(Delta) z)^2>), z ~ N(0, 1) by Gauss-Hermite quadrature.
    """
    g = check_positive(g, "mean_field_discrete g")
    act = activations.get(activation)
    z, w = np.polynomial.hermite_e.hermegauss(n_quad)
    w = w / w.sum()  # E[h(z)] = sum w h(z), z ~ N(0, 1)
    delta = 1.0
    for _ in range(iters):
        delta = g * g * float(np.sum(w * act.f(np.sqrt(delta) * z) ** 2))
    h = np.sqrt(delta) * z
    slope = act.df(h, act.f(h))
    return delta, 0.5 * float(np.log(g * g * np.sum(w * slope ** 2)))


def _pair_average(f, delta: float, delta0: float, z: np.ndarray, w: np.ndarray) -> float:
    """<f(h) f(h')> for jointly Gaussian h, h' of variance delta0 and covariance delta (0 <= delta <= delta0):
    h = sqrt(delta0 - delta) x + sqrt(delta) y, h' = sqrt(delta0 - delta) x' + sqrt(delta) y, by Gauss-Hermite
    quadrature over the shared y and the private x (nodes z, weights w summing to 1)."""
    a, b = np.sqrt(max(delta0 - delta, 0.0)), np.sqrt(max(delta, 0.0))
    inner = w @ f(a * z[:, None] + b * z[None, :])  # (y,) the average over x at each y
    return float(w @ inner**2)


def chaotic_variance(g: float, *, n_quad: int = 80) -> float:
    """Delta0 = <h^2> of the chaotic mean-field state of tau dr/dt = -r + tanh(W r) at g > 1 (h = W r): the
    nonzero root of Delta0^2 / 2 = g^2 (<Phi(h)^2> - <Phi(h)>^2), Phi = log cosh, h ~ N(0, Delta0) (Sompolinsky,
    Crisanti & Sommers 1988; energy conservation of the particle in :func:`mean_field_continuous`)."""
    from scipy import optimize

    g = check_positive(g, "chaotic_variance g")
    if g <= 1:
        raise ValueError(f"chaotic_variance g: expected g > 1 (below it the only state is h = 0), got {g}")
    z, w = np.polynomial.hermite_e.hermegauss(n_quad)
    w = w / w.sum()
    log_cosh = lambda h: np.logaddexp(h, -h) - np.log(2.0)  # noqa: E731 - its derivative is tanh

    def energy(d0):  # Delta0^2 / 2 - g^2 (<Phi^2> - <Phi>^2): zero at the chaotic solution
        return d0 * d0 / 2 - g * g * (_pair_average(log_cosh, d0, d0, z, w) - _pair_average(log_cosh, 0.0, d0, z, w))

    hi = 1.0
    while energy(hi) < 0:
        hi *= 2.0
    return float(optimize.brentq(energy, 1e-9, hi, xtol=1e-14))


@functools.lru_cache(maxsize=256)  # a pure function of its numbers, asked once per seed by the experiments
def mean_field_continuous(g: float, *, n_quad: int = 80, horizon: float = 60.0, n_grid: int = 6001) -> float:
    """The largest Lyapunov exponent per tau of tau dr/dt = -r + tanh(W r), W_ij ~ N(0, g^2 / N), as N -> inf.

    g < 1: g - 1 (the zero state, whose Jacobian -I + g W has its spectral edge at g - 1). g > 1, the chaotic
    state of dynamic mean-field theory (Sompolinsky, Crisanti & Sommers 1988; Crisanti & Sompolinsky 2018), in
    units of tau, for the currents h = W r (which carry the same exponents as r):

    1. the autocorrelation Delta(s) = <h(t) h(t+s)> moves as a particle, Delta'' = Delta - g^2 C_tanh(Delta), from
       Delta(0) = Delta0 with Delta'(0) = 0 to Delta -> 0, where C_f(Delta) = <f(h) f(h')> for covariance Delta
       (:func:`_pair_average`); energy conservation fixes Delta0: Delta0^2 / 2 = g^2 (<Phi^2> - <Phi>^2),
       Phi = log cosh (Phi' = tanh), h ~ N(0, Delta0);
    2. a perturbation's correlation D(t, t') = e^{2 lambda T} psi(t - t') obeys (d_t + 1)(d_t' + 1) D =
       g^2 C_tanh'(Delta(t - t')) D, so psi is an eigenfunction of H = -d^2/ds^2 - g^2 C_tanh'(Delta(s)) with
       eigenvalue -(1 + lambda)^2: the largest exponent comes from H's ground state E0, lambda = -1 + sqrt(-E0).

    Numerically: Gauss-Hermite quadrature (``n_quad`` nodes), the ODE of 1 integrated until Delta < 1e-8 Delta0
    (then 0) on [0, ``horizon``] tau, and H as a finite-difference matrix on ``n_grid`` points of [-horizon,
    horizon] with Dirichlet ends (the lowest eigenvalue by scipy's tridiagonal solver). Converged to about 1e-6 at
    g >= 1.2 (doubling horizon and grid); near g = 1 the correlation time diverges and ``horizon`` must grow. The
    exponent vanishes as (g - 1)^2 above the transition (tests/test_dynamics.py).
    """
    from scipy import integrate, linalg

    g = check_positive(g, "mean_field_continuous g", allow_zero=True)
    if g <= 1:
        return g - 1.0
    z, w = np.polynomial.hermite_e.hermegauss(n_quad)
    w = w / w.sum()
    sech2 = lambda h: 1.0 - np.tanh(h) ** 2  # noqa: E731
    delta0 = chaotic_variance(g, n_quad=n_quad)

    def motion(_, y):  # (Delta, Delta')
        return [y[1], y[0] - g * g * _pair_average(np.tanh, min(max(y[0], 0.0), delta0), delta0, z, w)]

    def decayed(_, y):
        return y[0] - 1e-8 * delta0

    decayed.terminal = True
    sol = integrate.solve_ivp(motion, [0.0, horizon], [delta0, 0.0], events=decayed, rtol=1e-10, atol=1e-13,
                              dense_output=True, max_step=0.05)
    s = np.linspace(0.0, horizon, n_grid // 2 + 1)  # (n,) lags in tau
    delta = np.where(s <= sol.t[-1], sol.sol(np.minimum(s, sol.t[-1]))[0], 0.0).clip(0.0, delta0)
    well = -g * g * np.array([_pair_average(sech2, d, delta0, z, w) for d in delta])  # (n,) the potential
    U = np.concatenate([well[:0:-1], well])  # (2n - 1,) on [-horizon, horizon]
    h = s[1] - s[0]
    E0 = linalg.eigh_tridiagonal(2.0 / h**2 + U, -np.ones(len(U) - 1) / h**2, select="i",
                                 select_range=(0, 0))[0][0]
    return float(-1.0 + np.sqrt(-E0))


# -- fixed points ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FixedPoints:
    """Unique fixed and slow points of a map at a constant input, each with its Jacobian's spectrum.

    xstar (K, n), q (K,) = 1/2 |F(x*) - x*|^2, eigenvalues (K, n) complex, largest modulus first,
    n_unstable (K,) the number outside the unit circle, kind (K,) "stable", "saddle", "unstable" or "slow",
    outputs (K, n_out) the readout at each point, u (n_in,) the input, tol_q the fixed/slow threshold.
    """

    xstar: np.ndarray
    q: np.ndarray
    eigenvalues: np.ndarray
    n_unstable: np.ndarray
    kind: np.ndarray
    outputs: np.ndarray
    u: np.ndarray
    tol_q: float
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.q)

    @property
    def is_fixed(self) -> np.ndarray:
        return self.q < self.tol_q

    def select(self, kind: str | None = None, n_unstable: int | None = None) -> np.ndarray:
        """Indices of the fixed points (q < tol_q) of a kind and/or with a number of unstable directions."""
        keep = self.is_fixed.copy()
        if kind is not None:
            keep &= self.kind == kind
        if n_unstable is not None:
            keep &= self.n_unstable == n_unstable
        return np.flatnonzero(keep)


def _q_and_grad(net, X, u):
    """q per state (B,) and its gradient (B, n): dq/dx = (J - I)^T (F(x) - x). X (B, n), u (B, n_in)."""
    P = _parts(net, X, u)
    R = P["F"] - X  # (B, n)
    return 0.5 * np.sum(R * R, axis=1), _vjp(net, P, R) - R


def _solve_or_lstsq(A, b):
    try:
        return np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(A, b, rcond=None)[0]


def _newton(net, X, u, iters: int):
    """Newton steps on F(x) - x = 0, each kept only where it lowers q. Returns (X, q)."""
    q, _ = _q_and_grad(net, X, u)
    n = X.shape[1]
    for _ in range(iters):
        R = step(net, X, u) - X
        A = jacobian(net, X, u) - np.eye(n)  # (B, n, n)
        try:
            dX = np.linalg.solve(A, -R[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # one singular matrix fails the whole batch: least squares for those only
            dX = np.stack([_solve_or_lstsq(A_b, -r_b) for A_b, r_b in zip(A, R)])
        X_new = X + dX
        q_new, _ = _q_and_grad(net, X_new, u)
        better = np.isfinite(q_new) & (q_new < q)
        X, q = np.where(better[:, None], X_new, X), np.where(better, q_new, q)
        if np.all(q < 1e-28):
            break
    return X, q


def find_fixed_points(net, states, *, u=None, n_inits: int = N_INITS, init_noise: float = INIT_NOISE,
                      tol_q: float = TOL_Q, tol_unique: float = TOL_UNIQUE,
                      outlier_distance_scale: float = OUTLIER_DISTANCE_SCALE, max_iters: int = 2000,
                      newton_iters: int = 10, max_q: float | None = None, rng=0) -> FixedPoints:
    """Fixed and slow points of the map at the constant input ``u`` (None: zero), FixedPointFinder's way.

    states: (B, T, n) or (M, n) states to sample the initial points from (e.g. :func:`trajectory` on task
    trials); ``n_inits`` of them are drawn (with replacement) and ``init_noise`` * N(0, 1) is added. Each is moved
    to a minimum of q (L-BFGS on all jointly, ``max_iters``, then ``newton_iters`` Newton steps), points farther
    than ``outlier_distance_scale`` times the initial states' mean distance from their centroid are dropped,
    points closer than ``tol_unique`` merged (the lowest q kept), and points with q above ``max_q`` (default:
    keep all minima) dropped. Points with q < tol_q are fixed points; the others are slow points.
    """
    S = as_array(states, "states", dtype=float)
    S = S.reshape(-1, S.shape[-1]) if S.ndim == 3 else S
    S = _states(net, S, "states")
    n_inits = check_positive(n_inits, "find_fixed_points n_inits", integer=True)
    init_noise = check_positive(init_noise, "find_fixed_points init_noise", allow_zero=True)
    rng = as_rng(rng)
    X0 = S[rng.integers(0, S.shape[0], n_inits)] + init_noise * rng.standard_normal((n_inits, S.shape[1]))  # (B, n)
    info = {"n_inits": n_inits, "init_noise": init_noise}
    return _search(net, X0, u, tol_q, tol_unique, outlier_distance_scale, max_iters, newton_iters, max_q, info)


def _search(net, X0, u, tol_q, tol_unique, outlier_distance_scale, max_iters, newton_iters, max_q, info):
    """find_fixed_points from the initial states X0 (B, n): minimise, drop outliers, merge, classify."""
    from scipy.optimize import minimize

    uu = _inputs(net, u, X0.shape[0])
    B, n = X0.shape

    def fun(flat):
        q, grad = _q_and_grad(net, flat.reshape(B, n), uu)
        return float(q.sum()), grad.ravel()

    opt = minimize(fun, X0.ravel(), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iters, "ftol": 0.0, "gtol": 1e-14, "maxcor": 20})
    X, q = _newton(net, opt.x.reshape(B, n), uu, newton_iters)

    centroid = X0.mean(axis=0)
    spread = np.mean(np.linalg.norm(X0 - centroid, axis=1))
    keep = np.linalg.norm(X - centroid, axis=1) < outlier_distance_scale * spread
    keep &= np.isfinite(q)
    if max_q is not None:
        keep &= q < max_q
    info = {**info, "tol_unique": tol_unique, "n_outliers": int(np.sum(~keep)), "lbfgs_iterations": int(opt.nit),
            "lbfgs_message": str(opt.message)}
    return _classified(net, X[keep], q[keep], _inputs(net, u, 1)[0], tol_q, tol_unique, info)


def _classified(net, X, q, u0, tol_q: float, tol_unique: float, info: dict) -> FixedPoints:
    """The unique points of X (closer than tol_unique: the lowest q kept), each classified by its spectrum."""
    order = np.argsort(q)
    unique: list[int] = []
    for i in order:  # lowest q first: a duplicate keeps the better point
        if not unique or np.min(np.linalg.norm(X[unique] - X[i], axis=1)) > tol_unique:
            unique.append(i)
    X, q = X[unique], q[unique]
    n = X.shape[1]
    if len(q):
        eig = np.linalg.eigvals(jacobian(net, X, u0))  # (K, n)
        eig = np.take_along_axis(eig, np.argsort(-np.abs(eig), axis=1), axis=1)
        n_unstable = np.sum(np.abs(eig) > 1.0, axis=1)
        outputs = readout(net, X)
    else:
        eig, n_unstable, outputs = np.zeros((0, n), complex), np.zeros(0, int), np.zeros((0, net.n_out))
    kind = np.where(n_unstable == 0, "stable", np.where(n_unstable == n, "unstable", "saddle")).astype(object)
    kind[q >= tol_q] = "slow"
    return FixedPoints(X, q, eig, n_unstable, kind.astype(str), outputs, np.array(u0), tol_q, info)


def search_between_stable(net, fps: FixedPoints, *, per_pair: int = 8, init_noise: float = 0.05, rng=0,
                          outlier_distance_scale: float = OUTLIER_DISTANCE_SCALE, max_iters: int = 2000,
                          newton_iters: int = 10, max_q: float | None = None) -> FixedPoints:
    """A second search started where saddles between attractors lie: on the segments joining each pair of
    ``fps``' stable fixed points (``per_pair`` points at uniform random fractions in [0.2, 0.8] of each segment,
    plus ``init_noise`` * N(0, 1)). Returns the union with ``fps`` (duplicates merged, the lowest q kept).

    Sampling trajectories, as FixedPointFinder does, can miss a saddle that the trajectories only pass at a
    distance; the saddle between two attractors sits on the ridge that separates their basins, which every path
    from one to the other crosses. The tolerances are ``fps``' (tol_q, tol_unique); the other options are
    :func:`find_fixed_points`'."""
    per_pair = check_positive(per_pair, "search_between_stable per_pair", integer=True)
    init_noise = check_positive(init_noise, "search_between_stable init_noise", allow_zero=True)
    stable = fps.select("stable")
    if len(stable) < 2:
        return fps
    rng = as_rng(rng)
    pairs = [(a, b) for k, a in enumerate(stable) for b in stable[k + 1:]]
    frac = rng.uniform(0.2, 0.8, (len(pairs), per_pair, 1))
    A, B = fps.xstar[[a for a, _ in pairs]], fps.xstar[[b for _, b in pairs]]  # (P, n)
    X0 = (A[:, None] + frac * (B - A)[:, None]).reshape(-1, A.shape[1])  # (P per_pair, n)
    X0 = X0 + init_noise * rng.standard_normal(X0.shape)
    tol_unique = fps.info.get("tol_unique", TOL_UNIQUE)
    found = _search(net, X0, fps.u, fps.tol_q, tol_unique, outlier_distance_scale, max_iters, newton_iters, max_q,
                    {"n_inits": len(X0), "init_noise": init_noise})
    info = {**fps.info, "between_stable": {"pairs": len(pairs), "per_pair": per_pair, "init_noise": init_noise,
                                           "found": len(found)}}
    return _classified(net, np.concatenate([fps.xstar, found.xstar]), np.concatenate([fps.q, found.q]), fps.u,
                       fps.tol_q, tol_unique, info)


def saddle_graph(net, fps: FixedPoints, *, eps: float = 1e-3, max_steps: int = 5000, tol: float = 1e-6) -> list:
    """Which stable points each one-unstable saddle connects: the graph of the attractor landscape.

    From each fixed saddle with one unstable direction, the map is iterated from x* +- eps v (v the unstable
    eigenvector) until it settles (step below ``tol``); each end is matched to the nearest stable fixed point.
    Returns a list of (saddle index, stable index, stable index) with the two stable indices sorted; an end that
    settles nowhere near a stable point gets -1.
    """
    stable = fps.select("stable")
    edges = []
    for s in fps.select("saddle", n_unstable=1):
        eigval, eigvec = np.linalg.eig(jacobian(net, fps.xstar[s], fps.u)[0])
        v = np.real(eigvec[:, np.argmax(np.abs(eigval))])
        x = np.stack([fps.xstar[s] + eps * v, fps.xstar[s] - eps * v])  # (2, n)
        for _ in range(max_steps):
            x_new = step(net, x, fps.u)
            done = np.max(np.abs(x_new - x)) < tol
            x = x_new
            if done:
                break
        ends = []
        for end in x:
            if len(stable) == 0:
                ends.append(-1)
                continue
            d = np.linalg.norm(fps.xstar[stable] - end, axis=1)
            ends.append(int(stable[np.argmin(d)]) if np.min(d) < 1e-3 * max(1.0, np.linalg.norm(end)) else -1)
        edges.append((int(s), *sorted(ends)))
    return edges


def fixed_point_residual(net, fps: FixedPoints, *, substrate: str = "rate", n_steps: int = 1,
                         **simulate_options) -> np.ndarray:
    """|F(x*) - x*| for each point, F being one task step of a :func:`neurosim.simulate` substrate.

    Each point is run as the network's ``x0`` for ``n_steps`` task steps at the points' constant input and the
    largest deviation |x_t - x*| over those steps is returned, (K,); compare it with ``1e-6 |x*|`` (a point at
    the origin, |x*| ~ 1e-28, needs an absolute floor). For the Brian2 rate network any ``sim_dt``
    (option) has the same fixed points: F(x) = x does not depend on the step.
    """
    from ..simulate import simulate
    from ..tasks import Trials

    n_steps = check_positive(n_steps, "fixed_point_residual n_steps", integer=True)
    inputs = np.broadcast_to(fps.u, (1, n_steps, net.n_in)).copy()
    trials = Trials(inputs=inputs, targets=np.zeros((1, n_steps, net.n_out)), mask=np.zeros((1, n_steps, net.n_out)),
                    dt=net.dt, info={})
    out = np.empty(len(fps))
    for i, x in enumerate(fps.xstar):
        res = simulate(net.replace(x0=x.astype(net.dtype)), trials, substrate=substrate, noise_mode=None,
                       **simulate_options)
        out[i] = np.max(np.linalg.norm(res.states[0] - x, axis=1))
    return out
