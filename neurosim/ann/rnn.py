"""The rate network as an artificial RNN: forward Euler steps and their exact backward pass (BPTT).

With alpha = dt / tau, Euler on the rate form is the leaky RNN, and alpha = 1 is the Elman RNN::

    a_t = W_in u_t + W_rec r_{t-1} + b                      # (B, N) pre-activation
    r_t = (1 - alpha) r_{t-1} + alpha f(a_t) + n_t          # rate form; n_t the Euler-Maruyama noise

and on the current form::

    x_t = (1 - alpha) x_{t-1} + alpha (W_rec f(x_{t-1}) + W_in u_t + b) + n_t     # readout from f(x_t)

Internally arrays are time-major, (T, B, N), so each step reads contiguous memory; the input projection of
all steps is one matrix product, and each weight gradient is one matrix product across time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import activations


@dataclass
class Cache:
    """What the backward pass needs from the forward pass (time-major)."""

    inputs: np.ndarray  # (T, B, n_in)
    states: np.ndarray  # (T, B, N) the integrated variable: r (rate form) or x (current form)
    S: np.ndarray  # (T, B, N) what the readout sees: r, or f(x)
    A: np.ndarray | None  # (T, B, N) rate form: pre-activations a_t
    H: np.ndarray | None  # (T, B, N) rate form: f(a_t)
    s0: np.ndarray  # (B, N) readout source at t = -1: r_0, or f(x_0)


def run(net, inputs: np.ndarray, noise: np.ndarray | None) -> Cache:
    """Forward pass. inputs (T, B, n_in), noise (T, B, N) or None; all in net.dtype."""
    T, B, _ = inputs.shape
    N, alpha = net.n_rec, net.alpha
    f = activations.get(net.activation).f
    W_recT = net.W_rec.T
    drive = inputs @ net.W_in.T + net.b  # (T, B, N): W_in u_t + b for all steps at once
    states = np.empty((T, B, N), net.dtype)
    state = np.broadcast_to(net.x0, (B, N)).astype(net.dtype)
    leak = 1.0 - alpha
    if net.form == "rate":
        A, H = np.empty_like(states), np.empty_like(states)
        for t in range(T):
            np.matmul(state, W_recT, out=A[t])
            A[t] += drive[t]  # a_t = W_in u_t + W_rec r_{t-1} + b
            H[t] = f(A[t])
            new = H[t] * alpha
            if leak:
                new += leak * state
            if noise is not None:
                new += noise[t]
            states[t] = state = new
        return Cache(inputs, states, states, A, H, np.broadcast_to(net.x0, (B, N)).astype(net.dtype))
    S = np.empty_like(states)
    s = f(state)
    s0 = s
    for t in range(T):
        new = s @ W_recT
        new += drive[t]
        new *= alpha  # alpha (W_rec f(x_{t-1}) + W_in u_t + b)
        if leak:
            new += leak * state
        if noise is not None:
            new += noise[t]
        states[t] = state = new
        S[t] = s = f(state)
    return Cache(inputs, states, S, None, None, s0)


def backward(net, cache: Cache, dS: np.ndarray) -> dict:
    """Exact BPTT. dS (T, B, N) is dL/dS_t from the readout alone; returns dL/d(W_in, W_rec, b)."""
    T, B, N = dS.shape
    alpha, leak = net.alpha, 1.0 - net.alpha
    df = activations.get(net.activation).df
    W_rec = net.W_rec
    E = np.empty_like(dS)  # E_t = dL/d(W_in u_t + W_rec s_{t-1} + b), the drive into each unit at step t
    if net.form == "rate":
        A, H = cache.A, cache.H
        carry = np.zeros((B, N), dS.dtype)  # dL/dr_t through r_{t+1}
        for t in range(T - 1, -1, -1):
            dr = dS[t] + carry  # dL/dr_t
            E[t] = alpha * df(A[t], H[t]) * dr  # through r_t = ... + alpha f(a_t)
            carry = E[t] @ W_rec  # a_{t+1} = ... + W_rec r_t
            if leak:
                carry += leak * dr  # r_{t+1} = (1 - alpha) r_t + ...
        prev = np.concatenate([cache.s0[None], cache.states[:-1]])  # r_{t-1}
    else:
        X, S = cache.states, cache.S
        ds_rec = np.zeros((B, N), dS.dtype)  # dL/df(x_t) through x_{t+1}
        dx_leak = np.zeros((B, N), dS.dtype)  # dL/dx_t through the leak of x_{t+1}
        for t in range(T - 1, -1, -1):
            dx = df(X[t], S[t]) * (dS[t] + ds_rec) + dx_leak  # dL/dx_t
            E[t] = alpha * dx  # x_t = ... + alpha (W_rec f(x_{t-1}) + W_in u_t + b)
            ds_rec = E[t] @ W_rec
            dx_leak = leak * dx
        prev = np.concatenate([cache.s0[None], S[:-1]])  # f(x_{t-1})
    E2 = E.reshape(T * B, N)
    return {
        "W_in": E2.T @ cache.inputs.reshape(T * B, -1),
        "W_rec": E2.T @ prev.reshape(T * B, N),
        "b": E2.sum(axis=0),
    }
