"""Training-step time of neurosim's BPTT (numpy; the LSTM's and GRU's time loops compiled) against PyTorch on CPU.

    python benchmarks/bptt.py            # the full grid: 20 timed steps per configuration
    python benchmarks/bptt.py --quick    # 5 timed steps per configuration
    python benchmarks/bptt.py --threads 1   # the judge: both sides on one core, their steps interleaved
    python benchmarks/bptt.py --rounds 3   # alternate the two frameworks 3 times (for a busy machine)
    python benchmarks/bptt.py --openblas-coretype SkylakeX   # numpy's OpenBLAS with AVX-512 kernels
    python benchmarks/bptt.py --clock cpu  # process CPU time instead of wall time (for a machine shared with others)
    python benchmarks/bptt.py --stacked    # 8 seeds of a 64-unit RNN: neurosim.learning.train_stacked against
                                           # neurosim.train one after another (no torch)

One training step is forward + backward + Adam update, batch 32, T = 100 steps, n_in = n_out = 3, masked MSE
(mask all ones, so it equals the mean squared error), for cell in {rnn, lstm, gru}, H in {64, 256}, float32
and float64:

- neurosim: ``ns.ann.loss_and_grads`` on a RateNetwork (alpha = 1, tanh: the Elman RNN) or a GatedNetwork,
  then Adam (``neurosim.learning.Adam``) and ``net.evolve(**net.project(params))``, as the BPTT rule of
  ``neurosim.train`` does;
- torch: nn.RNN / nn.LSTM / nn.GRU (batch_first) + nn.Linear, ``nn.MSELoss``, ``loss.backward()`` and
  ``torch.optim.Adam``.

With ``--threads 1`` (the judge of issue 14) both frameworks run in one subprocess pinned to one core, and
their steps interleave: per configuration, 20 rounds of a block of 3 steps of each side (neurosim, torch and
neurosim's matrix products alone, the order rotated every round), so the two sides are timed seconds apart.
On this shared VM a core's speed changes by up to 1.5x within minutes (measured: the float32 GRU at H = 256 gave
0.58 and 1.18 in two runs five minutes apart with each side in its own process), which no ordering of whole
processes cancels; the ratio reported is the median over rounds of the paired ratios. With more threads each
framework runs in its own subprocess (in one process, OpenBLAS' and OpenMP's idle worker threads spin and
steal the cores from the other's); both get the same number of threads: numpy's BLAS thread count, read from
OpenBLAS, is given to ``torch.set_num_threads`` (``--threads N`` sets both), and with ``--rounds R`` the two
workers alternate R times and the table gives the median over rounds of each time and of the per-round ratio.
On a machine shared with other jobs, ``--clock cpu`` times each step by the process's CPU time
(``time.process_time``), which does not count the time the process waits for a core.
GFLOP/s counts the matrix products of the step (the same algorithm in both) and is compared with this
machine's numpy matmul GFLOP/s on a large square product (the best a BLAS-bound step could do).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

B, T, N_IN, N_OUT = 32, 100, 3, 3
CELLS, SIZES, DTYPES = ("rnn", "lstm", "gru"), (64, 256), ("float32", "float64")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def matmul_flops(cell: str, H: int) -> float:
    """Floating-point operations of the matrix products in one training step (forward and backward)."""
    G = GATES[cell]
    recurrent = 3 * 2 * T * B * G * H * H  # W_hh h each step; dh W_hh each step; dW_hh over all steps
    inputs = 2 * 2 * T * B * G * H * N_IN  # W_ih x over all steps; dW_ih
    readout = 3 * 2 * T * B * H * N_OUT  # W_out h; dW_out; dh from the readout
    return float(recurrent + inputs + readout)


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def _median_time(step, reps: int, warmup: int) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t0 = clock()
        step()
        times.append(clock() - t0)
    times.sort()
    return times[len(times) // 2]


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.normal(size=(B, T, N_IN)), rng.normal(size=(B, T, N_OUT))


# -- the neurosim worker ------------------------------------------------------------------------------------

def blas_threads() -> tuple[int, str]:
    """numpy's BLAS thread count and a description, read from the loaded OpenBLAS through ctypes."""
    import numpy as np  # noqa: F401 - loads the BLAS

    try:  # the shared libraries this process has loaded (Linux)
        with open("/proc/self/maps") as fh:
            libs = sorted({line.split()[-1] for line in fh if "openblas" in line.lower() and ".so" in line})
    except OSError:
        libs = []
    for lib in libs:
        handle = ctypes.CDLL(lib)
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("scipy_openblas", ""),
                               ("openblas", "")):
            if hasattr(handle, f"{prefix}_get_num_threads{suffix}"):
                threads = int(getattr(handle, f"{prefix}_get_num_threads{suffix}")())
                corename = getattr(handle, f"{prefix}_get_corename{suffix}")
                corename.restype = ctypes.c_char_p
                return threads, f"OpenBLAS ({os.path.basename(lib)}), {corename().decode()} kernels"
    return os.cpu_count() or 1, "not OpenBLAS: threads assumed = os.cpu_count()"


