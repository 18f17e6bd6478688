"""SpikingNetwork: a trained rate network mapped onto leaky integrate-and-fire neurons; ``to_spiking``.

The mapping of Kim, Li & Sejnowski (2019, PNAS 116:22811). Each rate unit becomes one LIF neuron that keeps its
input weights, its bias and the signs of its outgoing weights (Dale's law); the rate network's time constant
``tau`` becomes the decay time of the synaptic filter. The one free number is ``lam`` (Hz), the firing rate
that stands for rate-unit activity 1: the recurrent and readout weights are divided by it,
``W_spk = W_rec / lam``, ``W_out_spk = W_out / lam``, so that a neuron firing at ``lam * f(x)`` Hz does what the
rate unit does at ``f(x)``. Kim et al. chose it by a grid search over 20 to 75
(:func:`neurosim.calibration.calibrate_lambda`).

The equations, per neuron i (SI units; x is dimensionless, the rate network's current)::

    tau_m dv_i/dt = v_rest - v_i + bias + v_scale x_i + sigma_v sqrt(2 tau_m) xi_i(t)   (unless refractory)
    v_i > v_threshold  ->  spike, v_i = v_reset, no integration for ``refractory`` seconds

    x_i = s_i + sum_j (W_rec[i, j] / lam) r_j(t)            recurrent drive through the synaptic filter
    r_j(t) = sum_k K(t - t_j^k)                               filtered spike train of neuron j (Hz)

    current form:  tau_d ds_i/dt = -s_i + sum_k W_in[i, k] u_k(t) + b_i    (the rate network's own filter)
    rate form:     s_i = sum_k W_in[i, k] u_k(t) + b_i                     (no filter, as f's argument)

    y(t) = g(W_out r(t) / lam + b_out)                        the readout, from the filtered spike trains

The kernel K has unit area, so r_j is a firing rate in Hz: a single exponential
``K(t) = exp(-t / tau_d) / tau_d`` or a double exponential
``K(t) = (exp(-t / tau_d) - exp(-t / tau_r)) / (tau_d - tau_r)`` with rise time ``tau_r`` (Kim et al.: 2 ms).
The bias defaults to the rheobase, ``v_threshold - v_rest``: at x = 0 the membrane settles at threshold and a
neuron fires only for positive x (Kim et al.'s BIAS = v_peak). ``v_scale`` is the depolarisation (volts) that
one unit of x stands for (1 mV in Kim et al., whose voltages are in mV); ``sigma_v`` the stationary standard
deviation of the membrane noise, which smooths the f-I curve near threshold (Kim et al.'s per-step noise of
0.1 mV at dt = 0.05 ms is sigma_v = 1 mV).

Nothing here imports brian2: the Brian2 build and run live in :mod:`neurosim.brian.spiking`, and
``simulate(snet, trials, substrate="spiking")`` runs them.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from . import activations, equations
from ._validate import as_array, as_seconds, as_si, check_choice, check_finite, check_shape, substeps
from .network import RateNetwork, Saveable, check_connectivity, register_model
from .transforms import tanh_to_sigmoid

__all__ = ["SpikingNetwork", "to_spiking", "lif_rate", "ConversionWarning", "SYNAPSES"]

SYNAPSES = ("single", "double")


class ConversionWarning(UserWarning):
    """The rate network is of a kind whose conversion to spiking neurons is known to be unreliable."""


# Kim et al. (2019), Fig. 2: share of 100 trained networks that kept their task performance after conversion
_UNRELIABLE = {
    "relu": "conversion of relu networks to LIF neurons is unreliable: none of 100 converted relu networks "
            "kept its task performance in Kim, Li & Sejnowski (2019); expect a low score and prefer "
            "activation='sigmoid'",
    "softplus": "softplus networks convert less reliably than sigmoid ones (55 of 100 succeeded in Kim, Li & "
                "Sejnowski 2019, against 94 of 100 with sigmoid units); calibrate lam and check the score",
    "linear": "linear units are unbounded and take negative values, which firing rates cannot; conversion to "
              "LIF neurons is unreliable: prefer activation='sigmoid'",
}


def _as_volts(value, name: str) -> float:
    """A voltage as float volts: a number (volts) or a Brian2 voltage."""
    return as_si(value, name, "volt", positive=False)


def _as_time(value, name: str, *, allow_zero: bool = False) -> float:
    """A time as float seconds (a number or a Brian2 time); ``allow_zero`` also admits 0."""
    try:
        return as_seconds(value, name)
    except ValueError:
        if allow_zero and float(np.asarray(value)) == 0:
            return 0.0
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a time {bound} s, got {value!r}; times are float seconds "
                         "(2 ms is 0.002) or Brian2 times") from None


def lif_rate(current, *, tau_m: float, refractory: float, v_rest: float, v_reset: float,
             v_threshold: float) -> np.ndarray:
    """The noise-free LIF firing rate (Hz) for a constant input ``current`` given as a voltage R I (volts).

    With ``tau_m dv/dt = v_rest - v + R I`` the membrane charges from ``v_reset`` towards ``v_rest + R I``;
    above threshold the interspike interval is ``refractory + tau_m ln((R I - (v_reset - v_rest)) /
    (R I - (v_threshold - v_rest)))``, and the rate is its inverse. At or below threshold the rate is 0.
    """
    RI = np.asarray(current, dtype=float)
    above = RI > v_threshold - v_rest
    safe = np.where(above, RI, v_threshold - v_rest + 1.0)  # keeps the log finite where the rate is 0 anyway
    isi = refractory + tau_m * np.log((safe - (v_reset - v_rest)) / (safe - (v_threshold - v_rest)))
    return np.where(above, 1.0 / isi, 0.0)


@register_model
@dataclass(frozen=True, eq=False)
class SpikingNetwork(Saveable):
    """A LIF network built from a rate network: the rate network's weights plus the spiking parameters.

    Weights (unscaled, as in the rate network): W_in (N, n_in), W_rec (N, N), b (N,), W_out (n_out, N),
    b_out (n_out,); ``dale`` (N,) signs and ``mask`` (N, N) connectivity as in :class:`RateNetwork`; ``x0`` (N,)
    the rate network's initial state. Times in seconds, voltages in volts, ``lam`` in Hz (see the module
    docstring for the equations). ``dt`` is the rate network's (and the task's) step; ``sim_dt`` the step of
    the spiking simulation, which must divide it. ``activation`` is the rate network's f (for the record and
    the warnings), ``output_activation`` its readout g, ``form`` its form ("current": the input is filtered
    by tau_d like x; "rate": it drives the membrane directly).
    """

    W_in: np.ndarray
    W_rec: np.ndarray
    b: np.ndarray
    W_out: np.ndarray
    b_out: np.ndarray
    lam: float = 40.0
    tau_d: float = 0.1
    tau_r: float = 0.002
    synapse: str = "double"
    tau_m: float = 0.010
    refractory: float = 0.002
    v_rest: float = -0.065
    v_reset: float = -0.065
    v_threshold: float = -0.040
    bias: float | None = None
    v_scale: float = 0.001
    sigma_v: float = 0.001
    dt: float = 0.01
    sim_dt: float = 0.0001
    activation: str = "sigmoid"
    output_activation: str = "identity"
    form: str = "current"
    dale: np.ndarray | None = None
    mask: np.ndarray | None = None
    x0: np.ndarray | None = None

    _arrays: ClassVar[tuple[str, ...]] = ("W_in", "W_rec", "b", "W_out", "b_out", "dale", "mask", "x0")
    cell = "lif"

    def __post_init__(self):
        name = type(self).__name__
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass
        arr = lambda k: check_finite(as_array(getattr(self, k), f"{name}.{k}", dtype=np.float64, copy=True,  # noqa
                                              min_size=k != "b_out"), f"{name}.{k}")
        W_rec = check_shape(arr("W_rec"), (None, None), f"{name}.W_rec")
        N = W_rec.shape[0]
        check_shape(W_rec, (N, N), f"{name}.W_rec", "W_rec is square (N, N)")
        W_out = check_shape(arr("W_out"), (None, N), f"{name}.W_out", "W_out is (n_out, N)")
        set_("W_rec", W_rec)
        set_("W_in", check_shape(arr("W_in"), (N, None), f"{name}.W_in", "W_in is (N, n_in)"))
        set_("b", check_shape(arr("b"), (N,), f"{name}.b"))
        set_("W_out", W_out)
        set_("b_out", check_shape(arr("b_out"), (W_out.shape[0],), f"{name}.b_out"))
        set_("x0", np.zeros(N) if self.x0 is None else check_shape(arr("x0"), (N,), f"{name}.x0"))
        dale, mask = check_connectivity(name, W_rec, self.dale, self.mask)  # the rule RateNetwork applies
        set_("dale", dale)
        set_("mask", mask)

        lam = self.lam
        if isinstance(lam, bool) or not isinstance(lam, numbers.Real):
            raise TypeError(f"{name}.lam: expected a number of Hz, got {type(lam).__name__} {lam!r}")
        if not np.isfinite(lam) or lam <= 0:
            raise ValueError(f"{name}.lam: expected a positive firing rate in Hz (the rate that stands for "
                             f"rate-unit activity 1; Kim et al. used 20 to 75), got {lam!r}; calibrate it with "
                             "neurosim.calibration.calibrate_lambda")
        set_("lam", float(lam))
        for k in ("tau_d", "tau_m", "dt", "sim_dt"):
            set_(k, _as_time(getattr(self, k), f"{name}.{k}"))
        set_("refractory", _as_time(self.refractory, f"{name}.refractory", allow_zero=True))
        check_choice(self.synapse, SYNAPSES, f"{name}.synapse")
        if self.synapse == "double":
            set_("tau_r", _as_time(self.tau_r, f"{name}.tau_r"))
            if self.tau_r >= self.tau_d:
                raise ValueError(f"{name}.tau_r: expected a rise time shorter than the decay time tau_d = "
                                 f"{self.tau_d} s, got {self.tau_r} s")
        else:
            set_("tau_r", _as_time(self.tau_r, f"{name}.tau_r", allow_zero=True))
        for k in ("v_rest", "v_reset", "v_threshold"):
            set_(k, _as_volts(getattr(self, k), f"{name}.{k}"))
        if self.v_reset >= self.v_threshold:
            raise ValueError(f"{name}.v_reset: expected a reset below the threshold v_threshold = "
                             f"{self.v_threshold} V, got {self.v_reset} V")
        set_("bias", self.v_threshold - self.v_rest if self.bias is None else _as_volts(self.bias, f"{name}.bias"))
        set_("v_scale", _as_volts(self.v_scale, f"{name}.v_scale"))
        if self.v_scale <= 0:
            raise ValueError(f"{name}.v_scale: expected a positive voltage per unit of x, got {self.v_scale} V")
        set_("sigma_v", _as_volts(self.sigma_v, f"{name}.sigma_v"))
        if self.sigma_v < 0:
            raise ValueError(f"{name}.sigma_v: expected a noise amplitude >= 0 V, got {self.sigma_v} V")
        check_choice(self.activation, activations.ACTIVATIONS, f"{name}.activation")
        check_choice(self.form, RateNetwork.FORMS, f"{name}.form")
        self.check_sim_dt(self.sim_dt, f"{name}.sim_dt")

    # -- sizes and derived quantities --------------------------------------------------------------------
    n_in = property(lambda self: self.W_in.shape[1])
    n_rec = property(lambda self: self.W_rec.shape[0])
    n_out = property(lambda self: self.W_out.shape[0])
    W_spk = property(lambda self: equations.spiking_weights(self.W_rec, self.lam),
                     doc="recurrent weights per spike rate, W_rec / lam (s)")
    W_out_spk = property(lambda self: equations.spiking_weights(self.W_out, self.lam),
                         doc="readout weights, W_out / lam (s)")

    def replace(self, **changes) -> "SpikingNetwork":
        """A copy with some fields changed (validated again), e.g. ``snet.replace(lam=30.0)``."""
        return dataclasses.replace(self, **changes)

    def check_sim_dt(self, sim_dt: float, name: str = "sim_dt") -> float:
        """Check a simulation step (float seconds) for this network and return it: at most tau_m / 10 (the
        membrane and the spike times), at most tau_r / 2 (the synaptic rise), and a divisor of dt."""
        if sim_dt > self.tau_m / 10:
            raise ValueError(f"{name}: the simulation step must be at most tau_m / 10 = {self.tau_m / 10:g} s to "
                             f"integrate the membrane (tau_m = {self.tau_m:g} s) and time spikes accurately, got "
                             f"{sim_dt:g} s; use a smaller sim_dt (Kim et al. used 5e-5 s)")
        if self.synapse == "double" and sim_dt > self.tau_r / 2:
            raise ValueError(f"{name}: the simulation step must be at most tau_r / 2 = {self.tau_r / 2:g} s to "
                             f"resolve the synaptic rise time, got {sim_dt:g} s; use a smaller sim_dt")
        substeps(self.dt, sim_dt, name)  # the same divisibility rule as the rate substrate
        return sim_dt

    def rate_curve(self, x) -> np.ndarray:
        """The noise-free firing rate (Hz) of a neuron whose current x (rate-network units) is constant:
        :func:`lif_rate` at ``R I = bias + v_scale x``. ``rate_curve(x) / lam`` is the spiking counterpart
        of the rate unit's ``f(x)``."""
        return lif_rate(self.bias + self.v_scale * np.asarray(x, dtype=float), tau_m=self.tau_m,
                        refractory=self.refractory, v_rest=self.v_rest, v_reset=self.v_reset,
                        v_threshold=self.v_threshold)


