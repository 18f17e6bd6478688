"""The artificial (numpy) RNN substrate: forward pass and exact BPTT gradients.

Cells: ``rnn`` (the Elman/leaky RNN of :class:`neurosim.RateNetwork`), ``lstm`` and ``gru``
(:class:`GatedNetwork`). Weight interchange with PyTorch and Keras: :mod:`neurosim.ann.interchange`.
"""

from . import gru, losses, lstm
from .gated import GatedNetwork
from .model import forward, loss_and_grads, noise_increments, register_cell
from .state_grads import state_gradients

register_cell("lstm", lstm)
register_cell("gru", gru)

from . import interchange  # noqa: E402

__all__ = ["forward", "loss_and_grads", "noise_increments", "state_gradients", "losses", "register_cell",
           "GatedNetwork", "interchange"]
