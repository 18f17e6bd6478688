"""neurosim: one recurrent network, three substrates (numpy RNN, Brian2 rate network, Brian2 spiking network),
scored on the same sequence tasks.

Importing neurosim does not import brian2: only the Brian2 substrates do, when they run.
"""

__version__ = "0.1.0"

from . import ann, equations, learning, substrates, tasks  # noqa: E402
from .ann import GatedNetwork  # noqa: E402  (LSTM and GRU)
from .network import RateNetwork, load  # noqa: E402
from .simulate import Result, simulate  # noqa: E402
from .spiking import SpikingNetwork, to_spiking  # noqa: E402
from .learning import History, train  # noqa: E402

__all__ = ["__version__", "tasks", "ann", "learning", "equations", "substrates", "RateNetwork", "GatedNetwork",
           "SpikingNetwork", "load", "train",
           "History", "simulate", "Result", "to_spiking"]
