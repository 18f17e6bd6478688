"""dL/dh_t for every step: how far back in time the loss gradient reaches (vanishing and exploding gradients).

:func:`state_gradients` returns the total derivative of a trial's loss with respect to the hidden state at every
step, ``v_t = dL/dh_t`` (h the state the recurrence carries: r in the rate form, x in the current form, h for
the LSTM and GRU; the LSTM's cell state c_t is held fixed, as in Pascanu et al. 2013 and Hochreiter 1991). For a
loss scored only at the last step T, ``||v_{T-k}||`` against the lag k is the textbook picture of vanishing
(decaying) and exploding (growing) gradients.

It reuses the cells' own backward passes (:func:`neurosim.ann.loss_and_grads`) instead of writing BPTT again,
through one exact identity: give the network T extra input channels, channel t being 1 at step t only, with zero
weights. The outputs do not change, and the gradient of the loss with respect to those weights' column t is the
gradient with respect to the drive at step t, ``E_t = dL/d(drive_t)`` (the pre-activations of the Elman/leaky
RNN, the gates' pre-activations [a_i, a_f, a_g, a_o] of the LSTM, the input drive [u_r, u_z, u_n] of the GRU).
The state enters the next step only through the drive, so, with ``dS_t = W_out^T dL/dz_t`` the readout's share::

    Elman / leaky, rate form:  v_t = dS_t + W_rec^T E_{t+1} + (1 - alpha) v_{t+1}
    current form:              v_t = E_t / alpha              (E_t = alpha dL/dx_t, exactly)
    LSTM:                      v_t = dS_t + W_hh^T E_{t+1}
    GRU:                       v_t = dS_t + W_hh^T [E_r; E_z; r_{t+1} E_n]_{t+1} + z_{t+1} v_{t+1}

(the GRU's state also passes straight through ``h_{t+1} = ... + z h_t``, and its recurrent product sits inside
``r * (W_hn h_t + b_hn)``; see :mod:`neurosim.ann.gru`). Trials run one at a time, so that the extra channels
see one trial each: row b of the result is ``dL_b/dh_t`` with ``L_b`` the loss of :func:`loss_and_grads` on trial
b alone (for the adding task, where each trial has one scored step, the batch loss is the mean of the L_b).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..tasks import Trials
from . import gru, losses
from .. import equations
from .model import _cell, forward, loss_and_grads

__all__ = ["state_gradients"]


def _with_time_channels(net, T: int):
    """The network with T more input channels, all of zero weight: same outputs, one drive gradient per step."""
    field = "W_in" if hasattr(net, "W_in") else "W_ih"
    W = getattr(net, field)
    return dataclasses.replace(net, **{field: np.concatenate([W, np.zeros((W.shape[0], T), W.dtype)], axis=1)}), field


def _readout_share(net, trial: Trials, loss: str, increments) -> np.ndarray:
    """dS_t = W_out^T dL/dz_t, (T, H): the loss's gradient reaching each state through the readout at its step."""
    _, y = forward(net, trial.inputs, noise_increments=increments)  # (1, T, n_out)
    _, dz = losses.get(loss)(y[0], trial.targets[0], trial.mask[0], net.output_activation)  # (T, n_out)
    return dz @ net.W_out  # (T, H)


def state_gradients(net, trials: Trials, *, loss: str | None = None, noise_increments=None,
                    rng=None) -> np.ndarray:
    """``dL_b/dh_t`` for every trial b and step t, (B, T, N): module docstring for the contract and equations.

    ``loss`` as in :func:`loss_and_grads` ("mse", or "ce" for a softmax readout by default). A noisy rate network
    (sigma > 0) takes ``noise_increments`` (B, T, N) from :func:`neurosim.ann.noise_increments`, or an ``rng``.
    """
    if not isinstance(trials, Trials):
        raise TypeError(f"state_gradients: expected Trials, got {type(trials).__name__}")
    _cell(net)  # a clear TypeError for anything that is not a neurosim network
    loss = loss or ("ce" if net.output_activation == "softmax" else "mse")
    B, T = trials.n_trials, trials.n_steps
    noise = noise_increments
    if noise is None and getattr(net, "sigma", 0.0):
        if rng is None:
            raise ValueError(f"{type(net).__name__}.sigma = {net.sigma} > 0: pass rng= (a seed) or noise_increments= "
                             "so that the noise is explicit and reproducible")
        noise = equations.noise_increments(net, B, T, rng)
    wide, field = _with_time_channels(net, T)
    eye = np.eye(T)[None]  # (1, T, T): channel t is 1 at step t only
    H, n_in = net.n_rec, net.n_in
    out = np.empty((B, T, H), dtype=net.dtype)
    for b in range(B):
        trial = trials[b]
        nb = None if noise is None else noise[b:b + 1]  # (1, T, N)
        wide_trial = Trials(np.concatenate([trial.inputs, eye], axis=-1), trial.targets, trial.mask, trial.dt)
        _, grads = loss_and_grads(wide, wide_trial, loss=loss, noise_increments=nb)
        E = grads[field][:, n_in:].T  # (T, rows of W): E_t = dL/d(drive at step t)
        out[b] = _from_drive(net, trial, E, loss, nb)
    return out


def _from_drive(net, trial: Trials, E: np.ndarray, loss: str, noise) -> np.ndarray:
    """v_t = dL/dh_t, (T, H), from the drive gradients E (T, rows) by the module docstring's equations."""
    T, H = E.shape[0], net.n_rec
    if getattr(net, "cell", None) == "rnn" and net.form == "current":
        return E / net.alpha
    dS = _readout_share(net, trial, loss, noise)  # (T, H)
    v = np.empty((T, H), dtype=E.dtype)
    v[T - 1] = dS[T - 1]
    if net.cell == "rnn":
        leak = 1.0 - net.alpha
        for t in range(T - 2, -1, -1):
            v[t] = dS[t] + E[t + 1] @ net.W_rec + leak * v[t + 1]
    elif net.cell == "lstm":
        v[:-1] = dS[:-1] + E[1:] @ net.W_hh  # (T-1, 4H) x (4H, H)
    else:  # gru
        u = np.ascontiguousarray(trial.inputs.transpose(1, 0, 2), dtype=net.dtype)  # (T, 1, n_in)
        gates = gru.run(net, u, None).G[:, :2 * H, 0]  # (T, 2H): the gates r and z of gru.Cache.G
        r, z = gates[:, :H], gates[:, H:]
        for t in range(T - 2, -1, -1):
            e = np.concatenate([E[t + 1, :2 * H], r[t + 1] * E[t + 1, 2 * H:]])  # [E_r; E_z; r E_n]
            v[t] = dS[t] + e @ net.W_hh + z[t + 1] * v[t + 1]
    return v
