"""The LSTM cell (PyTorch's equations and gate order i, f, g, o): forward pass and exact BPTT.

Forward, one step, written for column vectors as in min-char-rnn (a batch of B trials is B columns)::

    xh_t = [x_t; h_{t-1}; 1]                           # (n_in + H + 1, B)
    a_t  = W xh_t,  W = [W_ih, W_hh, b_ih + b_hh]      # (4H, B) pre-activations [a_i; a_f; a_g; a_o]
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)
    g = tanh(a_g)
    c_t = f * c_{t-1} + i * g                          # (H, B) cell state
    h_t = o * tanh(c_t)                                # (H, B) hidden state: what the readout sees

Backward, with dh_t = dL/dh_t (from the readout and from step t+1) and dc_t = dL/dc_t::

    dc_t  = dh_t * o_t (1 - tanh(c_t)^2) + dc_{t+1} * f_{t+1}
    da_i  = dc_t * g i (1 - i)          da_f = dc_t * c_{t-1} f (1 - f)
    da_g  = dc_t * i (1 - g^2)          da_o = dh_t * tanh(c_t) o (1 - o)
    dh_{t-1} += W_hh^T da_t

and one matrix product over all steps gives every weight gradient: dW = sum_t da_t xh_t^T, i.e.
[dW_ih, dW_hh, db] with db_ih = db_hh = db.

Speed: the column layout (gates stacked along the first axis) makes each gate a contiguous (H, B) block, so
every elementwise step runs on contiguous memory; each step is one (4H, n_in + H + 1) x (n_in + H + 1, B)
product and ten elementwise calls writing into preallocated buffers (``out=``); the local derivatives of all
steps are computed at once before the backward loop. The sigmoid is 0.5 + 0.5 tanh(a / 2), so one tanh call
covers all four gates (the 1/2 is folded into W's sigmoid rows, exactly: scaling by a power of two does not
round). Everything stays in the network's dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _buffers


@dataclass
class Cache:
    """What the backward pass needs from the forward pass (time-major, columns)."""

    xh: np.ndarray  # (T + 1, n_in + H + 1, B) [x_t; h_{t-1}; 1]; h_{T-1} sits in xh[T]
    gates: np.ndarray  # (T, 4H, B) i, f, g, o after their nonlinearities
    cs: np.ndarray  # (T + 1, H, B) c_{-1} = c0, then c_0 .. c_{T-1}
    tanh_c: np.ndarray  # (T, H, B) tanh(c_t)
    S: np.ndarray  # (T, B, H) h_t, batch-major for the readout
    states = property(lambda self: self.S)  # what forward() reports: h_t


def run(net, inputs: np.ndarray, noise: np.ndarray | None) -> Cache:
    """Forward pass. inputs (T, B, n_in) in net.dtype; an LSTM has no recurrent noise (noise must be None)."""
    if noise is not None:
        raise ValueError("GatedNetwork: an LSTM has no recurrent noise (sigma = 0); pass noise=None")
    T, B, n_in = inputs.shape
    H, dtype = net.n_rec, net.dtype
    W = _buffers.empty((4 * H, n_in + H + 1), dtype)  # [W_ih, W_hh, b_ih + b_hh]
    W[:, :n_in], W[:, n_in:-1] = net.W_ih, net.W_hh
    np.add(net.b_ih, net.b_hh, out=W[:, -1])
    W[:2 * H] *= 0.5  # i, f: sigmoid(a) = 0.5 + 0.5 tanh(a / 2)
    W[3 * H:] *= 0.5  # o
    xh = _buffers.empty((T + 1, n_in + H + 1, B), dtype)
    xh[:T, :n_in] = inputs.transpose(0, 2, 1)  # x_t as columns
    xh[T, :n_in] = 0.0
    xh[0, n_in:-1] = net.h0[:, None]
    xh[:, -1] = 1.0
    gates = _buffers.empty((T, 4 * H, B), dtype)
    cs, tanh_c = _buffers.empty((T + 1, H, B), dtype), _buffers.empty((T, H, B), dtype)
    cs[0] = net.c0[:, None]
    ig = np.empty((H, B), dtype)
    for t in range(T):
        a = gates[t]
        np.matmul(W, xh[t], out=a)  # (4H, B): all four gates in one product
        np.tanh(a, out=a)
        for sig in (a[:2 * H], a[3 * H:]):  # i, f and o: 0.5 + 0.5 tanh(a / 2)
            sig *= 0.5
            sig += 0.5
        i, f, g, o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
        c = cs[t + 1]
        np.multiply(f, cs[t], out=c)
        np.multiply(i, g, out=ig)
        c += ig  # c_t = f c_{t-1} + i g
        np.tanh(c, out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=xh[t + 1, n_in:-1])  # h_t = o tanh(c_t)
    S = _buffers.copy(xh[1:, n_in:-1].transpose(0, 2, 1))  # (T, B, H)
    return Cache(xh, gates, cs, tanh_c, S)


def backward(net, cache: Cache, dS: np.ndarray) -> dict:
    """Exact BPTT. dS (T, B, H) is dL/dh_t from the readout alone; returns dL/d(W_ih, W_hh, b_ih, b_hh)."""
    T, B, H = dS.shape
    n_in = net.n_in
    gates = cache.gates.reshape(T, 4, H, B)
    i, f, g, o = gates[:, 0], gates[:, 1], gates[:, 2], gates[:, 3]  # (T, H, B) each
    tanh_c = cache.tanh_c

    # local derivatives of all steps at once: [da_i, da_f, da_g] = dc_t * K[:, :3], da_o = dh_t * K[:, 3]
    K = np.subtract(1.0, gates, out=_buffers.empty(gates.shape, gates.dtype))  # (T, 4, H, B)
    K *= gates  # s (1 - s), right for the sigmoid gates
    np.multiply(g, g, out=K[:, 2])
    np.subtract(1.0, K[:, 2], out=K[:, 2])  # 1 - g^2
    K[:, 0] *= g
    K[:, 1] *= cache.cs[:-1]
    K[:, 2] *= i
    K[:, 3] *= tanh_c
    P = np.multiply(tanh_c, tanh_c, out=_buffers.empty(tanh_c.shape, tanh_c.dtype))
    np.subtract(1.0, P, out=P)
    P *= o  # dc_t = dh_t * P_t + dc_{t+1} * f_{t+1}

    dh_readout = _buffers.copy(dS.transpose(0, 2, 1))  # (T, H, B)
    # dL/da_t goes to dA[:, t] (a strided (4H, B) view), so that dA is already the (4H, T B) matrix of the
    # weight-gradient product: writing with stride is cheaper than one transposing copy after the loop
    dA = _buffers.empty((4 * H, T, B), dS.dtype)
    dA4 = dA.reshape(4, H, T, B)
    W_hhT = _buffers.copy(net.W_hh.T)  # (H, 4H)
    dh, dc, tmp = np.empty((H, B), dS.dtype), np.zeros((H, B), dS.dtype), np.empty((H, B), dS.dtype)
    carry = np.zeros((H, B), dS.dtype)  # W_hh^T da_{t+1}: dL/dh_t through step t+1
    for t in range(T - 1, -1, -1):
        np.add(dh_readout[t], carry, out=dh)  # dL/dh_t
        if t + 1 < T:
            dc *= f[t + 1]  # through c_{t+1} = f_{t+1} c_t + ...
        np.multiply(dh, P[t], out=tmp)
        dc += tmp  # dL/dc_t
        np.multiply(dc, K[t, :3], out=dA4[:3, :, t])  # da_i, da_f, da_g
        np.multiply(dh, K[t, 3], out=dA4[3, :, t])  # da_o
        np.matmul(W_hhT, dA[:, t], out=carry)  # (H, 4H) x (4H, B)
    # dW = sum_t da_t xh_t^T as one product: (4H, T B) x (T B, n_in + H + 1)
    dA_all = dA.reshape(4 * H, T * B)  # no copy
    xh_all = _buffers.copy(cache.xh[:T].transpose(1, 0, 2)).reshape(-1, T * B)
    dW = dA_all @ xh_all.T  # (4H, n_in + H + 1)
    return {
        "W_ih": np.ascontiguousarray(dW[:, :n_in]),
        "W_hh": np.ascontiguousarray(dW[:, n_in:-1]),
        "b_ih": dW[:, -1].copy(),
        "b_hh": dW[:, -1].copy(),
    }