def peak_gflops(dtype_name: str, n: int = 2048, reps: int = 7) -> float:
    """numpy's best matmul GFLOP/s on an (n, n) x (n, n) product: the fastest of ``reps`` runs."""
    import numpy as np

    a = np.random.default_rng(0).random((n, n)).astype(dtype_name)
    b, out = a.copy(), np.empty_like(a)
    np.matmul(a, b, out=out)
    best = float("inf")
    for _ in range(reps):
        t0 = clock()
        np.matmul(a, b, out=out)
        best = min(best, clock() - t0)
    return 2 * n**3 / best / 1e9


def _avx512() -> bool:
    try:
        with open("/proc/cpuinfo") as fh:
            return any(line.startswith("flags") and " avx512f" in line for line in fh)
    except OSError:
        return False


def products_only(cell: str, H: int, dtype: str):
    """A step of the matrix products of one training step alone, as neurosim makes them (the cells' layouts, in
    OpenBLAS-sized blocks, ``neurosim.ann._gemm``), and nothing else: its time is the floor of the step's.

    rnn (rows are trials): per time step (B, H) x (H, H) forward and backward; over all steps the input
    projection and the weight gradients. lstm and gru (columns are trials): per time step the (G H, n_in + H + 1) x
    (n_in + H + 1, B) product of all gates and the (H, G H) x (G H, B) product backward; over all steps the
    weight gradient. Both: the readout, its weight gradient and dL/dh over all steps."""
    import numpy as np

    from neurosim.ann import _gemm

    G, rng = GATES[cell], np.random.default_rng(0)

    def rand(*shape):
        return rng.random(shape).astype(dtype)

    S, dz, W_out = rand(T * B, H), rand(T * B, N_OUT), rand(H, N_OUT)
    if cell == "rnn":
        x, W, fwd, d, WT, bwd = rand(B, H), rand(H, H), np.empty((B, H), dtype), rand(B, H), rand(H, H), \
            np.empty((B, H), dtype)
        cols = _gemm.blocks(H, B * H)
        f_blocks, b_blocks = [W[:, c] for c in cols], [WT[:, c] for c in cols]
        E, U, W_in = rand(H, T * B), rand(T * B, N_IN), rand(N_IN, H)

        def per_step():
            for _ in range(T):
                _gemm.matmul_cols(x, f_blocks, cols, fwd)
            for _ in range(T):
                _gemm.matmul_cols(d, b_blocks, cols, bwd)
            E @ S, E @ U, U @ W_in  # dW_rec, dW_in, the input projection
    else:
        K = N_IN + H + 1
        W, X, fwd = rand(G * H, K), rand(K, B), np.empty((G * H, B), dtype)
        WT, dA, bwd = rand(H, G * H), rand(G * H, B), np.empty((H, B), dtype)
        f_rows, b_rows = _gemm.blocks(G * H, K * B), _gemm.blocks(H, G * H * B)
        f_blocks, b_blocks = [W[r] for r in f_rows], [WT[r] for r in b_rows]
        dA_all, XH = rand(G * H, T * B), rand(T * B, K)

        def per_step():
            for _ in range(T):
                _gemm.matmul_rows(f_blocks, f_rows, X, fwd)
            for _ in range(T):
                _gemm.matmul_rows(b_blocks, b_rows, dA, bwd)
            dA_all @ XH  # dW = [dW_ih, dW_hh, db]

    def step():
        per_step()
        S @ W_out, dz.T @ S, dz @ W_out.T  # the readout, dW_out, dL/dh from the readout

    return step


