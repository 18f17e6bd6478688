"""Weight interchange with PyTorch and Keras, as plain dicts of numpy arrays (neither framework is imported).

Each layout is a pair of dicts, ``(recurrent, readout)``, one per layer, ready for the framework's own loader.

PyTorch: ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (one layer, unidirectional; ``rnn.load_state_dict(recurrent)``)
and ``nn.Linear`` (``linear.load_state_dict(readout)``)::

    weight_ih_l0 (G H, n_in)   weight_hh_l0 (G H, H)   bias_ih_l0 (G H,)   bias_hh_l0 (G H,)
    weight (n_out, H)          bias (n_out,)

Keras: ``SimpleRNN`` / ``LSTM`` / ``GRU`` and ``Dense`` (``layer.set_weights([d[k] for k in d])``, keys in
``get_weights()`` order)::

    kernel (n_in, G H)         recurrent_kernel (H, G H)                   bias (G H,); GRU: (2, 3H)
    kernel (H, n_out)          bias (n_out,)

Gate order along the G H axis: LSTM i, f, g, o in PyTorch and i, f, c, o in Keras (the same gates);
GRU r, z, n in PyTorch and z, r, h in Keras. G = 1 for the Elman RNN.

Biases. PyTorch has two, Keras' SimpleRNN and LSTM one: exporting to Keras stores ``b_ih + b_hh`` (one
rounding), importing from Keras puts the bias in ``b_ih`` and zeros in ``b_hh``. So Keras -> PyTorch -> Keras
and Keras -> neurosim -> Keras are bit-exact, and PyTorch -> Keras -> PyTorch is bit-exact when
``bias_hh_l0`` is zero. The GRU keeps both biases in both layouts: Keras' ``reset_after=True`` (its default
since TF 2) is PyTorch's GRU, with ``bias`` (2, 3H) = [input bias; recurrent bias]. Keras'
``reset_after=False`` (bias (3H,)) computes n = tanh(W x + b + W_hn (r * h)): a different function, refused.

The Elman RNN is :class:`~neurosim.RateNetwork` with ``alpha = dt / tau = 1`` and ``form="rate"``:
h_t = f(W_in x_t + W_rec h_{t-1} + b). PyTorch's nn.RNN has f in {tanh, relu}; Keras' SimpleRNN takes any of
neurosim's activations. Its single bias ``b`` is exported as ``bias_ih_l0 = b``, ``bias_hh_l0 = 0``.
Not exported: the recurrent noise ``sigma`` (a training-time regulariser; the frameworks' layers are
noiseless) and Dale's law / connectivity masks (the exported weights already obey them; re-impose them on
import with ``net.replace(dale=..., mask=...)``). A nonzero initial state is refused: the frameworks start
from zeros unless given ``h0`` at call time.
"""

from __future__ import annotations

import numpy as np

from ..network import RateNetwork
from .gated import GatedNetwork

__all__ = ["to_torch", "from_torch", "to_keras", "from_keras", "torch_to_keras", "keras_to_torch"]

CELLS_BY_GATES = {1: "rnn", 3: "gru", 4: "lstm"}
TORCH_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
KERAS_KEYS = ("kernel", "recurrent_kernel", "bias")
TORCH_ACTIVATIONS = ("tanh", "relu")  # nn.RNN's nonlinearity


def _swap_gru_gates(a: np.ndarray, axis: int) -> np.ndarray:
    """Swap the first two of three gate blocks along ``axis``: PyTorch (r, z, n) <-> Keras (z, r, h)."""
    r, z, n = np.split(a, 3, axis=axis)
    return np.concatenate([z, r, n], axis=axis)


# -- neurosim -> framework ------------------------------------------------------------------------------------

