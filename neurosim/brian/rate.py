"""The RateNetwork as a Brian2 network of rate neurons: the same equations, integrated by Brian2.

Rate form (state r) and current form (state x), as Brian2 equations with units (tau in seconds, states
dimensionless)::

    dr/dt = (-r + f(I_rec + I_ext)) / tau [+ noise] : 1          I_rec = W_rec r,     readout from r
    dx/dt = (-x + I_rec + I_ext) / tau    [+ noise] : 1          I_rec = W_rec f(x),  readout from s = f(x)

with ``I_ext = W_in u(t) + b`` (:func:`neurosim.equations.drive`) from a ``TimedArray`` and f the activation's
Brian2 expression (:mod:`neurosim.activations`). The readout ``y = g(W_out s + b_out)`` is not part of the Brian2
network: the substrate computes it from the recorded states with :func:`neurosim.equations.readout`. All B
trials run in one Brian2 run, as B independent copies of the network: neuron ``b*N + n`` is unit n of trial b
(see :mod:`neurosim.brian.coupling`).

Why ``method='euler'``: the artificial RNN *is* forward Euler, ``r_t = r_{t-1} + alpha (-r_{t-1} + f(a_t))``.
Left to itself Brian2 would see that dr/dt is linear in r (I_rec and I_ext are parameters during a step) and
integrate it exactly, ``r_t = f + (r_{t-1} - f) exp(-alpha)``: another network, whose effective step is
``1 - exp(-alpha)`` (0.63 instead of 1 for the Elman RNN, alpha = 1). With ``method='euler'`` and
``sim_dt == net.dt`` Brian2 takes the artificial RNN's steps exactly; a finer ``sim_dt = net.dt / k`` (input
held over each task step) approaches the continuous-time network at first order in sim_dt.

Time alignment (checked by the tests, not assumed): a ``TimedArray`` with ``dt = net.dt`` returns row k for
``k*dt <= t < (k+1)*dt``, so the step that starts at ``t = k*dt`` sees task input k, as the RNN's step k does.
A monitor samples the state on a ``net.dt`` clock in the ``start`` slot (before that step's update, i.e. the
state at time k*dt). The run lasts ``T*net.dt + sim_dt``, so there are T + 1 samples at times 0, dt, ..., T*dt;
sample k+1 is the RNN's step k, which ends at (k+1)*dt (``Trials.t``).

Noise: "matched" adds the RNN's own Euler-Maruyama increments ``n_k = sqrt(2 alpha) sigma xi_k`` from a
``TimedArray`` as the drift ``n(t)/net.dt`` (over one task step it adds exactly n_k, whatever sim_dt);
"native" uses Brian2's white noise ``sigma sqrt(2/tau) xi``, which Euler-Maruyama turns into the same
``sqrt(2 alpha) sigma N(0, 1)`` per step, from Brian2's own generator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import activations, equations
from .._validate import check_choice, substeps
from . import coupling as coupling_mod
from . import devices

__all__ = ["RateRun", "run", "brian_equations", "substeps", "INPUT_MODES", "NOISE_MODES"]

# "projected" precomputes W_in u + b for every step and neuron, (T, B*N): exact and fastest, but large
INPUT_MODES = ("projected", "per_input")
NOISE_MODES = ("matched", "native", None)  # the same realization as the ANN, Brian2's own xi, or none


@dataclass
class RateRun:
    """What one Brian2 run returns (batch first, task steps only)."""

    states: np.ndarray  # (B, T, N) the integrated variable at the end of each task step: r or x
    build_time: float  # seconds: building objects, code generation, compilation
    run_time: float  # seconds in the simulation loop
    metadata: dict = field(default_factory=dict)


def brian_equations(net, *, input_expr: str, noise_mode: str | None, stored_source: bool = False) -> str:
    """The Brian2 equations of one unit, with units. ``noise_mode``: None, "matched" or "native"."""
    f = activations.get(net.activation).brian
    noise_term = {None: "", "matched": " + noise_ta(t, i) / dt_task", "native": " + sigma * sqrt(2 / tau) * xi"}
    term = noise_term[noise_mode]
    if net.form == "rate":
        lines = [f"dr/dt = (-r + {f.format(x='I_rec + I_ext')}) / tau{term} : 1"]
    else:
        lines = [f"dx/dt = (-x + I_rec + I_ext) / tau{term} : 1",
                 "s : 1" if stored_source else f"s = {f.format(x='x')} : 1"]
    lines += ["I_rec : 1", f"I_ext = {input_expr} : 1"]
    return "\n".join(lines)


def _input(net, u_tm: np.ndarray, mode: str, brian2) -> tuple[str, dict, dict]:
    """The input current: ``(expression, namespace, per-neuron parameters)``. u_tm is (T, B, n_in)."""
    T, B, n_in = u_tm.shape
    N = net.n_rec
    task_dt = net.dt * brian2.second
    if mode == "projected":
        drive = equations.drive(net.W_in, net.b, u_tm)  # (T, B, N), the very product the RNN computes
        ta = brian2.TimedArray(drive.reshape(T, B * N), dt=task_dt, name="neurosim_drive")
        return "drive_ta(t, i)", {"drive_ta": ta}, {}
    ta = brian2.TimedArray(u_tm.reshape(T, B * n_in), dt=task_dt, name="neurosim_input")
    terms = " + ".join(f"w_in_{k} * input_ta(t, trial * {n_in} + {k})" for k in range(n_in))
    params = {f"w_in_{k}": np.tile(net.W_in[:, k], B) for k in range(n_in)}
    params["b_in"] = np.tile(net.b, B)
    params["trial"] = np.repeat(np.arange(B), N)
    return f"b_in + {terms}", {"input_ta": ta}, params


def run(net, inputs, *, device: str = "runtime", target: str = "auto", coupling: str | None = None,
        sim_dt=None, noise_mode: str | None = None, noise_increments: np.ndarray | None = None,
        seed: int | None = None, input_mode: str | None = None, cache_dir=None) -> RateRun:
    """Run ``net`` on ``inputs`` (B, T, n_in) as a Brian2 rate network; see the module docstring.

    device: "runtime" or "cpp_standalone"; target: "auto", "cython" or "numpy" (runtime only);
    coupling: "matmul" or "synapses" (None: :func:`neurosim.brian.coupling.default`);
    sim_dt: simulation step, net.dt / k (None: net.dt); noise_mode: None, "matched" (needs
    ``noise_increments``, (B, T, N), from :func:`neurosim.equations.noise_increments`) or "native" (needs
    ``seed``); input_mode: "projected" (W_in u + b precomputed, (T, B*N)) or "per_input" (u only, (T, B*n_in));
    None picks "projected" unless that array would exceed ``equations.PROJECTED_MAX_BYTES``.
    cache_dir: see :mod:`.devices`.
    """
    start = time.perf_counter()
    check_choice(device, devices.DEVICES, "device")
    check_choice(target, devices.TARGETS, "target")
    k, sim_dt = substeps(net.dt, sim_dt)
    coupling = coupling_mod.default(device) if coupling is None else coupling
    check_choice(coupling, coupling_mod.COUPLINGS, "coupling")
    if noise_mode not in NOISE_MODES:
        raise ValueError(f"noise_mode: expected 'matched', 'native' or None, got {noise_mode!r}")
    u_tm = np.ascontiguousarray(np.asarray(inputs, dtype=np.float64).transpose(1, 0, 2))  # (T, B, n_in)
    T, B, n_in = u_tm.shape
    N = net.n_rec
    if input_mode is None:
        input_mode = "projected" if equations.drive_fits(T, B, N) else "per_input"
    check_choice(input_mode, INPUT_MODES, "input_mode")
    if noise_mode == "matched" and (noise_increments is None or np.shape(noise_increments) != (B, T, N)):
        raise ValueError(f"noise_mode='matched': expected noise_increments of shape {(B, T, N)} from "
                         "neurosim.equations.noise_increments, got "
                         f"{None if noise_increments is None else np.shape(noise_increments)}")
    if noise_mode == "native" and seed is None:
        raise ValueError("noise_mode='native': expected an integer seed for Brian2's generator, got None")

    with devices.session(device, target, cache_dir=cache_dir) as sess:
        import brian2

        network, namespace, monitor, meta = _build(net, u_tm, device=device, coupling=coupling, sim_dt=sim_dt,
                                                    noise_mode=noise_mode, noise_increments=noise_increments,
                                                    input_mode=input_mode, brian2=brian2)
        if noise_mode == "native":
            brian2.seed(int(seed))
        before_run = time.perf_counter()
        run_time = sess.run(network, T * net.dt * brian2.second + sim_dt * brian2.second, namespace=namespace)
        total = time.perf_counter() - start
        states = devices.recorded(monitor, "r_" if net.form == "rate" else "x_")  # (B*N, T+1); 0 is x0
        timings = dict(sess.timings, setup=before_run - start)

    if states.shape != (B * N, T + 1):
        raise RuntimeError(f"neurosim.brian.rate: expected {T + 1} monitor samples of {B * N} states, got "
                           f"{states.shape}; the monitor alignment is off")
    states = states[:, 1:].reshape(B, N, T).transpose(0, 2, 1)  # (B, T, N)
    metadata = {
        "device": device, "target": sess.target, "coupling": coupling, "sim_dt": sim_dt, "substeps": k,
        "input_mode": input_mode, "noise_mode": noise_mode, "seed": seed, "n_neurons": B * N, "method": "euler",
        "brian2_version": brian2.__version__, "timings": timings, "cache_dir": sess.cache_dir, **meta,
    }
    return RateRun(np.ascontiguousarray(states), total - run_time, run_time, metadata)


def _build(net, u_tm, *, device, coupling, sim_dt, noise_mode, noise_increments, input_mode, brian2):
    """The Brian2 objects: ``(network, namespace, state monitor, metadata)``."""
    T, B, _ = u_tm.shape
    N = net.n_rec
    second = brian2.second
    sim_clock_dt, task_dt = sim_dt * second, net.dt * second
    stored = coupling_mod.needs_stored_source(coupling, device)
    input_expr, namespace, params = _input(net, u_tm, input_mode, brian2)
    namespace.update(tau=net.tau * second, dt_task=task_dt, sigma=net.sigma)
    if noise_mode == "matched":
        increments = np.asarray(noise_increments, dtype=np.float64).transpose(1, 0, 2).reshape(T, B * N)
        namespace["noise_ta"] = brian2.TimedArray(np.ascontiguousarray(increments), dt=task_dt,
                                                  name="neurosim_noise")
    eqs = brian_equations(net, input_expr=input_expr, noise_mode=noise_mode, stored_source=stored)
    eqs += "".join(f"\n{name} : {'integer' if name == 'trial' else '1'} (constant)" for name in params)
    group = brian2.NeuronGroup(B * N, eqs, method="euler", dt=sim_clock_dt, name="neurosim_rate")
    state_var = "r" if net.form == "rate" else "x"
    # set_value writes the arrays directly (runtime) or as initial data of the project (standalone)
    group.variables[state_var].set_value(np.tile(net.x0.astype(np.float64), B))
    for name, value in params.items():
        group.variables[name].set_value(value)
    rec_objects, rec_namespace, meta = coupling_mod.build(coupling, net, group, B, device, sim_clock_dt)
    namespace.update(rec_namespace)
    monitor = brian2.StateMonitor(group, state_var, record=True, dt=task_dt, when="start",
                                  name="neurosim_state_monitor")
    network = brian2.Network(group, *rec_objects, monitor, name="neurosim_network")
    return network, namespace, monitor, meta
