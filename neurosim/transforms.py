"""Exact changes of variables between networks: a tanh network is a sigmoid network.

``tanh(a) = 2 sigmoid(2a) - 1``, so every tanh :class:`~neurosim.network.RateNetwork` computes exactly what a
sigmoid network with transformed weights computes. The weight map is the same in both forms::

    W_in' = 2 W_in    W_rec' = 4 W_rec    b' = 2 (b - W_rec 1)    W_out' = 2 W_out    b_out' = b_out - W_out 1

Rate form, ``tau dr/dt = -r + tanh(W_in u + W_rec r + b)``, ``y = g(W_out r + b_out)``. With r = 2q - 1::

    2 tau dq/dt = -(2q - 1) + 2 sigmoid(2 (W_in u + W_rec (2q - 1) + b)) - 1
      tau dq/dt = -q + sigmoid(2 W_in u + 4 W_rec q + 2 (b - W_rec 1))
              y = g(2 W_out q + b_out - W_out 1)

so the new state is q = (r + 1) / 2, in (0, 1): x0' = (x0 + 1) / 2, and the noise added to r is halved,
sigma' = sigma / 2. Forward Euler commutes with the affine map, so the artificial RNN agrees step by step.

Current form, ``tau dx/dt = -x + W_rec tanh(x) + W_in u + b``, ``y = g(W_out tanh(x) + b_out)``. With x' = 2x,
tanh(x) = 2 sigmoid(x') - 1::

    tau dx'/dt = -2x + 2 W_rec (2 sigmoid(x') - 1) + 2 W_in u + 2 b
               = -x' + 4 W_rec sigmoid(x') + 2 W_in u + 2 (b - W_rec 1)
             y = g(2 W_out sigmoid(x') + b_out - W_out 1)

so the new state is x' = 2x: x0' = 2 x0, sigma' = 2 sigma. (Only the state maps differ between the forms.)

The signs of W_rec are kept (W_rec' = 4 W_rec), so Dale's law and the connectivity mask carry over unchanged.
A sigmoid unit's activity is in (0, 1), which a firing rate can stand for: this is how
:func:`neurosim.to_spiking` converts tanh networks to LIF neurons. Nothing here imports brian2.
"""

from __future__ import annotations

import numpy as np

from .network import RateNetwork

__all__ = ["tanh_to_sigmoid"]


def tanh_to_sigmoid(net: RateNetwork) -> RateNetwork:
    """The sigmoid :class:`RateNetwork` that computes exactly the outputs of the tanh network ``net``.

    Same readout activation, time constants, dtype, Dale signs and mask; weights, biases, initial state and
    noise as in the module docstring. Its states are ``(r + 1) / 2`` (rate form) or ``2 x`` (current form) of
    ``net``'s. Raises TypeError for a network that is not a RateNetwork and ValueError for one whose activation
    is not tanh.
    """
    if not isinstance(net, RateNetwork):
        raise TypeError(f"tanh_to_sigmoid: expected a neurosim.RateNetwork, got {type(net).__name__}; gated cells "
                        "(LSTM, GRU) mix sigmoid and tanh gates and have no such map")
    if net.activation != "tanh":
        raise ValueError(f"tanh_to_sigmoid: RateNetwork.activation: expected 'tanh', got {net.activation!r}; "
                         "only tanh networks have this exact sigmoid counterpart")
    ones = np.ones(net.n_rec, dtype=net.dtype)  # (N,)
    if net.form == "rate":
        x0, sigma = (net.x0 + 1.0) / 2.0, net.sigma / 2.0  # q = (r + 1) / 2
    else:
        x0, sigma = 2.0 * net.x0, 2.0 * net.sigma  # x' = 2 x
    return net.replace(
        W_in=2.0 * net.W_in,                      # (N, n_in)
        W_rec=4.0 * net.W_rec,                    # (N, N), same signs: Dale's law and mask hold
        b=2.0 * (net.b - net.W_rec @ ones),       # (N,)
        W_out=2.0 * net.W_out,                    # (n_out, N)
        b_out=net.b_out - net.W_out @ ones,       # (n_out,)
        x0=x0, sigma=sigma, activation="sigmoid")
