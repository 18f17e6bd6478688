"""The artificial RNN substrate: the numpy forward pass of any cell (:mod:`neurosim.ann`)."""

from __future__ import annotations

import time

from .. import equations
from .base import Result, Substrate


class ANN(Substrate):
    name = "ann"
    description = "the discrete-time artificial RNN (numpy): Elman, leaky, LSTM, GRU"
    options = {}
    noise = ("'matched' and 'native' are the same Euler-Maruyama draw, equations.noise_increments from rng; "
             "None runs without noise")
    accepted = "a RateNetwork or a GatedNetwork (LSTM, GRU)"

    def accepts(self, net) -> bool:
        from ..ann.model import CELLS

        return getattr(net, "cell", None) in CELLS and hasattr(net, "trainable")

    def hint(self, net) -> str:
        return "; a SpikingNetwork runs on substrate 'spiking'" if getattr(net, "cell", None) == "lif" else ""

    def run(self, net, trials, *, noise_mode, rng) -> Result:
        from .. import ann

        noisy = bool(getattr(net, "sigma", 0.0)) and noise_mode is not None
        if getattr(net, "sigma", 0.0) and not noisy:
            net = net.replace(sigma=0.0)
        increments = equations.noise_increments(net, trials.n_trials, trials.n_steps, rng) if noisy else None
        start = time.perf_counter()
        states, outputs = ann.forward(net, trials.inputs, noise_increments=increments)
        run_time = time.perf_counter() - start
        return Result(trials.t, states, outputs, self.name, 0.0, run_time,
                      {"noise_mode": noise_mode if noisy else None, "dt": net.dt})