def _check_exportable(net, framework: str, caller: str) -> None:
    if isinstance(net, GatedNetwork):
        for k in ("h0", "c0"):
            v = getattr(net, k)
            if v is not None and np.any(v != 0):
                raise ValueError(f"GatedNetwork.{k}: {framework} layers start from a zero state, got a nonzero {k}; "
                                 f"pass it as the initial state when calling the {framework} layer and export "
                                 f"net.replace({k}=None)")
        return
    if not isinstance(net, RateNetwork):
        raise TypeError(f"{caller}: expected a RateNetwork or GatedNetwork, got {type(net).__name__}")
    if net.alpha != 1.0:
        raise ValueError(f"RateNetwork.tau: {framework}'s RNN is the Elman RNN, alpha = dt / tau = 1, but this network "
                         f"has dt = {net.dt} s, tau = {net.tau} s (alpha = {net.alpha:g}), a leaky RNN that "
                         f"{framework} cannot express; build and train it with tau = dt")
    if net.form != "rate":
        raise ValueError(f"RateNetwork.form: {framework}'s RNN is h_t = f(W x_t + U h_(t-1) + b), neurosim's form "
                         f"'rate' at alpha = 1; got form {net.form!r}, which {framework} cannot express")
    if framework == "PyTorch" and net.activation not in TORCH_ACTIVATIONS:
        raise ValueError(f"RateNetwork.activation: torch.nn.RNN's nonlinearity is one of {list(TORCH_ACTIVATIONS)}, "
                         f"got {net.activation!r}; use to_keras (SimpleRNN takes any activation) or retrain")
    if np.any(net.x0 != 0):
        raise ValueError(f"RateNetwork.x0: {framework} layers start from a zero state, got a nonzero x0; pass it as "
                         "the initial state when calling the layer and export net.replace(x0=None)")


def to_torch(net) -> tuple[dict, dict]:
    """``(recurrent, readout)`` state dicts for nn.RNN/nn.LSTM/nn.GRU and nn.Linear (module docstring)."""
    _check_exportable(net, "PyTorch", "to_torch")
    readout = {"weight": np.array(net.W_out), "bias": np.array(net.b_out)}
    if isinstance(net, RateNetwork):
        rec = {"weight_ih_l0": np.array(net.W_in), "weight_hh_l0": np.array(net.W_rec),
               "bias_ih_l0": np.array(net.b), "bias_hh_l0": np.zeros_like(net.b)}
    else:
        rec = {"weight_ih_l0": np.array(net.W_ih), "weight_hh_l0": np.array(net.W_hh),
               "bias_ih_l0": np.array(net.b_ih), "bias_hh_l0": np.array(net.b_hh)}
    return rec, readout


def to_keras(net) -> tuple[dict, dict]:
    """``(recurrent, dense)`` weight dicts for SimpleRNN/LSTM/GRU (GRU: reset_after=True) and Dense."""
    _check_exportable(net, "Keras", "to_keras")
    dense = {"kernel": np.ascontiguousarray(net.W_out.T), "bias": np.array(net.b_out)}
    if isinstance(net, RateNetwork):
        rec = {"kernel": net.W_in.T, "recurrent_kernel": net.W_rec.T, "bias": net.b}
    elif net.cell == "lstm":
        rec = {"kernel": net.W_ih.T, "recurrent_kernel": net.W_hh.T, "bias": net.b_ih + net.b_hh}
    else:
        rec = {"kernel": _swap_gru_gates(net.W_ih.T, 1), "recurrent_kernel": _swap_gru_gates(net.W_hh.T, 1),
               "bias": _swap_gru_gates(np.stack([net.b_ih, net.b_hh]), 1)}
    return {k: np.array(v, order="C") for k, v in rec.items()}, dense


# -- framework -> neurosim ------------------------------------------------------------------------------------

