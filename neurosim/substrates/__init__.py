"""The substrate registry: every place a network can run.

=========  ===================================================================  =====================
name       what it is                                                           accepts
=========  ===================================================================  =====================
ann        the discrete-time artificial RNN (numpy): Elman, leaky, LSTM, GRU    RateNetwork, GatedNetwork
rate       the same weights as a continuous-time rate network (Brian2)          RateNetwork
spiking    a LIF network converted from a rate network (Brian2)                 SpikingNetwork
=========  ===================================================================  =====================

Adding a substrate is one module with a :class:`~.base.Substrate` subclass and one :func:`register` call
below. Only ``rate`` and ``spiking`` reach into :mod:`neurosim.brian`, and only when they run.
"""

from __future__ import annotations

from .ann import ANN
from .base import NOISE_MODES, Result, Substrate
from .rate import Rate
from .spiking import Spiking

__all__ = ["Substrate", "Result", "NOISE_MODES", "register", "get", "names"]

_REGISTRY: dict[str, Substrate] = {}


def register(substrate: Substrate) -> Substrate:
    """Register a :class:`Substrate` instance under its ``name`` (registration order is run order)."""
    if not isinstance(substrate, Substrate):
        raise TypeError(f"register: expected a neurosim.substrates.Substrate instance, got "
                        f"{type(substrate).__name__}")
    if not isinstance(substrate.name, str) or not substrate.name:
        raise ValueError(f"register: expected a substrate with a non-empty name, got {substrate.name!r}")
    _REGISTRY[substrate.name] = substrate
    return substrate


def names() -> list[str]:
    """The registered substrate names, in registration (run) order."""
    return list(_REGISTRY)


def get(name: str) -> Substrate:
    """The substrate registered as ``name``; an unknown name lists the known ones."""
    if name not in _REGISTRY:
        raise ValueError(f"simulate substrate: unknown substrate {name!r}; known substrates: {', '.join(names())}")
    return _REGISTRY[name]


for _substrate in (ANN(), Rate(), Spiking()):
    register(_substrate)