def neurosim_step(cell: str, H: int, dtype: str, trials):
    """One neurosim training step on a fresh network: loss_and_grads, Adam, evolve (as the BPTT rule does)."""
    import neurosim as ns

    from neurosim.learning import Adam

    opt = Adam(lr=1e-3)
    if cell == "rnn":
        net = ns.RateNetwork.random(N_IN, H, N_OUT, tau=0.01, dt=0.01, dtype=dtype, rng=0)
    else:
        net = ns.ann.GatedNetwork.random(N_IN, H, N_OUT, cell=cell, dtype=dtype, rng=0)
    state = {"net": net, "params": {k: getattr(net, k) for k in net.trainable}}
    state["opt"] = opt.init(state["params"])

    def step():
        _, grads = ns.ann.loss_and_grads(state["net"], trials)
        state["params"], state["opt"] = opt.update(grads, state["opt"], state["params"])
        state["net"] = state["net"].evolve(**state["net"].project(state["params"]))

    return step


def _trials():
    import numpy as np

    import neurosim as ns

    u, y = _data()
    return ns.tasks.Trials(u, y, np.ones_like(y), dt=0.01)


ADAM = "neurosim.learning.Adam"


def neurosim_worker(configs, reps, warmup) -> dict:
    import numpy as np

    threads, blas = blas_threads()
    trials = _trials()
    results = []
    for cell, H, dtype in configs:
        results.append({"cell": cell, "H": H, "dtype": dtype,
                        "seconds": _median_time(neurosim_step(cell, H, dtype, trials), reps, warmup),
                        "products_seconds": _median_time(products_only(cell, H, dtype), reps, warmup)})
    peaks = {d: peak_gflops(d) for d in sorted({c[2] for c in configs})}
    return {"threads": threads, "blas": blas, "adam": ADAM, "numpy": np.__version__, "peaks": peaks,
            "results": results}


STACK_SEEDS, STACK_H = 8, 64


def stacked_worker(dtypes, steps, warmup) -> dict:
    """8 seeds of a 64-unit Elman RNN, ``steps`` BPTT steps each: one after another with ``neurosim.train``,
    then all at once with ``neurosim.learning.train_stacked``; the results must be bit-identical."""
    import numpy as np

    import neurosim as ns
    from neurosim.ann import stacked
    from neurosim.learning import train_stacked

    rng = np.random.default_rng(0)
    data = ns.tasks.Trials(rng.normal(size=(8 * B, T, N_IN)), rng.normal(size=(8 * B, T, N_OUT)),
                           np.ones((8 * B, T, N_OUT)), dt=0.01)
    seeds = list(range(STACK_SEEDS))
    kw = dict(batch_size=B, lr=1e-3, progress=False)
    results = []
    for dtype in dtypes:
        nets = [ns.RateNetwork.random(N_IN, STACK_H, N_OUT, tau=0.01, dt=0.01, dtype=dtype, rng=s) for s in seeds]
        train_stacked(nets, data, steps=warmup, rng=seeds, **kw)  # warm the buffer pool
        alone_t, stacked_t = [], []
        for _ in range(2):  # alternate the two sides
            t0 = clock()
            alone = [ns.train(net, data, steps=steps, rng=s, **kw) for net, s in zip(nets, seeds)]
            t1 = clock()
            together = train_stacked(nets, data, steps=steps, rng=seeds, **kw)
            t2 = clock()
            alone_t.append(t1 - t0)
            stacked_t.append(t2 - t1)
        same = all(np.array_equal(getattr(a, k), getattr(b, k)) for (a, _), (b, _) in zip(alone, together)
                   for k in a.trainable) and all(ha.loss == hb.loss for (_, ha), (_, hb) in zip(alone, together))
        # why: one network's gradient, and the same at H = 4, where the arithmetic is nothing and the time is
        # numpy's fixed cost per call, the most that stacking can save
        batches = [data[np.arange(B) + B * k] for k in range(STACK_SEEDS)]
        tiny = ns.RateNetwork.random(N_IN, 4, N_OUT, tau=0.01, dt=0.01, dtype=dtype, rng=0)
        one = _median_time(lambda: ns.ann.loss_and_grads(nets[0], batches[0]), 4 * steps, warmup)
        fixed = _median_time(lambda: ns.ann.loss_and_grads(tiny, batches[0]), 4 * steps, warmup)
        together_g = _median_time(lambda: stacked.loss_and_grads(nets, batches), steps, warmup)
        results.append({"dtype": dtype, "alone": min(alone_t), "stacked": min(stacked_t), "identical": same,
                        "gradient_one": one, "gradient_h4": fixed, "gradient_stacked": together_g,
                        "peak": peak_gflops(dtype)})
    return {"results": results, "steps": steps}