def _arrays(d, keys, name: str, optional=()) -> dict:
    if not isinstance(d, dict):
        raise TypeError(f"{name}: expected a dict of arrays, got {type(d).__name__}")
    unknown = sorted(set(d) - set(keys))
    if unknown:
        hint = ("; only one-layer, unidirectional layers without projections are supported"
                if any(k.endswith("_reverse") or "_l1" in k or "weight_hr" in k for k in unknown) else "")
        raise ValueError(f"{name}: unexpected keys {unknown}; expected {list(keys)}{hint}")
    missing = [k for k in keys if k not in d and k not in optional]
    if missing:
        raise ValueError(f"{name}: missing keys {missing}; expected {list(keys)}")
    out = {}
    for k in keys:
        if k in d:
            a = np.asarray(d[k])
            if a.dtype.kind not in "biuf":
                raise TypeError(f"{name}[{k!r}]: expected a numeric array, got dtype {a.dtype}")
            out[k] = a
    return out


def _shape(a: np.ndarray, shape: tuple, name: str, hint: str = "") -> np.ndarray:
    if a.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {a.shape}" + (f"; {hint}" if hint else ""))
    return a


def _gates(rows: int, H: int, name: str) -> str:
    G = rows // H if H and rows % H == 0 else 0
    if G not in CELLS_BY_GATES:
        raise ValueError(f"{name}: expected G H rows for H = {H} hidden units with G = 1 (RNN), 3 (GRU) or 4 (LSTM) "
                         f"gates, got {rows}")
    return CELLS_BY_GATES[G]


def _build(cell, W_ih, W_hh, b_ih, b_hh, W_out, b_out, *, dt, activation, output_activation, dtype):
    dtype = np.dtype(dtype) if dtype is not None else np.result_type(W_hh.dtype, np.float32)
    if cell == "rnn":
        net = RateNetwork(W_in=W_ih, W_rec=W_hh, b=b_ih + b_hh, W_out=W_out, b_out=b_out, tau=dt, dt=dt,
                          activation=activation, output_activation=output_activation, form="rate")
    else:
        net = GatedNetwork(cell=cell, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh, W_out=W_out, b_out=b_out, dt=dt,
                           output_activation=output_activation)
    return net.astype(dtype)


def from_torch(recurrent: dict, readout: dict, *, dt=0.01, activation: str = "tanh",
               output_activation: str = "identity", dtype=None):
    """A network from PyTorch state dicts (module docstring): nn.RNN -> RateNetwork (alpha = 1, b = b_ih + b_hh),
    nn.LSTM / nn.GRU -> GatedNetwork. The cell is read from the shapes. ``activation`` is nn.RNN's
    nonlinearity (the state dict does not record it). ``dtype`` defaults to the arrays' float dtype. Missing
    biases (``bias=False``) are zeros."""
    rec = _arrays(recurrent, TORCH_KEYS, "from_torch recurrent", optional=("bias_ih_l0", "bias_hh_l0"))
    out = _arrays(readout, ("weight", "bias"), "from_torch readout", optional=("bias",))
    W_hh = rec["weight_hh_l0"]
    if W_hh.ndim != 2:
        raise ValueError(f"from_torch recurrent['weight_hh_l0']: expected a 2-D (G H, H) array, got shape {W_hh.shape}")
    H = W_hh.shape[1]
    cell = _gates(W_hh.shape[0], H, "from_torch recurrent['weight_hh_l0']")
    if cell == "rnn" and activation not in TORCH_ACTIVATIONS:
        raise ValueError(f"from_torch activation: torch.nn.RNN's nonlinearity is one of {list(TORCH_ACTIVATIONS)}, "
                         f"got {activation!r}")
    GH = W_hh.shape[0]
    W_ih = rec["weight_ih_l0"]
    if W_ih.ndim != 2 or W_ih.shape[0] != GH:
        raise ValueError(f"from_torch recurrent['weight_ih_l0']: expected shape ({GH}, n_in), got {W_ih.shape}")
    zero = np.zeros(GH, W_hh.dtype)
    b_ih = _shape(rec.get("bias_ih_l0", zero), (GH,), "from_torch recurrent['bias_ih_l0']")
    b_hh = _shape(rec.get("bias_hh_l0", zero), (GH,), "from_torch recurrent['bias_hh_l0']")
    W_out = out["weight"]
    if W_out.ndim != 2 or W_out.shape[1] != H:
        raise ValueError(f"from_torch readout['weight']: expected shape (n_out, {H}) for nn.Linear({H}, n_out), "
                         f"got {W_out.shape}")
    b_out = _shape(out.get("bias", np.zeros(W_out.shape[0], W_out.dtype)), (W_out.shape[0],),
                   "from_torch readout['bias']")
    return _build(cell, W_ih, W_hh, b_ih, b_hh, W_out, b_out, dt=dt, activation=activation,
                  output_activation=output_activation, dtype=dtype)