def to_spiking(net: RateNetwork, *, lam: float = 40.0, synapse: str = "double", tau_r=0.002, tau_m=0.010,
               refractory=0.002, v_rest=-0.065, v_reset=-0.065, v_threshold=-0.040, bias=None, v_scale=0.001,
               sigma_v=0.001, sim_dt=0.0001, warn: bool = True) -> SpikingNetwork:
    """Map a trained :class:`RateNetwork` onto LIF neurons (Kim, Li & Sejnowski 2019).

    The weights, bias, Dale signs, connectivity mask, initial state and readout carry over unchanged in the
    description; the recurrent and readout weights are divided by ``lam`` (Hz) when the network is built. The
    synaptic decay time is the rate network's ``tau``. The defaults are Kim et al.'s: tau_m = 10 ms, 2 ms
    refractory period, threshold -40 mV, reset -65 mV, a double-exponential synapse with 2 ms rise time.
    ``lam`` should be calibrated for each network (:func:`neurosim.calibration.calibrate_lambda`).

    A tanh network is first rewritten as the sigmoid network that computes exactly its outputs
    (:func:`neurosim.transforms.tanh_to_sigmoid`), whose activity in (0, 1) a firing rate can stand for.
    Warns (:class:`ConversionWarning`) when the rate network's activation makes conversion unreliable: relu
    (Kim et al.: 0 of 100 networks converted), softplus (55 of 100), linear (negative rates);
    ``warn=False`` silences it. Raises ValueError naming the field for a bad parameter.
    """
    if not isinstance(net, RateNetwork):
        raise TypeError(f"to_spiking: expected a neurosim.RateNetwork, got {type(net).__name__}; gated cells "
                        "(LSTM, GRU) have no LIF counterpart")
    if net.activation == "tanh":  # tanh(a) = 2 sigmoid(2a) - 1: the same network with rates in (0, 1)
        net = tanh_to_sigmoid(net)
    if warn and net.activation in _UNRELIABLE:
        warnings.warn(f"to_spiking: RateNetwork.activation = {net.activation!r}: {_UNRELIABLE[net.activation]}",
                      ConversionWarning, stacklevel=2)
    return SpikingNetwork(
        W_in=net.W_in, W_rec=net.W_rec, b=net.b, W_out=net.W_out, b_out=net.b_out, lam=lam, tau_d=net.tau,
        tau_r=tau_r, synapse=synapse, tau_m=tau_m, refractory=refractory, v_rest=v_rest, v_reset=v_reset,
        v_threshold=v_threshold, bias=bias, v_scale=v_scale, sigma_v=sigma_v, dt=net.dt, sim_dt=sim_dt,
        activation=net.activation, output_activation=net.output_activation, form=net.form, dale=net.dale,
        mask=net.mask, x0=net.x0)