# -- the torch worker ---------------------------------------------------------------------------------------

def torch_step(cell: str, H: int, dtype: str):
    """One torch training step: nn.RNN / LSTM / GRU + nn.Linear, MSELoss, backward, Adam."""
    import torch

    u, y = _data()
    tdtype = getattr(torch, dtype)
    torch.manual_seed(0)
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        N_IN, H, batch_first=True, dtype=tdtype)
    lin = torch.nn.Linear(H, N_OUT, dtype=tdtype)
    opt = torch.optim.Adam(list(rnn.parameters()) + list(lin.parameters()), lr=1e-3)
    mse = torch.nn.MSELoss()
    x, t = torch.tensor(u, dtype=tdtype), torch.tensor(y, dtype=tdtype)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = mse(lin(rnn(x)[0]), t)
        loss.backward()
        opt.step()

    return step


def _torch_info() -> dict:
    import torch

    return {"torch": torch.__version__,
            "backend": ("MKL" if torch.backends.mkl.is_available() else "no MKL")
            + (", oneDNN: its float32 nn.LSTM runs oneDNN's fused LSTM kernel" if torch.backends.mkldnn.is_available()
               and torch.backends.mkldnn.enabled else "")}


def torch_worker(configs, reps, warmup, threads) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    results = [{"cell": cell, "H": H, "dtype": dtype, "seconds": _median_time(torch_step(cell, H, dtype), reps, warmup)}
               for cell, H, dtype in configs]
    return {"threads": torch.get_num_threads(), "numpy": np.__version__, **_torch_info(), "results": results}


PAIR_BLOCK = 3  # steps per timed block in the paired worker: the block's first step refills the caches


