"""The artificial (numpy) RNN substrate: forward pass and exact BPTT gradients."""

from . import losses
from .model import forward, loss_and_grads, noise, register_cell

__all__ = ["forward", "loss_and_grads", "noise", "losses", "register_cell"]
