"""Run time of neurosim's spiking substrate against a minimal hand-written Brian2 script of the same network.

    python benchmarks/spiking.py            # N in {256, 1024, 4096}; Cython and C++ standalone; 3 runs each
    python benchmarks/spiking.py --quick    # N in {256, 1024}; 1 run each
    python benchmarks/spiking.py --sizes 512 --devices cpp_standalone

The network: a random rate network (sigmoid units, current form, Dale 80/20, connection probability ``p``,
0.2 by default) converted with ``ns.to_spiking(net, lam=40)``: N LIF neurons with a double-exponential
synapse, membrane noise, one trial of 1 s at sim_dt = 0.1 ms (10 000 steps), two input channels held over
10 ms task steps, all spikes recorded and the filtered spike trains of every neuron sampled every 10 ms.

- neurosim: ``ns.simulate(snet, trials, substrate="spiking", device=...)``;
- hand-written: the same equations, synapses, input and monitors written directly in Brian2 (an explicit
  ``Network``, no neurosim), as a user would write them.

Run time is the simulation loop alone, as Brian2 measures it (``device._last_run_time``); compile time is
separate: for Cython the cold run's set-up minus a warm run's, for C++ standalone the project's build. Every
run is a process of its own (as a user runs a script), alternating neurosim and
hand-written: first one cold run each (compiling into a fresh cache), then the timed warm runs; the reported
run time is the median. Goal: ratio = neurosim / hand-written <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

SIZES, DEVICES = (256, 1024, 4096), ("runtime", "cpp_standalone")
DURATION, TASK_DT, SIM_DT, LAM = 1.0, 0.01, 1e-4, 40.0


def make_network(N: int, p: float):
    import numpy as np

    import neurosim as ns

    net = ns.RateNetwork.random(n_in=2, n_rec=N, n_out=2, tau=0.1, dt=TASK_DT, activation="sigmoid",
                                form="current", g=1.0, dale=0.8, p=p, rng=0)
    snet = ns.to_spiking(net, lam=LAM, sim_dt=SIM_DT)
    T = int(round(DURATION / TASK_DT))
    u = 0.5 * np.abs(np.random.default_rng(1).standard_normal((1, T, 2)))  # (B, T, n_in)
    trials = ns.tasks.Trials(u, np.zeros((1, T, 2)), np.ones((1, T, 2)), dt=TASK_DT)
    return snet, trials


def neurosim_worker(N: int, device: str, p: float, seed: int, cache: str) -> dict:
    """One run of neurosim's spiking substrate."""
    import neurosim as ns

    snet, trials = make_network(N, p)
    res = ns.simulate(snet, trials, substrate="spiking", device=device, cache_dir=cache, rng=seed)
    return {"run": res.run_time, "build": res.build_time, "compile": res.metadata["timings"].get("compile", 0.0),
            "spikes": int(sum(len(t) for t in res.extras["spike_times"])), "synapses": res.metadata["n_synapses"]}


def hand_written_worker(N: int, device: str, p: float, seed: int, cache: str) -> dict:
    """One run of the same network written directly in Brian2, as a user's script would."""
    import numpy as np
    import brian2 as b2

    snet, trials = make_network(N, p)  # only for the weights and the inputs
    W, W_in, bias_x = snet.W_rec, snet.W_in, snet.b
    u = trials.inputs[0]  # (T, n_in)
    start = time.perf_counter()
    b2.prefs.codegen.runtime.cython.cache_dir = cache
    directory = tempfile.mkdtemp(prefix="hand_", dir=cache)
    if device == "cpp_standalone":
        b2.set_device("cpp_standalone", build_on_run=False, directory=directory)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
    else:
        b2.prefs.codegen.target = "cython"
    eqs = """
    dv/dt = (v_rest - v + bias + v_scale * x) / tau_m + sigma_v * sqrt(2 / tau_m) * xi : volt (unless refractory)
    x = s + x_rec : 1
    ds/dt = (I_ext - s) / tau_d : 1
    I_ext : 1
    dx_rec/dt = -x_rec / tau_d + h_rec : 1
    dh_rec/dt = -h_rec / tau_r : Hz
    dr/dt = -r / tau_d + h_r : Hz
    dh_r/dt = -h_r / tau_r : Hz / second
    """
    namespace = dict(tau_m=10 * b2.ms, tau_d=100 * b2.ms, tau_r=2 * b2.ms, v_rest=-65 * b2.mV,
                     v_reset=-65 * b2.mV, v_threshold=-40 * b2.mV, bias=25 * b2.mV, v_scale=1 * b2.mV,
                     sigma_v=1 * b2.mV, lam=LAM * b2.Hz,
                     drive=b2.TimedArray(u @ W_in.T + bias_x, dt=TASK_DT * b2.second))
    G = b2.NeuronGroup(N, eqs, threshold="v > v_threshold", reset="v = v_reset\nh_r += 1 / (tau_r * tau_d)",
                       refractory=2 * b2.ms, method="euler", dt=SIM_DT * b2.second)
    G.v = np.random.default_rng(seed).uniform(-0.065, -0.040, N) * b2.volt
    G.r = LAM * 0.5 * b2.Hz
    inp = G.run_regularly("I_ext = drive(t, i)", dt=TASK_DT * b2.second, when="start", order=-1)
    S = b2.Synapses(G, G, "w : 1 (constant)", on_pre="h_rec_post += w / (lam * tau_r * tau_d)")
    post, pre = np.nonzero(W)
    S.connect(i=pre, j=post)
    S.w = W[post, pre]
    spikes = b2.SpikeMonitor(G)
    traces = b2.StateMonitor(G, "r", record=True, dt=TASK_DT * b2.second)
    net = b2.Network(G, inp, S, spikes, traces)
    b2.seed(seed)
    net.run(DURATION * b2.second, namespace=namespace)
    compile_time = 0.0
    if device == "cpp_standalone":
        t0 = time.perf_counter()
        b2.device.build(directory=directory, compile=True, run=False, with_output=False)
        compile_time = time.perf_counter() - t0
        b2.device.run(directory=directory, with_output=False)
    run_time = float(b2.get_device()._last_run_time)
    return {"run": run_time, "build": time.perf_counter() - start - run_time, "compile": compile_time,
            "spikes": len(spikes.i[:]), "synapses": int(len(pre))}


