"""The Brian2 rate substrate: the RateNetwork as continuous-time rate neurons (:mod:`neurosim.brian.rate`)."""

from __future__ import annotations

import numpy as np

from .. import equations
from .base import Result, Substrate


class Rate(Substrate):
    name = "rate"
    description = "the same weights as a continuous-time rate network in Brian2 (method='euler')"
    options = {"device": "runtime", "target": "auto", "coupling": None, "sim_dt": None, "cache_dir": None,
               "input_mode": None, "reuse": True}
    noise = ("'matched' feeds the ANN's own increments (equations.noise_increments), so the two agree to "
             "round-off; 'native' uses Brian2's xi seeded from rng; None runs without noise")
    accepted = "a RateNetwork (cell 'rnn')"

    def accepts(self, net) -> bool:
        from ..network import RateNetwork

        return isinstance(net, RateNetwork)

    def hint(self, net) -> str:
        if getattr(net, "cell", None) in ("lstm", "gru"):
            return f" with cell {net.cell!r}; gated cells have no rate-neuron form"
        return ""

    def why_not(self, net) -> str | None:
        if self.accepts(net):
            return None
        return (f"an {getattr(net, 'cell', type(net).__name__).upper()} network has no Brian2 counterpart: gated "
                "cells are not rate neurons, so only the artificial RNN runs")

    def run(self, net, trials, *, noise_mode, rng, device="runtime", target="auto", coupling=None, sim_dt=None,
            cache_dir=None, input_mode=None, reuse=True) -> Result:
        """``reuse`` (cpp_standalone): run the compiled binary of an earlier call with the same network, batch
        shape and options on the new trials instead of compiling again (:func:`neurosim.brian.standalone.reusable`;
        the same bits). Not with native noise, whose seed is compiled in, nor with input_mode "per_input"."""
        from ..brian import rate, standalone

        mode = noise_mode if net.sigma else None
        increments = (equations.noise_increments(net, trials.n_trials, trials.n_steps, rng)
                      if mode == "matched" else None)
        seed = int(rng.integers(2**31 - 1)) if mode == "native" else None
        net64 = net.astype(np.float64)
        B, T = trials.n_trials, trials.n_steps
        if (reuse and device == "cpp_standalone" and mode != "native" and input_mode in (None, "projected")
                and equations.drive_fits(T, B, net.n_rec)):
            sim = standalone.reusable("rate", net64, B, T, coupling=coupling, sim_dt=sim_dt, noise_mode=mode,
                                      cache_dir=cache_dir)
            out = sim.run(trials.inputs, increments)
        else:
            out = rate.run(net64, trials.inputs, device=device, target=target, coupling=coupling, sim_dt=sim_dt,
                           noise_mode=mode, noise_increments=increments, seed=seed, input_mode=input_mode,
                           cache_dir=cache_dir)
        outputs = equations.readout(net64.W_out, net64.b_out, equations.source(net64, out.states),
                                    net.output_activation)  # (B, T, n_out)
        return Result(trials.t, out.states, outputs, self.name, out.build_time, out.run_time, out.metadata)
