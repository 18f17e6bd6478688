"""Training-step time of neurosim's numpy BPTT against PyTorch on CPU: RNN, LSTM and GRU.

    python benchmarks/bptt.py            # the full grid: 20 timed steps per configuration
    python benchmarks/bptt.py --quick    # 5 timed steps per configuration
    python benchmarks/bptt.py --threads 1

One training step is forward + backward + Adam update, batch 32, T = 100 steps, n_in = n_out = 3, masked MSE
(mask all ones, so it equals the mean squared error), for cell in {rnn, lstm, gru}, H in {64, 256}, float32
and float64:

- neurosim: ``ns.ann.loss_and_grads`` on a RateNetwork (alpha = 1, tanh: the Elman RNN) or a GatedNetwork,
  then Adam (``neurosim.training.adam_update`` when it exists, else an equivalent inline numpy Adam; the output
  says which) and ``net.constrain(**params)``, as in ``neurosim.train``;
- torch: nn.RNN / nn.LSTM / nn.GRU (batch_first) + nn.Linear, ``nn.MSELoss``, ``loss.backward()`` and
  ``torch.optim.Adam``.

Each framework runs in its own subprocess: in one process, OpenBLAS' and OpenMP's idle worker threads spin
and steal the cores from the other's. Both get the same number of threads: numpy's BLAS thread count, read
from OpenBLAS, is given to ``torch.set_num_threads`` (``--threads N`` sets both). The reported time is the
median step. GFLOP/s counts the matrix products of the step (the same algorithm in both), and is compared with
this machine's numpy matmul GFLOP/s on a large square product (the best a BLAS-bound step could do).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
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


def _median_time(step, reps: int, warmup: int) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def _data(dtype_name):
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.normal(size=(B, T, N_IN)), rng.normal(size=(B, T, N_OUT))


# -- the neurosim worker ------------------------------------------------------------------------------------

def blas_threads() -> tuple[int, str]:
    """numpy's BLAS thread count and a description, read from the loaded OpenBLAS through ctypes."""
    import numpy as np  # noqa: F401 - loads the BLAS

    with open("/proc/self/maps") as fh:
        libs = sorted({line.split()[-1] for line in fh if "openblas" in line.lower() and ".so" in line})
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


def peak_gflops(dtype_name: str, n: int = 2048) -> float:
    import numpy as np

    a = np.random.default_rng(0).random((n, n)).astype(dtype_name)
    b, out = a.copy(), np.empty_like(a)
    return 2 * n**3 / _median_time(lambda: np.matmul(a, b, out=out), reps=5, warmup=1) / 1e9


