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
for all steps at once, and the loops write into preallocated buffers with ``out=``, in the network's dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import activations, equations
from . import _buffers


@dataclass
class Cache:
    """What the backward pass needs from the forward pass (time-major)."""

    inputs: np.ndarray  # (T, B, n_in)
    xs: np.ndarray  # (T + 1, B, N) the integrated variable, r (rate form) or x (current form); xs[0] = x0
    ss: np.ndarray  # (T + 1, B, N) what the readout sees, r or f(x); ss[0] its value at x0
    A: np.ndarray | None  # (T, B, N) rate form: pre-activations a_t
    H: np.ndarray | None  # (T, B, N) rate form: f(a_t) (a view of xs[1:] when alpha = 1 without noise)

    states = property(lambda self: self.xs[1:])  # (T, B, N)
    S = property(lambda self: self.ss[1:])  # (T, B, N)


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
    """W_in u_t + b for all steps at once (:func:`neurosim.equations.drive`), into a pooled buffer. (T, B, N)."""
    T, B, _ = inputs.shape
    return equations.drive(net.W_in, net.b, inputs, out=_buffers.empty((T, B, net.n_rec), inputs.dtype))


def run(net, inputs: np.ndarray, noise: np.ndarray | None) -> Cache:
    """Forward pass. inputs (T, B, n_in), noise (T, B, N) or None; all in net.dtype."""
    T, B, _ = inputs.shape
    N, alpha, dtype = net.n_rec, net.alpha, net.dtype
    leak = 1.0 - alpha
    f = activations.get(net.activation).f
    W_recT = net.W_rec.T
    drive = _drive(net, inputs)  # (T, B, N)
    xs = _buffers.empty((T + 1, B, N), dtype)
    xs[0] = net.x0
    tmp = np.empty((B, N), dtype)
    if net.form == "rate":
        A = drive  # a_t, filled in place
        elman = leak == 0 and noise is None  # then r_t = f(a_t): H is r itself
        H = xs[1:] if elman else _buffers.empty((T, B, N), dtype)  # f(a_t)
        for t in range(T):
            np.matmul(xs[t], W_recT, out=tmp)
            A[t] += tmp  # a_t = W_in u_t + W_rec r_{t-1} + b
            _apply(f, A[t], H[t])
            if not elman:  # r_t = (1 - alpha) r_{t-1} + alpha f(a_t) + n_t
                np.multiply(H[t], alpha, out=xs[t + 1])
                if leak:
                    np.multiply(xs[t], leak, out=tmp)
                    xs[t + 1] += tmp
                if noise is not None:
                    xs[t + 1] += noise[t]
        return Cache(inputs, xs, xs, A, H)
    ss = _buffers.empty((T + 1, B, N), dtype)
    _apply(f, xs[0], ss[0])
    W_recT = W_recT * alpha  # (N, N): alpha W_rec^T, so each step is one product and two additions
    drive *= alpha
    for t in range(T):
        x = xs[t + 1]
        np.matmul(ss[t], W_recT, out=x)
        x += drive[t]  # alpha (W_rec f(x_{t-1}) + W_in u_t + b)
        if leak:
            np.multiply(xs[t], leak, out=tmp)
            x += tmp
        if noise is not None:
            x += noise[t]
        _apply(f, x, ss[t + 1])
    return Cache(inputs, xs, ss, None, None)


def backward(net, cache: Cache, dS: np.ndarray) -> dict:
    """Exact BPTT. dS (T, B, N) is dL/dS_t from the readout alone; returns dL/d(W_in, W_rec, b)."""
    T, B, N = dS.shape
    alpha, leak = net.alpha, 1.0 - net.alpha
    W_rec = net.W_rec
    E = _buffers.empty(dS.shape, dS.dtype)  # E_t = dL/d(W_in u_t + W_rec s_{t-1} + b), the drive at step t
    carry = np.zeros((B, N), dS.dtype)  # E_{t+1} W_rec, plus the leak term in the rate form
    d, tmp = np.empty((B, N), dS.dtype), np.empty((B, N), dS.dtype)
    if net.form == "rate":
        D = _slope(net.activation, cache.A, cache.H)  # (T, B, N) f'(a_t), all steps at once
        if alpha != 1.0:
            D *= alpha
        for t in range(T - 1, -1, -1):
            np.add(dS[t], carry, out=d)  # dL/dr_t
            np.multiply(D[t], d, out=E[t])  # through r_t = ... + alpha f(a_t)
            np.matmul(E[t], W_rec, out=carry)  # a_{t+1} = ... + W_rec r_t
            if leak:
                np.multiply(d, leak, out=tmp)
                carry += tmp  # r_{t+1} = (1 - alpha) r_t + ...
        prev = cache.xs[:-1]  # r_{t-1}
    else:
        D = _slope(net.activation, cache.states, cache.S)  # (T, B, N) f'(x_t), all steps at once
        dx_leak = np.zeros((B, N), dS.dtype)  # dL/dx_t through the leak of x_{t+1}
        for t in range(T - 1, -1, -1):
            np.add(dS[t], carry, out=d)  # dL/df(x_t)
            d *= D[t]
            d += dx_leak  # dL/dx_t
            np.multiply(d, alpha, out=E[t])  # x_t = ... + alpha (W_rec f(x_{t-1}) + W_in u_t + b)
            np.matmul(E[t], W_rec, out=carry)
            np.multiply(d, leak, out=dx_leak)
        prev = cache.ss[:-1]  # f(x_{t-1})
    E2 = E.reshape(T * B, N)
    return {
        "W_in": E2.T @ cache.inputs.reshape(T * B, -1),
        "W_rec": E2.T @ prev.reshape(T * B, N),
        "b": E2.sum(axis=0),
    }
