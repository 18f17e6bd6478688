"""FORCE learning inside the Brian2 rate network: Sussillo & Abbott's architecture A while Brian2 integrates it.

The network of :mod:`neurosim.brian.rate` (the same equations, :func:`neurosim.brian.rate.brian_equations`, and the
same recurrent coupling, :mod:`neurosim.brian.coupling`) with the readout fed back through fixed weights W_fb::

    dx/dt = (-x + I_rec + I_ext) / tau        I_rec = W_rec s,   I_ext = W_in u(t) + b + I_fb,   s = f(x)
    I_fb = W_fb z,   z = W_out s + b_out      (rate form: dr/dt = (-r + f(I_rec + I_ext)) / tau, s = r)

and W_out learned online by recursive least squares. The discrete-time reference is
:func:`neurosim.learning.force.run` (numpy): with ``method='euler'`` and ``sim_dt = net.dt`` Brian2 takes its
steps exactly, and the outputs and readout weights agree to rounding (tests/test_force_brian.py checks 1e-9 over
the first 50 tau, runtime and standalone).

A learning hook runs at the start of every simulation step (``before_groups``, after the coupling has what it
needs), before the state update. At Brian2 step j (time j sim_dt) the state is the numpy run's state after its
step j - 1, so the hook does the end of that step and the start of the next one, in numpy's order::

    z = W_out s + b_out                       numpy's z_{j-1}, measured before the update
    if (start + j) % every == 0 (learning):  e = z - f_{j-1};  RLS step on W_out (P(0) = I / alpha)
    I_fb = W_fb z                             the pre-update z is fed back, as in Sussillo & Abbott's code

Two implementations of the hook, one network otherwise:

- runtime: a ``NetworkOperation`` calling the numpy RLS core (:class:`neurosim.learning.rls.RLS`);
- cpp_standalone, where a network_operation is forbidden: a Brian2 ``Function`` with a C++ implementation,
  called by ``run_regularly`` at every neuron (the route of the matmul coupling); at neuron 0 it does the step's
  work, its RLS step being :data:`neurosim.brian.rls_cpp.SOURCE` (the numpy core's equations in C++).

Time alignment as in :mod:`neurosim.brian.rate`: the run lasts T dt + sim_dt; the readout and the weight norms
are sampled on the dt clock in the ``end`` slot and the states in the ``start`` slot, T + 1 samples at 0, dt,
..., T dt, of which sample k + 1 is numpy's step k. With ``sim_dt = net.dt / k`` the hook runs every simulation
step (continuous feedback) and learns only at the ends of task steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import equations
from .._validate import check_choice, check_positive, check_shape, substeps
from ..learning.rls import STEPS
from . import coupling as coupling_mod
from . import rls_cpp
from .devices import DEVICES, TARGETS, recorded, session
from .rate import _input, brian_equations

__all__ = ["run", "BrianForceRun"]


@dataclass(frozen=True, eq=False)
class BrianForceRun:
    """One FORCE run in Brian2: the fields of :class:`neurosim.learning.force.ForceRun`, and the Brian2 run's.

    weights (T, n_out, N)  W_out after each step (only with ``record_weights``; else None)
    build_time, run_time   seconds: objects, code generation and compilation; the simulation loop
    """

    t: np.ndarray
    outputs: np.ndarray
    targets: np.ndarray | None
    updated: np.ndarray
    w_norm: np.ndarray
    dw_norm: np.ndarray
    rates: np.ndarray
    net: object
    W_fb: np.ndarray
    rls: object | None  # the numpy RLS state in runtime mode; None in standalone (P stays in the C++ program)
    weights: np.ndarray | None
    build_time: float
    run_time: float
    metadata: dict = field(default_factory=dict)


def run(net, W_fb, n_steps: int | None = None, *, targets=None, inputs=None, learn: bool = True,
        alpha: float = 1.0, every: int = 2, step: str = "normalised", start: int = 0, n_record: int = 10,
        device: str = "runtime", target: str = "auto", sim_dt=None, record_weights: bool = False,
        cache_dir=None) -> BrianForceRun:
    """:func:`neurosim.learning.force.run` in the Brian2 rate network: the same arguments and results (a run
    always starts a new RLS state, P(0) = I / alpha, from W0 = net.W_out; ``start`` continues the clock and the
    update schedule, updates where (start + t + 1) % every == 0).

    device: "runtime" or "cpp_standalone"; target: "auto", "cython" or "numpy" (runtime only); sim_dt: net.dt / k
    (default net.dt, the numpy run's steps); record_weights: keep W_out after every step (T n_out N numbers).
    """
    started = time.perf_counter()
    check_choice(device, DEVICES, "device")
    check_choice(target, TARGETS, "target")
    if net.output_activation != "identity":
        raise ValueError(f"brian FORCE: expected an identity readout (net.output_activation = 'identity'), got "
                         f"{net.output_activation!r}; FORCE learns the linear readout z = W_out s + b_out")
    N, n_out = net.n_rec, net.n_out
    W_fb = check_shape(np.asarray(W_fb, dtype=np.float64), (N, n_out), "brian FORCE W_fb",
                       "one row per unit, one column per readout")
    from ..learning.force import run_arguments  # the same checks as the numpy run (a brian2-free module)

    T, targets, u, every, start = run_arguments(net, n_steps, targets, inputs, learn, every, start, "brian FORCE",
                                                np.float64)
    u = np.zeros((T, net.n_in)) if u is None else u
    alpha = check_positive(alpha, "brian FORCE alpha")
    check_choice(step, STEPS, "brian FORCE step")
    k_sub, sim_dt = substeps(net.dt, sim_dt)
    n_rec = min(check_positive(n_record, "brian FORCE n_record", integer=True, allow_zero=True), N)
    plan = _Plan(net=net, W_fb=W_fb, f=targets if learn else None, T=T, learn=learn, alpha=float(alpha),
                 step=step, every=every, start=start, substeps=k_sub, sim_dt=sim_dt)

    state_name = "r" if net.form == "rate" else "x"
    with session(device, target, cache_dir=cache_dir) as sess:
        import brian2

        built = _build(plan, u, device, n_rec, record_weights, brian2)
        before_run = time.perf_counter()
        run_time = sess.run(built["network"], T * net.dt * brian2.second + sim_dt * brian2.second,
                            namespace=built["namespace"])
        total = time.perf_counter() - started
        mon = built["monitors"]
        z = recorded(mon["z"], "z_").T  # (T + 1, n_out)
        norms = recorded(mon["stats"], "w_norm_")[0], recorded(mon["stats"], "dw_norm_")[0]  # (T + 1,) each
        states = recorded(mon["rates"], state_name + "_").T[:, :n_rec]  # (T + 1, n_rec) x or r
        x_end = np.asarray(built["final"].variables["x"].get_value()).copy()  # (N,) after numpy's last step
        W_end = np.asarray(built["weights"].variables["w"].get_value()).reshape(n_out, N).copy()
        weights = recorded(mon["w"], "w_").T.reshape(T + 1, n_out, N)[1:] if record_weights else None
        timings = dict(sess.timings, setup=before_run - started)
        version = brian2.__version__
        rls = built["rls"]

    if z.shape != (T + 1, n_out) or states.shape[0] != T + 1:
        raise RuntimeError(f"brian FORCE: expected {T + 1} readout samples, got {z.shape[0]}; the monitor "
                           "alignment is off")
    # s = f(x) from the recorded state (the standalone's stored s lags one step behind the start slot)
    rates = equations.source(net, states)  # (T + 1, n_rec)
    updated = np.zeros(T, bool)
    if learn:
        updated[(start + np.arange(T) + 1) % every == 0] = True  # numpy's schedule
    final = net.replace(W_out=W_end.astype(net.dtype), x0=x_end.astype(net.dtype))
    meta = {"substrate": "rate", "device": device, "target": sess.target, "sim_dt": sim_dt, "substeps": k_sub,
            "method": "euler", "every": every, "alpha": float(alpha), "step": step, "n_neurons": N,
            "brian2_version": version, "timings": timings}
    return BrianForceRun(t=(start + np.arange(T) + 1) * net.dt, outputs=z[1:], targets=targets, updated=updated,
                         w_norm=norms[0][1:], dw_norm=norms[1][1:], rates=rates[1:], net=final, W_fb=W_fb,
                         rls=rls, weights=weights, build_time=total - run_time, run_time=run_time, metadata=meta)


@dataclass
class _Plan:
    """What the hook needs: the network, the teacher and the learning schedule in simulation steps."""

    net: object
    W_fb: np.ndarray  # (N, n_out)
    f: np.ndarray | None  # (T, n_out) targets; None when not learning
    T: int
    learn: bool
    alpha: float
    step: str
    every: int  # task steps between RLS steps
    start: int  # task steps run before this run (the schedule continues)
    substeps: int  # simulation steps per task step
    sim_dt: float

    def learns(self, j: int) -> bool:
        """Brian2 step j ends numpy's step j / substeps - 1 with an RLS step."""
        return (self.learn and j > 0 and j % self.substeps == 0
                and (self.start + j // self.substeps) % self.every == 0)


def _build(plan: _Plan, u, device, n_record, record_weights, brian2) -> dict:
    """The Brian2 objects: the rate group with its coupling, the hook, the readout and the monitors."""
    net = plan.net
    N, n_out, T = net.n_rec, net.n_out, plan.T
    second = brian2.second
    sim_clock_dt, task_dt = plan.sim_dt * second, net.dt * second
    mode = "projected" if equations.drive_fits(T, 1, N) else "per_input"
    input_expr, namespace, params = _input(net, u[:, None, :], mode, brian2)  # W_in u + b, (T, B = 1, n_in)
    namespace["tau"] = net.tau * second
    stored = coupling_mod.needs_stored_source("matmul", device)
    eqs = brian_equations(net, input_expr=f"{input_expr} + I_fb", noise_mode=None, stored_source=stored)
    eqs += "\nI_fb : 1"
    eqs += "".join(f"\n{name} : {'integer' if name == 'trial' else '1'} (constant)" for name in params)
    group = brian2.NeuronGroup(N, eqs, method="euler", dt=sim_clock_dt, name="neurosim_force_rate")
    state_var = "r" if net.form == "rate" else "x"
    group.variables[state_var].set_value(net.x0.astype(np.float64))
    for name, value in params.items():
        group.variables[name].set_value(value)
    rec_objects, rec_namespace, _ = coupling_mod.build("matmul", net, group, 1, device, sim_clock_dt)
    namespace.update(rec_namespace)
    readout = brian2.NeuronGroup(n_out, "z : 1", dt=sim_clock_dt, name="neurosim_force_readout")
    stats = brian2.NeuronGroup(1, "w_norm : 1\ndw_norm : 1", dt=sim_clock_dt, name="neurosim_force_stats")
    weights = brian2.NeuronGroup(n_out * N, "w : 1", dt=sim_clock_dt, name="neurosim_force_weights")
    # the state after numpy's last step (time T dt), copied by the hook at its last call
    final = brian2.NeuronGroup(N, "x : 1", dt=sim_clock_dt, name="neurosim_force_final")
    weights.variables["w"].set_value(np.ascontiguousarray(net.W_out, dtype=np.float64).ravel())  # [o*N + j]
    stats.variables["w_norm"].set_value(np.array([np.linalg.norm(net.W_out)]))
    if device == "cpp_standalone":
        hook, hook_ns = _hook_cpp(plan, group, readout, stats, weights, final, brian2)
        namespace.update(hook_ns)
        rls_cpp.written_by_hook(brian2.get_device(), readout.variables["z"], weights.variables["w"],
                                final.variables["x"], stats.variables["w_norm"], stats.variables["dw_norm"])
        rls = None
    else:
        hook, rls = _hook_runtime(plan, group, readout, stats, weights, final, brian2)
    monitors = {
        "z": brian2.StateMonitor(readout, "z", record=True, dt=task_dt, when="end", name="neurosim_force_z"),
        "stats": brian2.StateMonitor(stats, ["w_norm", "dw_norm"], record=True, dt=task_dt, when="end",
                                     name="neurosim_force_norms"),
        "rates": brian2.StateMonitor(group, state_var, record=np.arange(max(n_record, 1)), dt=task_dt, when="start",
                                     name="neurosim_force_rates"),
    }
    if record_weights:
        monitors["w"] = brian2.StateMonitor(weights, "w", record=True, dt=task_dt, when="end",
                                            name="neurosim_force_weights_monitor")
    network = brian2.Network(group, *rec_objects, readout, stats, weights, final, hook, *monitors.values(),
                             name="neurosim_force_network")
    return {"network": network, "namespace": namespace, "monitors": monitors, "weights": weights, "final": final,
            "rls": rls}


def _hook_runtime(plan: _Plan, group, readout, stats, weights, final, brian2):
    """The hook as a NetworkOperation calling the numpy RLS core; returns it and the RLS state."""
    from ..learning.rls import RLS

    net = plan.net
    rls = RLS(net.n_rec, net.n_out, alpha=plan.alpha, step=plan.step, W0=net.W_out) if plan.learn else None
    W_out = rls.W if plan.learn else np.array(net.W_out, dtype=np.float64)  # (n_out, N), live
    state = group.variables["r" if net.form == "rate" else "x"].get_value()  # (N,) the live array
    source = lambda v: equations.source(net, v)  # noqa: E731 - s = r, or f(x)
    I_fb = group.variables["I_fb"].get_value()  # (N,)
    z_live = readout.variables["z"].get_value()  # (n_out,)
    w_norm, dw_norm = stats.variables["w_norm"].get_value(), stats.variables["dw_norm"].get_value()  # (1,)
    w_live = weights.variables["w"].get_value()  # (n_out * N,)
    x_final = final.variables["x"].get_value()  # (N,)
    last = plan.T * plan.substeps  # the hook's last call: time T dt
    counter = {"j": 0}

    def hook():
        j = counter["j"]
        s = source(state)  # (N,) s at time j sim_dt: numpy's s after its step j / substeps - 1
        z = equations.readout(W_out, net.b_out, s)  # (n_out,) z = W_out s + b_out, before the update
        z_live[:] = z
        dw_norm[0] = 0.0
        if plan.learns(j):
            before = W_out.copy()  # (n_out, N)
            rls.update(s, z - plan.f[j // plan.substeps - 1])
            before -= W_out
            dw_norm[0] = np.linalg.norm(before)
            w_norm[0] = np.linalg.norm(W_out)
            w_live[:] = W_out.ravel()
        np.matmul(plan.W_fb, z, out=I_fb)  # I_fb = W_fb z (pre-update z)
        if j == last:
            x_final[:] = state
        counter["j"] = j + 1

    op = brian2.NetworkOperation(hook, dt=plan.sim_dt * brian2.second, when="before_groups", order=1,
                                 name="neurosim_force_hook")
    return op, rls


def _hook_cpp(plan: _Plan, group, readout, stats, weights, final, brian2):
    """The hook as a Brian2 Function with a C++ implementation, called by run_regularly at every unit."""
    net = plan.net
    N, n_out = net.n_rec, net.n_out
    dev = brian2.get_device()
    name = lambda g, v: dev.get_array_name(g.variables[v], access_data=True)  # noqa: E731
    f = np.zeros((plan.T, n_out)) if plan.f is None else plan.f
    code = rls_cpp.SOURCE + _CPP_HOOK.format(
        N=N, n_out=n_out, every=plan.every, start=plan.start, substeps=plan.substeps, alpha=repr(plan.alpha),
        learn="true" if plan.learn else "false", normalised="true" if plan.step == "normalised" else "false",
        s=name(group, coupling_mod.source_name(net)), z=name(readout, "z"), w=name(weights, "w"),
        w_norm=name(stats, "w_norm"), dw_norm=name(stats, "dw_norm"), last=plan.T * plan.substeps,
        state=name(group, "r" if net.form == "rate" else "x"), final=name(final, "x"))
    arrays = {"neurosim_W_fb": plan.W_fb, "neurosim_f": f, "neurosim_b_out": net.b_out, "neurosim_W0": net.W_out}
    arrays = {k: np.ascontiguousarray(v, dtype=np.float64).ravel() for k, v in arrays.items()}

    def python_fallback(i, step):  # pragma: no cover - only the C++ implementation is ever used
        raise NotImplementedError("neurosim_force_rate runs only on the cpp_standalone device")

    fn = brian2.Function(python_fallback, arg_units=[1, 1], arg_names=["i", "step"],
                         arg_types=["integer", "integer"], return_unit=1, return_type="float", stateless=False)
    fn.implementations.add_implementation("cpp", code, name="neurosim_force_rate", namespace=arrays)
    # order 2: after the coupling's s = f(x) (order 0), so s is the state at the start of this step
    op = group.run_regularly("I_fb = neurosim_force_rate(i, t_in_timesteps)", dt=plan.sim_dt * brian2.second,
                             when="before_groups", order=2, name="neurosim_force_hook")
    return op, {"neurosim_force_rate": fn}


# C++: at i == 0 (the first unit of the sequential run_regularly loop) the hook's work for the whole network;
# every unit then reads its I_fb. The learning rule is neurosim_rls_update (rls_cpp.SOURCE).
_CPP_HOOK = """
static double* _neurosim_P = 0;
static double _neurosim_W[{n_out} * {N}];
static double _neurosim_W_before[{n_out} * {N}];
static double _neurosim_k[{N}];
static double _neurosim_I[{N}];
static double _neurosim_z[{n_out}];
static double _neurosim_e[{n_out}];
double neurosim_force_rate(const int i, const int64_t step)
{{
    if (i == 0)
    {{
        if (step == 0)
        {{
            for (int a = 0; a < {n_out} * {N}; a++)
                _neurosim_W[a] = _namespaceneurosim_W0[a];
            if ({learn})
                _neurosim_P = neurosim_rls_P_init({N}, {alpha});
        }}
        const double* s = brian::{s};
        for (int o = 0; o < {n_out}; o++)                           // z = W_out s + b_out, before the update
        {{
            const double* Wo = _neurosim_W + o * {N};
            double acc = 0.0;
            for (int a = 0; a < {N}; a++)
                acc += Wo[a] * s[a];
            _neurosim_z[o] = acc + _namespaceneurosim_b_out[o];
            brian::{z}[o] = _neurosim_z[o];
        }}
        brian::{dw_norm}[0] = 0.0;
        if ({learn} && step > 0 && step % {substeps} == 0 && ({start} + step / {substeps}) % {every} == 0)
        {{
            const long row = step / {substeps} - 1;                 // numpy's step: e = z - f_row
            for (int o = 0; o < {n_out}; o++)
                _neurosim_e[o] = _neurosim_z[o] - _namespaceneurosim_f[row * {n_out} + o];
            for (int a = 0; a < {n_out} * {N}; a++)
                _neurosim_W_before[a] = _neurosim_W[a];
            neurosim_rls_update(_neurosim_P, _neurosim_W, s, _neurosim_e, _neurosim_k, {N}, {n_out}, {normalised});
            double dw = 0.0, w = 0.0;
            for (int a = 0; a < {n_out} * {N}; a++)
            {{
                const double d = _neurosim_W_before[a] - _neurosim_W[a];
                dw += d * d;
                w += _neurosim_W[a] * _neurosim_W[a];
                brian::{w}[a] = _neurosim_W[a];
            }}
            brian::{dw_norm}[0] = sqrt(dw);
            brian::{w_norm}[0] = sqrt(w);
        }}
        for (int a = 0; a < {N}; a++)                               // I_fb = W_fb z
        {{
            double acc = 0.0;
            for (int o = 0; o < {n_out}; o++)
                acc += _namespaceneurosim_W_fb[a * {n_out} + o] * _neurosim_z[o];
            _neurosim_I[a] = acc;
        }}
        if (step == {last})                                         // the state after numpy's last step
            for (int a = 0; a < {N}; a++)
                brian::{final}[a] = brian::{state}[a];
    }}
    return _neurosim_I[i];
}}
"""