def _worker(which: str, N: int, device: str, p: float, seed: int, cache: str) -> dict:
    """One run in a fresh process (Brian2's global state and memory start clean)."""
    cmd = [sys.executable, __file__, "--worker", which, "--sizes", str(N), "--devices", device, "--p", str(p),
           "--seed", str(seed), "--cache", cache]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{which} N={N} {device} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(N: int, device: str, p: float, runs: int) -> dict:
    """Cold run (compiles into a fresh cache), then ``runs`` warm runs, alternating the two implementations."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="bench_spiking_") as root:
        caches = {w: os.path.join(root, w) for w in ("neurosim", "hand")}
        for w in caches:
            os.makedirs(caches[w])
            cold = _worker(w, N, device, p, 0, caches[w]) if device == "runtime" else None  # C++: always compiles
            out[w] = {"cold": cold, "warm": []}
        for k in range(runs):
            for w in caches:
                out[w]["warm"].append(_worker(w, N, device, p, k + 1, caches[w]))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N in {256, 1024}, one run each")
    parser.add_argument("--sizes", nargs="+", type=int, default=None, help="network sizes N")
    parser.add_argument("--devices", nargs="+", choices=DEVICES, default=DEVICES)
    parser.add_argument("--p", type=float, default=0.2, help="connection probability (default 0.2)")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per configuration (default 3, quick 1)")
    parser.add_argument("--worker", choices=("neurosim", "hand"), help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = args.sizes or ((256, 1024) if args.quick else SIZES)
    runs = args.runs or (1 if args.quick else 3)
    if args.worker:
        fn = neurosim_worker if args.worker == "neurosim" else hand_written_worker
        print(json.dumps(fn(sizes[0], args.devices[0], args.p, args.seed, args.cache)))
        return

    import brian2

    import neurosim as ns

    print(f"LIF network from a random Dale rate network (p = {args.p}), 1 s at sim_dt = 0.1 ms, {runs} timed "
          f"run(s); neurosim {ns.__version__}, brian2 {brian2.__version__}, {os.cpu_count()} CPUs")
    print("run = simulation loop (median, s); compile = Cython first-run set-up, or the C++ project's build (s)")
    print()
    head = (f"{'N':>5} {'device':15} {'synapses':>9} {'spikes':>7} {'neurosim run':>12} {'hand run':>9} "
            f"{'ratio':>6} {'ns compile':>10} {'hand compile':>12}")
    print(head)
    print("-" * len(head))
    ratios = []
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    for N in sizes:
        for device in args.devices:
            m = measure(N, device, args.p, runs)
            run = {w: med([r["run"] for r in m[w]["warm"]]) for w in m}
            if device == "runtime":  # Cython: what the cold run spent beyond a warm run's set-up
                comp = {w: m[w]["cold"]["build"] - med([r["build"] for r in m[w]["warm"]]) for w in m}
            else:  # C++ standalone compiles the project on every run
                comp = {w: med([r["compile"] for r in m[w]["warm"]]) for w in m}
            ratio = run["neurosim"] / run["hand"]
            ratios.append(ratio)
            ours = m["neurosim"]["warm"][0]
            label = "cython" if device == "runtime" else "cpp_standalone"
            print(f"{N:>5} {label:15} {ours['synapses']:>9} {ours['spikes']:>7} {run['neurosim']:>12.3f} "
                  f"{run['hand']:>9.3f} {ratio:>6.2f} {comp['neurosim']:>10.1f} {comp['hand']:>12.1f}", flush=True)
    print()
    print(f"ratio = neurosim / hand-written run time (goal <= 1.2); worst {max(ratios):.2f}")


if __name__ == "__main__":
    main()
