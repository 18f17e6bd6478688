"""The LSTM training step's elementwise floor: its ufunc passes alone, without the matrix products.

    python benchmarks/lstm_floor.py        # H = 64 and 256, float32 and float64, batch 32, T = 100

The forward and backward loops of :mod:`neurosim.ann.lstm` make 7 and 15 elementwise numpy calls per time step
between their products (tanh of the gates, the sigmoid rescaling, the cell update, the local derivatives). This
script makes the same calls on arrays of the same shapes and layout, and nothing else; with
``benchmarks/bptt.py``'s ``products ms`` (the products alone) it gives the floor of the step in numpy, one pass
over memory per operation: products + these passes. Torch's float32 LSTM runs a fused kernel (oneDNN) instead.
The calls mirror ``ann/lstm.py`` as written; if that file changes its loops, change these.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

B, T = 32, 100


def passes(H: int, dtype: str):
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


def main() -> None:
    print(f"LSTM elementwise passes alone, batch {B}, T = {T}, best of 15 steps, one thread")
    for H in (64, 256):
        for dtype in ("float32", "float64"):
            step = passes(H, dtype)
            step()
            best = float("inf")
            for _ in range(15):
                t0 = time.perf_counter()
                step()
                best = min(best, time.perf_counter() - t0)
            print(f"  H {H:>3} {dtype}: {best * 1e3:6.2f} ms per training step")


if __name__ == "__main__":
    main()
