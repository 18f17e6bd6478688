"""Several networks of one shape at once: stacked weights, one batched product per time step.

A sweep over seeds trains many small networks of the same shape. One at a time, each time step of each
network pays numpy's fixed cost per call, which dominates at H = 64. Stacked, the weights of S networks are
(S, ...) arrays and every step is one call over all of them: ``np.matmul`` on (S, B, N) x (S, N, N) runs one
BLAS product per network in C, and each elementwise call covers all S networks.

The result is bit-identical to :func:`neurosim.ann.loss_and_grads` on each network alone: every network gets
the very same BLAS products (same shapes, same operand layout), the same elementwise operations, its own
random draws (noise, dropout) from its own generator in the same order, and its sums taken over its own slice.
``tests/test_stacked.py`` checks this with ``np.array_equal``. Where the compiled time loops apply (the rate form
with tanh, :mod:`neurosim.ann._kernels`), each network's gradient is simply :func:`neurosim.ann.loss_and_grads`:
a compiled step has no per-call cost left to share, and one network's whole step (forward, readout, backward)
then runs on arrays that stay in the core's cache, where a stack's arrays, S times larger, do not (measured at 64
units, 8 networks: stacked 0.60x and 0.73x the speed of one after another in float32 and float64).

Supported: :class:`neurosim.RateNetwork` (cell ``rnn``, any form, leak, activation, noise, mask and Dale's law;
the masks may differ between networks). The networks must agree in everything but their learned arrays
(sizes, dtype, tau, dt, activation, form, readout, sigma). Training: :func:`neurosim.learning.train_stacked`.
"""

from __future__ import annotations

import numpy as np

from .. import equations
from .._validate import as_rng
from ..tasks import Trials
from . import _buffers, model, rnn
from .model import WEIGHTS_L2, _inputs, _resolve_noise, loss_settings

__all__ = ["Stack", "loss_and_grads", "check_stackable"]

SETTINGS = ("cell", "n_in", "n_rec", "n_out", "dtype", "alpha", "activation", "form", "output_activation", "sigma")


def check_stackable(nets) -> None:
    """Raise ValueError unless ``nets`` (a non-empty sequence) are RateNetworks that differ only in weights."""
    nets = list(nets)
    if not nets:
        raise ValueError("stacked: expected at least one network, got none")
    first = nets[0]
    if getattr(first, "cell", None) != "rnn":
        raise ValueError(f"stacked: only RateNetwork (cell 'rnn') networks stack, got {type(first).__name__} "
                         f"(cell {getattr(first, 'cell', None)!r}); train gated networks one by one with "
                         "neurosim.train")
    for i, net in enumerate(nets[1:], 1):
        for k in SETTINGS:
            if getattr(net, k, None) != getattr(first, k):
                raise ValueError(f"stacked: network {i} has {k} = {getattr(net, k, None)!r}, network 0 has "
                                 f"{getattr(first, k)!r}; stack only networks of one shape and settings")


class Stack:
    """S RateNetworks as one: each learned array stacked along a new first axis; the settings of the first."""

    def __init__(self, nets):
        nets = list(nets)
        for k in SETTINGS:
            setattr(self, k, getattr(nets[0], k))
        for k in ("W_in", "W_rec", "b", "W_out", "b_out", "x0"):
            setattr(self, k, np.stack([getattr(net, k) for net in nets]))  # (S, ...)
        masks = [net.mask for net in nets]
        self.mask = None if all(m is None for m in masks) else \
            np.stack([np.ones((self.n_rec, self.n_rec), self.dtype) if m is None else m for m in masks])
        self.size = len(nets)


