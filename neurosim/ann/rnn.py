"""The rate network as an artificial RNN: forward Euler steps and their exact backward pass (BPTT).

With alpha = dt / tau, Euler on the rate form is the leaky RNN, and alpha = 1 is the Elman RNN::

    a_t = W_in u_t + W_rec r_{t-1} + b                      # (B, N) pre-activation
    r_t = (1 - alpha) r_{t-1} + alpha f(a_t) + n_t          # rate form; n_t the Euler-Maruyama noise

and on the current form::

    x_t = (1 - alpha) x_{t-1} + alpha (W_rec f(x_{t-1}) + W_in u_t + b) + n_t     # readout from f(x_t)

Backward, with E_t = dL/d(W_in u_t + W_rec s_{t-1} + b), the gradient of the drive into each unit at step t::

    rate:    dr_t = dS_t + E_{t+1} W_rec + (1 - alpha) dr_{t+1}          E_t = alpha f'(a_t) dr_t
    current: dx_t = f'(x_t) (dS_t + E_{t+1} W_rec) + (1 - alpha) dx_{t+1}  E_t = alpha dx_t

and dW_in = sum_t E_t^T u_t, dW_rec = sum_t E_t^T s_{t-1}, db = sum_t E_t.

Internally arrays are time-major, (T, B, N), so each step reads contiguous memory. Speed: the input projection
of all steps is one matrix product, each weight gradient is one matrix product across time, f'(.) is evaluated
for all steps at once, the per-step views are made once, the per-step product runs in column blocks that fit
OpenBLAS's small-matrix kernels (:mod:`._gemm`), and the loops write into preallocated buffers with ``out=``, in
the network's dtype. Every function here also runs a stack of networks of one shape: leading axes on every array
(weights (S, N, N), inputs (S, T, B, n_in), ...), one batched product per step (:mod:`.stacked`). The rate form
with tanh runs the same loops compiled by default (:mod:`neurosim.ann._kernels`, each network of a stack in
turn), bit for bit the numpy loops' results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import activations, equations
from . import _buffers, _compiled, _gemm


@dataclass
class Cache:
    """What the backward pass needs from the forward pass (time-major)."""

    inputs: np.ndarray  # (T, B, n_in); every array here has leading axes for a stack of networks
    xs: np.ndarray  # (T + 1, B, N) the integrated variable, r (rate form) or x (current form); xs[0] = x0
    ss: np.ndarray  # (T + 1, B, N) what the readout sees, r or f(x); ss[0] its value at x0
    A: np.ndarray | None  # (T, B, N) rate form: pre-activations a_t
    H: np.ndarray | None  # (T, B, N) rate form: f(a_t) (a view of xs[1:] when alpha = 1 without noise)

    states = property(lambda self: self.xs[..., 1:, :, :])  # (T, B, N)
    S = property(lambda self: self.ss[..., 1:, :, :])  # (T, B, N)


def _apply(f, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = f(x), in place when f is a numpy ufunc (tanh), through a temporary otherwise."""
    if isinstance(f, np.ufunc):
        return f(x, out=out)
    out[...] = f(x)
    return out


