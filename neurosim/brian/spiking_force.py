"""Spiking FORCE (Nicola & Clopath 2017, Nat Commun 8:2208, their LIFFORCESINE) on the Brian2 LIF substrate.

The reservoir is a :class:`neurosim.SpikingNetwork` in the rate form, run with the LIF equations of
:mod:`neurosim.brian.spiking` (the same strings, :func:`neurosim.brian.spiking.brian_equations`)::

    tau_m dv/dt = v_rest - v + bias + v_scale (x_rec + I_ext)          (unless refractory)
    x_rec = sum_j W_rec[i, j] r_j / lam                                  static weights, double-exponential synapses
    I_ext = W_in u(t) + b + W_fb z(t)                                    input and the readout fed back
    z(t) = W_out r(t) / lam + b_out                                      r: filtered spike trains (Hz)

Nicola & Clopath's network is this with v_scale = 1 mV and lam = 1 Hz, so that W_rec is their OMEGA (mV s),
W_fb their E (mV), W_out their BPhi^T (s) and r their r (Hz); their BIAS = -40 mV is ``v_rest + bias``.

FORCE: every ``every`` seconds while ``train_start <= t < train_stop``, one RLS step on the readout
(:class:`neurosim.learning.rls.RLS`, P(0) = I / alpha, the error ``e = z - f`` measured before the update).

A learning hook runs at the start of every simulation step (``before_groups``), before the state update: it
reads r (the state at time t), computes z(t), writes ``I_ext`` (feedback of the pre-update z, as in their code:
the current of the step after t uses z(t)), and on a learning step updates W_out. Two implementations, one
network otherwise:

- runtime: a ``NetworkOperation`` calling the numpy RLS core;
- cpp_standalone (where a network_operation is forbidden): a Brian2 ``Function`` with a C++ implementation
  called by ``run_regularly`` (the route of the matmul coupling, :mod:`neurosim.brian.coupling`); its RLS step
  is :data:`neurosim.brian.rls_cpp.SOURCE`, the numpy core's equations in C++.

Time alignment as in :mod:`neurosim.brian.rate`: ``targets`` has one row per task step, row k at time
(k + 1) dt (``Trials.t``); the readout is sampled on the dt clock in the ``end`` slot, giving T + 1 samples at
0, dt, ..., T dt, and sample k + 1 is row k. A learning step at time t = (k + 1) dt uses row k. ``every`` must
be a multiple of dt, dt a multiple of ``sim_dt``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import equations
from .._validate import as_rng, as_seconds, check_choice, check_finite, check_positive, check_shape
from ..learning.rls import STEPS
from . import rls_cpp
from .devices import DEVICES, recorded, session
from .spiking import _namespace, brian_equations

__all__ = ["SpikingForceRun", "run", "V_PEAK"]

V_PEAK = 0.030  # Nicola & Clopath's spike peak (30 mV): their initial potentials are uniform in [v_reset, V_PEAK]


@dataclass
class SpikingForceRun:
    """What one spiking FORCE run returns (one network; task steps only)."""

    t: np.ndarray  # (T,) times of the samples, s: (k + 1) dt
    z: np.ndarray  # (T, n_out) readout
    W_out: np.ndarray  # (n_out, N) learned readout at the end (without 1 / lam: z = W_out r / lam + b_out)
    weights_t: np.ndarray  # (n_w,) times of the weight samples, s
    weights: np.ndarray  # (n_w, n_out, n_units) W_out of the recorded units over time
    spike_times: np.ndarray  # (n_spikes,) s
    spike_indices: np.ndarray  # (n_spikes,) neuron 0..N-1
    firing_rates: np.ndarray  # (N,) spike count / duration, Hz
    n_updates: int
    build_time: float  # seconds: objects, code generation, compilation
    run_time: float  # seconds in the simulation loop
    metadata: dict = field(default_factory=dict)


def _steps(value: float, unit: float, name: str, unit_name: str) -> int:
    n = int(round(value / unit))
    if n < 1 or abs(n * unit - value) > 1e-9 * max(unit, value):
        raise ValueError(f"{name}: expected a positive multiple of {unit_name} = {unit:g} s, got {value:g} s")
    return n


def run(snet, W_fb, targets, *, alpha: float, every, train_start=0.0, train_stop=None, step: str = "unnormalised",
        inputs=None, W_out0=None, device: str = "runtime", target: str = "auto", rng=0, weights_every=None,
        weight_units=None, v_init=None, cache_dir=None) -> SpikingForceRun:
    """Run ``snet`` (rate form, sigma_v = 0 or not) for T task steps while FORCE trains its readout.

    W_fb (N, n_out): feedback weights (mV units of x, like I_ext); targets (T, n_out): the teacher, row k at
    (k + 1) dt; inputs (T, n_in) or None (no input); alpha, step: the RLS core's (P(0) = I / alpha); every:
    seconds between RLS steps, learning while ``train_start <= t < train_stop`` (None: the whole run); W_out0:
    initial readout (default snet.W_out); rng: the initial membrane potentials, uniform in ``v_init`` (volts;
    default Nicola & Clopath's [v_reset, 30 mV]: most neurons spike at once, which starts the reservoir's
    activity), and Brian2's seed for the membrane noise; weights_every: seconds between samples of W_out
    (None: none) for ``weight_units`` (indices, default all). Returns a :class:`SpikingForceRun`.
    """
    start_clock = time.perf_counter()
    check_choice(device, DEVICES, "device")
    check_choice(step, STEPS, "spiking FORCE step")
    alpha = check_positive(alpha, "spiking FORCE alpha")
    if snet.form != "rate":
        raise ValueError(f"spiking FORCE: expected a SpikingNetwork with form='rate' (the feedback W_fb z enters "
                         f"the membrane directly, as in Nicola & Clopath), got form={snet.form!r}")
    N, n_out = snet.n_rec, snet.n_out
    W_fb = check_shape(np.asarray(W_fb, dtype=np.float64), (N, n_out), "spiking FORCE W_fb",
                       "one row per neuron, one column per readout")
    f = check_finite(np.asarray(targets, dtype=np.float64), "spiking FORCE targets")
    check_shape(f, (None, n_out), "spiking FORCE targets", "one row per task step, one column per readout")
    T = f.shape[0]
    u = np.zeros((T, snet.n_in)) if inputs is None else np.asarray(inputs, dtype=np.float64)
    check_shape(u, (T, snet.n_in), "spiking FORCE inputs", "one row per task step, one column per input")
    W0 = snet.W_out if W_out0 is None else np.asarray(W_out0, dtype=np.float64)
    check_shape(W0, (n_out, N), "spiking FORCE W_out0")
    sim_dt, dt = snet.sim_dt, snet.dt
    substeps = _steps(dt, sim_dt, "SpikingNetwork.dt", "sim_dt")
    every_steps = substeps * _steps(as_seconds(every, "every"), dt, "every", "SpikingNetwork.dt")
    train_stop = T * dt if train_stop is None else float(train_stop)
    window = (int(round(float(train_start) / sim_dt)), int(round(train_stop / sim_dt)))
    rec_units = np.arange(N) if weight_units is None else np.asarray(weight_units, dtype=np.int64)
    rng = as_rng(rng)
    low, high = (snet.v_reset, V_PEAK) if v_init is None else v_init
    v0 = rng.uniform(low, high, size=N)  # (N,) volts
    seed = int(rng.integers(2**31))
    plan = _Plan(snet=snet, W_fb=W_fb, f=f, u=u, W0=np.array(W0), alpha=float(alpha), step=step,
                 substeps=substeps, every_steps=every_steps, window=window, T=T)

    with session(device, target, cache_dir=cache_dir) as sess:
        import brian2

        built = _build(plan, v0, device, weights_every, rec_units, brian2)
        brian2.seed(seed)
        before_run = time.perf_counter()
        run_time = sess.run(built["network"], T * dt * brian2.second + sim_dt * brian2.second,
                            namespace=built["namespace"])
        total = time.perf_counter() - start_clock
        n_updates, cpu0 = built["n_updates"]()
        loop_cpu = time.process_time() - cpu0 if cpu0 is not None else sess.timings.get("binary_cpu")
        z = recorded(built["z_monitor"], "z_").T  # (T + 1, n_out)
        if weights_every is not None:
            w_t = recorded(built["w_monitor"], "t_")
            w = recorded(built["w_monitor"], "w_").T.reshape(-1, n_out, len(rec_units))  # (n_w, n_out, n_units)
        else:
            w_t, w = np.zeros(0), np.zeros((0, n_out, len(rec_units)))
        W_final = np.asarray(built["weights"].variables["w"].get_value()).reshape(n_out, N).copy()
        i_spk = recorded(built["spikes"], "i", np.int64)
        t_spk = recorded(built["spikes"], "t_", np.float64)
        timings = dict(sess.timings, setup=before_run - start_clock, loop_cpu=loop_cpu)
        version = brian2.__version__

    if z.shape != (T + 1, n_out):
        raise RuntimeError(f"spiking FORCE: expected {T + 1} readout samples, got {z.shape[0]}; the monitor "
                           "alignment is off")
    rates = np.bincount(i_spk, minlength=N) / (T * dt)
    meta = {"device": device, "target": sess.target, "sim_dt": sim_dt, "dt": dt, "every": every_steps * sim_dt,
            "train_window": (window[0] * sim_dt, window[1] * sim_dt), "alpha": float(alpha), "step": step,
            "n_neurons": N, "brian2_version": version, "timings": timings, "seed": seed}
    return SpikingForceRun(t=dt * np.arange(1, T + 1), z=z[1:], W_out=W_final, weights_t=w_t, weights=w,
                           spike_times=t_spk, spike_indices=i_spk, firing_rates=rates, n_updates=n_updates,
                           build_time=total - run_time, run_time=run_time, metadata=meta)


@dataclass
class _Plan:
    """Everything the hook needs, as arrays and step counts."""

    snet: object
    W_fb: np.ndarray  # (N, n_out)
    f: np.ndarray  # (T, n_out)
    u: np.ndarray  # (T, n_in)
    W0: np.ndarray  # (n_out, N)
    alpha: float
    step: str
    substeps: int  # simulation steps per task step
    every_steps: int  # simulation steps between RLS steps
    window: tuple  # (first, stop) simulation steps of learning
    T: int

    def learns(self, j: int) -> bool:
        """Simulation step j (time j sim_dt) takes an RLS step."""
        return (j % self.every_steps == 0 and self.window[0] <= j < self.window[1]
                and j >= self.substeps)


def _build(plan: _Plan, v0, device, weights_every, rec_units, brian2) -> dict:
    snet = plan.snet
    N, n_out = snet.n_rec, snet.n_out
    second = brian2.second
    sim_clock = brian2.Clock(snet.sim_dt * second, name="neurosim_force_lif_clock")
    task_clock = brian2.Clock(snet.dt * second, name="neurosim_force_task_clock")
    eqs, reset, on_pre = brian_equations(snet)  # rate form: x = I_ext + x_rec
    namespace = _namespace(snet, snet.sigma_v > 0, brian2)
    neurons = brian2.NeuronGroup(N, eqs, threshold="v > v_threshold", reset=reset,
                                 refractory=snet.refractory * second, method="euler", clock=sim_clock,
                                 name="neurosim_force_lif")
    neurons.v = v0 * brian2.volt
    objects = [neurons]
    post, pre = np.nonzero(snet.W_rec)  # synapse from pre j to post i carries W_spk[i, j] = W_rec[i, j] / lam
    if len(pre):
        syn = brian2.Synapses(neurons, neurons, model="w : second (constant)", on_pre=on_pre, clock=sim_clock,
                              method="exact", name="neurosim_force_lif_synapses")
        syn.connect(i=pre, j=post)
        syn.w = snet.W_spk[post, pre] * second  # W_rec / lam: seconds per spike
        objects.append(syn)
    readout = brian2.NeuronGroup(n_out, "z : 1", clock=sim_clock, name="neurosim_force_readout")
    weights = brian2.NeuronGroup(n_out * N, "w : 1", clock=sim_clock, name="neurosim_force_weights")
    weights.variables["w"].set_value(plan.W0.ravel())  # w[o*N + j] = W_out[o, j]
    objects += [readout, weights]
    if device == "cpp_standalone":
        hook, hook_ns, n_updates = _hook_cpp(plan, neurons, readout, weights, brian2)
        namespace.update(hook_ns)
        rls_cpp.written_by_hook(brian2.get_device(), readout.variables["z"], weights.variables["w"])
    else:
        hook, n_updates = _hook_runtime(plan, neurons, readout, weights, brian2)
    objects.append(hook)
    z_monitor = brian2.StateMonitor(readout, "z", record=True, clock=task_clock, when="end",
                                    name="neurosim_force_z_monitor")
    spikes = brian2.SpikeMonitor(neurons, record=True, name="neurosim_force_spikes")
    objects += [z_monitor, spikes]
    built = {"z_monitor": z_monitor, "spikes": spikes, "weights": weights, "namespace": namespace,
             "n_updates": n_updates}
    if weights_every is not None:
        w_clock = brian2.Clock(as_seconds(weights_every, "weights_every") * second, name="neurosim_force_w_clock")
        idx = (np.arange(n_out)[:, None] * N + np.asarray(rec_units)[None, :]).ravel()
        built["w_monitor"] = brian2.StateMonitor(weights, "w", record=idx, clock=w_clock, when="end",
                                                 name="neurosim_force_w_monitor")
        objects.append(built["w_monitor"])
    built["network"] = brian2.Network(*objects, name="neurosim_force_network")
    return built


def _hook_runtime(plan: _Plan, neurons, readout, weights, brian2):
    """The hook as a NetworkOperation calling the numpy RLS core."""
    from ..learning.rls import RLS

    snet = plan.snet
    rls = RLS(snet.n_rec, snet.n_out, alpha=plan.alpha, step=plan.step, W0=plan.W0)
    r_live = neurons.variables["r"].get_value()  # (N,) Hz, the live array
    I_ext = neurons.variables["I_ext"].get_value()  # (N,)
    z_live = readout.variables["z"].get_value()  # (n_out,)
    w_live = weights.variables["w"].get_value()  # (n_out * N,)
    inv_lam = 1.0 / snet.lam
    r = np.empty(snet.n_rec)  # (N,) r / lam
    drive = np.empty(snet.n_rec)  # (N,) W_in u_k + b of the current task step
    state = {"j": 0, "k": -1}

    def hook():
        j = state["j"]
        if j == 0:
            state["cpu0"] = time.process_time()  # the loop starts: code generation is done
        np.multiply(r_live, inv_lam, out=r)  # equations.activity_of(r, lam), in place
        z = equations.readout(rls.W, snet.b_out, r)  # (n_out,) z(t) = W_out r / lam + b_out, before the update
        z_live[:] = z
        k = min(j // plan.substeps, plan.T - 1)  # the task step that starts at or before t
        if k != state["k"]:
            equations.drive(snet.W_in, snet.b, plan.u[k], out=drive)  # W_in u_k + b
            state["k"] = k
        np.add(plan.W_fb @ z, drive, out=I_ext)  # I_ext = W_fb z + W_in u + b
        if plan.learns(j):
            rls.update(r, z - plan.f[j // plan.substeps - 1])
            w_live[:] = rls.W.ravel()
        state["j"] = j + 1

    op = brian2.NetworkOperation(hook, dt=snet.sim_dt * brian2.second, when="before_groups",
                                 name="neurosim_force_hook")
    return op, lambda: (rls.n_updates, state.get("cpu0"))


def _hook_cpp(plan: _Plan, neurons, readout, weights, brian2):
    """The hook as a Brian2 Function with a C++ implementation, called by run_regularly on every neuron."""
    snet = plan.snet
    N, n_out, n_in = snet.n_rec, snet.n_out, snet.n_in
    dev = brian2.get_device()
    code = rls_cpp.SOURCE + _CPP_HOOK.format(
        N=N, n_out=n_out, n_in=n_in, T=plan.T, substeps=plan.substeps, every=plan.every_steps,
        first=plan.window[0], stop=plan.window[1], alpha=repr(plan.alpha), inv_lam=repr(1.0 / snet.lam),
        normalised="true" if plan.step == "normalised" else "false",
        r=dev.get_array_name(neurons.variables["r"], access_data=True),
        z=dev.get_array_name(readout.variables["z"], access_data=True),
        w=dev.get_array_name(weights.variables["w"], access_data=True))
    arrays = {"neurosim_W_fb": plan.W_fb, "neurosim_f": plan.f, "neurosim_u": plan.u, "neurosim_W_in": snet.W_in,
              "neurosim_b": snet.b, "neurosim_b_out": snet.b_out, "neurosim_W0": plan.W0}
    arrays = {k: np.ascontiguousarray(v, dtype=np.float64).ravel() for k, v in arrays.items()}

    def python_fallback(i, step):  # pragma: no cover - only the C++ implementation is ever used
        raise NotImplementedError("neurosim_force_lif runs only on the cpp_standalone device")

    fn = brian2.Function(python_fallback, arg_units=[1, 1], arg_names=["i", "step"],
                         arg_types=["integer", "integer"], return_unit=1, return_type="float", stateless=False)
    fn.implementations.add_implementation("cpp", code, name="neurosim_force_lif", namespace=arrays)
    op = neurons.run_regularly("I_ext = neurosim_force_lif(i, t_in_timesteps)", when="before_groups",
                               name="neurosim_force_hook")
    n_learn = sum(1 for j in range(0, plan.T * plan.substeps + 1, plan.every_steps) if plan.learns(j))
    return op, {"neurosim_force_lif": fn}, lambda: (n_learn, None)


# C++: at i == 0 (the first neuron of the sequential run_regularly loop) do the whole step's work; every neuron
# then reads its I_ext. The learning rule is neurosim_rls_update (rls_cpp.SOURCE), the numpy core's equations.
_CPP_HOOK = """
static double* _neurosim_P = 0;
static double _neurosim_W[{n_out} * {N}];
static double _neurosim_r[{N}];
static double _neurosim_k[{N}];
static double _neurosim_I[{N}];
static double _neurosim_z[{n_out}];
static double _neurosim_e[{n_out}];
double neurosim_force_lif(const int i, const int64_t step)
{{
    if (i == 0)
    {{
        if (_neurosim_P == 0)
        {{
            _neurosim_P = neurosim_rls_P_init({N}, {alpha});
            for (int a = 0; a < {n_out} * {N}; a++)
                _neurosim_W[a] = _namespaceneurosim_W0[a];
        }}
        const double* rate = brian::{r};
        for (int a = 0; a < {N}; a++)
            _neurosim_r[a] = rate[a] * {inv_lam};                   // r / lam
        for (int o = 0; o < {n_out}; o++)                           // z = W_out r / lam + b_out
        {{
            const double* Wo = _neurosim_W + o * {N};
            double acc = _namespaceneurosim_b_out[o];
            for (int a = 0; a < {N}; a++)
                acc += Wo[a] * _neurosim_r[a];
            _neurosim_z[o] = acc;
            brian::{z}[o] = acc;
        }}
        long k = step / {substeps};                                 // the task step that starts at or before t
        if (k > {T} - 1) k = {T} - 1;
        for (int a = 0; a < {N}; a++)                               // I_ext = W_in u_k + b + W_fb z
        {{
            double acc = _namespaceneurosim_b[a];
            for (int m = 0; m < {n_in}; m++)
                acc += _namespaceneurosim_W_in[a * {n_in} + m] * _namespaceneurosim_u[k * {n_in} + m];
            for (int o = 0; o < {n_out}; o++)
                acc += _namespaceneurosim_W_fb[a * {n_out} + o] * _neurosim_z[o];
            _neurosim_I[a] = acc;
        }}
        if (step % {every} == 0 && step >= {first} && step < {stop} && step >= {substeps})
        {{
            const long row = step / {substeps} - 1;                 // the target at t = (row + 1) dt
            for (int o = 0; o < {n_out}; o++)
                _neurosim_e[o] = _neurosim_z[o] - _namespaceneurosim_f[row * {n_out} + o];
            neurosim_rls_update(_neurosim_P, _neurosim_W, _neurosim_r, _neurosim_e, _neurosim_k, {N}, {n_out},
                                {normalised});
            for (int a = 0; a < {n_out} * {N}; a++)
                brian::{w}[a] = _neurosim_W[a];
        }}
    }}
    return _neurosim_I[i];
}}
"""
