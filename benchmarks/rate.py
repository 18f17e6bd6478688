"""Benchmark: the Brian2 rate network against the artificial RNN's forward pass, same network, same trials.

    python benchmarks/rate.py                 # 1 s of simulated time at dt = 0.1 ms, N in {64, 256, 1024}, B in {1, 32}
    python benchmarks/rate.py --quick         # 0.1 s, N in {64, 256}, B in {1, 8}: a smoke run of every path
    python benchmarks/rate.py --blas-threads 0   # leave BLAS threading as the environment sets it

For each size it times ``ns.ann.forward`` (numpy) and ``ns.simulate(..., substrate="rate")`` on each Brian2
path (device, target, coupling). "build" is everything before the simulation loop (object construction, code
generation, compilation: a warm cache makes it small); "run" is the loop alone, as Brian2 measures it (for
cpp_standalone, as the binary measures it). The ratio is Brian2 run / ANN run; the goal is the default path
(runtime, Cython, matmul) at most 1.5x the ANN at N = 1024. Synapses paths are skipped where B * N^2 synapses
exceed --max-synapses (they run at roughly one synapse per nanosecond and would take hours).

BLAS runs on one thread by default: the C++ standalone loop is single-threaded too, and on a small shared
machine a multi-threaded BLAS spends more time synchronising than computing (timings then vary tenfold).
It also prints the largest |outputs_ann - outputs_brian2| of each run, so a fast wrong answer cannot pass.
This is a script, not a test.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

PATHS = {  # name: simulate options
    "runtime/cython/matmul": dict(device="runtime", target="cython", coupling="matmul"),
    "runtime/numpy/matmul": dict(device="runtime", target="numpy", coupling="matmul"),
    "runtime/cython/synapses": dict(device="runtime", target="cython", coupling="synapses"),
    "cpp_standalone/matmul": dict(device="cpp_standalone", coupling="matmul"),
    "cpp_standalone/synapses": dict(device="cpp_standalone", coupling="synapses"),
}
DEFAULT_PATH = "runtime/cython/matmul"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="0.1 s, N in {64, 256}, B in {1, 8}")
    p.add_argument("--sizes", type=int, nargs="+", help="numbers of units N (default 64 256 1024)")
    p.add_argument("--batches", type=int, nargs="+", help="numbers of trials B (default 1 32)")
    p.add_argument("--duration", type=float, help="simulated seconds (default 1.0)")
    p.add_argument("--dt", type=float, default=1e-4, help="time step in seconds (default 1e-4)")
    p.add_argument("--paths", nargs="+", choices=sorted(PATHS), default=list(PATHS), help="Brian2 paths to time")
    p.add_argument("--max-synapses", type=float, default=4e6, help="skip synapses paths above B*N^2 synapses")
    p.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest counts")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads, OPENBLAS/OMP/MKL_NUM_THREADS (default 1; 0 leaves the environment's)")
    p.add_argument("--cache-dir", help="Brian2 compilation cache (default: $NEUROSIM_BRIAN_CACHE or Brian2's)")
    args = p.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or ([64, 256] if quick else [64, 256, 1024])
    args.batches = args.batches or ([1, 8] if quick else [1, 32])
    args.duration = args.duration or (0.1 if quick else 1.0)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.blas_threads:  # before numpy is imported
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)
    import numpy as np

    import neurosim as ns

    T = int(round(args.duration / args.dt))
    print(f"neurosim {ns.__version__}: {args.duration} s at dt = {args.dt * 1e3:g} ms ({T} steps); "
          f"BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}; {os.cpu_count()} CPUs; "
          f"repeat {args.repeat}")
    header = f"{'N':>5} {'B':>3}  {'path':<24} {'build s':>8} {'run s':>8} {'x ANN':>7} {'max|dy|':>9}"
    print(header)
    print("-" * len(header))
    goal = []
    for N in args.sizes:
        for B in args.batches:
            net = ns.RateNetwork.random(3, N, 2, tau=10 * args.dt, dt=args.dt, g=1.2, rng=0)
            u = 0.5 * np.random.default_rng(1).standard_normal((B, T, 3))
            trials = ns.tasks.Trials(u, np.zeros((B, T, 2)), np.ones((B, T, 2)), dt=args.dt)
            ann_run, ann_out = np.inf, None
            for _ in range(args.repeat):
                start = time.perf_counter()
                _, ann_out = ns.ann.forward(net, u)
                ann_run = min(ann_run, time.perf_counter() - start)
                gc.collect()
            print(f"{N:>5} {B:>3}  {'ann (numpy forward)':<24} {0.0:>8.2f} {ann_run:>8.3f} {1.0:>7.2f} {'':>9}",
                  flush=True)
            for name in args.paths:
                opts = PATHS[name]
                if opts["coupling"] == "synapses" and B * N * N > args.max_synapses:
                    print(f"{N:>5} {B:>3}  {name:<24} {'skipped: ' + format(B * N * N, '.3g') + ' synapses':>36}")
                    continue
                build, run, err = np.inf, np.inf, 0.0
                for _ in range(args.repeat):
                    res = ns.simulate(net, trials, "rate", cache_dir=args.cache_dir, **opts)
                    build, run = min(build, res.build_time), min(run, res.run_time)
                    err = max(err, float(np.max(np.abs(res.outputs - ann_out))))
                    del res
                    gc.collect()
                mark = " *" if name == DEFAULT_PATH else ""
                print(f"{N:>5} {B:>3}  {name + mark:<24} {build:>8.2f} {run:>8.3f} {run / ann_run:>7.2f} "
                      f"{err:>9.1e}", flush=True)
                if name == DEFAULT_PATH and N == max(args.sizes):
                    goal.append((B, run / ann_run))
            del ann_out, trials, u
            gc.collect()
    print("* default path (device='runtime', target='cython', coupling=None -> 'matmul')")
    for B, ratio in goal:
        verdict = "meets" if ratio <= 1.5 else "MISSES"
        print(f"goal: default path at N = {max(args.sizes)}, B = {B}: {ratio:.2f}x the ANN forward "
              f"({verdict} the 1.5x goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
