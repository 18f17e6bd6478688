"""neurosim: one recurrent network, three substrates (numpy RNN, Brian2 rate network, Brian2 spiking network),
scored on the same sequence tasks."""

__version__ = "0.1.0"

from . import tasks  # noqa: E402
from .network import RateNetwork, load  # noqa: E402

__all__ = ["tasks", "RateNetwork", "load", "__version__"]

from . import ann  # noqa: E402
from .ann import GatedNetwork  # noqa: E402  (LSTM and GRU)

__all__ += ["ann", "GatedNetwork"]

from .training import History, train  # noqa: E402

__all__ += ["train", "History"]

from .simulate import Result, simulate  # noqa: E402

__all__ += ["simulate", "Result"]

from .spiking import SpikingNetwork, to_spiking  # noqa: E402

__all__ += ["SpikingNetwork", "to_spiking"]
