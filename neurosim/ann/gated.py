"""GatedNetwork: an LSTM or GRU layer with a dense readout, in PyTorch's weight layout.

The weights are stored exactly as ``torch.nn.LSTM`` / ``torch.nn.GRU`` store them (one layer, batch_first
irrelevant), so a PyTorch state dict maps field to field (see :mod:`neurosim.ann.interchange`)::

    W_ih  (G H, n_in)    the G gates' input weights, stacked: LSTM i, f, g, o (G = 4); GRU r, z, n (G = 3)
    W_hh  (G H, H)       the gates' recurrent weights, stacked in the same order
    b_ih  (G H,)         input bias          (PyTorch's bias_ih_l0)
    b_hh  (G H,)         recurrent bias      (PyTorch's bias_hh_l0; for the GRU's n gate it sits inside r * (...))
    W_out (n_out, H)     readout y_t = g(W_out h_t + b_out), as torch.nn.Linear
    b_out (n_out,)
    h0, c0 (H,)          initial hidden (and, for the LSTM, cell) state; zeros by default; a GRU has no c0

The cell equations are in :mod:`neurosim.ann.lstm` and :mod:`neurosim.ann.gru`. ``dt`` (seconds) only says
which task time step the network was built for: a gated cell has no time constant. There is no recurrent
noise (``sigma = 0``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import activations
from .._validate import as_array, as_rng, as_seconds, check_choice, check_finite, check_positive, check_shape
from ..network import Saveable, register_model

__all__ = ["GatedNetwork", "GATES", "INITS"]

GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}  # PyTorch's gate order along the G H axis
INITS = ("keras", "pytorch")


@register_model
@dataclass(frozen=True, eq=False)
class GatedNetwork(Saveable):
    """An LSTM or GRU layer and a dense readout, described once; train it with :func:`neurosim.train`.

    Fields are in PyTorch's layout (module docstring). Build one with :meth:`random`, or from PyTorch or Keras
    weights with :func:`neurosim.ann.interchange.from_torch` / ``from_keras``.
    """

    cell: str
    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray
    W_out: np.ndarray
    b_out: np.ndarray
    dt: float = 0.01
    output_activation: str = "identity"
    h0: np.ndarray | None = None
    c0: np.ndarray | None = None

    _arrays: ClassVar[tuple[str, ...]] = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out", "h0", "c0")
    trainable: ClassVar[tuple[str, ...]] = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")
    sigma = 0.0  # no recurrent noise: neurosim.ann.noise_increments returns None for this network

    def __post_init__(self):
        name = type(self).__name__
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass
        if self.cell not in GATES:
            raise ValueError(f"{name}.cell: expected one of {sorted(GATES)}, got {self.cell!r}"
                             + ("; the Elman/leaky RNN is neurosim.RateNetwork" if self.cell == "rnn" else ""))
        gates = GATES[self.cell]
        W_hh = as_array(self.W_hh, f"{name}.W_hh", ndim=2, min_size=True)
        dtype = W_hh.dtype if W_hh.dtype.kind == "f" else np.float64
        arr = lambda k: check_finite(as_array(getattr(self, k), f"{name}.{k}", dtype=dtype, copy=True,  # noqa
                                              min_size=k in ("W_ih", "W_out")), f"{name}.{k}")
        H = W_hh.shape[1]
        GH = len(gates) * H
        stack = f"the {self.cell.upper()}'s {len(gates)} gates ({', '.join(gates)}) are stacked along the first axis"
        W_hh = check_shape(arr("W_hh"), (GH, H), f"{name}.W_hh", f"W_hh is ({len(gates)} H, H): {stack}")
        W_ih = check_shape(arr("W_ih"), (GH, None), f"{name}.W_ih", f"W_ih is ({len(gates)} H, n_in): {stack}")
        b_ih = check_shape(arr("b_ih"), (GH,), f"{name}.b_ih", f"b_ih is ({len(gates)} H,)")
        b_hh = check_shape(arr("b_hh"), (GH,), f"{name}.b_hh", f"b_hh is ({len(gates)} H,)")
        W_out = check_shape(arr("W_out"), (None, H), f"{name}.W_out", "W_out is (n_out, H)")
        b_out = check_shape(arr("b_out"), (W_out.shape[0],), f"{name}.b_out")
        for k, v in dict(W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh, W_out=W_out, b_out=b_out).items():
            set_(k, v)
        set_("h0", np.zeros(H, dtype) if self.h0 is None else check_shape(arr("h0"), (H,), f"{name}.h0"))
        if self.cell == "lstm":
            set_("c0", np.zeros(H, dtype) if self.c0 is None else check_shape(arr("c0"), (H,), f"{name}.c0"))
        elif self.c0 is not None:
            raise ValueError(f"{name}.c0: a GRU has no cell state, expected None, got an array; leave c0 out")
        set_("dt", as_seconds(self.dt, f"{name}.dt"))
        check_choice(self.output_activation, activations.OUTPUT_ACTIVATIONS, f"{name}.output_activation")

    # -- sizes ----------------------------------------------------------------------------------------------
    n_in = property(lambda self: self.W_ih.shape[1])
    n_rec = property(lambda self: self.W_hh.shape[1])
    n_out = property(lambda self: self.W_out.shape[0])
    n_gates = property(lambda self: len(GATES[self.cell]))
    dtype = property(lambda self: self.W_hh.dtype)

    def replace(self, **changes) -> "GatedNetwork":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def astype(self, dtype) -> "GatedNetwork":
        """A copy with every array in ``dtype`` (float32 or float64)."""
        return self.replace(**{k: getattr(self, k).astype(dtype) for k in self._arrays
                               if getattr(self, k) is not None})

    def constrain(self, **weights) -> "GatedNetwork":
        """A copy with new weights. A gated network has no constraints, so this is :meth:`replace`."""
        return self.replace(**weights)

    @classmethod
    def random(cls, n_in: int, n_rec: int, n_out: int, *, cell: str = "lstm", init: str = "keras", dt=0.01,
               output_activation: str = "identity", dtype=np.float64, rng=0) -> "GatedNetwork":
        """A freshly initialised network, with Keras' (default) or PyTorch's default initialisation.

        ``init="keras"`` (tf.keras LSTM/GRU + Dense): input kernel Glorot-uniform, U(-a, a) with
        a = sqrt(6 / (n_in + G H)); recurrent kernel orthogonal (QR of a Gaussian (G H, H) matrix, as Keras'
        Orthogonal); biases zero except the LSTM's forget gate bias, 1 (``unit_forget_bias``); readout
        Glorot-uniform, zero bias. ``init="pytorch"`` (torch.nn.LSTM/GRU + Linear): every weight and bias
        U(-k, k) with k = 1 / sqrt(H).
        """
        check_choice(cell, GATES, "GatedNetwork.random cell")
        check_choice(init, INITS, "GatedNetwork.random init")
        n_in = check_positive(n_in, "GatedNetwork.random n_in", integer=True)
        H = check_positive(n_rec, "GatedNetwork.random n_rec", integer=True)
        n_out = check_positive(n_out, "GatedNetwork.random n_out", integer=True)
        rng = as_rng(rng)
        GH = len(GATES[cell]) * H
        if init == "pytorch":
            k = 1.0 / np.sqrt(H)
            u = lambda *shape: rng.uniform(-k, k, shape)  # noqa: E731
            W_ih, W_hh, b_ih, b_hh, W_out, b_out = u(GH, n_in), u(GH, H), u(GH), u(GH), u(n_out, H), u(n_out)
        else:
            def glorot(fan_in, fan_out):  # (fan_out, fan_in) = kernel.T, U(-a, a), a = sqrt(6 / (fan_in + fan_out))
                return rng.uniform(-1, 1, (fan_out, fan_in)) * np.sqrt(6 / (fan_in + fan_out))

            W_ih = glorot(n_in, GH)  # = kernel.T, kernel (n_in, G H)
            q, r = np.linalg.qr(rng.standard_normal((GH, H)))
            W_hh = q * np.sign(np.diag(r))  # (G H, H) orthonormal columns = recurrent_kernel.T
            b_ih, b_hh = np.zeros(GH), np.zeros(GH)
            if cell == "lstm":
                b_ih[H:2 * H] = 1.0  # unit_forget_bias
            W_out, b_out = glorot(H, n_out), np.zeros(n_out)
        net = cls(cell=cell, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh, W_out=W_out, b_out=b_out, dt=dt,
                  output_activation=output_activation)
        return net.astype(dtype)
