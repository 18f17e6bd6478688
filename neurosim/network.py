"""RateNetwork: the one description of a recurrent network, shared by every substrate; save and load.

Rate form (state r is a firing rate)::

    tau dr/dt = -r + f(W_in u + W_rec r + b) [+ noise]          y = g(W_out r + b_out)

Current form (state x is a synaptic current; PsychRNN, Song et al. 2016, Kim et al. 2019)::

    tau dx/dt = -x + W_rec f(x) + W_in u + b [+ noise]          y = g(W_out f(x) + b_out)

Forward Euler with alpha = dt / tau turns either into the artificial RNN of :mod:`neurosim.ann`; alpha = 1
is exactly the Elman RNN. Time is in float seconds. The network is frozen: training returns a new one.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from . import activations
from ._files import atomic, write_text
from ._validate import (as_array, as_rng, as_seconds, check_binary, check_choice, check_finite, check_positive,
                        check_shape)

__all__ = ["RateNetwork", "load", "register_model", "check_connectivity"]

FORMAT_VERSION = 1
_MODEL_CLASSES: dict[str, type] = {}


def register_model(cls):
    """Class decorator: let :func:`load` rebuild ``cls`` from its saved files."""
    _MODEL_CLASSES[cls.__name__] = cls
    return cls


class Saveable:
    """Save/load for frozen dataclasses whose fields are arrays (``_arrays``) or JSON-able settings."""

    _arrays: ClassVar[tuple[str, ...]] = ()

    def evolve(self, **arrays):
        """A copy with some learned arrays replaced, *without* validation: the learning rules' fast path.

        Only for arrays of the same shapes and dtype that went through :meth:`project` (so the constraints
        hold); a learning rule builds a validated network with :meth:`replace` once, when it is done.
        """
        new = copy.copy(self)
        for k, v in arrays.items():
            object.__setattr__(new, k, v)
        return new

    def project(self, params: dict) -> dict:
        """Apply the network's constraints to learned arrays, in place; returns ``params``. None here."""
        return params

    def fingerprint(self) -> str:
        """A digest of the class, the settings and the arrays' bytes, dtypes and shapes: equal for networks that
        compute the same thing bit for bit (what compiled builds are reused by)."""
        digest = hashlib.sha256(type(self).__name__.encode())
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name in self._arrays and v is not None:
                v = np.ascontiguousarray(v)
                digest.update(f"{f.name}:{v.dtype.str}:{v.shape}:".encode())
                digest.update(v.tobytes())
            else:
                digest.update(f"{f.name}={v!r};".encode())
        return digest.hexdigest()

    def save(self, path) -> tuple[str, str]:
        """Write ``PATH.json`` (settings, versions, checksums) and ``PATH.npz`` (arrays); return both paths.

        The round trip through :func:`neurosim.load` is bit-exact.
        """
        from . import __version__

        base = _base_path(path, saving=True)
        os.makedirs(os.path.dirname(os.path.abspath(base)), exist_ok=True)
        arrays = {k: np.asarray(getattr(self, k)) for k in self._arrays if getattr(self, k) is not None}
        config = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in self._arrays}
        meta = {
            "format": "neurosim.model",
            "format_version": FORMAT_VERSION,
            "neurosim_version": __version__,
            "class": type(self).__name__,
            "config": config,
            "arrays": {k: {"shape": list(v.shape), "dtype": str(v.dtype),
                           "sha256": hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()}
                       for k, v in arrays.items()},
        }
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        with atomic(base + ".npz") as tmp, open(tmp, "wb") as fh:  # whole files or none: see neurosim._files
            fh.write(buf.getvalue())
        write_text(base + ".json", json.dumps(meta, indent=2) + "\n")  # last: its checksums vouch for the .npz
        return base + ".json", base + ".npz"