def _slope(name: str, x: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """f'(x) for all steps at once, given fx = f(x): ``activations.get(name).df``, computed into a pooled array
    for tanh (1 - f^2) and relu (x > 0), the common cases, so that no fresh memory is touched."""
    if name == "tanh":
        out = np.multiply(fx, fx, out=_buffers.empty(fx.shape, fx.dtype))
        return np.subtract(1.0, out, out=out)
    if name == "relu":
        return np.greater(x, 0.0, out=_buffers.empty(x.shape, x.dtype))
    return activations.get(name).df(x, fx)


def _drive(net, inputs: np.ndarray) -> np.ndarray:
    """W_in u_t + b for all steps at once (:func:`neurosim.equations.drive`), into a pooled buffer. (T, B, N).

    inputs (..., T, B, n_in): leading axes, if any, stack networks of one shape (:mod:`neurosim.ann.stacked`;
    then ``net.W_in`` is (..., N, n_in) and ``net.b`` (..., N)), one product per network."""
    return equations.drive(net.W_in, net.b, inputs, out=_buffers.empty((*inputs.shape[:-1], net.n_rec), inputs.dtype))


def _steps(a: np.ndarray) -> list:
    """The per-step views ``a[..., t, :, :]`` of a (..., T, B, N) array, made once (cheaper than per step)."""
    return list(np.moveaxis(a, -3, 0))


def _weight_blocks(W: np.ndarray, B: int) -> tuple[list, list]:
    """Column blocks of the (..., N, M) matrix of a per-step (B, N) x (N, M) product (:mod:`._gemm`)."""
    cols = _gemm.blocks(W.shape[-1], B * W.shape[-2])
    return [W[..., c] for c in cols], cols


def compiled(net):
    """The compiled kernels module if ``net``'s loops run compiled (the rate form with tanh), else None."""
    return _compiled.kernels() if net.form == "rate" and net.activation == "tanh" else None


def run(net, inputs: np.ndarray, noise: np.ndarray | None) -> Cache:
    """Forward pass. inputs (T, B, n_in), noise (T, B, N) or None; all in net.dtype.

    With leading axes on ``inputs`` (and ``noise``) this runs a stack of networks (:func:`_drive`)."""
    *lead, T, B, _ = inputs.shape
    N, alpha, dtype = net.n_rec, net.alpha, net.dtype
    leak = 1.0 - alpha
    f = activations.get(net.activation).f
    W_recT = _buffers.copy(np.swapaxes(net.W_rec, -1, -2))  # (..., N, N) W_rec^T, C-contiguous
    drive = _drive(net, inputs)  # (..., T, B, N)
    xs = _buffers.empty((*lead, T + 1, B, N), dtype)
    xs[..., 0, :, :] = net.x0[..., None, :]
    tmp = np.empty((*lead, B, N), dtype)
    X, noises = _steps(xs), (_steps(noise) if noise is not None else None)
    if net.form == "rate":
        blocks = _weight_blocks(W_recT, B)
        A = drive  # a_t, filled in place
        elman = leak == 0 and noise is None  # then r_t = f(a_t): H is r itself
        H = xs[..., 1:, :, :] if elman else _buffers.empty((*lead, T, B, N), dtype)  # f(a_t)
        kernels = compiled(net)
        if kernels is not None:  # the loop below in C, bit for bit
            cols = _gemm.bounds(_weight_blocks(W_recT, B)[1])
            for s in np.ndindex(*lead):  # a stack's networks one by one: each exactly as alone
                n_s = None if noise is None else np.ascontiguousarray(noise[s])
                kernels.rnn_forward(W_recT[s], cols, xs[s], A[s], H[s], n_s, alpha, _steps(A[s]), _steps(H[s]),
                                    np.tanh)
            return Cache(inputs, xs, xs, A, H)
        As, Hs = _steps(A), _steps(H)
        for t in range(T):
            _gemm.matmul_cols(X[t], *blocks, tmp)  # W_rec r_{t-1}
            As[t] += tmp  # a_t = W_in u_t + W_rec r_{t-1} + b
            _apply(f, As[t], Hs[t])
            if not elman:  # r_t = (1 - alpha) r_{t-1} + alpha f(a_t) + n_t
                np.multiply(Hs[t], alpha, out=X[t + 1])
                if leak:
                    np.multiply(X[t], leak, out=tmp)
                    X[t + 1] += tmp
                if noise is not None:
                    X[t + 1] += noises[t]
        return Cache(inputs, xs, xs, A, H)
    ss = _buffers.empty((*lead, T + 1, B, N), dtype)
    _apply(f, xs[..., 0, :, :], ss[..., 0, :, :])
    W_recT *= alpha  # (..., N, N): alpha W_rec^T, so each step is one product and two additions
    blocks = _weight_blocks(W_recT, B)
    drive *= alpha
    Ss, drives = _steps(ss), _steps(drive)
    for t in range(T):
        x = X[t + 1]
        _gemm.matmul_cols(Ss[t], *blocks, x)
        x += drives[t]  # alpha (W_rec f(x_{t-1}) + W_in u_t + b)
        if leak:
            np.multiply(X[t], leak, out=tmp)
            x += tmp
        if noise is not None:
            x += noises[t]
        _apply(f, x, Ss[t + 1])
    return Cache(inputs, xs, ss, None, None)


def backward(net, cache: Cache, dS: np.ndarray) -> dict:
    """Exact BPTT. dS (T, B, N) is dL/dS_t from the readout alone; returns dL/d(W_in, W_rec, b).

    With leading axes on ``dS`` (a stack of networks, :func:`run`) every gradient has them too."""
    *lead, T, B, N = dS.shape
    alpha, leak = net.alpha, 1.0 - net.alpha
    blocks = _weight_blocks(np.ascontiguousarray(net.W_rec), B)  # (..., N, N)
    E = _buffers.empty(dS.shape, dS.dtype)  # E_t = dL/d(W_in u_t + W_rec s_{t-1} + b), the drive at step t
    carry = np.zeros((*lead, B, N), dS.dtype)  # E_{t+1} W_rec, plus the leak term in the rate form
    d, tmp = np.empty((*lead, B, N), dS.dtype), np.empty((*lead, B, N), dS.dtype)
    Es, dSs = _steps(E), _steps(dS)
    kernels = compiled(net)
    if kernels is not None:  # the loop below in C, bit for bit
        W_rec, cols = np.ascontiguousarray(net.W_rec), _gemm.bounds(blocks[1])
        for s in np.ndindex(*lead):  # a stack's networks one by one: each exactly as alone
            kernels.rnn_backward(W_rec[s], cols, cache.H[s], np.ascontiguousarray(dS[s]), E[s], carry[s], alpha)
        prev = cache.xs[..., :-1, :, :]  # r_{t-1}
    elif net.form == "rate":
        D = _slope(net.activation, cache.A, cache.H)  # (..., T, B, N) f'(a_t), all steps at once
        if alpha != 1.0:
            D *= alpha
        Ds = _steps(D)
        for t in range(T - 1, -1, -1):
            np.add(dSs[t], carry, out=d)  # dL/dr_t
            np.multiply(Ds[t], d, out=Es[t])  # through r_t = ... + alpha f(a_t)
            _gemm.matmul_cols(Es[t], *blocks, carry)  # a_{t+1} = ... + W_rec r_t
            if leak:
                np.multiply(d, leak, out=tmp)
                carry += tmp  # r_{t+1} = (1 - alpha) r_t + ...
        prev = cache.xs[..., :-1, :, :]  # r_{t-1}
    else:
        D = _slope(net.activation, cache.states, cache.S)  # (..., T, B, N) f'(x_t), all steps at once
        Ds = _steps(D)
        dx_leak = np.zeros((*lead, B, N), dS.dtype)  # dL/dx_t through the leak of x_{t+1}
        for t in range(T - 1, -1, -1):
            np.add(dSs[t], carry, out=d)  # dL/df(x_t)
            d *= Ds[t]
            d += dx_leak  # dL/dx_t
            np.multiply(d, alpha, out=Es[t])  # x_t = ... + alpha (W_rec f(x_{t-1}) + W_in u_t + b)
            _gemm.matmul_cols(Es[t], *blocks, carry)
            np.multiply(d, leak, out=dx_leak)
        prev = cache.ss[..., :-1, :, :]  # f(x_{t-1})
    E2 = E.reshape(*lead, T * B, N)
    E2T = np.swapaxes(E2, -1, -2)  # (..., N, T B)
    return {
        "W_in": E2T @ cache.inputs.reshape(*lead, T * B, -1),
        "W_rec": E2T @ prev.reshape(*lead, T * B, N),
        "b": E2.sum(axis=-2),
    }