def loss_and_grads(nets, batches, *, loss: str | None = None, l2: float = 0.0, l2_rate: float = 0.0,
                   dropout: float = 0.0, rngs=None) -> list:
    """``[ann.loss_and_grads(net, batch, ..., rng=rng) for net, batch, rng in zip(nets, batches, rngs)]``,
    bit for bit, computed for all networks at once (module docstring). Every batch must have the same shape."""
    nets, batches = list(nets), list(batches)
    check_stackable(nets)
    S = len(nets)
    rngs = [None] * S if rngs is None else list(rngs)
    if not len(batches) == len(rngs) == S:
        raise ValueError(f"stacked loss_and_grads: expected one batch and one rng per network ({S}), got "
                         f"{len(batches)} batches and {len(rngs)} rngs")
    for b in batches:
        if not isinstance(b, Trials):
            raise TypeError(f"stacked loss_and_grads: expected Trials, got {type(b).__name__}")
        if b.inputs.shape != batches[0].inputs.shape or b.targets.shape != batches[0].targets.shape:
            raise ValueError(f"stacked loss_and_grads: every batch must have one shape, got inputs "
                             f"{b.inputs.shape} and {batches[0].inputs.shape}; sample the same batch size")
    first = nets[0]
    loss_fn, l2, l2_rate, dropout = loss_settings(first, loss, l2, l2_rate, dropout)
    if dropout and any(r is None for r in rngs):
        raise ValueError("dropout > 0 needs rng= for its random masks (one per network)")
    if rnn.compiled(first) is not None:  # one by one is faster (module docstring)
        return [model.loss_and_grads(net, b, loss=loss, l2=l2, l2_rate=l2_rate, dropout=dropout, rng=r)
                for net, b, r in zip(nets, batches, rngs)]
    dtype = first.dtype
    stack = Stack(nets)
    u = np.stack([_inputs(net, b.inputs, "trials.inputs") for net, b in zip(nets, batches)])  # (S, T, B, n_in)
    _, T, B, _ = u.shape
    # each network's draws from its own rng, as loss_and_grads makes them: the noise, then the dropout masks
    noises = [_resolve_noise(net, B, T, None, r) for net, r in zip(nets, rngs)]
    noise = None if noises[0] is None else np.stack(noises)  # (S, T, B, N)
    cache = rnn.run(stack, u, noise)
    Sx = cache.S  # (S, T, B, H)
    if dropout:
        draws = _buffers.empty(Sx.shape, np.float64)
        for s, r in enumerate(rngs):
            as_rng(r).random(out=draws[s])
        keep = np.greater_equal(draws, dropout, out=_buffers.empty(Sx.shape, dtype))
        keep *= 1.0 / (1.0 - dropout)
        S_out = np.multiply(Sx, keep, out=_buffers.empty(Sx.shape, dtype))
    else:
        S_out = Sx
    H = Sx.shape[-1]
    y = np.stack([equations.readout(stack.W_out[s], stack.b_out[s], S_out[s], first.output_activation)
                  for s in range(S)])  # (S, T, B, n_out): the readout, a small product per network
    values, dz = [], np.empty_like(y)
    for s, b in enumerate(batches):
        target = np.ascontiguousarray(b.targets.transpose(1, 0, 2), dtype=dtype)
        mask = np.ascontiguousarray(b.mask.transpose(1, 0, 2), dtype=dtype)
        value, dz[s] = loss_fn(y[s], target, mask, first.output_activation)
        values.append(value)
    dz2 = dz.reshape(S, T * B, -1)  # (S, T B, n_out)
    grads = {"W_out": np.swapaxes(dz2, -1, -2) @ S_out.reshape(S, T * B, H),
             "b_out": np.stack([dz2[s].sum(axis=0) for s in range(S)])}
    dS = _buffers.empty((S, T, B, H), dtype)
    np.matmul(dz2, stack.W_out, out=dS.reshape(S, T * B, H))
    if dropout:
        dS *= keep
    if l2_rate:
        size = T * B * H  # one network's rates
        values = [v + l2_rate * float(np.vdot(Sx[s], Sx[s])) / size for s, v in enumerate(values)]
        dS += np.multiply(Sx, 2.0 * l2_rate / size, out=_buffers.empty(Sx.shape, dtype))
    grads.update(rnn.backward(stack, cache, dS))
    if l2:
        for k in WEIGHTS_L2:
            if k in grads:
                W = getattr(stack, k)
                values = [v + l2 * float(np.sum(W[s] * W[s])) for s, v in enumerate(values)]
                grads[k] = grads[k] + 2.0 * l2 * W
    if stack.mask is not None:
        grads["W_rec"] = grads["W_rec"] * stack.mask
    return [(values[s], {k: np.asarray(grads[k][s], dtype=dtype) for k in first.trainable}) for s in range(S)]