def _base_path(path, saving: bool = False) -> str:
    """PATH without .json/.npz; a directory ("DIR/", or an existing DIR when loading) means DIR/model."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{'save' if saving else 'load'} path: expected a file path (str), got "
                        f"{type(path).__name__} {path!r}")
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{'save' if saving else 'load'} path: expected a file path, got an empty string")
    if path.endswith(("/", os.sep)) or (not saving and os.path.isdir(path)
                                        and not os.path.isfile(path + ".json")):
        return os.path.join(path, "model")  # the layout `neurosim train --out DIR` writes
    for ext in (".json", ".npz"):
        if path.endswith(ext):
            return path[: -len(ext)]
    return path


def load(path):
    """Load a model written by ``save``: checks format, version and checksums, and says what is wrong."""
    base = _base_path(path)
    jpath, npath = base + ".json", base + ".npz"
    for p in (jpath, npath):
        if not os.path.isfile(p):
            what = "is a directory, not a file" if os.path.isdir(p) else "does not exist"
            raise FileNotFoundError(
                f"load: {p} {what}; a saved model is a pair PATH.json + PATH.npz written by net.save(PATH) "
                "(train one with `neurosim train SPEC.toml`)")
    try:
        with open(jpath) as fh:
            meta = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"load: {jpath} is not valid JSON ({err}); the file is truncated or corrupted") from None
    if not isinstance(meta, dict) or meta.get("format") != "neurosim.model":
        raise ValueError(f"load: {jpath}: expected format 'neurosim.model', got "
                         f"{meta.get('format') if isinstance(meta, dict) else type(meta).__name__!r}; "
                         "this is not a neurosim model file")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"load: {jpath}: format_version {meta.get('format_version')!r} is not supported "
                         f"(this neurosim reads version {FORMAT_VERSION})")
    cls = _MODEL_CLASSES.get(meta.get("class"))
    if cls is None:
        raise ValueError(f"load: {jpath}: unknown model class {meta.get('class')!r}; "
                         f"known: {sorted(_MODEL_CLASSES)}")
    config, expected = meta.get("config"), meta.get("arrays")
    if not isinstance(config, dict) or not isinstance(expected, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("sha256"), str) for v in expected.values()):
        raise ValueError(f"load: {jpath}: expected the tables 'config' and 'arrays' (each array with its "
                         "'sha256'), as net.save writes them; the file is damaged or was edited by hand")
    try:
        with np.load(npath, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise ValueError(f"load: {npath} cannot be read ({err}); the file is truncated or corrupted") from None
    if set(arrays) != set(expected):
        raise ValueError(f"load: {npath}: expected arrays {sorted(expected)}, found {sorted(arrays)}")
    for k, v in arrays.items():
        digest = hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()
        if digest != expected[k]["sha256"]:
            raise ValueError(f"load: {npath}: array {k!r} does not match its checksum in {jpath}; "
                             "the files are corrupted or come from different saves")
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(config) - fields)
    missing = sorted(f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                     and f.default_factory is dataclasses.MISSING and f.name not in config and f.name not in arrays)
    if unknown or missing or set(config) & set(arrays):
        raise ValueError(f"load: {jpath}: the config does not describe a {cls.__name__} (unknown fields "
                         f"{unknown}, missing fields {missing}); the file is damaged or from another version")
    try:
        return cls(**config, **arrays)
    except (TypeError, ValueError) as err:
        raise type(err)(f"load: {jpath}: the saved model is not valid: {err}") from None


def check_connectivity(name: str, W_rec: np.ndarray, dale, mask, dtype=np.float64):
    """Check Dale's law and a connectivity mask against ``W_rec`` (N, N); return ``(dale, mask)`` as new arrays.

    ``dale`` (N,): +1 (excitatory) or -1 (inhibitory) per unit, the sign of its outgoing weights (the columns of
    W_rec); ``mask`` (N, N): 0/1, and W_rec must be 0 where it is 0. Either may be None. The one rule for every
    network that carries them (:class:`RateNetwork`, :class:`neurosim.spiking.SpikingNetwork`).
    """
    N = W_rec.shape[0]
    if mask is not None:
        mask = check_shape(as_array(mask, f"{name}.mask", dtype=dtype, copy=True), (N, N), f"{name}.mask")
        check_binary(check_finite(mask, f"{name}.mask"), f"{name}.mask")
        if np.any(W_rec[mask == 0] != 0):
            i, j = np.argwhere((mask == 0) & (W_rec != 0))[0]
            raise ValueError(f"{name}.W_rec: nonzero weights where mask is 0 (first: W_rec[{i}, {j}] = "
                             f"{W_rec[i, j]}); apply the mask (W_rec * mask) or call net.constrain()")
    if dale is not None:
        dale = check_shape(as_array(dale, f"{name}.dale", dtype=dtype, copy=True), (N,), f"{name}.dale")
        if not np.all(np.abs(dale) == 1):
            raise ValueError(f"{name}.dale: expected +1 (excitatory) or -1 (inhibitory) per unit, got "
                             f"{np.unique(dale[np.abs(dale) != 1])[:5].tolist()}")
        if np.any(W_rec * dale[None, :] < 0):
            i, j = np.argwhere(W_rec * dale[None, :] < 0)[0]
            raise ValueError(f"{name}.W_rec: weights violate Dale's law (column j must have the sign dale[j]; "
                             f"first: W_rec[{i}, {j}] = {W_rec[i, j]} with dale[{j}] = {dale[j]:+g}); "
                             "call net.constrain() to project them")
    return dale, mask


@register_model
@dataclass(frozen=True, eq=False)
class RateNetwork(Saveable):
    """A continuous-time recurrent network of rate units, described once for every substrate.

    W_in (N, n_in), W_rec (N, N), b (N,), W_out (n_out, N), b_out (n_out,) are the weights; ``tau`` and ``dt``
    are seconds (floats or Brian2 times); ``dale`` is an optional (N,) vector of +1 (excitatory) and -1
    (inhibitory) signs of each unit's outgoing weights (the columns of W_rec); ``mask`` an optional (N, N)
    0/1 connectivity; ``x0`` the initial state; ``sigma`` the recurrent noise amplitude.
    """

    W_in: np.ndarray
    W_rec: np.ndarray
    b: np.ndarray
    W_out: np.ndarray
    b_out: np.ndarray
    tau: float = 0.1
    dt: float = 0.01
    activation: str = "tanh"
    output_activation: str = "identity"
    form: str = "rate"
    sigma: float = 0.0
    dale: np.ndarray | None = None
    mask: np.ndarray | None = None
    x0: np.ndarray | None = None

    _arrays: ClassVar[tuple[str, ...]] = ("W_in", "W_rec", "b", "W_out", "b_out", "dale", "mask", "x0")
    trainable: ClassVar[tuple[str, ...]] = ("W_in", "W_rec", "b", "W_out", "b_out")
    FORMS: ClassVar[tuple[str, ...]] = ("rate", "current")

    def __post_init__(self):
        name = type(self).__name__
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass
        W_rec = as_array(self.W_rec, f"{name}.W_rec", ndim=2, min_size=True)
        dtype = W_rec.dtype if W_rec.dtype.kind == "f" else np.float64
        arr = lambda k: check_finite(as_array(getattr(self, k), f"{name}.{k}", dtype=dtype, copy=True,  # noqa
                                              min_size=k != "b_out"), f"{name}.{k}")
        W_rec = arr("W_rec")
        N = W_rec.shape[0]
        check_shape(W_rec, (N, N), f"{name}.W_rec", "W_rec is square (N, N)")
        W_in = check_shape(arr("W_in"), (N, None), f"{name}.W_in", "W_in is (N, n_in)")
        W_out = check_shape(arr("W_out"), (None, N), f"{name}.W_out", "W_out is (n_out, N)")
        b = check_shape(arr("b"), (N,), f"{name}.b")
        b_out = check_shape(arr("b_out"), (W_out.shape[0],), f"{name}.b_out")
        for k, v in dict(W_in=W_in, W_rec=W_rec, b=b, W_out=W_out, b_out=b_out).items():
            set_(k, v)
        set_("x0", np.zeros(N, dtype) if self.x0 is None else check_shape(arr("x0"), (N,), f"{name}.x0"))
        set_("tau", as_seconds(self.tau, f"{name}.tau"))
        set_("dt", as_seconds(self.dt, f"{name}.dt"))
        if self.dt > self.tau:
            raise ValueError(f"{name}.dt: forward Euler needs dt <= tau, got dt = {self.dt} s > tau = {self.tau} s; "
                             "use a smaller dt")
        activations.get(self.activation)
        check_choice(self.output_activation, activations.OUTPUT_ACTIVATIONS, f"{name}.output_activation")
        check_choice(self.form, self.FORMS, f"{name}.form")
        set_("sigma", check_positive(self.sigma, f"{name}.sigma", allow_zero=True))
        dale, mask = check_connectivity(name, W_rec, self.dale, self.mask, dtype)
        set_("dale", dale)
        set_("mask", mask)

    # -- sizes and derived quantities --------------------------------------------------------------------
    n_in = property(lambda self: self.W_in.shape[1])
    n_rec = property(lambda self: self.W_rec.shape[0])
    n_out = property(lambda self: self.W_out.shape[0])
    alpha = property(lambda self: self.dt / self.tau, doc="dt / tau, the Euler step as a fraction of tau")
    dtype = property(lambda self: self.W_rec.dtype)
    cell = "rnn"

    def replace(self, **changes) -> "RateNetwork":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def astype(self, dtype) -> "RateNetwork":
        """A copy with every array in ``dtype`` (float32 or float64)."""
        return self.replace(**{k: getattr(self, k).astype(dtype) for k in self._arrays
                               if getattr(self, k) is not None})

    def project(self, params: dict) -> dict:
        """Apply the connectivity mask and Dale's law (wrong-signed weights set to 0) to ``params["W_rec"]``,
        in place; returns ``params``."""
        W_rec = params.get("W_rec")
        if W_rec is not None:
            if self.mask is not None:
                W_rec *= self.mask
            if self.dale is not None:
                W_rec[W_rec * self.dale[None, :] < 0] = 0.0
        return params

    def constrain(self, **weights) -> "RateNetwork":
        """A validated copy with new weights, the mask and Dale's law applied to W_rec (:meth:`project`)."""
        params = self.project({"W_rec": np.array(weights.pop("W_rec", self.W_rec))})
        return self.replace(**params, **weights)

    @classmethod
    def random(cls, n_in: int, n_rec: int, n_out: int, *, tau=0.1, dt=0.01, activation="tanh",
               output_activation="identity", form="rate", g=1.5, spectral_radius=None, p=1.0,
               dale=None, sigma=0.0, input_scale=1.0, dtype=np.float64, rng=0) -> "RateNetwork":
        """A random network: W_rec ~ N(0, g^2 / (p N)) on a random fraction ``p`` of connections.

        ``dale=0.8`` makes 80% of the units excitatory and 20% inhibitory with E/I balance (inhibitory weights
        scaled so that every row's expected sum is zero), and W_rec is rescaled to spectral radius ``g``.
        ``spectral_radius`` rescales W_rec to that radius.
        """
        n_in = check_positive(n_in, "RateNetwork.random n_in", integer=True)
        N = check_positive(n_rec, "RateNetwork.random n_rec", integer=True)
        n_out = check_positive(n_out, "RateNetwork.random n_out", integer=True)
        g = check_positive(g, "RateNetwork.random g", allow_zero=True)
        p = check_positive(p, "RateNetwork.random p")
        if p > 1:
            raise ValueError(f"RateNetwork.random p: expected a connection probability in (0, 1], got {p}")
        rng = as_rng(rng)
        mask = (rng.random((N, N)) < p).astype(float) if p < 1 else None
        W_rec = rng.normal(0.0, g / np.sqrt(p * N), (N, N))
        signs = None
        if dale is not None:
            frac_e = check_positive(dale, "RateNetwork.random dale (excitatory fraction)")
            n_e = int(round(frac_e * N))
            if not 0 < n_e < N:
                raise ValueError(f"RateNetwork.random dale: expected an excitatory fraction giving both E and I "
                                 f"units, got {dale} of {N} units")
            signs = np.where(np.arange(N) < n_e, 1.0, -1.0)
            W_rec = np.abs(W_rec) * signs[None, :]
            W_rec[:, n_e:] *= n_e / (N - n_e)  # balance: E and I columns sum to zero in expectation
            W_rec *= 1.0 / np.sqrt(1.0 - 2.0 / np.pi)  # |N(0,s)| has variance s^2 (1 - 2/pi)
        if mask is not None:
            W_rec *= mask
        if spectral_radius is not None:
            spectral_radius = check_positive(spectral_radius, "RateNetwork.random spectral_radius")
        elif signs is not None:
            spectral_radius = g  # E/I blocks of |N| weights have no closed-form bulk radius: set it to g
        if spectral_radius is not None and g > 0:
            W_rec *= spectral_radius / np.max(np.abs(np.linalg.eigvals(W_rec)))
        W_in = rng.normal(0.0, input_scale / np.sqrt(n_in), (N, n_in))
        W_out = rng.normal(0.0, 1.0 / np.sqrt(N), (n_out, N))
        net = cls(W_in=W_in, W_rec=W_rec, b=np.zeros(N), W_out=W_out, b_out=np.zeros(n_out), tau=tau, dt=dt,
                  activation=activation, output_activation=output_activation, form=form, sigma=sigma,
                  dale=signs, mask=mask)
        return net.astype(dtype)
