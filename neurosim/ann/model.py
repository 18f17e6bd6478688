"""The artificial RNN substrate: forward pass, readout, losses and exact gradients for any cell.

A cell module (``rnn``, and the gated cells) provides ``run(net, inputs, noise) -> cache`` with ``cache.S``
(T, B, H), the sequence the readout sees, and ``backward(net, cache, dS) -> grads`` of its own parameters.
This module adds what every cell shares: the readout ``y_t = g(W_out s_t + b_out)``, dropout on the
hidden-to-output path, the masked loss, and L2 penalties on weights and rates.
"""

from __future__ import annotations

import numpy as np

from .. import equations
from .._validate import as_array, as_rng, check_finite, check_positive, check_shape
from ..tasks import Trials
from . import _buffers, losses, rnn

CELLS = {"rnn": rnn}
WEIGHTS_L2 = ("W_in", "W_rec", "W_out", "W_ih", "W_hh")  # penalised by l2; biases are not


def register_cell(name: str, module) -> None:
    """Make a cell module (with ``run`` and ``backward``) available to nets whose ``cell`` is ``name``."""
    CELLS[name] = module


def _cell(net):
    cell = getattr(net, "cell", None)
    if cell not in CELLS:
        raise TypeError(f"expected a neurosim network (cell one of {sorted(CELLS)}), got {type(net).__name__}")
    return CELLS[cell]


def _inputs(net, inputs, name="inputs") -> np.ndarray:
    u = check_finite(as_array(inputs, name, ndim=3, min_size=True), name)
    check_shape(u, (None, None, net.n_in), name,
                f"the network has n_in = {net.n_in} inputs; build it with n_in = task.n_in")
    return np.ascontiguousarray(u.transpose(1, 0, 2), dtype=net.dtype)  # (T, B, n_in)


noise_increments = equations.noise_increments  # the one definition, re-exported as neurosim.ann.noise_increments


def _noise_tm(net, increments, B, T):
    if increments is None:
        return None
    n = check_shape(as_array(increments, "noise_increments", ndim=3), (B, T, net.n_rec), "noise_increments",
                    "noise_increments is (n_trials, n_steps, n_rec); make it with neurosim.ann.noise_increments")
    return np.ascontiguousarray(n.transpose(1, 0, 2), dtype=net.dtype)


def _resolve_noise(net, B, T, increments, rng):
    if increments is None and getattr(net, "sigma", 0.0):
        if rng is None:
            raise ValueError(f"{type(net).__name__}.sigma = {net.sigma} > 0: pass rng= (a seed) or noise_increments= "
                             "so that the noise is explicit and reproducible")
        increments = equations.noise_increments(net, B, T, rng)
    return _noise_tm(net, increments, B, T)


def forward(net, inputs, *, noise_increments=None, rng=None):
    """Run the network on ``inputs`` (B, T, n_in); returns ``(states, outputs)``, (B, T, N) and (B, T, n_out).

    ``states`` is the integrated variable (r in the rate form, x in the current form, h for gated cells).
    A noisy network (sigma > 0) takes either ``noise_increments`` (B, T, N) from :func:`noise_increments` or
    an ``rng`` to draw them.
    """
    cell = _cell(net)
    u = _inputs(net, inputs)
    T, B, _ = u.shape
    cache = cell.run(net, u, _resolve_noise(net, B, T, noise_increments, rng))
    y = equations.readout(net.W_out, net.b_out, cache.S, net.output_activation)  # (T, B, n_out)
    return cache.states.transpose(1, 0, 2), y.transpose(1, 0, 2)


def loss_settings(net, loss, l2, l2_rate, dropout):
    """The checked ``(loss_fn, l2, l2_rate, dropout)`` of a gradient call: the loss named (default "ce" for a
    softmax readout, else "mse"), non-negative penalties, and a dropout probability in [0, 1)."""
    loss_fn = losses.get(loss or ("ce" if net.output_activation == "softmax" else "mse"))
    l2 = check_positive(l2, "l2", allow_zero=True)
    l2_rate = check_positive(l2_rate, "l2_rate", allow_zero=True)
    dropout = check_positive(dropout, "dropout", allow_zero=True)
    if dropout >= 1:
        raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout}")
    return loss_fn, l2, l2_rate, dropout


