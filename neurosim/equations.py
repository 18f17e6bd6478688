"""The maths every substrate computes around the weights, in one brian2-free place.

Each function here is the one definition of its equation; the numpy RNN (:mod:`neurosim.ann`), the Brian2 rate
network (:mod:`neurosim.brian.rate`), the Brian2 LIF network (:mod:`neurosim.brian.spiking`) and the learning
rules call it instead of writing it again. Arrays: ``u`` inputs, ``s`` what the units send, ``x`` the state.

=====================  =============================================  ===================================
what                   equation                                       function
=====================  =============================================  ===================================
input drive            I_ext = W_in u + b                             :func:`drive`
what a unit sends      s = r (rate form), s = f(x) (current form)     :func:`source`
readout                y = g(W_out s + b_out)                         :func:`readout`
noise increments       n_t = sqrt(2 alpha) sigma xi_t, xi ~ N(0, 1)   :func:`noise_increments`
spiking weights        W_spk = W / lam (lam: Hz that stand for 1)     :func:`spiking_weights`
firing rate of s       rate = lam s;  s = rate / lam                  :func:`rate_of`, :func:`activity_of`
one Euler step         rate:    r' = (1 - alpha) r + alpha f(W_in u + W_rec r + b) + n
                       current: x' = (1 - alpha) x + alpha (W_rec f(x) + W_in u + b) + n
                                                                      :func:`euler_step` (the reference)
=====================  =============================================  ===================================

:func:`euler_step` is deliberately plain: the fast paths (``neurosim.ann.rnn``, the Brian2 networks) are tested
against it, not the other way round.
"""

from __future__ import annotations

import numpy as np

from . import activations
from ._validate import as_rng

__all__ = ["drive", "drive_fits", "source", "readout", "noise_increments", "spiking_weights", "rate_of",
           "activity_of", "euler_step", "PROJECTED_MAX_BYTES"]

# The drive of every step and unit, (T, B*N) float64, is precomputed (one product, exact and fastest for the
# Brian2 substrates) unless it would exceed this; then the substrates multiply the inputs by W_in themselves.
PROJECTED_MAX_BYTES = 256 * 2**20


def drive(W_in: np.ndarray, b: np.ndarray, u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """I_ext = W_in u + b for every step and trial at once: one (T B, n_in) x (n_in, N) product.

    u (T, B, n_in) time-major (or any (..., n_in)); returns (..., N), written into ``out`` if given. Stacked
    networks of one shape (:mod:`neurosim.ann.stacked`): W_in (S, N, n_in) and b (S, N) with u (S, ..., n_in),
    one product per network.
    """
    stack = W_in.shape[:-2]  # () for one network, (S,) for a stack
    lead, n_in = u.shape[len(stack):-1], u.shape[-1]
    N = W_in.shape[-2]
    if out is None:
        out = np.empty((*stack, *lead, N), dtype=np.result_type(u, W_in))
    np.matmul(u.reshape(*stack, -1, n_in), np.swapaxes(W_in, -1, -2), out=out.reshape(*stack, -1, N))  # (.., TB, N)
    out += b.reshape(*stack, *(1,) * len(lead), N)
    return out


def drive_fits(n_steps: int, n_trials: int, n_units: int) -> bool:
    """Whether the precomputed float64 drive, (T, B*N), stays within :data:`PROJECTED_MAX_BYTES`."""
    return n_steps * n_trials * n_units * 8 <= PROJECTED_MAX_BYTES


def source(net, x: np.ndarray) -> np.ndarray:
    """What a unit sends to the others and to the readout: s = r in the rate form, s = f(x) in the current form."""
    return x if net.form == "rate" else activations.get(net.activation).f(x)


def readout(W_out: np.ndarray, b_out: np.ndarray, s: np.ndarray, output_activation: str = "identity") -> np.ndarray:
    """y = g(W_out s + b_out) over the last axis of ``s`` (..., N); returns (..., n_out)."""
    lead, N = s.shape[:-1], s.shape[-1]
    z = s.reshape(-1, N) @ W_out.T  # (prod(lead), n_out)
    z += b_out
    return activations.output(z.reshape(*lead, -1), output_activation)


def noise_increments(net, n_trials: int, n_steps: int, rng) -> np.ndarray | None:
    """One Euler-Maruyama realization of the recurrent noise, (B, T, N): sqrt(2 alpha) sigma xi, xi ~ N(0, 1).

    The discrete form of ``tau dx = ... dt + sigma sqrt(2 tau) dW`` (stationary std ``sigma`` for a lone leaky
    unit). Fed to the ANN and to the Brian2 rate network alike, it makes them agree to round-off ("matched"
    noise). None for a noiseless network.
    """
    sigma = getattr(net, "sigma", 0.0)
    if not sigma:
        return None
    xi = as_rng(rng).standard_normal((n_trials, n_steps, net.n_rec))
    return (np.sqrt(2.0 * net.alpha) * sigma * xi).astype(net.dtype)


def spiking_weights(W: np.ndarray, lam: float) -> np.ndarray:
    """Weights per unit of firing rate, W / lam: a neuron firing at ``lam * s`` Hz does what activity s does."""
    return W / lam


def rate_of(s, lam: float):
    """The firing rate (Hz) that stands for rate-unit activity ``s``: lam s (Kim, Li & Sejnowski 2019)."""
    return lam * s


def activity_of(rate, lam: float):
    """The rate-unit activity a firing rate (Hz) stands for: rate / lam (the inverse of :func:`rate_of`)."""
    return rate / lam


def euler_step(net, x: np.ndarray, u: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
    """One forward-Euler step of ``net`` from state ``x`` (B, N) with input ``u`` (B, n_in); returns x' (B, N).

    rate form:    r' = (1 - alpha) r + alpha f(W_in u + W_rec r + b) + n
    current form: x' = (1 - alpha) x + alpha (W_rec f(x) + W_in u + b) + n
    The reference that the fast paths are tested against; ``noise`` is one step of :func:`noise_increments`.
    """
    f = activations.get(net.activation).f
    ext = u @ net.W_in.T + net.b  # (B, N)
    if net.form == "rate":
        new = (1.0 - net.alpha) * x + net.alpha * f(ext + x @ net.W_rec.T)
    else:
        new = (1.0 - net.alpha) * x + net.alpha * (f(x) @ net.W_rec.T + ext)
    return new if noise is None else new + noise
