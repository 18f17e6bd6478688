"""The SpikingNetwork as a Brian2 network of leaky integrate-and-fire neurons.

Per neuron, in Brian2 equations with units (v in volts; x, s, x_rec and I_ext dimensionless, the rate
network's current; r in Hz, the neuron's own filtered spike train)::

    dv/dt = (v_rest - v + bias + v_scale * x) / tau_m + sigma_v * sqrt(2 / tau_m) * xi : volt (unless refractory)
    x = s + x_rec                       the total current, the spiking counterpart of the rate network's x
    ds/dt = (I_ext - s) / tau_d         current form: the input through the rate network's own filter
    s = I_ext                           rate form: the input drives the membrane directly
    I_ext = W_in u(t) + b               set once per task step (``run_regularly``), held in between

and the synaptic filter, double exponential (rise tau_r, decay tau_d, unit area)::

    dx_rec/dt = -x_rec / tau_d + h_rec : 1       dh_rec/dt = -h_rec / tau_r : Hz
    dr/dt     = -r / tau_d + h_r       : Hz      dh_r/dt   = -h_r / tau_r   : Hz/s
    on a spike of j:  h_rec_i += W_spk[i, j] / (tau_r tau_d)        (Synapses, event-driven, ``on_pre``)
                      h_r_j   += 1 / (tau_r tau_d)                 (the reset)

or single exponential (``dx_rec/dt = -x_rec / tau_d``, jumps ``W_spk[i, j] / tau_d``; likewise r), so that
``x_rec = sum_j W_spk[i, j] r_j`` with ``W_spk = W_rec / lam`` (:func:`neurosim.equations.spiking_weights`, the
one place lambda scales a weight) and the readout is ``y = g(W_out r / lam + b_out)``, computed from the
recorded r by :func:`neurosim.equations.readout`. Threshold ``v > v_threshold``, reset ``v = v_reset``,
refractory period ``refractory``.

``method='euler'`` (Euler-Maruyama for the membrane noise) at the simulation step ``sim_dt``: the only method
that takes the white noise and the piecewise-constant input alike; ``sim_dt <= tau_m / 10`` keeps its error
near 1% on the firing rate (checked against the analytic f-I curve by the tests).

All B trials run in one Brian2 run, as B independent copies: neuron ``b*N + n`` is unit n of trial b, and the
synapses are block-diagonal. Initial state: v uniform in [v_reset, v_threshold) (drawn from ``rng``), the
filtered trains at the rate network's initial rates, ``r = lam f(x0)`` (rate form: ``r = lam x0``;
:func:`neurosim.equations.rate_of`), the recurrent current they make, ``x_rec = W_spk r``, and in the current
form ``s`` such that x = x0.

Time alignment as in :mod:`neurosim.brian.rate`: ``I_ext`` for task step k is set at t = k*dt; the monitors
sample r and x in the ``start`` slot on a dt clock during T*dt + sim_dt, giving T + 1 samples at 0, dt, ...,
T*dt; sample k+1 is the end of task step k (``Trials.t``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import equations
from .._validate import as_rng, as_seconds, check_choice
from .coupling import block_diagonal_indices
from .devices import recorded, session

__all__ = ["SpikingRun", "run", "build", "brian_equations", "Built"]


@dataclass
class SpikingRun:
    """What one Brian2 spiking run returns (batch first, task steps only)."""

    states: np.ndarray  # (B, T, N) at the end of each task step: x (current form) or r / lam (rate form)
    r: np.ndarray  # (B, T, N) filtered spike trains at the end of each task step, Hz
    spike_times: list  # B arrays of spike times, s
    spike_indices: list  # B arrays of unit indices 0..N-1, the same lengths
    firing_rates: np.ndarray  # (B, N) spike count / trial duration, Hz
    build_time: float  # seconds: building objects, code generation, compilation
    run_time: float  # seconds in the simulation loop
    metadata: dict = field(default_factory=dict)


@dataclass
class Built:
    """The Brian2 objects of one spiking network, before it runs."""

    network: object  # brian2.Network
    namespace: dict
    neurons: object  # NeuronGroup of B*N LIF neurons
    synapses: object | None  # recurrent Synapses (None when W_rec == 0)
    spikes: object  # SpikeMonitor
    traces: object  # StateMonitor of r (and x)
    duration: object  # Brian2 time to run: T*dt + sim_dt


def brian_equations(snet) -> tuple[str, str, str]:
    """The neuron equations, reset and synaptic ``on_pre`` of ``snet`` as Brian2 strings (with units)."""
    lines = ["dv/dt = (v_rest - v + bias + v_scale * x) / tau_m + sigma_v * sqrt(2 / tau_m) * xi "
             ": volt (unless refractory)",
             "x = s + x_rec : 1",
             "I_ext : 1"]
    lines.append("ds/dt = (I_ext - s) / tau_d : 1" if snet.form == "current" else "s = I_ext : 1")
    if snet.synapse == "double":
        lines += ["dx_rec/dt = -x_rec / tau_d + h_rec : 1",
                  "dh_rec/dt = -h_rec / tau_r : Hz",
                  "dr/dt = -r / tau_d + h_r : Hz",
                  "dh_r/dt = -h_r / tau_r : Hz / second"]
        reset = "v = v_reset\nh_r += 1 / (tau_r * tau_d)"
        on_pre = "h_rec_post += w / (tau_r * tau_d)"  # w = W_spk[i, j] = W_rec[i, j] / lam
    else:
        lines += ["dx_rec/dt = -x_rec / tau_d : 1",
                  "dr/dt = -r / tau_d : Hz"]
        reset = "v = v_reset\nr += 1 / tau_d"
        on_pre = "x_rec_post += w / tau_d"
    return "\n".join(lines), reset, on_pre


def _namespace(snet, membrane_noise: bool, brian2) -> dict:
    second, volt = brian2.second, brian2.volt
    return {"tau_m": snet.tau_m * second, "tau_d": snet.tau_d * second, "tau_r": snet.tau_r * second,
            "v_rest": snet.v_rest * volt, "v_reset": snet.v_reset * volt, "v_threshold": snet.v_threshold * volt,
            "bias": snet.bias * volt, "v_scale": snet.v_scale * volt,
            "sigma_v": (snet.sigma_v if membrane_noise else 0.0) * volt}


def _drive(snet, u_tm: np.ndarray, group, task_clock, brian2):
    """``I_ext = W_in u + b``, set at the start of every task step by a ``run_regularly``; returns it and its
    namespace. u_tm is (T, B, n_in). Brian2 writes the TimedArray's row length (B*N) into the generated code, so
    this one small code object compiles again for each new number of trials; everything else is cached."""
    T, B, n_in = u_tm.shape
    N = snet.n_rec
    if equations.drive_fits(T, B, N):
        drive = equations.drive(snet.W_in, snet.b, u_tm)  # (T, B, N)
        ta = brian2.TimedArray(drive.reshape(T, B * N), dt=task_clock.dt, name="neurosim_drive")
        code, namespace = "I_ext = drive_ta(t, i)", {"drive_ta": ta}
    else:  # only the inputs, (T, B*n_in), and the input weights per neuron
        ta = brian2.TimedArray(u_tm.reshape(T, B * n_in), dt=task_clock.dt, name="neurosim_input")
        terms = " + ".join(f"w_in_{k} * input_ta(t, trial * {n_in} + {k})" for k in range(n_in))
        code, namespace = f"I_ext = b_in + {terms}", {"input_ta": ta}
    op = group.run_regularly(code, clock=task_clock, when="start", order=-1, name="neurosim_input_update")
    return op, namespace


def _per_input_params(snet, B: int) -> dict:
    params = {f"w_in_{k}": np.tile(snet.W_in[:, k], B) for k in range(snet.n_in)}
    params["b_in"] = np.tile(snet.b, B)
    params["trial"] = np.repeat(np.arange(B), snet.n_rec)
    return params


def build(snet, inputs, *, sim_dt: float, membrane_noise: bool, rng) -> Built:
    """Build the Brian2 objects for ``snet`` on ``inputs`` (B, T, n_in). Call inside a devices ``session``."""
    import brian2

    rng = as_rng(rng)
    u_tm = np.ascontiguousarray(np.asarray(inputs, dtype=np.float64).transpose(1, 0, 2))  # (T, B, n_in)
    T, B, n_in = u_tm.shape
    N = snet.n_rec
    second = brian2.second
    sim_clock_dt, task_dt = sim_dt * second, snet.dt * second
    # named clocks: with dt= Brian2 names each clock "..._clock*", numbered by the live objects, and the names
    # enter the generated code, so a second run in the same process could miss the compilation cache
    sim_clock = brian2.Clock(sim_clock_dt, name="neurosim_lif_clock")
    task_clock = brian2.Clock(task_dt, name="neurosim_lif_task_clock")

    eqs, reset, on_pre = brian_equations(snet)
    per_input = not equations.drive_fits(T, B, N)
    params = _per_input_params(snet, B) if per_input else {}
    eqs += "".join(f"\n{k} : {'integer' if k == 'trial' else '1'} (constant)" for k in params)
    namespace = _namespace(snet, membrane_noise, brian2)
    neurons = brian2.NeuronGroup(B * N, eqs, threshold="v > v_threshold", reset=reset,
                                 refractory=snet.refractory * second, method="euler", clock=sim_clock,
                                 name="neurosim_lif", namespace=None)
    for k, value in params.items():
        setattr(neurons, k, value)
    input_op, input_ns = _drive(snet, u_tm, neurons, task_clock, brian2)
    namespace.update(input_ns)

    # initial state: the rate network's x0 and rates (f(x0), or x0 itself in the rate form), and a random
    # membrane potential per neuron
    s0 = equations.source(snet, snet.x0)  # (N,) the initial activity: f(x0), or x0 in the rate form
    r0 = equations.rate_of(np.maximum(s0, 0.0), snet.lam)  # (N,) Hz
    x_rec0 = snet.W_rec @ s0  # the recurrent current the initial activity produces
    neurons.v = rng.uniform(snet.v_reset, snet.v_threshold, size=B * N) * brian2.volt
    neurons.r = np.tile(r0, B) * brian2.Hz
    neurons.x_rec = np.tile(x_rec0, B)
    if snet.form == "current":
        neurons.s = np.tile(snet.x0 - x_rec0, B)  # so that x = s + x_rec = x0

    objects = [neurons, input_op]
    synapses = None
    pre, post, w = block_diagonal_indices(snet.W_spk, B)  # synapse from pre j to post i carries W_spk[i, j]
    if len(w):
        synapses = brian2.Synapses(neurons, neurons, model="w : second (constant)", on_pre=on_pre,
                                   clock=sim_clock, method="exact", name="neurosim_lif_synapses")
        synapses.connect(i=pre, j=post)
        synapses.w = w * second  # W_spk = W_rec / lam: seconds per spike
        objects.append(synapses)
    spikes = brian2.SpikeMonitor(neurons, record=True, name="neurosim_lif_spikes")
    recorded = ["r", "x"] if snet.form == "current" else ["r"]
    traces = brian2.StateMonitor(neurons, recorded, record=True, clock=task_clock, when="start",
                                 name="neurosim_lif_traces")
    network = brian2.Network(*objects, spikes, traces, name="neurosim_spiking")
    return Built(network, namespace, neurons, synapses, spikes, traces, T * task_dt + sim_clock_dt)


def run(snet, inputs, *, device: str = "runtime", target: str = "auto", sim_dt=None, membrane_noise: bool = True,
        seed: int = 0, rng=0, cache_dir=None) -> SpikingRun:
    """Run ``snet`` on ``inputs`` (B, T, n_in) in Brian2; see the module docstring.

    device: "runtime" or "cpp_standalone"; target: "auto", "cython" or "numpy" (runtime only); sim_dt: simulation step
    (default ``snet.sim_dt``; must divide snet.dt); membrane_noise: sigma_v on or off; seed: Brian2's
    generator (the noise); rng: the initial membrane potentials. Same seed and rng, same spikes.
    """
    start = time.perf_counter()
    sim_dt = snet.check_sim_dt(snet.sim_dt if sim_dt is None else as_seconds(sim_dt, "sim_dt"))
    check_choice(device, ("runtime", "cpp_standalone"), "device")
    B, T = np.shape(inputs)[:2]
    N = snet.n_rec
    with session(device, target, cache_dir=cache_dir) as sess:
        import brian2

        built = build(snet, inputs, sim_dt=sim_dt, membrane_noise=membrane_noise, rng=rng)
        brian2.seed(int(seed))
        before_run = time.perf_counter()
        run_time = sess.run(built.network, built.duration, namespace=built.namespace)
        total = time.perf_counter() - start
        recorded = read(snet, built, B, T)
        timings = dict(sess.timings, setup=before_run - start)
        n_synapses = 0 if built.synapses is None else int(len(built.synapses))
        version = brian2.__version__
        target_used = sess.target

    metadata = {"device": device, "target": target_used, "sim_dt": sim_dt, "membrane_noise": membrane_noise,
                "seed": int(seed),
                "n_neurons": B * N, "n_synapses": n_synapses, "method": "euler", "lam": snet.lam,
                "synapse": snet.synapse, "brian2_version": version, "timings": timings, "cache_dir": sess.cache_dir}
    return SpikingRun(*recorded, total - run_time, run_time, metadata)


def read(snet, built: Built, B: int, T: int) -> tuple:
    """After a run: ``(states, r, spike_times, spike_indices, firing_rates)`` of :class:`SpikingRun`, batch first,
    from the monitors of ``built`` (B trials of T task steps)."""
    N = snet.n_rec
    r = recorded(built.traces, "r_")  # (B*N, T + 1), Hz
    states = recorded(built.traces, "x_") if snet.form == "current" else equations.activity_of(r, snet.lam)
    i_spk = recorded(built.spikes, "i", np.int64)
    t_spk = recorded(built.spikes, "t_", np.float64)
    if r.shape != (B * N, T + 1):
        raise RuntimeError(f"neurosim.brian.spiking: expected {T + 1} monitor samples of {B * N} neurons, got "
                           f"{r.shape}; the monitor alignment is off")
    to_btn = lambda a: np.ascontiguousarray(a[:, 1:].reshape(B, N, T).transpose(0, 2, 1))  # noqa: E731
    trial, unit = np.divmod(i_spk, N)
    order = np.argsort(trial, kind="stable")  # spikes stay in time order within each trial
    bounds = np.searchsorted(trial[order], np.arange(B + 1))
    spike_times = [t_spk[order[bounds[b]:bounds[b + 1]]] for b in range(B)]
    spike_indices = [unit[order[bounds[b]:bounds[b + 1]]] for b in range(B)]
    counts = np.bincount(i_spk, minlength=B * N).reshape(B, N)
    return to_btn(states), to_btn(r), spike_times, spike_indices, counts / (T * snet.dt)
