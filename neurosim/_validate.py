"""Input checks shared by the whole package.

Every check raises ``ValueError`` or ``TypeError`` with a message that names the object and field, what was
expected, what was received and, where there is one, the likely fix. None of them imports brian2: a Brian2
quantity can only exist once brian2 has been imported by the caller, so we look it up in ``sys.modules``.
"""

from __future__ import annotations

import numbers
import sys

import numpy as np

__all__ = ["as_si", "as_seconds", "as_array", "check_finite", "check_shape", "as_rng", "check_choice", "check_positive",
           "check_binary", "substeps"]


_UNITS = {  # unit -> (what it measures, an example, the Brian2 unit's name)
    "second": ("a time", "10*ms", "second"),
    "volt": ("a voltage", "-65*mV", "volt"),
}


def as_si(value, name: str, unit: str = "second", *, positive: bool = True) -> float:
    """Return ``value`` as a float in SI ``unit`` ("second" or "volt"); accepts a number or a Brian2 quantity.

    ``positive`` also requires value > 0 (times); every value must be finite.
    """
    what, example, brian_unit = _UNITS[unit]
    brian2 = sys.modules.get("brian2")
    if brian2 is not None and isinstance(value, brian2.Quantity):
        if not brian2.have_same_dimensions(value, getattr(brian2, brian_unit)):
            raise TypeError(f"{name}: expected {what} ({unit}s or a Brian2 quantity such as {example}), "
                            f"got {value!r} with dimensions {value.dim}")
        value = float(np.asarray(value))  # Brian2 stores quantities in SI base units
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number of {unit}s, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name}: expected a {'positive, ' if positive else ''}finite {what[2:]} in {unit}s, "
                         f"got {value!r}")
    return value


def as_seconds(value, name: str) -> float:
    """Return ``value`` as positive float seconds; accepts a number (seconds) or a Brian2 time quantity."""
    return as_si(value, name, "second")


def check_positive(value, name: str, *, integer: bool = False, allow_zero: bool = False):
    """Check a positive (or non-negative) number and return it as int or float."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        want = "an integer" if integer else "a number"
        raise TypeError(f"{name}: expected {want}, got {type(value).__name__} {value!r}")
    ok = value >= 0 if allow_zero else value > 0
    if not ok or not np.isfinite(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a finite value {bound}, got {value!r}")
    return int(value) if integer else float(value)


def as_array(value, name: str, *, ndim: int | None = None, dtype=None, copy: bool = False,
             min_size: bool = False) -> np.ndarray:
    """Convert to a real numeric ndarray, rejecting objects, strings, complex numbers, float16 and a wrong
    dimensionality.

    Complex values are refused before any conversion (numpy would drop the imaginary part with only a warning);
    float16 is refused because neither BPTT nor Brian2 computes in it. ``copy=True`` always returns a new array,
    so that a frozen object never shares memory with the caller's. ``min_size=True`` also refuses an array with
    a zero-length axis (an empty batch, zero steps, zero units), before numpy or Brian2 meets it.
    """
    if value is None:
        raise TypeError(f"{name}: expected a numeric array, got None")
    try:
        raw = value if isinstance(value, np.ndarray) else np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected a numeric array, got {type(value).__name__} ({err})") from None
    if raw.dtype.kind == "c":
        raise TypeError(f"{name}: expected real numbers, got the complex dtype {raw.dtype}; neurosim's networks "
                        "and trials are real-valued: pass value.real if the imaginary part is zero")
    if raw.dtype.kind == "f" and raw.dtype.itemsize not in (4, 8):
        raise TypeError(f"{name}: expected float32 or float64, got {raw.dtype}; convert with .astype(np.float32) "
                        "or .astype(np.float64)")
    if raw.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a numeric array, got dtype {raw.dtype}")
    arr = np.array(raw, dtype=dtype, copy=True) if copy else np.asarray(raw, dtype=dtype)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got {arr.ndim}-D with shape {arr.shape}")
    if min_size and 0 in arr.shape:
        raise ValueError(f"{name}: expected at least one entry along every axis, got shape {arr.shape}; "
                         "an empty batch, zero time steps or zero units cannot be run")
    return arr


def check_finite(arr: np.ndarray, name: str) -> np.ndarray:
    """Reject NaN and inf, saying where the first one sits."""
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name}: expected finite values, found {arr[where]} at index {where}")
    return arr


def check_shape(arr: np.ndarray, shape: tuple, name: str, hint: str = "") -> np.ndarray:
    """Check ``arr.shape`` against ``shape``, where ``None`` entries match any size."""
    ok = arr.ndim == len(shape) and all(want is None or want == got for want, got in zip(shape, arr.shape))
    if not ok:
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {arr.shape}" + (f"; {hint}" if hint else ""))
    return arr


def check_choice(value, choices, name: str) -> str:
    """Check that ``value`` is one of ``choices`` and list them if it is not."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {sorted(choices)}, got {value!r}")
    return value


def as_rng(rng, name: str = "rng") -> np.random.Generator:
    """An explicit generator from an int seed, a SeedSequence or a Generator; never the global state."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{name}: expected a non-negative int seed or a numpy.random.Generator, got {type(rng).__name__} {rng!r}; "
        "randomness in neurosim is always explicit (pass rng=0, for example)"
    )


def check_fits(net, data, where: str) -> None:
    """The one check that a network and its data (Trials or a Task) agree: inputs and outputs per step, and the
    step dt. ``where`` names the data in the message ("simulate trials", "train data")."""
    if data.n_in != net.n_in:
        raise ValueError(f"{where}.inputs: expected {net.n_in} inputs per step (net.n_in), got {data.n_in}; "
                         "build the network with n_in = task.n_in")
    if data.n_out != net.n_out:
        raise ValueError(f"{where}.targets: expected {net.n_out} outputs per step (net.n_out), got {data.n_out}; "
                         "build the network with n_out = task.n_out")
    if not np.isclose(data.dt, net.dt, rtol=1e-9, atol=0.0):
        raise ValueError(f"{where}.dt: expected the network's step net.dt = {net.dt} s, got {data.dt} s; sample "
                         "the task with dt=net.dt (ns.tasks.make(name, dt=net.dt))")


def check_binary(arr: np.ndarray, name: str) -> np.ndarray:
    """Reject anything but 0 and 1 entries, showing the first offending values."""
    bad = (arr != 0) & (arr != 1)
    if np.any(bad):
        raise ValueError(f"{name}: expected only 0 and 1 entries, got {np.unique(arr[bad])[:5].tolist()}; "
                         "use a 0/1 array, e.g. (mask != 0).astype(float)")
    return arr


def substeps(dt: float, sim_dt, name: str = "sim_dt") -> tuple[int, float]:
    """``(k, dt / k)`` for a simulation step ``sim_dt = dt / k`` with a whole number k >= 1 (None means dt).

    sim_dt: float seconds or a Brian2 time. TypeError for a wrong dimension; ValueError when it does not divide dt.
    """
    if sim_dt is None:
        return 1, dt
    sim_dt = as_seconds(sim_dt, name)
    ratio = dt / sim_dt
    k = int(round(ratio))
    if k < 1 or abs(ratio - k) > 1e-9 * k:
        raise ValueError(f"{name}: expected net.dt / k for a whole number k >= 1, a step that divides net.dt = "
                         f"{dt} s; got {name} = {sim_dt} s (net.dt / {name} = {ratio:.6g}); use e.g. "
                         f"{name}=net.dt / {max(k, 1)}")
    return k, dt / k
