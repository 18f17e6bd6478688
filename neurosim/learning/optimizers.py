"""Optimizers as objects whose hyperparameters are bound when they are built (optax's ``init``/``update`` pairs).

    opt = Adam(lr=1e-3)
    state = opt.init(params)                            # params: field name -> array
    params, state = opt.update(grads, state, params)    # pure: returns new arrays, never mutates its inputs

Adam (Kingma & Ba 2015), with m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t)::

    m = beta1 m + (1 - beta1) g        v = beta2 v + (1 - beta2) g^2        p = p - lr m_hat / (sqrt(v_hat) + eps)

SGD with heavy-ball momentum::

    v = momentum v - lr g              p = p + v

The hyperparameters are checked once, when the optimizer is built. Updates work in the params' dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_choice, check_positive

__all__ = ["Adam", "SGD", "OPTIMIZERS", "make_optimizer", "clip_by_global_norm"]


def _fraction(value, name: str, *, upper_open: bool = True) -> float:
    value = check_positive(value, name, allow_zero=True)
    if value > 1 or (upper_open and value == 1):
        bound = "[0, 1)" if upper_open else "[0, 1]"
        raise ValueError(f"{name}: expected a number in {bound}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Adam:
    """Adam with bound hyperparameters; ``init(params) -> state``, ``update(grads, state, params)``."""

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        object.__setattr__(self, "lr", float(check_positive(self.lr, "Adam.lr")))
        object.__setattr__(self, "beta1", _fraction(self.beta1, "Adam.beta1"))
        object.__setattr__(self, "beta2", _fraction(self.beta2, "Adam.beta2"))
        object.__setattr__(self, "eps", float(check_positive(self.eps, "Adam.eps")))

    def init(self, params: dict) -> dict:
        """Step count and first and second moment estimates, zero."""
        return {"t": 0, "m": {k: np.zeros_like(v) for k, v in params.items()},
                "v": {k: np.zeros_like(v) for k, v in params.items()}}

    def update(self, grads: dict, state: dict, params: dict) -> tuple[dict, dict]:
        """One Adam step; returns ``(new_params, new_state)``."""
        t = state["t"] + 1
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        new_params, m_new, v_new = {}, {}, {}
        for k, g in grads.items():
            m = b1 * state["m"][k] + (1.0 - b1) * g
            v = b2 * state["v"][k] + (1.0 - b2) * (g * g)
            new_params[k] = params[k] - (self.lr / c1) * m / (np.sqrt(v / c2) + self.eps)
            m_new[k], v_new[k] = m, v
        return new_params, {"t": t, "m": m_new, "v": v_new}


@dataclass(frozen=True)
class SGD:
    """SGD with heavy-ball momentum in [0, 1); ``init(params) -> state``, ``update(grads, state, params)``."""

    lr: float = 1e-2
    momentum: float = 0.9

    def __post_init__(self):
        object.__setattr__(self, "lr", float(check_positive(self.lr, "SGD.lr")))
        object.__setattr__(self, "momentum", _fraction(self.momentum, "SGD.momentum"))

    def init(self, params: dict) -> dict:
        """The velocity of each parameter, zero."""
        return {"velocity": {k: np.zeros_like(v) for k, v in params.items()}}

    def update(self, grads: dict, state: dict, params: dict) -> tuple[dict, dict]:
        """One momentum step; returns ``(new_params, new_state)``."""
        vel = {k: self.momentum * state["velocity"][k] - self.lr * g for k, g in grads.items()}
        return {k: params[k] + vel[k] for k in grads}, {"velocity": vel}


OPTIMIZERS = {"adam": Adam, "sgd": SGD}


def make_optimizer(optimizer, *, lr: float | None = None, momentum: float | None = None):
    """An optimizer object: ``optimizer`` itself if it has ``init``/``update``, else the one named ("adam",
    "sgd") built with ``lr`` (and ``momentum`` for SGD; Adam takes none)."""
    if hasattr(optimizer, "init") and hasattr(optimizer, "update"):
        return optimizer
    check_choice(optimizer, OPTIMIZERS, "train optimizer")
    kwargs = {} if lr is None else {"lr": lr}
    if optimizer == "sgd" and momentum is not None:
        kwargs["momentum"] = momentum
    return OPTIMIZERS[optimizer](**kwargs)


def clip_by_global_norm(grads: dict, max_norm: float | None) -> tuple[dict, float]:
    """Scale all gradients together so their joint L2 norm is at most ``max_norm``; returns (grads, norm)."""
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    if max_norm and norm > max_norm:
        scale = max_norm / norm
        grads = {k: g * scale for k, g in grads.items()}
    return grads, norm