def paired_worker(configs, reps, warmup) -> dict:
    """Both frameworks in this one process, one thread each: per configuration, ``reps`` rounds of one block of
    PAIR_BLOCK steps of each side (neurosim, torch, neurosim's products alone), the order rotated every round, so
    that the sides are timed seconds apart and a change in the machine's speed hits both. Returns per
    configuration each side's median step and the median over rounds of the paired ratio."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    threads, blas = blas_threads()
    trials = _trials()
    results = []
    for cell, H, dtype in configs:
        sides = {"neurosim": neurosim_step(cell, H, dtype, trials), "torch": torch_step(cell, H, dtype),
                 "products": products_only(cell, H, dtype)}
        for step in sides.values():
            for _ in range(warmup):
                step()
        times = {name: [] for name in sides}
        names = list(sides)
        for k in range(reps):
            for name in names[k % len(names):] + names[:k % len(names)]:
                step = sides[name]
                t0 = clock()
                for _ in range(PAIR_BLOCK):
                    step()
                times[name].append((clock() - t0) / PAIR_BLOCK)
        results.append({"cell": cell, "H": H, "dtype": dtype, "seconds": statistics.median(times["neurosim"]),
                        "torch_seconds": statistics.median(times["torch"]),
                        "products_seconds": statistics.median(times["products"]),
                        "ratio": statistics.median(a / b for a, b in zip(times["neurosim"], times["torch"]))})
    peaks = {d: peak_gflops(d) for d in sorted({c[2] for c in configs})}
    return {"threads": threads, "blas": blas, "adam": ADAM, "numpy": np.__version__, "peaks": peaks,
            "torch_threads": torch.get_num_threads(), **_torch_info(), "results": results}


# -- the parent: run both workers, print the table --------------------------------------------------------------

def _pin_to(cpu: int):
    """A preexec_fn that pins the child process to one CPU."""
    return lambda: os.sched_setaffinity(0, {cpu})


def _run_worker(name: str, args, extra=()) -> dict:
    env = dict(os.environ)
    if args.openblas_coretype and name == "neurosim":
        env["OPENBLAS_CORETYPE"] = args.openblas_coretype
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--reps", str(args.reps),
           "--warmup", str(args.warmup), "--cells", *args.cells, "--sizes", *map(str, args.sizes),
           "--dtypes", *args.dtypes, "--clock", args.clock, *extra]
    # one thread each: both sides on the same core, since the cores of a shared VM run at different speeds
    # (measured here: 13.6 s and 18.0 s of CPU for one job on each at once)
    pin = _pin_to(min(os.sched_getaffinity(0))) if args.threads == 1 and hasattr(os, "sched_setaffinity") else None
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, preexec_fn=pin)
    if done.returncode != 0:
        raise SystemExit(f"bptt.py: the {name} worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 timed steps per configuration instead of 20")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the two workers this many times")
    parser.add_argument("--threads", type=int, default=0, help="threads for both (default: numpy's BLAS default)")
    parser.add_argument("--openblas-coretype", default="",
                        help="set OPENBLAS_CORETYPE for numpy's OpenBLAS, e.g. SkylakeX where OpenBLAS does not "
                             "recognise an AVX-512 CPU and falls back to Haswell (AVX2) kernels")
    parser.add_argument("--cells", nargs="+", choices=CELLS, default=CELLS, help="a subset of the cells")
    parser.add_argument("--sizes", nargs="+", type=int, default=SIZES, help="hidden sizes H")
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=DTYPES, help="a subset of the dtypes")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="time steps by wall time (default) or by the process's CPU time")
    parser.add_argument("--stacked", action="store_true",
                        help=f"{STACK_SEEDS} seeds of a {STACK_H}-unit RNN: train_stacked against one after another")
    parser.add_argument("--reps", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=("neurosim", "torch", "stacked", "paired"), help=argparse.SUPPRESS)
    parser.add_argument("--torch-threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.reps = args.reps or (5 if args.quick else 20)
    args.warmup = args.warmup or (1 if args.quick else 3)
    global clock
    clock = CLOCKS[args.clock]
    configs = [(c, h, d) for d in args.dtypes for c in args.cells for h in args.sizes]
    if args.worker == "stacked":
        print(json.dumps(stacked_worker(args.dtypes, args.reps, args.warmup)))
        return
    if args.stacked:
        load = os.getloadavg()
        out = _run_worker("stacked", args)
        print(f"Stacked training: {STACK_SEEDS} seeds of a {STACK_H}-unit Elman RNN, {out['steps']} BPTT steps "
              f"each (batch {B}, T = {T}), {args.clock} time, best of 2 alternations")
        print(f"load average (1 min) before / after: {load[0]:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
              "cores")
        for r in out["results"]:
            print(f"{r['dtype']}: one after another {r['alone']:.2f} s, train_stacked {r['stacked']:.2f} s: "
                  f"{r['alone'] / r['stacked']:.2f}x the throughput (goal >= 3x); bit-identical: {r['identical']}")
            one, fixed, together = r["gradient_one"], r["gradient_h4"], r["gradient_stacked"]
            print(f"  gradient of one network {one * 1e3:.2f} ms, of the same at H = 4 {fixed * 1e3:.2f} ms (nothing "
                  f"to compute: numpy's fixed cost per call, what stacking saves), of {STACK_SEEDS} stacked "
                  f"{together * 1e3:.2f} ms ({STACK_SEEDS * one / together:.2f}x)")
            # stacking shares the fixed cost; the rest it cannot shrink: numpy's matmul over a stack calls the
            # BLAS kernel once per network, and an elementwise pass costs at least as much per element on a
            # stack as on one network
            bound = STACK_SEEDS * one / (STACK_SEEDS * (one - fixed) + fixed)
            print(f"  the most stacking can give at {STACK_H} units: {STACK_SEEDS} x one / ({STACK_SEEDS} x (one - H4) "
                  f"+ H4) = {bound:.2f}x")
            # whatever the scheme, bit-identical or not: a training step's matrix products at numpy's matmul peak
            floor = matmul_flops("rnn", STACK_H) / (r["peak"] * 1e9)
            alone_step = r["alone"] / (STACK_SEEDS * out["steps"])
            print(f"  one training step alone takes {alone_step * 1e3:.2f} ms; its matrix products at numpy's matmul "
                  f"peak ({r['peak']:.0f} GFLOP/s) would take {floor * 1e3:.2f} ms: no way of computing them trains "
                  f"more than {alone_step / floor:.2f}x faster")
        return
    if args.worker == "neurosim":
        print(json.dumps(neurosim_worker(configs, args.reps, args.warmup)))
        return
    if args.worker == "torch":
        print(json.dumps(torch_worker(configs, args.reps, args.warmup, args.torch_threads)))
        return
    if args.worker == "paired":
        print(json.dumps(paired_worker(configs, args.reps, args.warmup)))
        return

    load = os.getloadavg()
    ours, theirs, ns_rounds = {}, {}, []  # (cell, H, dtype) -> seconds, one per round; the neurosim outputs
    paired = {}  # (cell, H, dtype) -> the paired worker's ratio, one per round
    threads = args.threads or None  # else numpy's BLAS default, read by the first neurosim worker
    for k in range(args.rounds):
        if threads == 1:  # both sides in one process on one core, interleaved (paired_worker)
            ns_out = th_out = _run_worker("paired", args)
            ns_rounds.append(ns_out)
            for r in ns_out["results"]:
                paired.setdefault((r["cell"], r["H"], r["dtype"]), []).append(r["ratio"])
                ours.setdefault((r["cell"], r["H"], r["dtype"]), []).append(r["seconds"])
                theirs.setdefault((r["cell"], r["H"], r["dtype"]), []).append(r["torch_seconds"])
            th_out = {**th_out, "threads": th_out["torch_threads"]}
            continue
        for side in ("torch", "neurosim") if k % 2 and threads else ("neurosim", "torch"):  # odd rounds: torch first
            if side == "neurosim":
                ns_out = _run_worker("neurosim", args)
                ns_rounds.append(ns_out)
                threads = threads or ns_out["threads"]
            else:
                th_out = _run_worker("torch", args, ["--torch-threads", str(threads)])
        for out, times in ((ns_out, ours), (th_out, theirs)):
            for r in out["results"]:
                times.setdefault((r["cell"], r["H"], r["dtype"]), []).append(r["seconds"])
    print(f"BPTT training step (forward + backward + Adam), batch {B}, T = {T}, n_in = n_out = {N_IN}, "
          f"{args.clock} time, median of {args.reps} steps"
          + (f", median over {args.rounds} rounds" if args.rounds > 1 else "")
          + (f"; both sides in one process on one core, in alternating blocks of {PAIR_BLOCK} steps (the ratio: the "
             "median of the blocks' paired ratios)" if paired else
             "; each side in its own process" + (", alternating which side runs first" if args.rounds > 1 else "")))
    print(f"numpy {ns_out['numpy']}, BLAS {ns_out['blas']}: {ns_out['threads']} threads; "
          f"neurosim's Adam: {ns_out['adam']}")
    print(f"torch {th_out['torch']} ({th_out['backend']}): {th_out['threads']} threads")
    print("numpy matmul peak (best 2048^3 product): "
          + ", ".join(f"{d} {g:.0f} GFLOP/s" for d, g in ns_out["peaks"].items()))
    print(f"load average (1 min) before / after: {load[0]:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if "Haswell kernels" in ns_out["blas"] and _avx512():
        print("note: this CPU has AVX-512 but OpenBLAS runs its Haswell (AVX2) kernels (it does not recognise the "
              "CPU); try --openblas-coretype SkylakeX")
    print()
    head = f"{'cell':5} {'H':>4} {'dtype':8} {'neurosim ms':>11} {'torch ms':>9} {'ratio':>6} " \
           f"{'neurosim GF/s':>13} {'torch GF/s':>10} {'% of peak':>9} {'products ms':>11} {'their % of peak':>15}"
    print(head)
    print("-" * len(head))
    worst = 0.0
    floor = {}  # (cell, H, dtype) -> the products alone, one per round
    for r in ns_rounds:
        for x in r["results"]:
            floor.setdefault((x["cell"], x["H"], x["dtype"]), []).append(x["products_seconds"])
    for (cell, H, dtype), times in ours.items():
        a, b = statistics.median(times), statistics.median(theirs[cell, H, dtype])
        pa = statistics.median(floor[cell, H, dtype])
        ratio = statistics.median(paired[cell, H, dtype] if paired else
                                  [x / y for x, y in zip(times, theirs[cell, H, dtype])])
        flops = matmul_flops(cell, H)
        worst = max(worst, ratio)
        peak = ns_out["peaks"][dtype]
        print(f"{cell:5} {H:>4} {dtype:8} {a * 1e3:>11.2f} {b * 1e3:>9.2f} {ratio:>6.2f} "
              f"{flops / a / 1e9:>13.1f} {flops / b / 1e9:>10.1f} {100 * flops / a / 1e9 / peak:>8.0f}% "
              f"{pa * 1e3:>11.2f} {100 * flops / pa / 1e9 / peak:>14.0f}%")
    print()
    print(f"ratio = neurosim / torch (goal <= 1.0); worst {worst:.2f}. GF/s counts matrix-product FLOPs only; "
          "% of peak is neurosim's GF/s over numpy's matmul peak. products ms: the step's matrix products alone, "
          "at the same shapes (benchmarks/bptt.py products_only): the floor of neurosim's step, and their % of "
          "peak the most the whole step could reach.")


if __name__ == "__main__":
    main()
