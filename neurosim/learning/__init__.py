"""Learning rules and the training loop they share.

- :mod:`.loop`: the loop (steps, history, progress bar, validation, early stopping, non-finite and divergence
  guards) and the rule protocol (``step``, ``snapshot``, ``network``);
- :mod:`.optimizers`: Adam and SGD as objects with bound hyperparameters (``init``/``update``);
- :mod:`.bptt`: backpropagation through time and :func:`train` (``neurosim.train``);
- :mod:`.stacked`: :func:`train_stacked`, several networks of one shape at once, bit-identical to each alone.
"""

from . import bptt, loop, optimizers, stacked
from .bptt import BPTT, train
from .loop import History, NonFinite
from .optimizers import SGD, Adam, clip_by_global_norm, make_optimizer
from .stacked import train_stacked

__all__ = ["train", "train_stacked", "BPTT", "History", "NonFinite", "Adam", "SGD", "make_optimizer",
           "clip_by_global_norm",
           "loop", "optimizers", "bptt", "stacked"]
