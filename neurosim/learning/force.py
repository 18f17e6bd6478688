"""FORCE learning on the numpy substrate: Sussillo & Abbott's (2009) architecture A.

A chaotic RateNetwork learns, online and while it runs, a readout z = W_out s + b_out (s = f(x) in the current
form, s = r in the rate form) whose value is fed back to every unit through fixed weights W_fb (N, n_out),
W_fb ~ U(-1, 1). Forward Euler, alpha = dt / tau: :func:`neurosim.equations.euler_step` (the step of
:mod:`neurosim.ann`) plus the feedback, with the drive, the source s and the readout from :mod:`neurosim.equations`::

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

from .. import activations, equations
from .._validate import as_array, as_rng, check_finite, check_positive, check_shape
from ..network import RateNetwork
from .loop import NonFinite
from .loop import run as loop_run
from .rls import RLS

__all__ = ["SUBSTRATES", "reservoir", "run", "fold_feedback", "ForceRun", "FeedbackLoop", "FORCE", "prepare",
           "train", "SPARSE_BELOW"]

SUBSTRATES = ("ann", "rate")  # where force.run can learn: numpy, the Brian2 rate network
SPARSE_BELOW = 0.3  # W_rec with fewer nonzeros than this fraction is multiplied as a CSR matrix (same maths)


def one_blas_thread():
    """A context with BLAS limited to one thread (threadpoolctl; a no-op without it). FORCE's steps are
    matrix-vector products of at most a few MB: a second BLAS thread never pays, and on a busy machine its
    spin-waiting costs more than the work (measured here under load: N = 300, 500 updates, 0.29 s on one thread
    against 9.9 s on two)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scipy's usual stacks
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


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
                             input_scale=0.0, rng=rng)
    return prepare(net, x0_scale=x0_scale, rng=rng)


