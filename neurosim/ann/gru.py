"""The GRU cell (PyTorch's equations and gate order r, z, n): forward pass and exact BPTT.

Forward, one step, written for column vectors (a batch of B trials is B columns)::

    u_t = W_ih x_t + b_ih                       # (3H, B) input drive [u_r; u_z; u_n], all steps at once
    m_t = W_hh h_{t-1} + b_hh                   # (3H, B) recurrent drive [m_r; m_z; m_n], one product
    r   = sigmoid(u_r + m_r)                    # (H, B) reset gate
    z   = sigmoid(u_z + m_z)                    # (H, B) update gate
    n   = tanh(u_n + r * m_n)                   # (H, B) candidate
    h_t = (1 - z) * n + z * h_{t-1}             # (H, B) what the readout sees

This is also Keras' GRU with ``reset_after=True`` (its default since TF 2; gate order z, r, h there). Keras'
``reset_after=False`` variant, n = tanh(W_in x_t + b_n + W_hn (r * h_{t-1})), applies the reset before the
recurrent product; it is a different function and is not supported.

Backward, with dh_t = dL/dh_t (from the readout and from step t+1)::

    da_n = dh_t (1 - z) (1 - n^2)          da_z = dh_t (h_{t-1} - n) z (1 - z)
    dm_n = da_n * r                        da_r = da_n * m_n r (1 - r)
    dh_{t-1} += W_hh^T [da_r; da_z; dm_n] + dh_t * z

and, one matrix product each over all steps: dW_ih = sum_t [da_r; da_z; da_n] x_t^T, db_ih = its sum;
[dW_hh, db_hh] = sum_t [da_r; da_z; dm_n] [h_{t-1}; 1]^T.

Speed: as in :mod:`neurosim.ann.lstm`: columns, so each gate is a contiguous (H, B) block; per step one
(3H, H + 1 + n_in) x (H + 1 + n_in, B) product of [W_hh, b_hh, W_ih] and [h_{t-1}; 1; x_t] (the r and z rows
take their input drive inside it, the n rows have zero input columns; row blocks as in :mod:`._gemm`), and
elementwise calls into preallocated buffers; the local derivatives are computed step by step in the backward
loop; sigmoid as 0.5 + 0.5 tanh(a / 2), the 1/2 folded into the r and z rows of the weights. The numpy loops
(:func:`_forward_steps`, :func:`_backward_steps`) are the reference; by default the same loops run compiled
(:mod:`neurosim.ann._kernels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _buffers, _compiled, _gemm


@dataclass
class Cache:
    """What the backward pass needs from the forward pass (time-major, columns)."""

    inputs: np.ndarray  # (T, B, n_in)
    hx: np.ndarray  # (H + 1 + n_in, T + 1, B) [h_{t-1}; 1; x_t] in column t; h_{T-1} sits in column T
    G: np.ndarray  # (T, 3H, B) [r; z; m_n] at step t: the gates r, z and the recurrent drive of n
    n: np.ndarray  # (T, H, B) the candidate n_t
    S: np.ndarray  # (T, B, H) h_t, batch-major for the readout
    states = property(lambda self: self.S)  # what forward() reports: h_t

    @property
    def gates(self) -> np.ndarray:
        """(T, 3H, B) r, z, n after their nonlinearities (a copy)."""
        H = self.n.shape[1]
        return np.concatenate([self.G[:, :2 * H], self.n], axis=1)


def run(net, inputs: np.ndarray, noise: np.ndarray | None) -> Cache:
    """Forward pass. inputs (T, B, n_in) in net.dtype; a GRU has no recurrent noise (noise must be None).

    Each step is one (3H, H + 1 + n_in) x (H + 1 + n_in, B) product of [W_hh, b_hh (+ b_ih), (W_ih)] and
    [h_{t-1}; 1; x_t]: the r and z rows take their input drive in the same product (their W_ih columns and
    b_ih are added there), the n rows get zero input columns, since r multiplies their recurrent part alone.
    """
    if noise is not None:
        raise ValueError("GatedNetwork: a GRU has no recurrent noise (sigma = 0); pass noise_increments=None")
    T, B, n_in = inputs.shape
    H, dtype = net.n_rec, net.dtype
    K = H + 1 + n_in
    W = _buffers.empty((3 * H, K), dtype)  # [W_hh, b_hh (+ b_ih for r, z), W_ih for r, z (0 for n)]
    W[:, :H], W[:, H] = net.W_hh, net.b_hh
    W[:2 * H, H] += net.b_ih[:2 * H]
    W[:2 * H, H + 1:], W[2 * H:, H + 1:] = net.W_ih[:2 * H], 0.0
    W[:2 * H] *= 0.5  # r, z: sigmoid(a) = 0.5 + 0.5 tanh(a / 2)
    rows = _gemm.blocks(3 * H, K * B)
    hx = _buffers.empty((K, T + 1, B), dtype)
    hx[:H, 0] = net.h0[:, None]
    hx[H] = 1.0
    hx[H + 1:, :T] = inputs.transpose(2, 0, 1)  # x_t as columns
    hx[H + 1:, T] = 0.0
    u_n = _buffers.empty((H, T, B), dtype)  # W_in x_t + b_in for the n gate, all steps in one product
    np.matmul(net.W_ih[2 * H:], hx[H + 1:, :T].reshape(n_in, T * B), out=u_n.reshape(H, T * B))
    u_n += net.b_ih[2 * H:, None, None]
    G = _buffers.empty((T, 3 * H, B), dtype)
    n = _buffers.empty((T, H, B), dtype)
    kernels = _compiled.kernels()
    if kernels is not None:  # the loop of _forward_steps in C (neurosim.ann._kernels)
        kernels.gru_forward(W, _gemm.bounds(rows), hx, u_n, G, n, list(G[:, :2 * H]), list(n), np.tanh)
    else:
        _forward_steps(W, rows, hx, u_n, G, n)
    S = _buffers.copy(hx[:H, 1:].transpose(1, 2, 0))  # (T, B, H)
    return Cache(inputs, hx, G, n, S)


def _forward_steps(W, rows, hx, u_n, G, n) -> None:
    """The forward time loop in numpy: fills G, n and the rows h_t of hx."""
    T, H, B = n.shape
    W_blocks = [W[r] for r in rows]
    # the per-step views, made once
    X, h_prev = list(hx.transpose(1, 0, 2)), list(hx[:H].transpose(1, 0, 2))
    h_next = list(hx[:H, 1:].transpose(1, 0, 2))
    rz, r, z, m_n, un, ns = list(G[:, :2 * H]), list(G[:, :H]), list(G[:, H:2 * H]), list(G[:, 2 * H:]), \
        list(u_n.transpose(1, 0, 2)), list(n)
    for t in range(T):
        _gemm.matmul_rows(W_blocks, rows, X[t], G[t])  # (3H, B): [a_r / 2; a_z / 2; m_n] in one product
        np.tanh(rz[t], out=rz[t])
        np.multiply(rz[t], 0.5, out=rz[t])
        np.add(rz[t], 0.5, out=rz[t])  # r, z
        np.multiply(r[t], m_n[t], out=ns[t])
        ns[t] += un[t]
        np.tanh(ns[t], out=ns[t])  # n = tanh(u_n + r m_n)
        h = h_next[t]
        np.subtract(h_prev[t], ns[t], out=h)
        h *= z[t]
        h += ns[t]  # h_t = n + z (h_{t-1} - n)


def backward(net, cache: Cache, dS: np.ndarray) -> dict:
    """Exact BPTT. dS (T, B, H) is dL/dh_t from the readout alone; returns dL/d(W_ih, W_hh, b_ih, b_hh).

    The local derivatives are computed step by step, from the gates of that step while they are in cache."""
    T, B, H = dS.shape
    dtype = dS.dtype
    hx = cache.hx
    dh_readout = _buffers.copy(dS.transpose(0, 2, 1))  # (T, H, B)
    W_hhT = _buffers.copy(net.W_hh.T)  # (H, 3H)
    rows = _gemm.blocks(H, 3 * H * B)
    kernels = _compiled.kernels()
    if kernels is not None:  # the loop of _backward_steps in C, writing straight into the matrices of dW
        dM_cols, dn = _buffers.empty((3 * H, T, B), dtype), _buffers.empty((H, T, B), dtype)
        kernels.gru_backward(cache.G, cache.n, hx, dh_readout, W_hhT, _gemm.bounds(rows), dM_cols, dn,
                             *(_buffers.empty(shape, dtype) for shape in ((3 * H, B), (H, B), (H, B))))
    else:
        dM_cols, dn = _backward_steps(cache, dh_readout, W_hhT, rows)
    # weight gradients: one product each over all steps, (rows, T B) x (T B, cols)
    dW = dM_cols.reshape(3 * H, T * B) @ hx[:, :T].reshape(-1, T * B).T  # (3H, H + 1 + n_in)
    dn = dn.reshape(H, T * B)
    W_ih = np.empty_like(net.W_ih)
    W_ih[:2 * H] = dW[:2 * H, H + 1:]  # da_r, da_z against x_t
    np.matmul(dn, cache.inputs.reshape(T * B, -1), out=W_ih[2 * H:])  # da_n against x_t
    return {
        "W_ih": W_ih,
        "W_hh": np.ascontiguousarray(dW[:, :H]),
        "b_ih": np.concatenate([dW[:2 * H, H], dn.sum(axis=1)]),
        "b_hh": dW[:, H].copy(),
    }


def _backward_steps(cache: Cache, dh_readout: np.ndarray, W_hhT: np.ndarray, rows: list[slice]):
    """The backward time loop in numpy: [da_r; da_z; dm_n] (3H, T, B) and da_n (H, T, B) of every step, the
    matrices of the weight-gradient products."""
    T, H, B = dh_readout.shape
    dtype = dh_readout.dtype
    G = cache.G
    dM = _buffers.empty((T, 3 * H, B), dtype)  # [da_r; da_z; dm_n], contiguous per step
    da_n = _buffers.empty((T, H, B), dtype)
    W_blocks = [W_hhT[r] for r in rows]
    dh, tmp, d, Kn = (np.empty((H, B), dtype) for _ in range(4))
    one_minus, D = np.empty((2 * H, B), dtype), np.empty((2 * H, B), dtype)
    carry = np.zeros((H, B), dtype)  # dL/dh_t through step t+1
    rz, r, z, m_n, ns = list(G[:, :2 * H]), list(G[:, :H]), list(G[:, H:2 * H]), list(G[:, 2 * H:]), list(cache.n)
    h_prev, dhr = list(cache.hx[:H].transpose(1, 0, 2)), list(dh_readout)
    dM3 = dM.reshape(T, 3, H, B)
    da_r, da_z, dm_n = (list(dM3[:, k]) for k in range(3))
    dMt, dan = list(dM), list(da_n)
    for t in range(T - 1, -1, -1):
        np.add(dhr[t], carry, out=dh)  # dL/dh_t
        np.subtract(1.0, rz[t], out=one_minus)  # 1 - r, 1 - z
        np.multiply(one_minus, rz[t], out=D)  # r (1 - r), z (1 - z)
        np.multiply(ns[t], ns[t], out=Kn)
        np.subtract(1.0, Kn, out=Kn)
        Kn *= one_minus[H:]
        np.multiply(dh, Kn, out=dan[t])  # da_n = dh (1 - z) (1 - n^2)
        np.subtract(h_prev[t], ns[t], out=d)
        d *= D[H:]
        np.multiply(dh, d, out=da_z[t])  # da_z = dh (h_{t-1} - n) z (1 - z)
        np.multiply(dan[t], r[t], out=dm_n[t])  # dm_n = da_n r
        np.multiply(D[:H], m_n[t], out=tmp)
        np.multiply(dan[t], tmp, out=da_r[t])  # da_r = da_n m_n r (1 - r)
        _gemm.matmul_rows(W_blocks, rows, dMt[t], carry)  # (H, 3H) x (3H, B)
        np.multiply(dh, z[t], out=tmp)
        carry += tmp  # h_t = ... + z h_{t-1}
    # transposing copies make them (rows, T, B) matrices (cheaper than per-step writes with a stride of T B)
    return _buffers.copy(dM.transpose(1, 0, 2)), _buffers.copy(da_n.transpose(1, 0, 2))
