"""The gated cells' training-step floor: their elementwise ufunc passes alone, without the matrix products.

    python benchmarks/gated_floor.py       # LSTM and GRU, H = 64 and 256, float32 and float64, batch 32, T = 100
                                           # (pin it to one core: taskset -c 0 python benchmarks/gated_floor.py)

The forward and backward loops of :mod:`neurosim.ann.lstm` make 7 and 15 elementwise numpy calls per time step
between their products (tanh of the gates, the sigmoid rescaling, the cell update, the local derivatives), those
of :mod:`neurosim.ann.gru` 9 and 15 (with the input drive of n added each step). This script makes the same calls
on arrays of the same shapes and layout, and nothing else; with ``benchmarks/bptt.py``'s ``products ms`` (the
products alone) it gives the floor of the step in numpy, one pass over memory per operation: products + these
passes. Torch's float32 LSTM runs a fused kernel (oneDNN) instead. The calls mirror ``ann/lstm.py`` and
``ann/gru.py`` as written; if those files change their loops, change these.

Then, in context: each cell's forward pass as neurosim runs it (``lstm.run``, ``gru.run``) beside its per-step
products alone, on a forward's buffers in the same order and row blocks (:mod:`neurosim.ann._gemm`): the
difference is what the forward's 7 (LSTM) or 9 (GRU) passes per step cost between the products, to compare with
the passes alone above.

These are numpy's loops (the reference; ``NEUROSIM_KERNELS=numpy`` is set here): by default the cells now run the
same loops compiled (:mod:`neurosim.ann._kernels`), which this floor showed were needed. ``benchmarks/bptt.py``
times the compiled loops.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["NEUROSIM_KERNELS"] = "numpy"  # the numpy loops, whose floor this is

import numpy as np  # noqa: E402

B, T = 32, 100


def lstm_passes(H: int, dtype: str):
    """One training step's elementwise calls of the LSTM (forward then backward), on preallocated arrays."""
    rng = np.random.default_rng(0)
    Z = rng.random((T + 1, 5 * H, B)).astype(dtype)  # [o; i; f; g; c_{t-1}] per step
    tc, dh_readout = rng.random((T, H, B)).astype(dtype), rng.random((T, H, B)).astype(dtype)
    dA = np.empty((T, 4 * H, B), dtype)
    prod, h = np.empty((2 * H, B), dtype), np.empty((H, B), dtype)
    dh, dc, tmp, P, carry = (np.zeros((H, B), dtype) for _ in range(5))
    D, K3 = np.empty((3 * H, B), dtype), np.empty((3 * H, B), dtype)

    def step():
        for t in range(T):  # forward: 7 calls
            a, sig = Z[t, :4 * H], Z[t, :3 * H]
            np.tanh(a, out=a)
            np.multiply(sig, 0.5, out=sig)
            np.add(sig, 0.5, out=sig)
            np.multiply(Z[t, H:3 * H], Z[t, 3 * H:], out=prod)
            np.add(prod[:H], prod[H:], out=Z[t + 1, 4 * H:])
            np.tanh(Z[t + 1, 4 * H:], out=tc[t])
            np.multiply(Z[t, :H], tc[t], out=h)
        for t in range(T - 1, -1, -1):  # backward: 15 calls
            sig, i, f, g, gc = Z[t, :3 * H], Z[t, H:2 * H], Z[t, 2 * H:3 * H], Z[t, 3 * H:4 * H], Z[t, 3 * H:]
            np.add(dh_readout[t], carry, out=dh)
            np.subtract(1.0, sig, out=D)
            np.multiply(D, sig, out=D)
            np.multiply(D[H:], gc, out=K3[:2 * H])
            np.multiply(g, g, out=K3[2 * H:])
            np.subtract(1.0, K3[2 * H:], out=K3[2 * H:])
            np.multiply(K3[2 * H:], i, out=K3[2 * H:])
            np.multiply(h, tc[t], out=P)
            np.subtract(Z[t, :H], P, out=P)
            np.multiply(dc, f, out=dc)
            np.multiply(dh, P, out=tmp)
            np.add(dc, tmp, out=dc)
            np.multiply(dh, tc[t], out=dA[t, :H])
            np.multiply(dA[t, :H], D[:H], out=dA[t, :H])
            np.multiply(dc, K3.reshape(3, H, B), out=dA[t, H:].reshape(3, H, B))

    return step


