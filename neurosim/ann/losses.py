"""Masked losses and their gradients with respect to the readout's pre-activation z (y = g(z)).

Both losses average over the scored entries only, so a trial's unscored steps never move the weights.
"""

from __future__ import annotations

import numpy as np

LOSSES = ("mse", "ce")


def mse(y: np.ndarray, target: np.ndarray, mask: np.ndarray, output_activation: str):
    """L = sum(mask (y - target)^2) / sum(mask); returns (L, dL/dz)."""
    n = max(float(mask.sum()), 1.0)
    diff = (y - target) * mask
    loss = float(np.sum(diff * diff)) / n
    dy = (2.0 / n) * diff
    if output_activation == "identity":
        return loss, dy
    if output_activation == "sigmoid":
        return loss, dy * y * (1.0 - y)
    # softmax: dz_k = y_k (dy_k - sum_j dy_j y_j)
    return loss, y * (dy - np.sum(dy * y, axis=-1, keepdims=True))


def cross_entropy(y: np.ndarray, target: np.ndarray, mask: np.ndarray, output_activation: str):
    """Softmax cross-entropy over the steps where any output is scored; targets must be distributions there."""
    if output_activation != "softmax":
        raise ValueError(f"loss 'ce': expected output_activation 'softmax', got {output_activation!r}; "
                         "use loss='mse' or a softmax readout")
    step = mask.max(axis=-1, keepdims=True)  # (..., 1): 1 where the step is scored
    sums = target.sum(axis=-1, keepdims=True)
    if np.any(np.abs(sums - 1.0)[step > 0] > 1e-6):
        raise ValueError("loss 'ce': targets at scored steps must sum to 1 over the outputs (one-hot or a "
                         "distribution); use loss='mse' for this task")
    n = max(float(step.sum()), 1.0)
    logy = np.log(np.clip(y, np.finfo(y.dtype).tiny, None))
    loss = -float(np.sum(step * target * logy)) / n
    return loss, step * (y - target) / n


def get(name: str):
    if name == "mse":
        return mse
    if name == "ce":
        return cross_entropy
    raise ValueError(f"loss: expected one of {list(LOSSES)}, got {name!r}")