def neurosim_worker(configs, reps, warmup) -> dict:
    import numpy as np

    import neurosim as ns

    try:
        from neurosim.training import adam_init, adam_update

        adam = "neurosim.training.adam_update"
    except ImportError:
        adam = "inline numpy Adam (neurosim.training.adam_update not found)"

        def adam_init(params):
            return {"t": 0, "m": {k: np.zeros_like(v) for k, v in params.items()},
                    "v": {k: np.zeros_like(v) for k, v in params.items()}}

        def adam_update(grads, state, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            t = state["t"] + 1
            c1, c2 = 1.0 - beta1**t, 1.0 - beta2**t
            m = {k: beta1 * state["m"][k] + (1 - beta1) * g for k, g in grads.items()}
            v = {k: beta2 * state["v"][k] + (1 - beta2) * g * g for k, g in grads.items()}
            new = {k: params[k] - (lr / c1) * m[k] / (np.sqrt(v[k] / c2) + eps) for k in grads}
            return new, {"t": t, "m": m, "v": v}

    threads, blas = blas_threads()
    u, y = _data(None)
    trials = ns.tasks.Trials(u, y, np.ones_like(y), dt=0.01)
    results = []
    for cell, H, dtype in configs:
        if cell == "rnn":
            net = ns.RateNetwork.random(N_IN, H, N_OUT, tau=0.01, dt=0.01, dtype=dtype, rng=0)
        else:
            net = ns.ann.GatedNetwork.random(N_IN, H, N_OUT, cell=cell, dtype=dtype, rng=0)
        state = {"net": net, "params": {k: getattr(net, k) for k in net.trainable}}
        state["opt"] = adam_init(state["params"])

        def step():
            _, grads = ns.ann.loss_and_grads(state["net"], trials)
            state["params"], state["opt"] = adam_update(grads, state["opt"], state["params"], lr=1e-3)
            state["net"] = state["net"].constrain(**state["params"])

        results.append({"cell": cell, "H": H, "dtype": dtype, "seconds": _median_time(step, reps, warmup)})
    peaks = {d: peak_gflops(d) for d in sorted({c[2] for c in configs})}
    return {"threads": threads, "blas": blas, "adam": adam, "numpy": np.__version__, "peaks": peaks,
            "results": results}


# -- the torch worker ---------------------------------------------------------------------------------------

def torch_worker(configs, reps, warmup, threads) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    u, y = _data(None)
    results = []
    for cell, H, dtype in configs:
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

        results.append({"cell": cell, "H": H, "dtype": dtype, "seconds": _median_time(step, reps, warmup)})
    return {"threads": torch.get_num_threads(), "torch": torch.__version__, "numpy": np.__version__,
            "backend": "MKL" if torch.backends.mkl.is_available() else "no MKL", "results": results}


# -- the parent: run both workers, print the table --------------------------------------------------------------

def _run_worker(name: str, args, extra=()) -> dict:
    env = dict(os.environ)
    if args.openblas_coretype and name == "neurosim":
        env["OPENBLAS_CORETYPE"] = args.openblas_coretype
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--reps", str(args.reps),
           "--warmup", str(args.warmup), "--cells", *args.cells, "--sizes", *map(str, args.sizes),
           "--dtypes", *args.dtypes, *extra]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bptt.py: the {name} worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 timed steps per configuration instead of 20")
    parser.add_argument("--threads", type=int, default=0, help="threads for both (default: numpy's BLAS default)")
    parser.add_argument("--openblas-coretype", default="",
                        help="set OPENBLAS_CORETYPE for numpy's OpenBLAS, e.g. SkylakeX where OpenBLAS does not "
                             "recognise an AVX-512 CPU and falls back to Haswell (AVX2) kernels")
    parser.add_argument("--cells", nargs="+", choices=CELLS, default=CELLS, help="a subset of the cells")
    parser.add_argument("--sizes", nargs="+", type=int, default=SIZES, help="hidden sizes H")
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=DTYPES, help="a subset of the dtypes")
    parser.add_argument("--reps", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=("neurosim", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--torch-threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.reps = args.reps or (5 if args.quick else 20)
    args.warmup = args.warmup or (1 if args.quick else 3)
    configs = [(c, h, d) for d in args.dtypes for c in args.cells for h in args.sizes]
    if args.worker == "neurosim":
        print(json.dumps(neurosim_worker(configs, args.reps, args.warmup)))
        return
    if args.worker == "torch":
        print(json.dumps(torch_worker(configs, args.reps, args.warmup, args.torch_threads)))
        return

    ns_out = _run_worker("neurosim", args)
    threads = ns_out["threads"]
    th_out = _run_worker("torch", args, ["--torch-threads", str(threads)])
    torch_time = {(r["cell"], r["H"], r["dtype"]): r["seconds"] for r in th_out["results"]}
    print(f"BPTT training step (forward + backward + Adam), batch {B}, T = {T}, n_in = n_out = {N_IN}, "
          f"median of {args.reps} steps")
    print(f"numpy {ns_out['numpy']}, BLAS {ns_out['blas']}: {threads} threads; torch {th_out['torch']} "
          f"({th_out['backend']}): {th_out['threads']} threads; neurosim's Adam: {ns_out['adam']}")
    print("numpy matmul peak (2048^3): " + ", ".join(f"{d} {g:.0f} GFLOP/s" for d, g in ns_out["peaks"].items()))
    print()
    head = f"{'cell':5} {'H':>4} {'dtype':8} {'neurosim ms':>11} {'torch ms':>9} {'ratio':>6} " \
           f"{'neurosim GF/s':>13} {'torch GF/s':>10} {'% of peak':>9}"
    print(head)
    print("-" * len(head))
    worst = 0.0
    for r in ns_out["results"]:
        key = (r["cell"], r["H"], r["dtype"])
        ours, theirs = r["seconds"], torch_time[key]
        flops = matmul_flops(r["cell"], r["H"])
        ratio = ours / theirs
        worst = max(worst, ratio)
        print(f"{r['cell']:5} {r['H']:>4} {r['dtype']:8} {ours * 1e3:>11.2f} {theirs * 1e3:>9.2f} {ratio:>6.2f} "
              f"{flops / ours / 1e9:>13.1f} {flops / theirs / 1e9:>10.1f} "
              f"{100 * flops / ours / 1e9 / ns_out['peaks'][r['dtype']]:>8.0f}%")
    print()
    print(f"ratio = neurosim / torch (goal <= 1.0); worst {worst:.2f}. GF/s counts matrix-product FLOPs only; "
          "% of peak is neurosim's GF/s over numpy's matmul peak.")


if __name__ == "__main__":
    main()
