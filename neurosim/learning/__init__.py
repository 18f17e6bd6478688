"""Learning rules and the training loop they share.

- :mod:`.loop`: the loop (steps, history, progress bar, validation, early stopping, non-finite and divergence
  guards) and the rule protocol (``step``, ``snapshot``, ``network``);
- :mod:`.optimizers`: Adam and SGD as objects with bound hyperparameters (``init``/``update``);
- :mod:`.bptt`: backpropagation through time and :func:`train` (``neurosim.train``).
"""

from . import bptt, loop, optimizers
from .bptt import BPTT, train
from .loop import History, NonFinite
from .optimizers import SGD, Adam, clip_by_global_norm, make_optimizer

__all__ = ["train", "BPTT", "History", "NonFinite", "Adam", "SGD", "make_optimizer", "clip_by_global_norm",
           "loop", "optimizers", "bptt"]
