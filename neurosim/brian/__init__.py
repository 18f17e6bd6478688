"""The Brian2 substrates: the only package that imports brian2 (lazily, inside its functions).

- :mod:`neurosim.brian.rate`: the RateNetwork as Brian2 rate neurons (``simulate(..., substrate="rate")``);
- :mod:`neurosim.brian.coupling`: recurrent coupling implementations (Synapses, dense matrix products);
- :mod:`neurosim.brian.devices`: devices, targets, the compilation cache and Brian2's global state.

Importing this package does not import brian2; building a network does.
"""
