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
every elementwise step runs on contiguous memory. Internally the gates are ordered o, i, f, g (PyTorch's order
at the boundary), so that the three sigmoid gates are one block and [i; f] * [g; c_{t-1}] is one call: the
cache keeps Z_t = [o; i; f; g; c_{t-1}] per step. Each forward step is one (4H, n_in + H + 1) x (n_in + H + 1, B)
product (in row blocks that fit OpenBLAS's small-matrix kernels, :mod:`._gemm`) and seven elementwise calls;
each backward step computes its local derivatives from Z_t while it is in cache (no pass over all steps'
memory) and one (H, 4H) x (4H, B) product. The sigmoid is 0.5 + 0.5 tanh(a / 2), so one tanh call covers all
four gates (the 1/2 is folded into W's sigmoid rows, exactly: scaling by a power of two does not round). The
columns [x_t; h_{t-1}; 1] and the gate gradients are laid out (rows, T, B), so that the weight gradient is one
product without transposing copies. Everything stays in the network's dtype. The loops below
(:func:`_forward_steps`, :func:`_backward_steps`) are the reference; by default the same loops run compiled
(:mod:`neurosim.ann._kernels`: the step's product through BLAS and its gate arithmetic in one C loop, numpy's
tanh): measured at H = 64 in float32 (batch 32, T = 100, products included), the forward pass 2.2 -> 1.6 ms and
the backward 4.5 -> 2.7 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _buffers, _compiled, _gemm


ORDER = (3, 0, 1, 2)  # internal gate block k holds PyTorch's gate ORDER[k]: o, i, f, g
BACK = (1, 2, 3, 0)  # and PyTorch's gate j sits in internal block BACK[j]


@dataclass
class Cache:
    """What the backward pass needs from the forward pass (time-major, columns, gates in the order o, i, f, g)."""

    xh: np.ndarray  # (n_in + H + 1, T + 1, B) [x_t; h_{t-1}; 1] in column t; h_{T-1} sits in column T
    Z: np.ndarray  # (T + 1, 5 H, B) [o; i; f; g; c_{t-1}] at step t (the gates after their nonlinearities)
    tanh_c: np.ndarray  # (T, H, B) tanh(c_t)
    S: np.ndarray  # (T, B, H) h_t, batch-major for the readout
    states = property(lambda self: self.S)  # what forward() reports: h_t
    cs = property(lambda self: self.Z[:, 4 * self.S.shape[-1]:])  # (T + 1, H, B) c_{-1} = c0, then c_0 .. c_{T-1}

    @property
    def gates(self) -> np.ndarray:
        """(T, 4H, B) i, f, g, o after their nonlinearities, in PyTorch's order (a copy)."""
        T, H, B = self.tanh_c.shape
        return self.Z[:T, :4 * H].reshape(T, 4, H, B)[:, list(BACK)].reshape(T, 4 * H, B)


def _gates(a: np.ndarray, H: int) -> np.ndarray:
    """PyTorch's gate blocks (4 H, ...) in the internal order o, i, f, g (or back, with BACK)."""
    return a.reshape(4, H, *a.shape[1:])[list(ORDER)].reshape(a.shape)


def run(net, inputs: np.ndarray, noise: np.ndarray | None) -> Cache:
    """Forward pass. inputs (T, B, n_in) in net.dtype; an LSTM has no recurrent noise (noise must be None)."""
    if noise is not None:
        raise ValueError("GatedNetwork: an LSTM has no recurrent noise (sigma = 0); pass noise_increments=None")
    T, B, n_in = inputs.shape
    H, dtype = net.n_rec, net.dtype
    K = n_in + H + 1
    W = _buffers.empty((4 * H, K), dtype)  # [W_ih, W_hh, b_ih + b_hh], rows o, i, f, g
    W[:, :n_in], W[:, n_in:-1] = _gates(net.W_ih, H), _gates(net.W_hh, H)
    W[:, -1] = _gates(net.b_ih + net.b_hh, H)
    W[:3 * H] *= 0.5  # o, i, f: sigmoid(a) = 0.5 + 0.5 tanh(a / 2)
    rows = _gemm.blocks(4 * H, K * B)
    xh = _buffers.empty((K, T + 1, B), dtype)
    xh[:n_in, :T] = inputs.transpose(2, 0, 1)  # x_t as columns
    xh[:n_in, T] = 0.0
    xh[n_in:-1, 0] = net.h0[:, None]
    xh[-1] = 1.0
    Z = _buffers.empty((T + 1, 5 * H, B), dtype)
    Z[0, 4 * H:] = net.c0[:, None]
    tanh_c = _buffers.empty((T, H, B), dtype)
    kernels = _compiled.kernels()
    if kernels is not None:  # the loop of _forward_steps in C (neurosim.ann._kernels)
        kernels.lstm_forward(W, _gemm.bounds(rows), xh, n_in, Z, tanh_c, list(Z[:T, :4 * H]), list(Z[1:, 4 * H:]),
                             list(tanh_c), np.tanh)
    else:
        _forward_steps(W, rows, xh, n_in, Z, tanh_c)
    S = _buffers.copy(xh[n_in:-1, 1:].transpose(1, 2, 0))  # (T, B, H)
    return Cache(xh, Z, tanh_c, S)


def _forward_steps(W, rows, xh, n_in, Z, tanh_c) -> None:
    """The forward time loop in numpy: fills Z, tanh_c and the rows h_t of xh."""
    T, H, B = tanh_c.shape
    W_blocks = [W[r] for r in rows]
    prod = np.empty((2 * H, B), W.dtype)
    ig, fc = prod[:H], prod[H:]
    # the per-step views, made once
    X, h_next = list(xh.transpose(1, 0, 2)), list(xh[n_in:-1].transpose(1, 0, 2)[1:])
    a4, sig, o, if_, gc, c_next = (list(Z[:, :4 * H]), list(Z[:, :3 * H]), list(Z[:, :H]), list(Z[:, H:3 * H]),
                                   list(Z[:, 3 * H:]), list(Z[1:, 4 * H:]))
    tc = list(tanh_c)
    for t in range(T):
        a = a4[t]
        _gemm.matmul_rows(W_blocks, rows, X[t], a)  # (4H, B): all four gates in one product
        np.tanh(a, out=a)
        np.multiply(sig[t], 0.5, out=sig[t])  # o, i, f: 0.5 + 0.5 tanh(a / 2), one pass over the block
        np.add(sig[t], 0.5, out=sig[t])
        np.multiply(if_[t], gc[t], out=prod)  # [i g; f c_{t-1}]
        np.add(ig, fc, out=c_next[t])  # c_t = f c_{t-1} + i g
        np.tanh(c_next[t], out=tc[t])
        np.multiply(o[t], tc[t], out=h_next[t])  # h_t = o tanh(c_t)


def backward(net, cache: Cache, dS: np.ndarray) -> dict:
    """Exact BPTT. dS (T, B, H) is dL/dh_t from the readout alone; returns dL/d(W_ih, W_hh, b_ih, b_hh).

    The local derivatives are computed step by step, from the gates of that step while they are in cache."""
    T, B, H = dS.shape
    n_in, dtype = net.n_in, dS.dtype
    dh_readout = _buffers.copy(dS.transpose(0, 2, 1))  # (T, H, B)
    W_hhT = _buffers.copy(_gates(net.W_hh, H).T)  # (H, 4H), columns o, i, f, g
    rows = _gemm.blocks(H, 4 * H * B)
    kernels = _compiled.kernels()
    if kernels is not None:  # the loop of _backward_steps in C, writing dL/da_t into the matrix of dW directly
        dA_cols = _buffers.empty((4 * H, T, B), dtype)
        kernels.lstm_backward(cache.Z, cache.tanh_c, dh_readout, W_hhT, _gemm.bounds(rows), dA_cols,
                              *(_buffers.empty(shape, dtype) for shape in ((4 * H, B), (H, B), (H, B))))
    else:
        dA_cols = _backward_steps(cache, dh_readout, W_hhT, rows)
    # dW = sum_t da_t xh_t^T as one product: (4H, T B) x (T B, n_in + H + 1)
    dW = dA_cols.reshape(4 * H, T * B) @ cache.xh[:, :T].reshape(-1, T * B).T  # rows o, i, f, g
    dW = dW.reshape(4, H, -1)[list(BACK)].reshape(4 * H, -1)  # back to PyTorch's i, f, g, o
    return {
        "W_ih": np.ascontiguousarray(dW[:, :n_in]),
        "W_hh": np.ascontiguousarray(dW[:, n_in:-1]),
        "b_ih": dW[:, -1].copy(),
        "b_hh": dW[:, -1].copy(),
    }


def _backward_steps(cache: Cache, dh_readout: np.ndarray, W_hhT: np.ndarray, rows: list[slice]) -> np.ndarray:
    """The backward time loop in numpy: dL/da_t of every step, as the (4H, T, B) matrix of the weight gradient."""
    T, H, B = dh_readout.shape
    dtype, n_in = dh_readout.dtype, cache.xh.shape[0] - H - 1
    Z, tanh_c = cache.Z, cache.tanh_c
    dA = _buffers.empty((T, 4 * H, B), dtype)  # dL/da_t, contiguous per step
    dA4 = dA.reshape(T, 4, H, B)
    W_blocks = [W_hhT[r] for r in rows]
    dh, dc, tmp = np.empty((H, B), dtype), np.zeros((H, B), dtype), np.empty((H, B), dtype)
    D, K3, P = np.empty((3 * H, B), dtype), np.empty((3 * H, B), dtype), np.empty((H, B), dtype)
    K3_3 = K3.reshape(3, H, B)
    carry = np.zeros((H, B), dtype)  # W_hh^T da_{t+1}: dL/dh_t through step t+1
    sig, o, i, f, g, gc = (list(Z[:, :3 * H]), list(Z[:, :H]), list(Z[:, H:2 * H]), list(Z[:, 2 * H:3 * H]),
                           list(Z[:, 3 * H:4 * H]), list(Z[:, 3 * H:]))
    da_o, da_ifg, da = list(dA4[:, 0]), list(dA4[:, 1:]), list(dA)
    tc, dhr, h = list(tanh_c), list(dh_readout), list(cache.xh[n_in:-1, 1:].transpose(1, 0, 2))  # h_t
    for t in range(T - 1, -1, -1):
        np.add(dhr[t], carry, out=dh)  # dL/dh_t
        np.subtract(1.0, sig[t], out=D)
        D *= sig[t]  # s (1 - s) for o, i, f
        np.multiply(D[H:], gc[t], out=K3[:2 * H])  # [i (1 - i) g; f (1 - f) c_{t-1}]
        np.multiply(g[t], g[t], out=K3[2 * H:])
        np.subtract(1.0, K3[2 * H:], out=K3[2 * H:])
        K3[2 * H:] *= i[t]  # i (1 - g^2)
        np.multiply(h[t], tc[t], out=P)
        np.subtract(o[t], P, out=P)  # o (1 - tanh(c_t)^2) = o - h_t tanh(c_t)
        if t + 1 < T:
            dc *= f[t + 1]  # through c_{t+1} = f_{t+1} c_t + ...
        np.multiply(dh, P, out=tmp)
        dc += tmp  # dL/dc_t
        np.multiply(dh, tc[t], out=da_o[t])
        da_o[t] *= D[:H]  # da_o = dh tanh(c_t) o (1 - o)
        np.multiply(dc, K3_3, out=da_ifg[t])  # da_i, da_f, da_g
        _gemm.matmul_rows(W_blocks, rows, da[t], carry)  # (H, 4H) x (4H, B)
    # one transposing copy makes dA the (4H, T, B) matrix of the weight-gradient product: cheaper than writing
    # every step's gradient with a stride of T B (measured: the writes and the products reading them slow down)
    return _buffers.copy(dA.transpose(1, 0, 2))
