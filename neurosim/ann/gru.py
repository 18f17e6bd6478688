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
(3H, H + 1) x (H + 1, B) product (the ones row of [h; 1] adds b_hh) and elementwise calls into preallocated
buffers; sigmoid as 0.5 + 0.5 tanh(a / 2), the 1/2 folded into the r and z rows of the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _buffers


@dataclass
class Cache:
    """What the backward pass needs from the forward pass (time-major, columns)."""

    inputs: np.ndarray  # (T, B, n_in)
    hs: np.ndarray  # (T + 1, H + 1, B) [h_{t-1}; 1]; h_{T-1} sits in hs[T]
    gates: np.ndarray  # (T, 3H, B) r, z, n after their nonlinearities
    m: np.ndarray  # (T, 3H, B) m_t = W_hh h_{t-1} + b_hh (the r and z rows halved)
    S: np.ndarray  # (T, B, H) h_t, batch-major for the readout
    states = property(lambda self: self.S)  # what forward() reports: h_t


def run(net, inputs: np.ndarray, noise: np.ndarray | None) -> Cache:
    """Forward pass. inputs (T, B, n_in) in net.dtype; a GRU has no recurrent noise (noise must be None)."""
    if noise is not None:
        raise ValueError("GatedNetwork: a GRU has no recurrent noise (sigma = 0); pass noise=None")
    T, B, n_in = inputs.shape
    H, dtype = net.n_rec, net.dtype
    W_ih = np.concatenate([net.W_ih, net.b_ih[:, None]], axis=1)  # (3H, n_in + 1): [W_ih, b_ih]
    W_hh = _buffers.empty((3 * H, H + 1), dtype)  # [W_hh, b_hh]
    W_hh[:, :H], W_hh[:, H] = net.W_hh, net.b_hh
    W_ih[:2 * H] *= 0.5  # r, z: sigmoid(a) = 0.5 + 0.5 tanh(a / 2)
    W_hh[:2 * H] *= 0.5
    x1 = _buffers.empty((T, n_in + 1, B), dtype)  # [x_t; 1] as columns
    x1[:, :n_in] = inputs.transpose(0, 2, 1)
    x1[:, n_in] = 1.0
    drive = np.matmul(W_ih, x1, out=_buffers.empty((T, 3 * H, B), dtype))  # (T, 3H, B): u_t for all steps
    hs = _buffers.empty((T + 1, H + 1, B), dtype)
    hs[0, :H] = net.h0[:, None]
    hs[:, H] = 1.0
    gates = _buffers.empty((T, 3 * H, B), dtype)
    m = _buffers.empty((T, 3 * H, B), dtype)
    for t in range(T):
        np.matmul(W_hh, hs[t], out=m[t])  # (3H, B): m_t, all three gates in one product
        rz, n = gates[t, :2 * H], gates[t, 2 * H:]
        np.add(drive[t, :2 * H], m[t, :2 * H], out=rz)
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5  # r, z
        np.multiply(rz[:H], m[t, 2 * H:], out=n)
        n += drive[t, 2 * H:]
        np.tanh(n, out=n)  # n = tanh(u_n + r m_n)
        h = hs[t + 1, :H]
        np.subtract(hs[t, :H], n, out=h)
        h *= rz[H:]
        h += n  # h_t = n + z (h_{t-1} - n)
    S = _buffers.copy(hs[1:, :H].transpose(0, 2, 1))  # (T, B, H)
    return Cache(inputs, hs, gates, m, S)


def backward(net, cache: Cache, dS: np.ndarray) -> dict:
    """Exact BPTT. dS (T, B, H) is dL/dh_t from the readout alone; returns dL/d(W_ih, W_hh, b_ih, b_hh)."""
    T, B, H = dS.shape
    gates = cache.gates.reshape(T, 3, H, B)
    r, z, n = gates[:, 0], gates[:, 1], gates[:, 2]  # (T, H, B) each
    h_prev = cache.hs[:-1, :H]  # (T, H, B)

    # local derivatives of all steps at once
    Kn = np.multiply(n, n, out=_buffers.empty(n.shape, n.dtype))
    np.subtract(1.0, Kn, out=Kn)
    Kz = np.subtract(1.0, z, out=_buffers.empty(z.shape, z.dtype))
    Kn *= Kz  # da_n = dh (1 - z)(1 - n^2)
    Kz *= z
    Kz *= np.subtract(h_prev, n, out=_buffers.empty(n.shape, n.dtype))  # da_z = dh (h_{t-1} - n) z (1 - z)
    Krm = _buffers.empty((T, 2, H, B), dS.dtype)  # [da_r, dm_n] = da_n * [m_n r (1 - r), r]
    np.subtract(1.0, r, out=Krm[:, 0])
    Krm[:, 0] *= r
    Krm[:, 0] *= cache.m[:, 2 * H:]
    Krm[:, 1] = r

    dh_readout = _buffers.copy(dS.transpose(0, 2, 1))  # (T, H, B)
    dM = _buffers.empty((T, 3 * H, B), dS.dtype)  # [da_r; da_z; dm_n]: the gradient of m_t = W_hh h_{t-1} + b_hh
    dM3 = dM.reshape(T, 3, H, B)
    da_n = _buffers.empty((T, H, B), dS.dtype)
    W_hhT = _buffers.copy(net.W_hh.T)  # (H, 3H)
    dh, tmp = np.empty((H, B), dS.dtype), np.empty((H, B), dS.dtype)
    carry = np.zeros((H, B), dS.dtype)  # dL/dh_t through step t+1
    for t in range(T - 1, -1, -1):
        np.add(dh_readout[t], carry, out=dh)  # dL/dh_t
        np.multiply(dh, Kn[t], out=da_n[t])
        np.multiply(dh, Kz[t], out=dM3[t, 1])  # da_z
        np.multiply(da_n[t], Krm[t], out=dM3[t, ::2])  # da_r, dm_n
        np.matmul(W_hhT, dM[t], out=carry)  # (H, 3H) x (3H, B)
        np.multiply(dh, z[t], out=tmp)
        carry += tmp  # h_t = ... + z h_{t-1}
    # weight gradients: one product each over all steps, (rows, T B) x (T B, cols)
    dM_all = _buffers.copy(dM.transpose(1, 0, 2)).reshape(3 * H, T * B)
    dn_all = _buffers.copy(da_n.transpose(1, 0, 2)).reshape(H, T * B)
    hs_all = _buffers.copy(cache.hs[:T].transpose(1, 0, 2)).reshape(H + 1, T * B)
    X = cache.inputs.reshape(T * B, -1)  # (T B, n_in), the same (t, b) order
    dW_hh = dM_all @ hs_all.T  # (3H, H + 1): [dW_hh, db_hh]
    W_ih = np.empty_like(net.W_ih)
    np.matmul(dM_all[:2 * H], X, out=W_ih[:2 * H])  # da_r, da_z
    np.matmul(dn_all, X, out=W_ih[2 * H:])  # da_n
    b_ih = np.concatenate([dW_hh[:2 * H, -1], dn_all.sum(axis=1)])
    return {
        "W_ih": W_ih,
        "W_hh": np.ascontiguousarray(dW_hh[:, :H]),
        "b_ih": b_ih,
        "b_hh": dW_hh[:, -1].copy(),
    }