@dataclass(frozen=True, eq=False)
class ForceRun:
    """One FORCE run (single trajectory, time first).

    t (T,)                 seconds at the end of each step, (start + k + 1) dt
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


class FeedbackLoop:
    """The running network with output feedback: its state (x, s, z) and one Euler step at a time.

    ``W_out`` is the readout it reads (the RLS's live ``W`` while learning: updated in place). ``step(drive)``
    advances one step with ``drive`` = W_in u_t + b (N,) and returns z_t; ``learn(rls, target)`` takes one RLS
    step on the error z_t - f_t and returns it. Starts from ``net.x0`` with z = W_out s_0 + b_out.
    """

    def __init__(self, net: RateNetwork, W_fb: np.ndarray, W_out: np.ndarray):
        density = np.count_nonzero(net.W_rec) / net.W_rec.size
        self.W_rec = scipy.sparse.csr_matrix(net.W_rec) if density < SPARSE_BELOW else net.W_rec
        self.W_fb, self.W_out, self.b_out = W_fb, W_out, net.b_out
        self.f = activations.get(net.activation).f
        self.a, self.leak, self.current = net.alpha, 1.0 - net.alpha, net.form == "current"
        self.x = net.x0.astype(net.dtype, copy=True)  # (N,) the integrated variable
        self.s = np.array(equations.source(net, self.x))  # (N,) what the units send (a copy in the rate form)
        self.z = equations.readout(W_out, self.b_out, self.s)  # (n_out,)

    def step(self, drive: np.ndarray) -> np.ndarray:
        """One Euler step (the module docstring's equations); returns z_t (n_out,)."""
        u = self.W_rec @ self.s  # (N,) W_rec s_{t-1}
        u += self.W_fb @ self.z  # + W_fb z_{t-1}
        u += drive  # + W_in u_t + b
        self.x *= self.leak
        if self.current:
            self.x += self.a * u
            if isinstance(self.f, np.ufunc):
                self.f(self.x, out=self.s)  # s_{t-1} has been read: overwrite it
            else:
                self.s = self.f(self.x)
        else:
            self.x += self.a * self.f(u)
            self.s = self.x
        self.z = equations.readout(self.W_out, self.b_out, self.s)  # (n_out,) z_t = W_out s_t + b_out
        return self.z

    def learn(self, rls: RLS, target: np.ndarray) -> np.ndarray:
        """One RLS step on e = z_t - f_t (z_t stays as measured: it is fed back at the next step); returns e."""
        e = self.z - target  # (n_out,)
        rls.update(self.s, e)
        return e


def _check_net(net, where: str) -> RateNetwork:
    if not isinstance(net, RateNetwork):
        raise TypeError(f"{where}: expected a RateNetwork, got {type(net).__name__}")
    if net.output_activation != "identity":
        raise ValueError(f"{where}: expected an identity readout (net.output_activation = 'identity'), got "
                         f"{net.output_activation!r}; FORCE learns the linear readout z = W_out s + b_out")
    return net


def _make_rls(net, rls, alpha, step, where):
    if rls is None:
        return RLS(net.n_rec, net.n_out, alpha=alpha, step=step, W0=net.W_out, dtype=net.dtype)
    if rls.W.shape != net.W_out.shape or not np.array_equal(rls.W, net.W_out):
        raise ValueError(f"{where} rls: its W must be the network's W_out (continue from run.net and run.rls)")
    return rls


def run_arguments(net, n_steps, targets, inputs, learn: bool, every, start, where: str, dtype):
    """The checked ``(T, targets, inputs, every, start)`` of a FORCE run (numpy and Brian2 alike): targets
    (T, n_out) or None, inputs (T, n_in) or None, T taken from the targets when ``n_steps`` is None."""
    n_out = net.n_out
    if targets is not None:
        targets = check_finite(as_array(targets, f"{where} targets", ndim=2, dtype=dtype), f"{where} targets")
        check_shape(targets, (None, n_out), f"{where} targets", f"targets are (n_steps, n_out = {n_out})")
        n_steps = targets.shape[0] if n_steps is None else n_steps
        check_shape(targets, (n_steps, n_out), f"{where} targets", f"one target per step (n_steps = {n_steps})")
    if n_steps is None:
        raise ValueError(f"{where}: give n_steps or targets (n_steps, n_out)")
    T = check_positive(n_steps, f"{where} n_steps", integer=True)
    if learn and targets is None:
        raise ValueError(f"{where}: learn=True needs targets (n_steps, n_out); pass learn=False to free-run")
    every = check_positive(every, f"{where} every", integer=True)
    start = check_positive(start, f"{where} start", integer=True, allow_zero=True)
    if inputs is not None:
        inputs = check_finite(as_array(inputs, f"{where} inputs", ndim=2, dtype=dtype), f"{where} inputs")
        check_shape(inputs, (T, net.n_in), f"{where} inputs", f"inputs are (n_steps, n_in = {net.n_in})")
    return T, targets, inputs, every, start


def run(net: RateNetwork, W_fb, n_steps: int | None = None, *, targets=None, inputs=None, learn: bool = True,
        rls: RLS | None = None, alpha: float = 1.0, every: int = 2, step: str = "normalised",
        start: int = 0, n_record: int = 10, progress: bool = False, substrate: str = "ann", **brian) -> ForceRun:
    """Run the network with output feedback for ``n_steps`` from ``net.x0``, learning W_out by RLS if ``learn``.

    targets: (T, n_out) f_t, needed to learn (T = n_steps).  inputs: (T, n_in) u_t or None (zero input).
    rls: an :class:`RLS` to continue (its W must equal net.W_out); else a new one with ``alpha`` and ``step``,
    initialised at W0 = net.W_out.  every: steps between updates.  start: steps already run before this call
    (the clock and the update schedule continue: an update at the steps where (start + t + 1) % every == 0).
    n_record: units whose s_t is kept.
    substrate: "ann" (numpy, here) or "rate" (the Brian2 rate network learning while Brian2 runs it,
    :func:`neurosim.brian.force.run`: the same results to rounding; ``brian`` takes its options ``device``,
    ``target``, ``sim_dt``, ``record_weights``, ``cache_dir``; ``rls`` cannot be continued there).
    Returns a :class:`ForceRun`; ``run.net`` is the network afterwards (learned W_out, x0 = the last state),
    so calling ``run`` again on it continues the trajectory.
    """
    if substrate != "ann" or brian:
        return _run_brian(net, W_fb, n_steps, substrate, rls, brian, targets=targets, inputs=inputs, learn=learn,
                          alpha=alpha, every=every, step=step, start=start, n_record=n_record)
    net = _check_net(net, "force.run")
    W_fb = _check_feedback(net, W_fb, "force.run W_fb")
    N, n_out, dtype = net.n_rec, net.n_out, net.dtype
    T, targets, inputs, every, start = run_arguments(net, n_steps, targets, inputs, learn, every, start,
                                                     "force.run", dtype)
    drive = np.broadcast_to(net.b, (T, N))  # (T, N) W_in u_t + b with u = 0
    if inputs is not None:
        drive = equations.drive(net.W_in, net.b, inputs)  # (T, N)
    rls = _make_rls(net, rls, alpha, step, "force.run") if learn else None
    loop = FeedbackLoop(net, W_fb, rls.W if learn else net.W_out.copy())  # W_out: live RLS weights or a copy
    k = min(check_positive(n_record, "force.run n_record", integer=True, allow_zero=True), N)

    outputs = np.empty((T, n_out), dtype)
    updated = np.zeros(T, bool)
    w_norm, dw_norm = np.empty(T), np.zeros(T)
    rates = np.empty((T, k), dtype)
    norm = float(np.linalg.norm(loop.W_out))
    steps = range(T)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="FORCE" if learn else "free run", leave=False)
    with one_blas_thread():
        for t in steps:
            outputs[t] = loop.step(drive[t])
            rates[t] = loop.s[:k]
            if learn and (start + t + 1) % every == 0:
                before = loop.W_out.copy()  # (n_out, N)
                loop.learn(rls, targets[t])
                updated[t] = True
                before -= loop.W_out
                dw_norm[t] = float(np.linalg.norm(before))
                norm = float(np.linalg.norm(loop.W_out))
            w_norm[t] = norm
    final = net.replace(W_out=np.array(loop.W_out), x0=np.array(loop.x))
    t_axis = (start + np.arange(T) + 1) * net.dt
    return ForceRun(t_axis, outputs, targets, updated, w_norm, dw_norm, rates, final, W_fb, rls)


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


# -- FORCE as a learning rule of the shared training loop (neurosim.learning.loop) -----------------------------


class FORCE:
    """FORCE as a rule of :func:`neurosim.learning.loop.run`: each step runs the network ``every`` Euler steps
    along the training trajectory and takes one RLS step at the last of them.

    targets (T, n_out) and inputs (T, n_in) are the one training trajectory; the loss of a step is the mean
    squared error e = z - f measured before its update (one sample, not an average: noisy by nature).
    ``snapshot()`` is W_out; ``network()`` is the folded plain RateNetwork (:func:`fold_feedback`) whose x0 is the
    state reached, so it continues the learned pattern where training stopped.
    """

    name = "force"

    def __init__(self, net: RateNetwork, W_fb, targets, *, inputs=None, alpha: float = 1.0, every: int = 2,
                 step: str = "normalised"):
        self.net = _check_net(net, "FORCE")
        self.W_fb = _check_feedback(net, W_fb, "FORCE W_fb")
        self.targets = check_finite(as_array(targets, "FORCE targets", ndim=2, dtype=net.dtype), "FORCE targets")
        check_shape(self.targets, (None, net.n_out), "FORCE targets", f"targets are (n_steps, n_out = {net.n_out})")
        T = self.targets.shape[0]
        self.drive = np.broadcast_to(net.b, (T, net.n_rec))  # (T, N)
        if inputs is not None:
            inputs = check_finite(as_array(inputs, "FORCE inputs", ndim=2, dtype=net.dtype), "FORCE inputs")
            check_shape(inputs, (T, net.n_in), "FORCE inputs", "one input per target step")
            self.drive = equations.drive(net.W_in, net.b, inputs)  # (T, N)
        self.every = check_positive(every, "FORCE every", integer=True)
        self.rls = _make_rls(net, None, alpha, step, "FORCE")
        self.loop = FeedbackLoop(net, self.W_fb, self.rls.W)
        self.t = 0  # Euler steps run so far

    def step(self, i: int) -> tuple[float, None]:
        if self.t + self.every > len(self.targets):
            raise ValueError(f"FORCE: the training trajectory has {len(self.targets)} steps, so at most "
                             f"{len(self.targets) // self.every} updates of every {self.every} steps; step {i} "
                             "asks for more: use fewer steps or a longer trajectory (the task's duration)")
        for _ in range(self.every):
            self.loop.step(self.drive[self.t])
            self.t += 1
        e = self.loop.z - self.targets[self.t - 1]
        if not np.all(np.isfinite(e)):
            raise NonFinite("error")
        self.loop.learn(self.rls, self.targets[self.t - 1])
        if not np.all(np.isfinite(self.rls.W)):
            raise NonFinite("readout weights after the update")
        return float(np.mean(e * e)), None

    def snapshot(self) -> dict:
        return {"W_out": self.rls.W.copy()}

    def network(self, params: dict | None = None) -> RateNetwork:
        W_out = self.rls.W if params is None else params["W_out"]
        trained = self.net.replace(W_out=np.array(W_out), x0=np.array(self.loop.x))
        return fold_feedback(trained, self.W_fb)


def prepare(net: RateNetwork, *, W_fb=None, x0_scale: float = 0.5, rng=0) -> tuple[RateNetwork, np.ndarray]:
    """Make any RateNetwork a FORCE reservoir: W_out = 0, b_out = 0, no connectivity mask (the fold fills W_rec),
    x0 ~ N(0, x0_scale^2) when net.x0 is all zero (a zero state with no input and no bias would stay there), and
    W_fb ~ U(-1, 1) unless given. Refuses a Dale network (the feedback term has either sign)."""
    net = _check_net(net, "force.prepare")
    if net.dale is not None:
        raise ValueError("force.prepare: the network has Dale's law (net.dale), which the folded feedback "
                         "W_fb W_out breaks; FORCE here needs dale=None")
    rng = as_rng(rng)
    W_fb = rng.uniform(-1.0, 1.0, (net.n_rec, net.n_out)) if W_fb is None else W_fb
    W_fb = _check_feedback(net, W_fb, "force.prepare W_fb")
    x0 = net.x0
    if not np.any(x0):
        x0 = check_positive(x0_scale, "force.prepare x0_scale") * rng.standard_normal(net.n_rec)
    return net.replace(W_out=np.zeros_like(net.W_out), b_out=np.zeros_like(net.b_out), x0=x0, mask=None), W_fb


def train(net: RateNetwork, data, *, steps: int | None = None, W_fb=None, alpha: float = 1.0, every: int = 2,
          step: str = "normalised", validate=None, eval_every: int = 1000, progress: bool = True, rng=0,
          substrate: str = "ann", **brian):
    """Train a readout by FORCE in the shared training loop; returns ``(folded_net, history, W_fb)``.

    data: a Task (one trial of ``steps * every`` steps is sampled with ``rng``: its ``duration`` is set to that
    length) or Trials (its first trial). steps: RLS updates (default: as many as the trajectory holds).
    The network is :func:`prepare`-d first (W_out = 0, W_fb drawn from ``rng`` unless given). ``validate``
    (``net -> (loss, metrics)``) sees the folded network. No divergence guard: single-sample FORCE errors
    fluctuate by orders of magnitude by nature; a non-finite error still stops training.
    substrate="rate": the whole trajectory in one Brian2 run (:func:`run` with ``substrate="rate"``, options
    ``brian``), the history's loss the same per-update errors, ``validate`` once at the end.
    """
    import dataclasses

    from ..tasks import Task, Trials

    rng = as_rng(rng)
    net, W_fb = prepare(net, W_fb=W_fb, rng=rng)
    every = check_positive(every, "force.train every", integer=True)
    if isinstance(data, Task):
        if data.dt != net.dt:
            raise ValueError(f"force.train: the task's dt = {data.dt} s differs from the network's dt = {net.dt} s; "
                             "make the task with dt=net.dt")
        if steps is None:
            trials = data.sample(1, rng=rng)
        elif any(f.name == "duration" for f in dataclasses.fields(data)):
            trials = dataclasses.replace(data, duration=steps * every * net.dt).sample(1, rng=rng)
        else:
            trials = data.sample(1, rng=rng)
    elif isinstance(data, Trials):
        trials = data
    else:
        raise TypeError(f"force.train data: expected a Task or Trials, got {type(data).__name__}")
    if substrate != "ann" or brian:
        return _train_brian(net, W_fb, trials, steps, every, alpha, step, validate, substrate, brian)
    rule = FORCE(net, W_fb, trials.targets[0], inputs=trials.inputs[0], alpha=alpha, every=every, step=step)
    steps = len(rule.targets) // every if steps is None else steps
    with one_blas_thread():
        folded, history = loop_run(rule, steps, validate=validate, eval_every=eval_every, divergence=None,
                                   progress=progress, desc="FORCE", name="force")
    return folded, history, W_fb


# -- the Brian2 substrates (imported lazily: the numpy core never imports brian2) ---------------------------------


def _run_brian(net, W_fb, n_steps, substrate, rls, brian: dict, **kwargs):
    """force.run on a Brian2 substrate: :func:`neurosim.brian.force.run` with the same arguments."""
    if substrate not in SUBSTRATES:
        raise ValueError(f"force.run substrate: expected one of {SUBSTRATES}, got {substrate!r}; spiking FORCE "
                         "(Nicola & Clopath) is neurosim.learning.spiking_force.train")
    if substrate == "ann":
        raise TypeError(f"force.run: Brian2 options {sorted(brian)} given with substrate='ann'; pass "
                        "substrate='rate' to run in Brian2, or drop them")
    if rls is not None:
        raise ValueError("force.run rls: a Brian2 run starts its own RLS state (P(0) = I / alpha); continuing an "
                         "RLS across runs works on substrate='ann' only")
    from ..brian import force as brian_force

    net = _check_net(net, "force.run")
    with one_blas_thread():
        return brian_force.run(net, _check_feedback(net, W_fb, "force.run W_fb"), n_steps, **kwargs, **brian)


def _train_brian(net, W_fb, trials, steps, every, alpha, step, validate, substrate, brian):
    """force.train on a Brian2 substrate: one run along the trajectory, then the fold."""
    from .loop import History

    f, u = trials.targets[0], trials.inputs[0]  # (T, n_out), (T, n_in)
    steps = len(f) // every if steps is None else check_positive(steps, "force.train steps", integer=True)
    if steps * every > len(f):
        raise ValueError(f"force.train: the training trajectory has {len(f)} steps, so at most {len(f) // every} "
                         f"updates of every {every} steps; steps = {steps} asks for more")
    T = steps * every
    run_ = _run_brian(net, W_fb, T, substrate, None, brian, targets=f[:T], inputs=u[:T], learn=True, alpha=alpha,
                      every=every, step=step, start=0, n_record=0)
    e = run_.outputs[run_.updated] - f[:T][run_.updated]  # (steps, n_out) errors before each update
    history = History(metric="loss", rule="force")
    history.loss = [float(v) for v in np.mean(e * e, axis=1)]
    folded = fold_feedback(run_.net, W_fb)
    if validate is not None:
        loss, scores = validate(folded)
        history.val_step, history.val_loss, history.val_metrics = [steps], [float(loss)], [scores]
        history.best_step = steps
    return folded, history, W_fb
