"""Finite-difference gradients, shared by the gradient tests of every cell."""

import numpy as np

import neurosim as ns


def numerical_grads(net, trials, eps=1e-6, **kw):
    """Central differences of ``ns.ann.loss_and_grads``'s loss for every trainable entry.

    A connectivity mask or Dale signs are lifted while perturbing (every entry moves freely) and the mask is
    applied to the result, as ``loss_and_grads`` does.
    """
    mask = getattr(net, "mask", None)
    free = net.replace(dale=None, mask=None) if hasattr(net, "dale") else net
    grads = {}
    for k in net.trainable:
        W = getattr(net, k)
        num = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            Wp, Wm = W.copy(), W.copy()
            Wp[idx] += eps
            Wm[idx] -= eps
            lp = ns.ann.loss_and_grads(free.replace(**{k: Wp}), trials, **kw)[0]
            lm = ns.ann.loss_and_grads(free.replace(**{k: Wm}), trials, **kw)[0]
            num[idx] = (lp - lm) / (2 * eps)
        grads[k] = num * mask if (k == "W_rec" and mask is not None) else num
    return grads