def loss_and_grads(net, trials: Trials, *, loss: str | None = None, l2: float = 0.0, l2_rate: float = 0.0,
                   dropout: float = 0.0, noise_increments=None, rng=None):
    """The masked loss on ``trials`` and its exact gradient (BPTT) for every trainable field of ``net``.

    loss: "mse" (default) or "ce" (softmax cross-entropy; the default for a softmax readout).
    l2: weight on the sum of squared weights; l2_rate: weight on the mean squared rate (readout source).
    dropout: probability of dropping each hidden-to-output activation (inverted dropout; needs ``rng``).
    Returns ``(loss, grads)`` with ``grads`` a dict field name -> array of that field's shape. Gradients of
    masked connections are zero.
    """
    cell = _cell(net)  # a TypeError naming what is expected for anything but a neurosim network
    if not isinstance(trials, Trials):
        raise TypeError(f"loss_and_grads: expected Trials, got {type(trials).__name__}")
    loss_fn, l2, l2_rate, dropout = loss_settings(net, loss, l2, l2_rate, dropout)
    check_shape(trials.targets, (None, None, net.n_out), "trials.targets",
                f"the network has n_out = {net.n_out} outputs; build it with n_out = task.n_out")
    u = _inputs(net, trials.inputs, "trials.inputs")
    T, B, _ = u.shape
    cache = cell.run(net, u, _resolve_noise(net, B, T, noise_increments, rng))
    S = cache.S  # (T, B, H)
    if dropout:
        if rng is None:
            raise ValueError("dropout > 0 needs rng= for its random masks")
        draws = as_rng(rng).random(out=_buffers.empty(S.shape, np.float64))
        keep = np.greater_equal(draws, dropout, out=_buffers.empty(S.shape, net.dtype))
        keep *= 1.0 / (1.0 - dropout)  # inverted dropout: kept units are scaled up
        S_out = np.multiply(S, keep, out=_buffers.empty(S.shape, net.dtype))
    else:
        S_out = S
    y = equations.readout(net.W_out, net.b_out, S_out, net.output_activation)  # (T, B, n_out)
    target = np.ascontiguousarray(trials.targets.transpose(1, 0, 2), dtype=net.dtype)
    mask = np.ascontiguousarray(trials.mask.transpose(1, 0, 2), dtype=net.dtype)
    value, dz = loss_fn(y, target, mask, net.output_activation)  # dz (T, B, n_out)
    H = S.shape[-1]
    dz2 = dz.reshape(T * B, -1)  # (T B, n_out)
    grads = {"W_out": dz2.T @ S_out.reshape(T * B, H), "b_out": dz2.sum(axis=0)}
    dS = _buffers.empty((T, B, H), net.dtype)  # dL/dS_t from the readout
    np.matmul(dz2, net.W_out, out=dS.reshape(T * B, H))
    if dropout:
        dS *= keep
    if l2_rate:
        value += l2_rate * float(np.vdot(S, S)) / S.size  # mean squared rate
        dS += np.multiply(S, 2.0 * l2_rate / S.size, out=_buffers.empty(S.shape, S.dtype))
    grads.update(cell.backward(net, cache, dS))
    if l2:
        for k in WEIGHTS_L2:
            if k in grads:
                W = getattr(net, k)
                value += l2 * float(np.sum(W * W))
                grads[k] = grads[k] + 2.0 * l2 * W
    if getattr(net, "mask", None) is not None:
        grads["W_rec"] = grads["W_rec"] * net.mask
    return value, {k: np.asarray(grads[k], dtype=net.dtype) for k in net.trainable}
