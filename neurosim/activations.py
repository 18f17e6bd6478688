"""Activation functions: the one place where each nonlinearity is defined.

Each entry carries the numpy function, its derivative (for BPTT) and the same function as a Brian2
expression string, so the artificial RNN and the Brian2 substrates cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validate import check_choice


@dataclass(frozen=True)
class Activation:
    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray, np.ndarray], np.ndarray]  # df(x, fx): derivative at x, given fx = f(x)
    brian: str  # Brian2 expression in the variable ``{x}``


def _sigmoid(x):
    # 0.5 * (1 + tanh(x/2)) is the overflow-free sigmoid
    return 0.5 * (1.0 + np.tanh(0.5 * x))


ACTIVATIONS = {
    "tanh": Activation("tanh", np.tanh, lambda x, fx: 1.0 - fx * fx, "tanh({x})"),
    "relu": Activation("relu", lambda x: np.maximum(x, 0.0), lambda x, fx: (x > 0).astype(x.dtype),
                       "clip({x}, 0, inf)"),
    "sigmoid": Activation("sigmoid", _sigmoid, lambda x, fx: fx * (1.0 - fx), "1/(1 + exp(-({x})))"),
    "softplus": Activation("softplus", lambda x: np.logaddexp(0.0, x), lambda x, fx: _sigmoid(x),
                           # max(x, 0) + log(1 + exp(-|x|)): log(1 + exp(x)) overflows to inf beyond x = 709
                           "clip({x}, 0, inf) + log(1 + exp(-abs({x})))"),
    "linear": Activation("linear", lambda x: x, lambda x, fx: np.ones_like(x), "{x}"),
}

OUTPUT_ACTIVATIONS = ("identity", "sigmoid", "softmax")


def get(name: str) -> Activation:
    """The activation called ``name``; an unknown name lists the known ones."""
    check_choice(name, ACTIVATIONS, "activation")
    return ACTIVATIONS[name]


def output(z: np.ndarray, name: str) -> np.ndarray:
    """Apply the readout nonlinearity g to the last axis of ``z``."""
    if name == "identity":
        return z
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    check_choice(name, OUTPUT_ACTIVATIONS, "output_activation")
    raise AssertionError("unreachable")