def gru_passes(H: int, dtype: str):
    """One training step's elementwise calls of the GRU (forward then backward), on preallocated arrays."""
    rng = np.random.default_rng(0)
    G = rng.random((T, 3 * H, B)).astype(dtype)  # [r; z; m_n] per step
    n, u_n = rng.random((T, H, B)).astype(dtype), rng.random((H, T, B)).astype(dtype)
    hs, dh_readout = rng.random((T + 1, H, B)).astype(dtype), rng.random((T, H, B)).astype(dtype)
    dM, da_n = np.empty((T, 3 * H, B), dtype), np.empty((T, H, B), dtype)
    dh, tmp, d, Kn, carry = (np.zeros((H, B), dtype) for _ in range(5))
    one_minus, D = np.empty((2 * H, B), dtype), np.empty((2 * H, B), dtype)

    def step():
        for t in range(T):  # forward: 9 calls
            rz, r, z, m_n, h = G[t, :2 * H], G[t, :H], G[t, H:2 * H], G[t, 2 * H:], hs[t + 1]
            np.tanh(rz, out=rz)
            np.multiply(rz, 0.5, out=rz)
            np.add(rz, 0.5, out=rz)
            np.multiply(r, m_n, out=n[t])
            np.add(n[t], u_n[:, t], out=n[t])
            np.tanh(n[t], out=n[t])
            np.subtract(hs[t], n[t], out=h)
            np.multiply(h, z, out=h)
            np.add(h, n[t], out=h)
        for t in range(T - 1, -1, -1):  # backward: 15 calls
            rz, r, z, m_n = G[t, :2 * H], G[t, :H], G[t, H:2 * H], G[t, 2 * H:]
            np.add(dh_readout[t], carry, out=dh)
            np.subtract(1.0, rz, out=one_minus)
            np.multiply(one_minus, rz, out=D)
            np.multiply(n[t], n[t], out=Kn)
            np.subtract(1.0, Kn, out=Kn)
            np.multiply(Kn, one_minus[H:], out=Kn)
            np.multiply(dh, Kn, out=da_n[t])
            np.subtract(hs[t], n[t], out=d)
            np.multiply(d, D[H:], out=d)
            np.multiply(dh, d, out=dM[t, H:2 * H])
            np.multiply(da_n[t], r, out=dM[t, 2 * H:])
            np.multiply(D[:H], m_n, out=tmp)
            np.multiply(da_n[t], tmp, out=dM[t, :H])
            np.multiply(dh, z, out=tmp)  # h_t = ... + z h_{t-1}, after the product
            np.add(tmp, dh_readout[t], out=carry)  # carry += tmp in ann/gru.py: the product wrote carry first

    return step


CELLS = {"lstm": lstm_passes, "gru": gru_passes}


def forward_in_context(cell: str, H: int, dtype: str):
    """``(forward, products, nbytes)``: a cell's forward pass on 32 trials of 100 steps and its per-step products
    alone (a weight of the forward's shape, cut in the same row blocks, written into a forward's own buffers), both
    as functions, and the weight's size in bytes."""
    import neurosim as ns
    from neurosim.ann import _gemm, gru, lstm

    module = {"lstm": lstm, "gru": gru}[cell]
    net = ns.ann.GatedNetwork.random(3, H, 3, cell=cell, dtype=dtype, rng=0)
    u = np.random.default_rng(0).standard_normal((T, B, 3)).astype(dtype)
    cache = module.run(net, u, None)
    xh, out = (cache.xh, cache.Z) if cell == "lstm" else (cache.hx, cache.G)
    G = net.n_gates
    W = np.random.default_rng(1).random((G * H, xh.shape[0])).astype(dtype)
    rows = _gemm.blocks(G * H, xh.shape[0] * B)
    W_blocks, X, A = [W[r] for r in rows], list(xh.transpose(1, 0, 2)), list(out[:, :G * H])

    def products():
        for t in range(T):
            _gemm.matmul_rows(W_blocks, rows, X[t], A[t])

    return (lambda: module.run(net, u, None)), products, W.nbytes


def _best(step, reps: int = 15) -> float:
    step()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    print(f"gated cells' elementwise passes alone, batch {B}, T = {T}, best of 15 steps, one thread")
    for cell, passes in CELLS.items():
        for H in (64, 256):
            for dtype in ("float32", "float64"):
                best = _best(passes(H, dtype))
                print(f"  {cell:<4} H {H:>3} {dtype}: {best * 1e3:6.2f} ms per training step", flush=True)
    print("in context: the forward pass (ann.lstm.run, ann.gru.run) and its per-step products alone, same buffers")
    for cell in CELLS:
        for H in (64, 256):
            for dtype in ("float32", "float64"):
                forward, products, nbytes = forward_in_context(cell, H, dtype)
                print(f"  {cell:<4} H {H:>3} {dtype}: forward {_best(forward) * 1e3:6.2f} ms, its products alone "
                      f"{_best(products) * 1e3:6.2f} ms (weight {nbytes / 2**20:.2f} MiB)", flush=True)


if __name__ == "__main__":
    main()
