"""The Brian2 spiking substrate: a SpikingNetwork as LIF neurons (:mod:`neurosim.spiking`,
:mod:`neurosim.brian.spiking`)."""

from __future__ import annotations

import warnings

from .. import equations
from .base import Result, Substrate


class Spiking(Substrate):
    name = "spiking"
    description = "a leaky integrate-and-fire network in Brian2 (Kim, Li & Sejnowski 2019's conversion)"
    options = {"device": "runtime", "target": "auto", "sim_dt": None, "cache_dir": None, "reuse": True}
    noise = ("membrane noise (sigma_v) from Brian2's generator seeded from rng for 'matched' and 'native' alike; "
             "None turns it off")
    accepted = "a SpikingNetwork"

    def accepts(self, net) -> bool:
        from ..spiking import SpikingNetwork

        return isinstance(net, SpikingNetwork)

    def hint(self, net) -> str:
        from ..network import RateNetwork

        if isinstance(net, RateNetwork):
            return ("; convert a trained rate network first: ns.simulate(ns.to_spiking(net, lam=...), trials, "
                    "substrate='spiking')")
        return ""

    def why_not(self, net) -> str | None:
        from ..network import RateNetwork

        if self.accepts(net) or isinstance(net, RateNetwork):
            return None
        return (f"an {getattr(net, 'cell', type(net).__name__).upper()} network has no Brian2 counterpart: gated "
                "cells are not rate neurons, so only the artificial RNN runs")

    def prepare(self, net, *, task, trials, settings: dict, options: dict, seed: int, say):
        """A RateNetwork becomes LIF neurons: at ``settings["lam"]``, else at a lambda calibrated on validation
        trials distinct from ``trials`` (``settings``: the spec's [spiking] table; ``options``: the substrate's
        options for the calibration runs, e.g. device and target). The conversion's caveats
        (ConversionWarning) become the "notes" of the report."""
        from ..calibration import calibrate_lambda
        from ..spiking import ConversionWarning, to_spiking

        if self.accepts(net):
            return net, {}
        kw = {k: v for k, v in settings.items() if k not in ("lambdas", "calibration_trials")}
        info = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConversionWarning)
            if "lam" not in kw:
                n_cal = settings.get("calibration_trials", 32)
                grid = settings.get("lambdas")
                say(f"      calibrating lambda on {n_cal} validation trials ...")
                info["calibration"] = calibrate_lambda(net, task, n_trials=n_cal, rng=seed + 1, **options,
                                                       **({} if grid is None else {"lambdas": grid}), **kw)
                kw["lam"] = info["calibration"].lam
                say(f"      lambda = {kw['lam']:g} Hz")
            snet = to_spiking(net, **kw)
        for w in caught:  # the conversion's caveats belong in the report, not in a log line
            if issubclass(w.category, ConversionWarning):
                info["notes"] = str(w.message).removeprefix("to_spiking: ")
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return snet, info

    def run(self, net, trials, *, noise_mode, rng, device="runtime", target="auto", sim_dt=None,
            cache_dir=None, reuse=True) -> Result:
        """states: x (current form) or r / lam (rate form); outputs: g(W_out r / lam + b_out) from the filtered
        spike trains r. extras: ``spike_times`` and ``spike_indices`` (one array per trial: seconds and units
        0..N-1), ``filtered_rates`` (B, T, N) the filtered spike trains r in Hz, ``firing_rates`` (B, N) in Hz
        (spike counts over the trial), ``lam``.

        ``reuse`` (cpp_standalone): rerun the compiled binary of an earlier call with the same network, batch
        shape, options and Brian2 seed (drawn from ``rng``; without membrane noise the seed does not matter) on
        the new trials instead of compiling again (:func:`neurosim.brian.standalone.reusable`; the same bits)."""
        from ..brian import spiking as brian_spiking
        from ..brian import standalone

        seed, v_seed = (int(s) for s in rng.integers(2**31 - 1, size=2))
        noisy = noise_mode is not None
        B, T = trials.n_trials, trials.n_steps
        if reuse and device == "cpp_standalone" and equations.drive_fits(T, B, net.n_rec):
            sim = standalone.reusable("spiking", net, B, T, sim_dt=sim_dt, membrane_noise=noisy,
                                      seed=seed if noisy else 0, cache_dir=cache_dir)
            out = sim.run(trials.inputs, rng=v_seed)
        else:
            out = brian_spiking.run(net, trials.inputs, device=device, target=target, sim_dt=sim_dt,
                                    membrane_noise=noisy, seed=seed, rng=v_seed, cache_dir=cache_dir)
        outputs = equations.readout(net.W_out_spk, net.b_out, out.r, net.output_activation)  # (B, T, n_out)
        extras = {"spike_times": out.spike_times, "spike_indices": out.spike_indices, "filtered_rates": out.r,
                  "firing_rates": out.firing_rates, "lam": net.lam}
        return Result(trials.t, out.states, outputs, self.name, out.build_time, out.run_time, out.metadata, extras)