def from_keras(recurrent: dict, dense: dict, *, dt=0.01, activation: str = "tanh",
               output_activation: str = "identity", dtype=None):
    """A network from Keras weights (module docstring): SimpleRNN -> RateNetwork (alpha = 1), LSTM / GRU
    (reset_after=True) -> GatedNetwork. The cell is read from the shapes; ``activation`` is SimpleRNN's (Keras
    LSTM/GRU must use the defaults tanh and sigmoid). Keras' bias goes to ``b_ih`` and ``b_hh`` is zero."""
    rec = _arrays(recurrent, KERAS_KEYS, "from_keras recurrent", optional=("bias",))
    out = _arrays(dense, ("kernel", "bias"), "from_keras dense", optional=("bias",))
    U = rec["recurrent_kernel"]
    if U.ndim != 2:
        raise ValueError(f"from_keras recurrent['recurrent_kernel']: expected a 2-D (H, G H) array, "
                         f"got shape {U.shape}")
    H, GH = U.shape
    cell = _gates(GH, H, "from_keras recurrent['recurrent_kernel'] columns")
    K = rec["kernel"]
    if K.ndim != 2 or K.shape[1] != GH:
        raise ValueError(f"from_keras recurrent['kernel']: expected shape (n_in, {GH}), got {K.shape}")
    bias = rec.get("bias")
    if cell == "gru":
        if bias is not None and bias.shape == (GH,):
            raise ValueError("from_keras recurrent['bias']: shape (3H,) is a Keras GRU with reset_after=False, which "
                             "computes n = tanh(W x + b + U (r * h)), not PyTorch's GRU; neurosim supports "
                             "reset_after=True (the Keras default), whose bias has shape (2, 3H)")
        bias = _shape(bias if bias is not None else np.zeros((2, GH), U.dtype), (2, GH),
                      "from_keras recurrent['bias']", "a GRU with reset_after=True has [input bias; recurrent bias]")
        W_ih, W_hh = _swap_gru_gates(K, 1).T, _swap_gru_gates(U, 1).T
        b_ih, b_hh = _swap_gru_gates(bias, 1)
    else:
        b_ih = _shape(bias if bias is not None else np.zeros(GH, U.dtype), (GH,), "from_keras recurrent['bias']")
        W_ih, W_hh, b_hh = K.T, U.T, np.zeros_like(b_ih)
    W = out["kernel"]
    if W.ndim != 2 or W.shape[0] != H:
        raise ValueError(f"from_keras dense['kernel']: expected shape ({H}, n_out) for Dense(n_out) on {H} units, "
                         f"got {W.shape}")
    b_out = _shape(out.get("bias", np.zeros(W.shape[1], W.dtype)), (W.shape[1],), "from_keras dense['bias']")
    return _build(cell, W_ih, W_hh, b_ih, b_hh, W.T, b_out, dt=dt, activation=activation,
                  output_activation=output_activation, dtype=dtype)


# -- framework <-> framework ----------------------------------------------------------------------------------

def torch_to_keras(recurrent: dict, readout: dict) -> tuple[dict, dict]:
    """PyTorch layout -> Keras layout (LSTM/SimpleRNN biases summed, see the module docstring)."""
    return to_keras(from_torch(recurrent, readout))


def keras_to_torch(recurrent: dict, dense: dict) -> tuple[dict, dict]:
    """Keras layout -> PyTorch layout (the single bias becomes ``bias_ih_l0``; ``bias_hh_l0`` is zero)."""
    return to_torch(from_keras(recurrent, dense))
